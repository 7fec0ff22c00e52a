from registry_api.endpoint import registry_endpoint
from registry_api.errors import Unsupported


@registry_endpoint(action_by_method={"POST": "push"})
def upload_start(request, ctx):
    raise Unsupported()


@registry_endpoint(action_by_method={m: "push" for m in ("GET", "PATCH", "PUT", "DELETE")})
def upload(request, ctx, upload_id):
    raise Unsupported()

from registry_api.endpoint import registry_endpoint
from registry_api.errors import Unsupported


@registry_endpoint(
    action_by_method={"GET": "pull", "HEAD": "pull", "PUT": "push", "DELETE": "delete"}
)
def manifest(request, ctx, reference):
    raise Unsupported()

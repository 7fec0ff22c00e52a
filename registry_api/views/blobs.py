from registry_api.endpoint import registry_endpoint
from registry_api.errors import Unsupported


@registry_endpoint(action_by_method={"GET": "pull", "HEAD": "pull", "DELETE": "delete"})
def blob(request, ctx, digest):
    raise Unsupported()

from registry_api.endpoint import registry_endpoint
from registry_api.errors import Unsupported


@registry_endpoint(action_by_method={"GET": "pull"})
def referrers_get(request, ctx, digest):
    raise Unsupported()

from registry_api.endpoint import RegistryJson, registry_endpoint
from registry_api.errors import NameUnknown


@registry_endpoint(methods=("GET", "HEAD"))
def ping(request, ctx):
    """`GET /v2/`: 200 `{}` for any authenticated caller (the gate answers 401 otherwise)."""
    return RegistryJson({})


@registry_endpoint(methods=None, authenticate=False)
def not_found(request, ctx):
    raise NameUnknown(message="no such registry route")

from registry_api.endpoint import registry_endpoint
from registry_api.errors import Unsupported


@registry_endpoint(methods=("GET",), catalog=True)
def catalog_get(request, ctx):
    raise Unsupported()

"""`/v2/_catalog[?n=&last=]`: the repositories the caller may view, in byte order.

Not in the OCI spec, but crane, skopeo and registry UIs use it. Private repositories the caller
may not view are left out, exactly as if they did not exist.
"""

from __future__ import annotations

from registry_api.endpoint import RegistryJson, registry_endpoint
from registry_api.selectors.repositories import catalog_names
from registry_api.views.tags import next_link, page_size

# distribution's defaults: 100 per page unless `n` says otherwise, at most 1000.
DEFAULT_PAGE = 100
MAX_PAGE = 1000


@registry_endpoint(methods=("GET",), catalog=True)
def catalog_get(request, ctx):
    n = page_size(request, default=DEFAULT_PAGE, maximum=MAX_PAGE)
    last = request.GET.get("last", "")
    names = catalog_names(user=ctx.user, limit=n + 1, last=last) if n else []
    more = len(names) > n
    names = names[:n]
    response = RegistryJson({"repositories": names})
    if more:
        response["Link"] = next_link("/v2/_catalog", n=n, last=names[-1])
    return response

"""`/v2/<name>/tags/list[?n=&last=]`: tag names in byte order, paginated with a Link header.

A mirrored repository lists its upstream's tags with the cached ones (registry_api.proxy)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from registry_api import proxy
from registry_api.endpoint import RegistryJson, registry_endpoint
from registry_api.errors import NameUnknown, PaginationNumberInvalid
from registry_api.selectors.tags import tag_names

# Above this, `n` is clamped (the Link header tells the client there is more).
MAX_PAGE = 10_000
_ASCII_DIGITS = re.compile(r"^[0-9]+\Z")


def page_size(request, *, default: int | None, maximum: int) -> int | None:
    """Parse `n`: absent gives `default`, a non-integer or negative is PAGINATION_NUMBER_INVALID."""
    raw = request.GET.get("n")
    if raw is None or raw == "":
        return default
    if not _ASCII_DIGITS.match(raw):
        raise PaginationNumberInvalid({"n": raw[:50]})
    # A huge number is just "everything": clamp it without converting thousands of digits.
    return min(int(raw), maximum) if len(raw) <= 9 else maximum


def next_link(path: str, *, n: int, last: str) -> str:
    return f'<{path}?{urlencode({"n": n, "last": last})}>; rel="next"'


def _mirrored_names(ctx, *, limit: int | None, last: str) -> list[str] | None:
    names = proxy.tags_list(ctx) if ctx.mirrored else None
    if names is None:
        return None
    names = [name for name in names if name > last] if last else names
    return names if limit is None else names[:limit]


@registry_endpoint(action_by_method={"GET": "pull"})
def tags_list(request, ctx):
    n = page_size(request, default=None, maximum=MAX_PAGE)
    last = request.GET.get("last", "")
    limit = None if n is None else n + 1
    names = _mirrored_names(ctx, limit=limit, last=last)
    if names is None and ctx.repository is None:
        raise NameUnknown({"name": ctx.client_name})
    if n == 0:
        names, more = [], False
    else:
        if names is None:
            names = tag_names(repository=ctx.repository, limit=limit, last=last)
        more = n is not None and len(names) > n
        names = names[:n] if more else names
    response = RegistryJson({"name": ctx.client_name, "tags": names})
    if more:
        response["Link"] = next_link(f"/v2/{ctx.client_name}/tags/list", n=n, last=names[-1])
    return response

"""The one error the cache adds to the OCI table: the upstream cannot serve what is not cached.

Distribution's errcode table names it `UNAVAILABLE` (503); clients retry it like any 5xx.
"""

from registry_api.errors import RegistryError


class UpstreamUnavailable(RegistryError):
    code = "UNAVAILABLE"
    message = "the upstream registry is unavailable and this content is not cached"
    status = 503

    def __init__(self, detail=None, **kwargs):
        kwargs.setdefault("headers", {"Retry-After": "10"})
        super().__init__(detail, **kwargs)

"""Pull-through cache of upstream registries (mirror). The registry views call these hooks when
something asked for is not held locally; they answer None when no upstream applies."""

from __future__ import annotations


def proxy_applies(full_name: str) -> bool:
    """Would a pull of this repository be served from an upstream (prefix-less or namespaced)?"""
    return False


def manifest_fetch(ctx, reference: str):
    """Return a registry_api.models.Manifest fetched/revalidated from the upstream, or None.

    Called by the manifest GET/HEAD view before it answers MANIFEST_UNKNOWN / NAME_UNKNOWN, and
    for tags of a mirrored repository (whose cache lifetime may have passed).
    """
    return None


def blob_response(ctx, digest: str, request):
    """Return an HttpResponse streaming the blob from the upstream while caching it, or None."""
    return None

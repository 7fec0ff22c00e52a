"""Pull-through cache of upstream registries (mirror). The registry views call these hooks when
something asked for is not held locally; they answer None when no upstream applies.

upstreams.py says which upstream serves a name (and which cache a containerd `?ns=` names),
client.py speaks to it, manifests.py and blobs.py cache what it answers (fetch_locks.py keeps one
fetch per blob), tags.py lists its tags with the cached ones, repositories.py creates the local
mirrored repositories.
"""

from __future__ import annotations

from config import serving_hints


def _upstream(ctx):
    from registry_api.proxy.upstreams import upstream_for

    # The gate's decision says whether a cache serves the name (a local repository wins).
    return upstream_for(ctx.full_name) if ctx.mirrored else None


def manifest_fetch(ctx, reference: str):
    """Return a registry_api.models.Manifest fetched/revalidated from the upstream, or None.

    Called by the manifest GET/HEAD view before it answers MANIFEST_UNKNOWN / NAME_UNKNOWN, and
    for tags of a mirrored repository (whose cache lifetime may have passed).
    """
    from registry_api.proxy.manifests import manifest_fetch_for

    upstream = _upstream(ctx)
    if upstream is None:
        return None
    serving_hints.waits_on_network()  # on the upstream, or on another process fetching from it
    manifest = manifest_fetch_for(
        full_name=ctx.full_name, upstream=upstream, repository=ctx.repository, reference=reference
    )
    if manifest is not None and ctx.repository is None:
        ctx.repository = manifest.repository
    return manifest


def blob_response(ctx, digest: str, request):
    """Return an HttpResponse streaming the blob from the upstream while caching it, or None."""
    from registry_api.proxy.blobs import blob_serve
    from registry_api.proxy.repositories import mirror_repository_ensure, mirror_repository_find

    upstream = _upstream(ctx)
    if upstream is None:
        return None
    # A name the mirror keeps in its own namespace, which the view cannot look up.
    home = (
        mirror_repository_find(full_name=ctx.full_name, upstream=upstream)
        if ctx.repository is None
        else None
    )

    def repository_get():
        if ctx.repository is None:
            ctx.repository = mirror_repository_ensure(full_name=ctx.full_name, upstream=upstream)
        return ctx.repository

    return blob_serve(
        request=request, upstream=upstream, repository_get=repository_get, home=home, digest=digest
    )


def tags_list(ctx) -> list[str] | None:
    """Every tag name of a mirrored repository (the upstream's and the cached ones), sorted;
    None when the name is not mirrored or neither side knows it."""
    from registry_api.proxy.tags import tags_merged

    upstream = _upstream(ctx)
    if upstream is None:
        return None
    return tags_merged(full_name=ctx.full_name, upstream=upstream, repository=ctx.repository)

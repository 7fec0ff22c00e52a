"""Manifests of mirrored repositories: fetched on first pull, revalidated by tag after their
cache lifetime with a HEAD (no upstream pull counted), immutable by digest.

When the upstream is down, slow or rate-limiting, a tag already cached is served as it is
(stale); a manifest never cached gets `UNAVAILABLE` (503) or `TOOMANYREQUESTS` (429).
A tag the upstream no longer knows is served stale as well: the cache keeps pulls working.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from hub.names import TAG_RE
from registry_api.digests import digest_is_valid
from registry_api.errors import ManifestInvalid, TooManyRequests
from registry_api.manifests import INDEX_TYPES, InvalidManifest, is_digest, manifest_parse
from registry_api.models import Blob, Manifest, Tag
from registry_api.proxy.client import (
    FetchedManifest,
    UpstreamClient,
    UpstreamError,
    UpstreamNotFound,
    UpstreamRateLimited,
)
from registry_api.proxy.errors import UpstreamUnavailable
from registry_api.proxy.repositories import mirror_repository_ensure, mirror_repository_find
from registry_api.proxy.upstreams import Upstream
from registry_api.selectors.manifests import manifest_parsed
from registry_api.selectors.tags import tag_get
from registry_api.services.manifests import ValidManifest, manifest_store
from registry_api.services.tags import tag_cache, tag_verified

logger = logging.getLogger(__name__)


def _unavailable(exc: UpstreamError):
    if isinstance(exc, UpstreamRateLimited):
        return TooManyRequests(
            {"upstream": "rate limited"}, message="the upstream registry is rate limiting pulls"
        )
    logger.warning("upstream unavailable: %s", exc)
    return UpstreamUnavailable({"reason": "the upstream did not answer"})


def _fresh(tag: Tag, upstream: Upstream) -> bool:
    if tag.verified_at is None:
        return False
    return tag.verified_at + timedelta(seconds=upstream.ttl_seconds) > timezone.now()


def _parents_link(manifest: Manifest) -> None:
    """A child fetched after its index: link it to the indexes of the repository that list it."""
    indexes = Manifest.objects.filter(repository=manifest.repository, media_type__in=INDEX_TYPES)
    for parent in indexes:
        parsed = manifest_parsed(parent)
        if parsed is not None and manifest.digest in parsed.child_digests:
            parent.children.add(manifest)
            total = sum(child.total_size for child in parent.children.all())
            Manifest.objects.filter(pk=parent.pk).update(total_size=total)


def manifest_cache(*, repository, fetched: FetchedManifest) -> Manifest:
    """Store an upstream manifest as it is, linked to what the repository already caches of
    its blobs and children; the rest is linked as it arrives."""
    try:
        parsed = manifest_parse(fetched.body, fetched.media_type)
    except InvalidManifest as exc:
        raise ManifestInvalid(exc.detail, message=f"upstream manifest: {exc.message}") from None
    existing = Manifest.objects.filter(repository=repository, digest=fetched.digest).first()
    if existing is not None:
        return existing
    wanted = parsed.required_blob_digests + parsed.optional_blob_digests
    blobs = Blob.objects.filter(digest__in=wanted, repository_links__repository=repository)
    children = Manifest.objects.filter(repository=repository, digest__in=parsed.child_digests)
    valid = ValidManifest(body=fetched.body, parsed=parsed, digest=fetched.digest, tag="")
    manifest = manifest_store(
        repository=repository, valid=valid, actor=None, blobs=list(blobs), children=list(children)
    )
    if not parsed.is_index:
        _parents_link(manifest)
    return manifest


def manifest_by_digest(*, full_name: str, upstream: Upstream, repository, digest: str):
    if not digest_is_valid(digest):
        return None
    if repository is not None:
        local = Manifest.objects.filter(repository=repository, digest=digest).first()
        if local is not None:
            return local
    try:
        fetched = UpstreamClient(upstream).manifest_get(digest)
    except UpstreamNotFound:
        return None
    except UpstreamError as exc:
        raise _unavailable(exc) from exc
    repository = mirror_repository_ensure(full_name=full_name, upstream=upstream)
    return manifest_cache(repository=repository, fetched=fetched)


def manifest_by_tag(*, full_name: str, upstream: Upstream, repository, tag_name: str):
    if not TAG_RE.match(tag_name):
        return None
    tag = tag_get(repository=repository, name=tag_name)
    if tag is not None and _fresh(tag, upstream):
        return tag.manifest
    client = UpstreamClient(upstream)
    try:
        if tag is not None:
            upstream_digest = client.manifest_head(tag_name)
            if upstream_digest == tag.manifest.digest:
                tag_verified(tag=tag)
                return tag.manifest
        fetched = client.manifest_get(tag_name)
    except UpstreamNotFound:
        return tag.manifest if tag is not None else None
    except UpstreamError as exc:
        if tag is not None:
            logger.warning("serving stale %s:%s: %s", full_name, tag_name, exc)
            return tag.manifest
        raise _unavailable(exc) from exc
    repository = repository or mirror_repository_ensure(full_name=full_name, upstream=upstream)
    with transaction.atomic():
        manifest = manifest_cache(repository=repository, fetched=fetched)
        tag_cache(repository=repository, name=tag_name, manifest=manifest)
    return manifest


def manifest_fetch_for(*, full_name: str, upstream: Upstream, repository, reference: str):
    # A name the mirror keeps in its own namespace, which the view cannot look up.
    repository = repository or mirror_repository_find(full_name=full_name, upstream=upstream)
    if is_digest(reference):
        return manifest_by_digest(
            full_name=full_name, upstream=upstream, repository=repository, digest=reference
        )
    return manifest_by_tag(
        full_name=full_name, upstream=upstream, repository=repository, tag_name=reference
    )

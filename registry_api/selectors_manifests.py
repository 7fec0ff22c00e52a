"""Reads behind the /v2/ manifest, tags, catalog and referrers endpoints.

Tag and repository names are listed in byte order (what "lexical" means in the spec), so `last`
pagination is stable whatever the database's collation: PostgreSQL compares with the "C"
collation, SQLite's default comparison is already binary.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Collate, Concat

from hub.names import TAG_RE
from hub.selectors import repository_list_visible
from registry_api.digests import digest_is_valid
from registry_api.manifests import OCI_MANIFEST, is_digest
from registry_api.models import Manifest, Tag


def _bytewise(expression):
    if connection.vendor == "postgresql":
        return Collate(expression, "C")
    return expression


def _no_nul(value: str) -> str:
    # Names never hold NUL, and PostgreSQL refuses it in a query parameter.
    return value.replace("\x00", "")


def manifest_get(*, repository, reference: str) -> Manifest | None:
    """The manifest a tag or digest names in this repository, or None (also for bad references)."""
    if repository is None:
        return None
    if is_digest(reference):
        if not digest_is_valid(reference):
            return None
        return Manifest.objects.filter(repository=repository, digest=reference).first()
    if not TAG_RE.match(reference):
        return None
    tag = Tag.objects.select_related("manifest").filter(repository=repository, name=reference)
    found = tag.first()
    return found.manifest if found else None


def tag_get(*, repository, name: str) -> Tag | None:
    if repository is None or not TAG_RE.match(name):
        return None
    return Tag.objects.select_related("manifest").filter(repository=repository, name=name).first()


def tag_names(*, repository, limit: int | None = None, last: str = "") -> list[str]:
    """Tag names in byte order, after `last`, at most `limit` of them (None: all)."""
    if repository is None:
        return []
    tags = Tag.objects.filter(repository=repository).alias(sort_name=_bytewise(F("name")))
    last = _no_nul(last)
    if last:
        tags = tags.filter(sort_name__gt=last)
    names = tags.order_by("sort_name").values_list("name", flat=True)
    return list(names if limit is None else names[:limit])


def catalog_names(*, user, limit: int, last: str = "") -> list[str]:
    """Full names of the repositories `user` may view, in byte order, after `last`."""
    full_name = _bytewise(Concat(F("namespace__name"), Value("/"), F("name")))
    repositories = repository_list_visible(user=user).annotate(full=full_name)
    last = _no_nul(last)
    if last:
        repositories = repositories.filter(full__gt=last)
    return list(repositories.order_by("full").values_list("full", flat=True)[:limit])


def _document(manifest: Manifest) -> dict:
    try:
        document = json.loads(bytes(manifest.payload))
    except (TypeError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def referrer_artifact_type(manifest: Manifest, document: dict | None = None) -> str:
    """The artifactType a referrers list shows: the manifest's own, else its config's mediaType."""
    if manifest.artifact_type:
        return manifest.artifact_type
    document = _document(manifest) if document is None else document
    config = document.get("config")
    if manifest.media_type == OCI_MANIFEST and isinstance(config, dict):
        return str(config.get("mediaType") or "")
    return ""


def referrer_descriptors(*, repository, subject: str, artifact_type: str = "") -> list[dict]:
    """Descriptors of the manifests in this repository whose `subject` is that digest.

    Ordered oldest first; `artifact_type` keeps only those of that type.
    """
    if repository is None:
        return []
    manifests = Manifest.objects.filter(repository=repository, subject_digest=subject).order_by(
        "created_at", "pk"
    )
    descriptors = []
    for manifest in manifests:
        document = _document(manifest)
        kind = referrer_artifact_type(manifest, document)
        if artifact_type and kind != artifact_type:
            continue
        descriptor = {
            "mediaType": manifest.media_type,
            "digest": manifest.digest,
            "size": manifest.size,
        }
        if kind:
            descriptor["artifactType"] = kind
        annotations = document.get("annotations")
        if isinstance(annotations, dict) and annotations:
            descriptor["annotations"] = annotations
        descriptors.append(descriptor)
    return descriptors

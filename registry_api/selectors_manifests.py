"""Reads behind the /v2/ manifest, tags, catalog and referrers endpoints.

Tag and repository names are listed in byte order (what "lexical" means in the spec), so `last`
pagination is stable whatever the database's collation: PostgreSQL compares with the "C"
collation, SQLite's default comparison is already binary.
"""

from __future__ import annotations

import functools
import json

from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Collate, Concat

from hub.models import Namespace, Repository
from hub.names import PATH_COMPONENT_RE, REPOSITORY_PATH_RE, TAG_RE
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


# Every pull runs the repository and manifest lookups below. Written as raw SQL (both vendors'
# syntax): compiling the equivalent ORM queries cost about 1.5 ms each, most of a manifest GET
# (bench/README.md). Raw querysets still build model instances with the fields' converters.


@functools.cache
def _sql() -> dict[str, str]:
    # Only table names from the models go into the text (S608); values are always parameters.
    quote = connection.ops.quote_name
    repo, ns = quote(Repository._meta.db_table), quote(Namespace._meta.db_table)
    man, tag = quote(Manifest._meta.db_table), quote(Tag._meta.db_table)
    return {
        "repository": f"SELECT r.* FROM {repo} r JOIN {ns} n ON n.id = r.namespace_id"  # noqa: S608
        " WHERE n.name = %s AND r.name = %s LIMIT 1",
        "by_tag": f"SELECT m.* FROM {man} m JOIN {tag} t ON t.manifest_id = m.id"  # noqa: S608
        " WHERE t.repository_id = %s AND t.name = %s LIMIT 1",
        "by_digest": f"SELECT * FROM {man} WHERE repository_id = %s AND digest = %s LIMIT 1",  # noqa: S608
    }


def _valid_name(value: str, pattern) -> bool:
    return len(value) <= 255 and bool(pattern.match(value))


def _first(raw):
    return next(iter(raw), None)


def repository_lookup(*, namespace: str, name: str) -> Repository | None:
    """hub.selectors.repository_get for the /v2/ gate: the namespace row loads on first use."""
    if not _valid_name(namespace, PATH_COMPONENT_RE) or not _valid_name(name, REPOSITORY_PATH_RE):
        return None  # URL text that is no name (NUL bytes break PostgreSQL) names nothing
    return _first(Repository.objects.raw(_sql()["repository"], [namespace, name]))


def manifest_get(*, repository, reference: str) -> Manifest | None:
    """The manifest a tag or digest names in this repository, or None (also for bad references)."""
    if repository is None:
        return None
    if is_digest(reference):
        if not digest_is_valid(reference):
            return None
        return _first(Manifest.objects.raw(_sql()["by_digest"], [repository.pk, reference]))
    if not TAG_RE.match(reference):
        return None
    return _first(Manifest.objects.raw(_sql()["by_tag"], [repository.pk, reference]))


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

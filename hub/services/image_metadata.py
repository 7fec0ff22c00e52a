"""Repository metadata from the pushed image's OCI annotations (`org.opencontainers.image.*`).

The rule: the owner's word wins. A field the owner set (non-empty, not listed in
`Repository.metadata_from_image`) is never changed by a push; an empty field, or one an earlier
image filled, takes the new image's value. An annotation the new image lacks leaves the field as
it is. The owner editing a field (hub.services.repositories.repository_update) makes it theirs.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from hub.models import Repository

PREFIX = "org.opencontainers.image."
# Annotation → repository field.
ANNOTATION_FIELDS = {
    PREFIX + "description": "description",
    PREFIX + "source": "source_url",
    PREFIX + "documentation": "documentation_url",
    PREFIX + "url": "homepage_url",
    PREFIX + "licenses": "license",
    PREFIX + "title": "image_title",
    PREFIX + "version": "image_version",
}
# Fields both the owner and images may set; the others only images set.
SHARED_FIELDS = ("description", "source_url", "documentation_url", "homepage_url", "license")
URL_FIELDS = ("source_url", "documentation_url", "homepage_url")
_http_url = URLValidator(schemes=["http", "https"])


def _clean(field: str, value: str) -> str:
    """The value as the field may hold it, or "" when it cannot (a non-http URL, say)."""
    value = " ".join(value.split())  # no newlines or control whitespace in a one-line field
    limit = Repository._meta.get_field(field).max_length
    if field in URL_FIELDS:
        if len(value) > limit:
            return ""
        try:
            _http_url(value)
        except ValidationError:
            return ""
        return value
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def metadata_from_annotations(annotations: dict[str, str]) -> dict[str, str]:
    """The repository fields that annotations (or labels) give, cleaned; empty ones left out."""
    values = {}
    for key, field in ANNOTATION_FIELDS.items():
        value = annotations.get(key)
        if isinstance(value, str):
            cleaned = _clean(field, value)
            if cleaned:
                values[field] = cleaned
    return values


@transaction.atomic
def repository_metadata_apply(
    *, repository_id: int, annotations: dict[str, str], pushed_at: datetime
) -> list[str]:
    """Fill the repository's fields from an image pushed at `pushed_at`; return those changed.

    A push older than the one that last filled them changes nothing (tasks may run late or out
    of order).
    """
    repository = Repository.objects.select_for_update().filter(pk=repository_id).first()
    if repository is None:
        return []
    if repository.metadata_pushed_at and pushed_at < repository.metadata_pushed_at:
        return []
    from_image = set(repository.metadata_from_image or [])
    changed = []
    for field, value in metadata_from_annotations(annotations).items():
        current = getattr(repository, field)
        if field in SHARED_FIELDS and current and field not in from_image:
            continue  # the owner's
        if field in SHARED_FIELDS:
            from_image.add(field)
        if current != value:
            setattr(repository, field, value)
            changed.append(field)
    repository.metadata_from_image = sorted(from_image)
    repository.metadata_pushed_at = pushed_at
    repository.save(
        update_fields=[*changed, "metadata_from_image", "metadata_pushed_at"],
    )
    return changed


def owner_set(repository: Repository, changed_fields: list[str]) -> None:
    """Mark fields the owner just changed as theirs (call before saving `metadata_from_image`)."""
    remaining = [
        name for name in repository.metadata_from_image or [] if name not in changed_fields
    ]
    repository.metadata_from_image = remaining

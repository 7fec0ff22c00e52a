"""A person's profile: full name, bio, links and avatar (uploaded, or generated when empty)."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

MAX_AVATAR_BYTES = 512 * 1024
MAX_LINKS = 5
# Raster images only, known by their first bytes: an uploaded SVG could carry script.
AVATAR_TYPES = {
    b"\x89PNG\r\n\x1a\n": ("png", "image/png"),
    b"\xff\xd8\xff": ("jpg", "image/jpeg"),
    b"GIF87a": ("gif", "image/gif"),
    b"GIF89a": ("gif", "image/gif"),
}
AVATAR_CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


def avatar_kind(head: bytes) -> str | None:
    """The file extension of an accepted image type, from its first bytes; else None."""
    for magic, (extension, _content_type) in AVATAR_TYPES.items():
        if head.startswith(magic):
            return extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _links_clean(links: list[str]) -> list[str]:
    cleaned = [link.strip() for link in links if link.strip()]
    if len(cleaned) > MAX_LINKS:
        raise ValidationError({"links": _("At most %(n)d links.") % {"n": MAX_LINKS}})
    check = URLValidator(schemes=["http", "https"])
    for link in cleaned:
        try:
            check(link)
        except ValidationError as exc:
            raise ValidationError(
                {"links": _("%(link)s is not an http(s) URL.") % {"link": link}}
            ) from exc
    return cleaned


def _avatar_read(upload) -> tuple[bytes, str]:
    if upload.size > MAX_AVATAR_BYTES:
        raise ValidationError({"avatar": _("An avatar may be at most 512 KB.")})
    data = upload.read(MAX_AVATAR_BYTES + 1)
    kind = avatar_kind(data[:16])
    if len(data) > MAX_AVATAR_BYTES or kind is None:
        raise ValidationError(
            {"avatar": _("Upload a PNG, JPEG, GIF or WebP image of at most 512 KB.")}
        )
    return data, kind


def profile_update(
    *, user, full_name: str, bio: str, links: list[str], avatar=None, avatar_clear: bool = False
):
    """Save the profile; `avatar` is an uploaded file, `avatar_clear` goes back to the default."""
    links = _links_clean(links)
    new_avatar = _avatar_read(avatar) if avatar is not None else None
    old_name = user.avatar.name if (new_avatar or avatar_clear) else ""
    with transaction.atomic():
        user.full_name = full_name.strip()[:100]
        user.bio = bio.strip()[:200]
        user.links = links
        if new_avatar is not None:
            data, kind = new_avatar
            # A new name per upload: caches of the old picture never show the new one as stale.
            user.avatar.save(
                f"{user.pk}-{secrets.token_hex(8)}.{kind}", ContentFile(data), save=False
            )
        elif avatar_clear:
            user.avatar = ""
        user.save(update_fields=["full_name", "bio", "links", "avatar"])
    if old_name:
        transaction.on_commit(lambda: user.avatar.storage.delete(old_name))
    return user

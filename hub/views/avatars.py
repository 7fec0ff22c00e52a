"""A namespace's avatar: the uploaded picture of a user, else a generated identicon."""

from __future__ import annotations

from django.http import Http404, HttpResponse

from hub import selectors
from hub.avatars import identicon_svg
from hub.services.profiles import AVATAR_CONTENT_TYPES

CACHE = "public, max-age=300"


def avatar(request, namespace):
    owner = selectors.namespace_get(name=namespace)
    if owner is None:
        raise Http404
    user = owner.user if not owner.is_organization else None
    if user is not None and user.avatar:
        extension = user.avatar.name.rsplit(".", 1)[-1]
        content_type = AVATAR_CONTENT_TYPES.get(extension)
        if content_type is not None:
            try:
                with user.avatar.open("rb") as stored:
                    data = stored.read()
            except OSError:
                data = None  # lost from storage: draw the default rather than fail
            if data is not None:
                return _image(data, content_type)
    return _image(identicon_svg(owner.name).encode(), "image/svg+xml")


def _image(data: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = CACHE
    response["X-Content-Type-Options"] = "nosniff"
    return response

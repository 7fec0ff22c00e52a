"""Profile editing: full name, bio, links and avatar (uploaded within limits, else generated)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EDIT = "/settings/profile/"


@pytest.fixture
def avatars(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "avatars": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path  # Django drops its cached storages when STORAGES changes


def _post(client, **extra):
    data = {"full_name": "Alice Liddell", "bio": "Down the rabbit hole", "links": "", **extra}
    return client.post(EDIT, data)


def test_generated_avatar_is_an_svg_identicon(client, alice, acme):
    response = client.get(reverse("hub:avatar", args=["alice"]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg") and b"<script" not in response.content
    assert client.get(reverse("hub:avatar", args=["alice"])).content == response.content
    assert client.get(reverse("hub:avatar", args=["acme"])).status_code == 200
    assert client.get(reverse("hub:avatar", args=["nobody"])).status_code == 404


def test_edit_name_bio_links_and_upload_an_avatar(client, alice, avatars):
    client.force_login(alice)
    assert client.get(EDIT).status_code == 200
    avatar = SimpleUploadedFile("me.png", PNG, content_type="image/png")
    response = _post(
        client, links="https://example.com/alice\n\nhttp://blog.example", avatar=avatar
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.full_name == "Alice Liddell" and alice.bio == "Down the rabbit hole"
    assert alice.links == ["https://example.com/alice", "http://blog.example"]
    served = client.get(reverse("hub:avatar", args=["alice"]))
    assert served["Content-Type"] == "image/png" and served.content == PNG
    assert served["X-Content-Type-Options"] == "nosniff"
    page = client.get(reverse("hub:profile", args=["alice"])).content.decode()
    assert "Alice Liddell" in page and 'href="https://example.com/alice"' in page
    assert reverse("hub:avatar", args=["alice"]) in page


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("fake.png", b"not an image at all"),
        ("big.png", PNG + b"\x00" * (512 * 1024)),
    ],
)
def test_avatar_type_and_size_limits(client, alice, avatars, name, data):
    client.force_login(alice)
    response = _post(client, avatar=SimpleUploadedFile(name, data, content_type="image/png"))
    assert response.status_code == 400 and "avatar" in response.context["form"].errors
    alice.refresh_from_db()
    assert not alice.avatar and list(avatars.iterdir()) == []


@pytest.mark.parametrize(
    "links", ["javascript:alert(1)", "\n".join(f"https://e.x/{n}" for n in range(6))]
)
def test_links_must_be_few_http_urls(client, alice, avatars, links):
    client.force_login(alice)
    response = _post(client, links=links)
    assert response.status_code == 400 and "links" in response.context["form"].errors


def test_clearing_the_avatar_goes_back_to_the_generated_one(
    client, alice, avatars, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    _post(client, avatar=SimpleUploadedFile("me.png", PNG))
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, **{"avatar-clear": "on"}).status_code == 302
    alice.refresh_from_db()
    assert not alice.avatar and list(avatars.iterdir()) == []
    assert client.get(reverse("hub:avatar", args=["alice"]))["Content-Type"] == "image/svg+xml"


def test_editing_needs_sign_in(client):
    assert client.get(EDIT).status_code == 302

"""The tag history page, the deleted tags page and the Restore button (POST, CSRF, push only)."""

from __future__ import annotations

import pytest
from django.test import Client

from registry_api.models import Manifest, Tag
from registry_api.services.manifests import manifest_delete
from tests import factories
from tests.registry_api.conftest import image_push

pytestmark = pytest.mark.django_db

HISTORY = "/r/alice/app/-/tags/app/history/"
RESTORE = "/r/alice/app/-/tags/app/restore/"


@pytest.fixture
def moved(client, public_repo):
    """alice/app:app pushed as image A, then as image B; returns (A, B)."""
    return (
        image_push(client, "alice/app", "app", layer=b"image A"),
        image_push(client, "alice/app", "app", layer=b"image B"),
    )


def _current(repository, tag="app"):
    return Tag.objects.get(repository=repository, name=tag).manifest.digest


def test_history_shows_who_when_and_from_to_with_restore_for_pushers(client, alice, moved):
    first, second = moved
    client.force_login(alice)
    page = client.get(HISTORY)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<tr class="tag-event push">') == 2
    assert f'title="{first}"' in html and f'title="{second}"' in html
    assert ">alice<" in html
    # One restorable row (A); B is where the tag is now.
    assert html.count(f'name="digest" value="{first}"') == 1
    assert f'name="digest" value="{second}"' not in html
    assert "csrfmiddlewaretoken" in html


def test_viewers_who_cannot_push_see_no_restore_button(client, moved, charlie):
    assert 'name="digest"' not in client.get(HISTORY).content.decode()  # anonymous, public
    client.force_login(charlie)
    page = client.get(HISTORY)
    assert page.status_code == 200 and 'name="digest"' not in page.content.decode()
    answer = client.post(RESTORE, {"digest": moved[0]})
    assert answer.status_code == 404
    assert _current(Tag.objects.get(name="app").repository) == moved[1]


def test_restore_button_moves_the_tag_and_says_so(client, alice, moved, public_repo):
    client.force_login(alice)
    answer = client.post(RESTORE, {"digest": moved[0]}, follow=True)
    assert answer.redirect_chain[-1][0] == "/r/alice/app/-/tags/app/"
    assert "restored" in answer.content.decode()
    assert _current(public_repo) == moved[0]
    assert '<tr class="tag-event restore">' in client.get(HISTORY).content.decode()


def test_a_refused_restore_is_a_message_not_an_error(client, alice, moved, public_repo):
    client.force_login(alice)
    for digest in ("sha256:" + "1" * 64, "not a digest", ""):
        answer = client.post(RESTORE, {"digest": digest}, follow=True)
        assert answer.status_code == 200
        assert answer.redirect_chain[-1][0] == HISTORY
        assert 'class="message error"' in answer.content.decode()
    assert _current(public_repo) == moved[1]


def test_restore_needs_the_csrf_token(alice, moved, public_repo):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.post(RESTORE, {"digest": moved[0]}).status_code == 403
    assert _current(public_repo) == moved[1]


def test_deleted_tags_are_listed_and_restorable(client, alice, public_repo):
    digest = image_push(client, "alice/app", "gone")
    image_push(client, "alice/app", "kept", layer=b"other")
    manifest_delete(manifest=Manifest.objects.get(digest=digest), actor=alice)
    client.force_login(alice)
    overview = client.get("/r/alice/app/").content.decode()
    assert 'href="/r/alice/app/-/deleted-tags/"' in overview
    html = client.get("/r/alice/app/-/deleted-tags/").content.decode()
    assert 'href="/r/alice/app/-/tags/gone/history/"' in html
    assert "/tags/kept/" not in html
    assert f'name="digest" value="{digest}"' in html
    assert client.get("/r/alice/app/-/tags/gone/").status_code == 404
    assert client.get("/r/alice/app/-/tags/gone/history/").status_code == 200

    answer = client.post("/r/alice/app/-/tags/gone/restore/", {"digest": digest})

    assert answer.status_code == 302 and _current(public_repo, "gone") == digest
    assert "/tags/gone/" not in client.get("/r/alice/app/-/deleted-tags/").content.decode()


def test_tag_page_links_to_its_history(client, moved):
    assert (
        'href="/r/alice/app/-/tags/app/history/"'
        in client.get("/r/alice/app/-/tags/app/").content.decode()
    )


def test_unknown_tag_history_is_404(client, public_repo):
    assert client.get("/r/alice/app/-/tags/never/history/").status_code == 404


def test_private_history_is_invisible_to_outsiders(client, private_repo, charlie, bob):
    first = image_push(client, "alice/secret", "v1", layer=b"a")
    image_push(client, "alice/secret", "v1", layer=b"b")
    reader = factories.UserFactory(username="reader")
    factories.CollaboratorFactory(repository=private_repo, user=reader, role="read")
    urls = ("/r/alice/secret/-/tags/v1/history/", "/r/alice/secret/-/deleted-tags/")
    for url in urls:
        assert client.get(url).status_code == 404  # anonymous
    client.force_login(charlie)
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post("/r/alice/secret/-/tags/v1/restore/", {"digest": first}).status_code == 404
    client.force_login(reader)
    assert client.get(urls[0]).status_code == 200
    assert client.post("/r/alice/secret/-/tags/v1/restore/", {"digest": first}).status_code == 404
    assert _current(private_repo, "v1") != first
    client.force_login(bob)  # write collaborator
    assert client.post("/r/alice/secret/-/tags/v1/restore/", {"digest": first}).status_code == 302
    assert _current(private_repo, "v1") == first

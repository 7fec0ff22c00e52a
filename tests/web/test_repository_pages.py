"""Repository page and tag pages: what owners, collaborators, outsiders and anonymous see."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

import pytest

from tests import factories
from tests.conftest import PASSWORD
from tests.web.conftest import image_create, index_create


def normalised(response, path: str) -> str:
    """The body without per-request noise: CSRF tokens and the requested path."""
    html = response.content.decode().replace(quote(path, safe=""), "PATH").replace(path, "PATH")
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', r"\1T", html)


def signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_public_repository_page_shows_description_pull_command_and_tags(client, tagged_repo):
    tagged_repo.full_description = "# Hello\n\nRun **it**."
    tagged_repo.save()
    response = client.get("/r/alice/app/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Hello</h1>" in html and "<strong>it</strong>" in html
    assert "docker pull testserver/alice/app" in html
    assert 'data-copy="docker pull testserver/alice/app"' in html
    assert "/r/alice/app/-/tags/latest/" in html
    assert "linux/amd64" in html
    assert "by alice" in html


def test_full_description_is_sanitised(client, public_repo):
    public_repo.full_description = (
        '<script>alert("x")</script><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">link</a> <b>bold</b>'
    )
    public_repo.save()
    html = client.get("/r/alice/app/").content.decode()
    assert "<script>alert" not in html
    assert "onerror" not in html
    assert "javascript:" not in html
    assert "<b>bold</b>" in html


@pytest.mark.parametrize("who", [None, "charlie"])
def test_private_repository_is_404_to_anonymous_and_outsiders(client, private_repo, charlie, who):
    if who:
        signed_in(client, charlie)
    missing = client.get("/r/alice/does-not-exist/")
    hidden = client.get("/r/alice/secret/")
    assert hidden.status_code == missing.status_code == 404
    assert normalised(hidden, "/r/alice/secret/") == normalised(missing, "/r/alice/does-not-exist/")


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_private_repository_is_visible_to_owner_and_collaborator(
    client, private_repo, alice, bob, username
):
    signed_in(client, {"alice": alice, "bob": bob}[username])
    response = client.get("/r/alice/secret/")
    assert response.status_code == 200
    assert "private" in response.content.decode()


def test_organization_member_sees_private_organization_repository(client, acme, dave, charlie):
    factories.RepositoryFactory(namespace=acme.namespace, name="internal", is_private=True)
    assert signed_in(client, dave).get("/r/acme/internal/").status_code == 200
    client.logout()
    assert signed_in(client, charlie).get("/r/acme/internal/").status_code == 404


def test_private_tag_page_is_404_to_outsiders(client, private_repo, charlie):
    image_create(private_repo, "v1")
    assert client.get("/r/alice/secret/-/tags/v1/").status_code == 404
    assert signed_in(client, charlie).get("/r/alice/secret/-/tags/v1/").status_code == 404


def test_nested_repository_names_work(client, alice):
    factories.RepositoryFactory(namespace=alice.namespace, name="team/tools/cli")
    response = client.get("/r/alice/team/tools/cli/")
    assert response.status_code == 200
    assert "docker pull testserver/alice/team/tools/cli" in response.content.decode()


def test_tag_detail_shows_layers_config_and_history(client, tagged_repo):
    response = client.get("/r/alice/app/-/tags/latest/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "docker pull testserver/alice/app:latest" in html
    assert html.count("sha256:") >= 3
    assert "RUN apt-get install nginx" in html
    assert "ADD rootfs.tar /" in html
    assert "/docker-entrypoint.sh" in html
    assert "nginx -g daemon off;" in html
    assert "NGINX_VERSION=1.27" in html
    assert "80/tcp" in html
    assert "org.opencontainers.image.source=https://example.com/app" in html


def test_tag_detail_of_multi_arch_index_lists_platforms(client, public_repo, alice):
    tag = index_create(public_repo, "multi", pushed_by=alice)
    response = client.get("/r/alice/app/-/tags/multi/")
    html = response.content.decode()
    assert "linux/amd64" in html and "linux/arm64/v8" in html
    index = json.loads(bytes(tag.manifest.payload))
    arm = next(m for m in index["manifests"] if m["platform"]["architecture"] == "arm64")
    chosen = client.get(f"/r/alice/app/-/tags/multi/?platform={arm['digest']}")
    assert chosen.status_code == 200
    # The chosen child is the one shown: its badge is selected and the image header names it.
    selected = re.search(r'class="badge platform selected" href="\?platform=([^"]+)"', chosen.text)
    assert selected and unquote(selected.group(1)) == arm["digest"]
    assert '<span class="badge platform">linux/arm64/v8</span>' in chosen.text
    listing = client.get("/r/alice/app/").content.decode()
    assert "linux/arm64/v8" in listing


def test_unknown_tag_and_bad_platform_do_not_break(client, tagged_repo):
    assert client.get("/r/alice/app/-/tags/nope/").status_code == 404
    assert client.get("/r/alice/app/-/tags/latest/?platform=%00bogus").status_code == 200


def test_mirror_repository_shows_badge(client, alice):
    factories.RepositoryFactory(
        namespace=alice.namespace, name="nginx", mirror_of="registry-1.docker.io/library/nginx"
    )
    html = client.get("/r/alice/nginx/").content.decode()
    assert "mirror of registry-1.docker.io/library/nginx" in html


def test_settings_tab_only_for_admins(client, public_repo, alice, bob):
    assert "/-/settings/" not in client.get("/r/alice/app/").content.decode()
    assert "/-/settings/" in signed_in(client, alice).get("/r/alice/app/").content.decode()


def test_404_and_403_pages_use_site_layout(client, public_repo, alice, bob):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "site.css" in response.content.decode()
    comment = factories.CommentFactory(repository=public_repo, author=alice)
    signed_in(client, bob)
    forbidden = client.post(f"/r/alice/app/-/comments/{comment.pk}/edit/", {"body": "x"})
    assert forbidden.status_code == 403
    assert "site.css" in forbidden.content.decode()


def test_tags_are_paginated_and_filterable(client, public_repo):
    for number in range(30):
        image_create(public_repo, f"v{number:02d}", layers=(f"layer{number}".encode(),))
    first = client.get("/r/alice/app/").content.decode()
    assert first.count('class="tag-name"') == 25
    assert "page=2#tags" in first
    second = client.get("/r/alice/app/?page=2").content.decode()
    assert second.count('class="tag-name"') == 5
    filtered = client.get("/r/alice/app/?tag=v2").content.decode()
    assert filtered.count('class="tag-name"') == 10
    assert "No tags match." in client.get("/r/alice/app/?tag=zzz").content.decode()

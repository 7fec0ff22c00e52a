"""The comparison page /r/<ns>/<name>/-/compare/?from=&to=: pickers, layers, config, links."""

from __future__ import annotations

from django.urls import reverse

from tests.web.conftest import image_create, index_create


def _url(repository) -> str:
    return reverse("hub:repository-compare", args=[repository.namespace.name, repository.name])


def _two_tags(repository):
    image_create(repository, "v1", layers=(b"base layer", b"old top"))
    image_create(
        repository,
        "v2",
        layers=(b"base layer", b"new top layer"),
        config={"os": "linux", "architecture": "amd64", "config": {"Env": ["MODE=fast"]}},
    )


def test_compare_page_shows_layers_and_config_changes(client, public_repo):
    _two_tags(public_repo)
    page = client.get(_url(public_repo), {"from": "v1", "to": "v2"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="compare-layers"' in html and 'id="compare-config"' in html
    assert "1 shared, 1 added, 1 removed." in html
    assert "ENV MODE" in html and "EXPOSE" in html  # v2 dropped port 80
    assert 'value="v1"' in html and '<option value="v2">' in html
    assert 'id="compare-packages"' not in html  # no package data yet


def test_compare_page_without_references_shows_the_pickers(client, public_repo):
    _two_tags(public_repo)
    page = client.get(_url(public_repo))
    assert page.status_code == 200
    assert b'name="from"' in page.content and b'id="compare-layers"' not in page.content


def test_compare_page_offers_the_platforms_of_an_index(client, public_repo):
    index_create(public_repo, "multi")
    page = client.get(_url(public_repo), {"from": "multi", "to": "multi"})
    assert page.status_code == 200
    assert b'<option value="linux/arm64/v8">' in page.content
    assert b'id="compare-platforms"' in page.content


def test_unknown_reference_is_a_form_error(client, public_repo):
    _two_tags(public_repo)
    page = client.get(_url(public_repo), {"from": "v1", "to": "nope"})
    assert page.status_code == 400
    assert b"errorlist" in page.content


def test_outsider_gets_404_for_a_private_repository(client, charlie, private_repo):
    _two_tags(private_repo)
    client.force_login(charlie)
    assert client.get(_url(private_repo), {"from": "v1", "to": "v2"}).status_code == 404


def test_tags_list_and_tag_page_link_to_the_comparison(client, public_repo):
    _two_tags(public_repo)
    assert _url(public_repo).encode() in client.get(public_repo.get_absolute_url()).content
    tag_page = client.get(
        reverse("hub:tag-detail", args=[public_repo.namespace.name, public_repo.name, "v1"])
    )
    assert f"{_url(public_repo)}?from=v1".encode() in tag_page.content

"""Small page facts from issue 19: staff navigation, plain empty states, humanized times."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template import Context, Template
from django.urls import reverse
from django.utils import translation


def test_admin_link_only_for_staff(client, alice, charlie):
    alice.is_staff = True
    alice.save()
    client.force_login(alice)
    assert 'class="nav-admin"' in client.get(reverse("hub:explore")).content.decode()
    client.force_login(charlie)
    assert 'class="nav-admin"' not in client.get(reverse("hub:explore")).content.decode()


def test_no_organization_is_plain_text(client, charlie):
    client.force_login(charlie)
    page = client.get(reverse("accounts:settings")).content.decode()
    assert '<p class="muted no-organizations">' in page and '<li class="muted">' not in page


def test_image_history_time_is_humanized_with_the_exact_time_on_hover():
    html = Template("{% load hub_ui %}{{ value|time_tag }}").render(
        Context({"value": "2024-01-02T03:04:05.123456789Z"})
    )
    assert html.startswith('<time datetime="2024-01-02T03:04:05.123456+00:00" title="')
    assert "ago" in html and ".123456789" not in html
    assert Template("{% load hub_ui %}{{ v|time_tag }}").render(Context({"v": "junk"})) == "junk"


def test_pushed_by_is_one_sentence():
    from types import SimpleNamespace

    tag = SimpleNamespace(pushed_at=datetime(2024, 1, 1, tzinfo=UTC), pushed_by=None)
    tag.pushed_by = SimpleNamespace(username="alice")
    with translation.override("en"):
        html = Template('{% include "hub/_pushed.html" %}').render(Context({"tag": tag}))
    assert "</time> by alice" in html


def test_a_new_users_empty_profile_shows_the_push_hint(client, charlie):
    client.force_login(charlie)
    page = client.get(reverse("hub:profile", args=["charlie"])).content.decode()
    assert 'class="muted push-hint"' in page and "/charlie/&lt;name&gt;:&lt;tag&gt;" in page


def test_cards_show_tag_count_size_and_platforms(client, public_repo):
    from tests.web.conftest import image_create, index_create

    image_create(public_repo, "v1")
    index_create(public_repo, "latest")
    page = client.get(reverse("hub:explore")).content.decode()
    assert '<span class="tag-count">2 tags</span>' in page
    facts = page.split('class="small image-facts"')[1].split("</p>")[0]
    assert "linux/amd64" in facts and "linux/arm64/v8" in facts  # the platforms of `latest`
    assert 'class="image-size" title="latest"' in facts


def test_tag_rows_show_pulls_and_last_pulled(client, tagged_repo):
    tagged = tagged_repo
    from registry_api.pulls import pull_record

    pull_record(repository_id=tagged.pk, tag_name="latest")
    pull_record(repository_id=tagged.pk, tag_name="latest")
    page = client.get(reverse("hub:repository-detail", args=["alice", "app"])).content.decode()
    assert 'class="tag-pulls">2 · last pulled <time' in page

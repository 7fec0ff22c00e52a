"""Dockyard's admin site: its header, users beside groups, escaped help, the dashboard."""

from __future__ import annotations

from django.urls import reverse

from registry_api.models import TagEvent
from tests.hub.test_admin import operator  # noqa: F401 - the superuser fixture


def test_header_and_users_with_groups_in_one_section(client, operator):  # noqa: F811
    client.force_login(operator)
    response = client.get(reverse("admin:index"))
    page = response.content.decode()
    assert "Dockyard administration" in page
    sections = {app["app_label"]: app for app in response.context["app_list"]}
    assert "auth" not in sections
    names = {model["object_name"] for model in sections["hub"]["models"]}
    assert {"User", "Group"} <= names
    assert reverse("admin:dashboard") in page


def test_username_help_text_is_escaped(client, operator):  # noqa: F811
    client.force_login(operator)
    page = client.get(reverse("admin:hub_user_change", args=[operator.pk])).content.decode()
    assert "&lt;username&gt;/&lt;repository&gt;" in page


def test_dashboard_counts(client, operator, public_repo, alice):  # noqa: F811
    TagEvent.objects.create(
        repository=public_repo,
        tag="v1",
        action=TagEvent.Action.PUSH,
        to_digest="sha256:" + "a" * 64,
    )
    client.force_login(operator)
    response = client.get(reverse("admin:dashboard"))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts.repositories >= 1 and counts.users >= 2
    assert counts.days[-1].pushes == 1 and len(counts.days) == 14
    assert 'class="count-storage"' in response.content.decode()


def test_dashboard_is_refused_to_non_staff(client, charlie):
    client.force_login(charlie)
    assert client.get(reverse("admin:dashboard")).status_code == 302

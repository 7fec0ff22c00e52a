"""The admin site opens for a superuser on every model and is refused to everyone else."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests import factories


@pytest.fixture
def operator(db):
    user = factories.UserFactory(username="operator")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def _changelist_urls():
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def test_every_model_changelist_opens_for_a_superuser(client, operator, public_repo, acme):
    client.force_login(operator)
    for url in _changelist_urls():
        response = client.get(url, {"q": "a"})
        assert response.status_code == 200, url


def test_repository_change_page_opens_for_a_superuser(client, operator, public_repo):
    client.force_login(operator)
    url = reverse("admin:hub_repository_change", args=[public_repo.pk])
    assert client.get(url).status_code == 200


def test_admin_is_refused_to_a_signed_in_non_staff_user(client, charlie):
    client.force_login(charlie)
    for url in _changelist_urls():
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_admin_is_refused_to_anonymous_visitors(client, db):
    response = client.get(reverse("admin:hub_repository_changelist"))
    assert response.status_code == 302

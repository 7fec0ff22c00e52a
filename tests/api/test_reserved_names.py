"""Reserved names and look-alikes are refused at sign-up and organization creation (web, API)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hub.models import Namespace, Organization
from hub.reserved_names import name_key, namespace_name_check, reserved_names
from hub.services.organizations import organization_create
from tests.api.conftest import API

RESERVED = [
    "admin", "library", "docker", "official", "security", "support", "dockyard", "v2", "api",
    "static", "auth", "root", "www", "mail",
]  # fmt: skip
ROUTES = ["accounts", "orgs", "settings", "search", "u", "r", "i18n", "v1"]


def _signup(client, username, email=None):
    return client.post(
        reverse("accounts:signup"),
        {
            "username": username,
            "email": email or f"{username.replace('.', '')}@example.com",
            "password1": "a-long-unusual-phrase",
            "password2": "a-long-unusual-phrase",
        },
    )


def test_the_defaults_and_the_portal_routes_are_reserved():
    assert set(RESERVED) | set(ROUTES) <= reserved_names()


# `library` exists from the start (official images): refused as taken, see below.
@pytest.mark.parametrize(
    "name", [n for n in RESERVED if n != "library"] + [*ROUTES, "ad-min", "lib.rary", "v_2"]
)
def test_reserved_names_are_refused_at_sign_up(client, db, name):
    response = _signup(client, name)
    assert response.status_code == 200
    assert "reserved" in str(response.context["form"].errors["username"])
    assert not Namespace.objects.filter(name=name).exists()


def test_library_is_the_official_organization_and_cannot_be_signed_up_for(client, db):
    response = _signup(client, "library")
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert Namespace.objects.get(name="library").kind == Namespace.Kind.ORGANIZATION


@pytest.mark.parametrize("name", ["security", "docker", "orgs", "off-icial"])
def test_reserved_names_are_refused_for_organizations(as_user, client, alice, name):
    response = as_user(alice).post(f"{API}/orgs/", {"name": name}, format="json")
    assert response.status_code == 400 and "reserved" in str(response.json()["name"])
    client.force_login(alice)
    page = client.post(reverse("accounts:org-create"), {"name": name})
    assert page.status_code == 200 and "reserved" in str(page.context["form"].errors["name"])
    assert not Organization.objects.filter(name=name).exists()


@pytest.mark.parametrize("name", ["ali-ce", "a.li_ce", "al--ice", "alic.e"])
def test_look_alikes_of_existing_names_are_refused(as_user, client, alice, bob, name):
    response = _signup(client, name)
    assert response.status_code == 200
    assert "too close" in str(response.context["form"].errors["username"])
    refused = as_user(bob).post(f"{API}/orgs/", {"name": name}, format="json")
    assert refused.status_code == 400 and "alice" in str(refused.json()["name"])


def test_look_alikes_of_organizations_are_refused_at_sign_up(client, acme):
    response = _signup(client, "ac-me")
    assert "too close" in str(response.context["form"].errors["username"])


def test_names_that_only_share_letters_in_another_order_are_free(client, alice):
    assert _signup(client, "alicex").status_code == 302
    assert Namespace.objects.filter(name="alicex").exists()


def test_reserved_names_setting_adds_to_the_defaults(client, alice, settings):
    settings.RESERVED_NAMES = ["acme-corp", " Billing "]
    for name in ("acme-corp", "acmecorp", "billing"):
        with pytest.raises(ValidationError):
            namespace_name_check(name)
    assert "admin" in reserved_names()
    with pytest.raises(ValidationError):
        organization_create(owner=alice, name="acme.corp")


def test_name_key_ignores_separator_runs():
    assert name_key("a.li_ce") == name_key("ali--ce") == name_key("alice") == "alice"

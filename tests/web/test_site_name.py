"""Pages and e-mails call the registry by SITE_NAME, on the sign-in pages too (Django's auth
views put the request's host in their own `site_name`, which once replaced the brand)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


def _brand(html: str) -> str:
    return re.search(r'class="brand"[^>]*>.*?</span>\s*([^<]+)</a>', html, re.S).group(1).strip()


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/password_reset/"])
def test_every_page_shows_the_brand_not_the_host(client, path):
    assert _brand(client.get(path).content.decode()) == "Dockyard"


def test_a_vendor_names_its_registry(client, settings, alice):
    settings.SITE_NAME = "Acme Registry"
    html = client.get("/accounts/login/").content.decode()
    assert _brand(html) == "Acme Registry" and "<title>" in html and "Acme Registry</title>" in html
    client.post("/accounts/password_reset/", {"email": alice.email})
    assert [m.subject for m in mail.outbox] == ["Reset your password on Acme Registry"]

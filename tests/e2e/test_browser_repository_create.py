"""Creating a repository in a real browser (Chromium) under the portal's CSP: the header link,
the form with an organization namespace and private visibility, a form error for a bad name,
then the empty repository's page with its push instructions."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, csp_violations, shot, sign_in

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site(server):
    server.create_user("shipwright", PASSWORD)
    server.python(
        "from django.contrib.auth import get_user_model\n"
        "from hub.models import Namespace\n"
        "from hub.services.organizations import organization_create\n"
        "owner = get_user_model().objects.get(username='shipwright')\n"
        "if not Namespace.objects.filter(name='dockworks').exists():\n"
        "    organization_create(owner=owner, name='dockworks', display_name='Dock works')\n"
    )
    return server


@pytest.fixture
def page():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15000)
        yield context.new_page()
        browser.close()


def test_create_a_private_repository_in_an_organization(page, site):
    violations = csp_violations(page)
    sign_in(page, site, "shipwright")

    page.click("header a:text-is('New repository')")
    page.wait_for_url(re.compile(r"/repositories/new/$"))
    assert page.locator("select[name=namespace] option").all_inner_texts() == [
        "shipwright",
        "dockworks",
    ]
    assert page.is_checked("input[name=visibility][value=public]")  # DEFAULT_VISIBILITY=public

    page.select_option("select[name=namespace]", "dockworks")
    page.fill("input[name=name]", "Not A Name")
    page.locator("#repository-new button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/repositories/new/")
    assert page.locator("#repository-new .has-error input[name=name]").count() == 1
    shot(page, "repository-new-error")

    page.fill("input[name=name]", "tools/rigger")
    page.check("input[name=visibility][value=private]")
    page.fill("input[name=description]", "Rigging tools")
    page.fill("textarea[name=full_description]", "# Rigger\n\nRigs things.")
    page.locator("#repository-new button[type=submit]").click()
    page.wait_for_url(re.compile(r"/r/dockworks/tools/rigger/$"))
    assert page.locator(".markdown h1").inner_text() == "Rigger"
    commands = page.locator(".push-instructions .pull-command code").all_inner_texts()
    assert commands[-1] == f"docker push {site.address}/dockworks/tools/rigger:latest"
    shot(page, "repository-new-created")
    assert violations == []

    private = site.python(
        "from hub.models import Repository\n"
        "print(Repository.objects.get(namespace__name='dockworks', name='tools/rigger').is_private)"
    )
    assert private.split()[-1] == "True"

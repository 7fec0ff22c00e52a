"""The issue's bar for OpenID Connect: a provider user signs in through Chromium (the loopback
django-oauth-toolkit provider's login form and consent page), lands on the portal, creates a
personal access token in the UI, `docker login`s with it and pushes into the organization its
groups claim maps it to; deactivated, its next push is refused.

Screenshots land in test-output/screenshots/oidc-*.png.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import server_env
from tests.e2e.server import Server, drop_throwaway_database
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, csp_violations, shot
from tests.oidc_server import oidc_provider  # noqa: F401 - session fixture

playwright_api = pytest.importorskip("playwright.sync_api")

IDP_PASSWORD = "olive-idp-password-1"


@pytest.fixture(scope="module")
def oidc_site(oidc_provider, tmp_path_factory):  # noqa: F811
    oidc_provider.user_add("olive", IDP_PASSWORD, email="olive@corp.test", groups=["e2e-devs"])
    env = server_env(tmp_path_factory)
    server = Server(tmp_path_factory.mktemp("dockyard-oidc"), env=env)
    client = oidc_provider.client_add([server.url + "/oidc/callback/"], [server.url + "/"])
    server.env.update(oidc_provider.settings_env(*client, group_map={"e2e-devs": "org:oidcorg"}))
    server.start()
    server.create_user("owner", "owner-local-password")
    server.python(
        "from django.contrib.auth import get_user_model\n"
        "from hub.services.organizations import organization_create\n"
        "owner = get_user_model().objects.get(username='owner')\n"
        "organization_create(owner=owner, name='oidcorg')\n"
    )
    yield server
    server.stop()
    drop_throwaway_database(env["DATABASE_URL"])


@pytest.fixture(scope="module")
def browser():
    # One sync Playwright per module: a second one inside it refuses to start.
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


def test_oidc_user_signs_in_makes_token_pushes_and_is_cut_off(
    oidc_site, page, dockerd, app_archive, tmp_path
):
    server = oidc_site
    page.goto(server.url + "/accounts/login/")
    shot(page, "oidc-sign-in")
    page.click("a.oidc-sign-in:text('Sign in with Test IdP')")
    page.wait_for_selector("form#idp-login")
    page.fill("input[name=username]", "olive")
    page.fill("input[name=password]", IDP_PASSWORD)
    shot(page, "oidc-provider-login")
    page.click("form#idp-login button[type=submit]")
    page.wait_for_selector("#authorizationForm")
    shot(page, "oidc-provider-consent")
    page.click("input[name=allow]")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/"))
    assert page.locator("header .nav-user", has_text="olive").count() == 1
    shot(page, "oidc-signed-in")

    page.goto(server.url + "/settings/tokens/")
    page.fill("input[name=label]", "laptop")
    page.check("input[name=scopes][value='repo:write']")
    page.locator("main form.form button[type=submit]").click()
    secret = page.locator("#new-token code").inner_text().strip()
    assert secret.startswith("dky_")
    shot(page, "oidc-token-created")

    docker = dockerd.client(tmp_path / "docker")
    idp_password = docker.cli(
        "login", server.address, "-u", "olive", "--password-stdin",
        input=IDP_PASSWORD, check=False,
    )  # fmt: skip
    assert idp_password.returncode != 0  # the IdP's password is no docker password
    login = docker.cli("login", server.address, "-u", "olive", "--password-stdin", input=secret)
    assert "Login Succeeded" in login.stdout
    archive, loaded = app_archive
    docker.cli("load", "-i", str(archive))
    allowed = f"{server.address}/oidcorg/app:1"
    docker.cli("tag", loaded, allowed)
    docker.cli("push", allowed)
    elsewhere = f"{server.address}/owner/app:1"
    docker.cli("tag", loaded, elsewhere)
    assert docker.cli("push", elsewhere, check=False).returncode != 0

    server.python(
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.filter(username='olive').update(is_active=False)\n"
    )
    again = f"{server.address}/oidcorg/app:2"
    docker.cli("tag", loaded, again)
    assert docker.cli("push", again, check=False).returncode != 0
    page.goto(server.url + "/settings/tokens/")
    assert "/accounts/login/" in page.url  # the portal session ended with the account
    shot(page, "oidc-deactivated")


def test_sign_out_ends_the_provider_session_and_comes_back(
    oidc_site,
    oidc_provider,  # noqa: F811
    browser,
):
    server = oidc_site
    oidc_provider.user_add("otto", IDP_PASSWORD, email="otto@corp.test")
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # its own cookies
    page = context.new_page()
    page.set_default_timeout(15000)
    violations = csp_violations(page)
    page.goto(server.url + "/accounts/login/")
    page.click("a.oidc-sign-in")
    page.fill("input[name=username]", "otto")
    page.fill("input[name=password]", IDP_PASSWORD)
    page.click("form#idp-login button[type=submit]")
    page.click("input[name=allow]")
    page.wait_for_selector("header .nav-user")
    page.click("header button:text('Sign out')")
    page.wait_for_url(server.url + "/")  # back from the provider's end_session_endpoint
    assert page.locator("header .nav-user").count() == 0
    # The provider's session ended too: signing in again asks for the password.
    page.goto(server.url + "/accounts/login/")
    page.click("a.oidc-sign-in")
    page.wait_for_selector("form#idp-login")
    shot(page, "oidc-signed-out-provider-asks-again")
    assert violations == []  # form-action allows the sign-out's redirect to the provider
    context.close()

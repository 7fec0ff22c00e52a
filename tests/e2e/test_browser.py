"""The web UI in a real browser (Debian's Chromium driven by Playwright) against a real server.

Screenshots of the main pages land in test-output/screenshots/ for a human to look at.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.server import ROOT

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = ROOT / "test-output" / "screenshots"
PASSWORD = "browser-test-pass-1"


@pytest.fixture(scope="module")
def site(server):
    """Users and repositories for the browser tests, made through the server's own code."""
    for username in ("ship", "mate", "deckhand"):
        server.create_user(username, PASSWORD)
    server.python(
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        "from django.contrib.auth import get_user_model\n"
        "from tests.web.conftest import image_create, index_create\n"
        "ship = get_user_model().objects.get(username='ship')\n"
        "ns = Namespace.objects.get(name='ship')\n"
        "public = repository_create(namespace=ns, name='harbour-web', actor=ship,\n"
        "    description='Static site served by nginx',\n"
        "    full_description='# Harbour web\\n\\nServe the **harbour** site.\\n\\n"
        "```\\ndocker run -p 8080:80 harbour-web\\n```')\n"
        "image_create(public, 'latest', pushed_by=ship)\n"
        "image_create(public, '1.0', pushed_by=ship, layers=(b'x' * 5000, b'y' * 90000))\n"
        "index_create(public, 'multi', pushed_by=ship)\n"
        "repository_create(namespace=ns, name='harbour-secret', actor=ship, is_private=True,\n"
        "    description='Private things')\n"
    )
    return server


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar belongs at the top
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def csp_violations(page) -> list[str]:
    """The Content-Security-Policy violations the page reports from now on (filled as it runs)."""
    messages: list[str] = []
    page.on(
        "console",
        lambda message: messages.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    return messages


def sign_in(page, site, username: str, password: str = PASSWORD) -> None:
    page.goto(site.url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("header .nav-user", has_text=username).count() == 1


def test_search_finds_public_repository_not_private(page, site):
    page.goto(site.url + "/")
    shot(page, "explore")
    page.fill(".hero-search input[name=q]", "harbour")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=harbour"))
    cards = page.locator(".cards .card h3")
    assert cards.all_inner_texts() == ["ship/harbour-web"]
    shot(page, "search")


def test_repository_page_shows_tags_and_pull_command(page, site):
    page.goto(site.url + "/search/?q=harbour")
    page.click("text=ship/harbour-web")
    page.wait_for_url(re.compile(r"/r/ship/harbour-web/$"))
    assert page.locator(".markdown h1").inner_text() == "Harbour web"
    pull = page.locator(".repo-side .pull-command code").inner_text()
    assert pull == f"docker pull {site.address}/ship/harbour-web"
    rows = page.locator(".tags-table tbody tr")
    assert rows.count() == 3
    assert "linux/arm64/v8" in page.locator(".tags-table").inner_text()
    assert "by ship" in page.locator(".tags-table").inner_text()
    shot(page, "repository")
    page.click(".tags-table a.tag-name:text-is('latest')")
    page.wait_for_url(re.compile(r"/-/tags/latest/$"))
    assert "RUN apt-get install nginx" in page.locator(".layers-table").inner_text()
    assert "80/tcp" in page.content()
    shot(page, "tag-detail")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site.url + "/r/ship/harbour-web/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    shot(page, "repository-phone")
    page.emulate_media(color_scheme="dark")
    page.goto(site.url + "/r/ship/harbour-web/-/tags/multi/")
    shot(page, "tag-detail-phone-dark")


def test_private_repository_is_not_found_for_anonymous(page, site):
    response = page.goto(site.url + "/r/ship/harbour-secret/")
    assert response.status == 404
    shot(page, "not-found")


def test_sign_in_star_and_comment_without_reload(page, site):
    sign_in(page, site, "mate")
    page.goto(site.url + "/r/ship/harbour-web/")
    page.evaluate("window.__noReload = true")
    star = page.locator("#star-button button")
    assert star.locator(".star-count").inner_text() == "0"
    star.click()
    page.locator("#star-button button.starred").wait_for()
    assert page.locator("#star-button .star-count").inner_text() == "1"
    page.fill("#comment-form textarea", "<b>bold?</b> Looks **great**")
    page.click("#comment-form button[type=submit]")
    comment = page.locator("#comments-list .comment").last
    comment.wait_for()
    assert "<b>bold?</b> Looks great" in comment.locator(".comment-body").inner_text()
    assert comment.locator(".comment-body b").count() == 0
    assert comment.locator(".comment-body strong").inner_text() == "great"
    assert page.evaluate("window.__noReload") is True  # htmx swapped; no full page load
    assert page.locator("#comment-form textarea").input_value() == ""
    shot(page, "repository-signed-in")
    page.goto(site.url + "/u/mate/")
    assert "ship/harbour-web" in page.locator(".cards").last.inner_text()
    shot(page, "profile")


def test_collaborator_added_in_settings_sees_private_repository(browser, site):
    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    guest = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = owner.new_page()
        sign_in(page, site, "ship")
        page.goto(site.url + "/r/ship/harbour-secret/-/settings/")
        page.fill("#collaborators input[name=username]", "deckhand")
        page.select_option("#collaborators select[name=role]", "read")
        page.click("#collaborators button:text-is('Add')")
        page.wait_for_load_state()
        assert "deckhand is now a collaborator" in page.locator(".messages").inner_text()
        shot(page, "settings")
        other = guest.new_page()
        sign_in(other, site, "deckhand")
        response = other.goto(site.url + "/r/ship/harbour-secret/")
        assert response.status == 200
        assert "harbour-secret" in other.locator("h1").inner_text()
        other.goto(site.url + "/search/?q=harbour")
        names = other.locator(".cards .card h3").all_inner_texts()
        assert sorted(names) == ["ship/harbour-secret", "ship/harbour-web"]
    finally:
        owner.close()
        guest.close()


def test_pushed_image_shows_config_and_layers(page, site, tmp_path):
    """An image pushed by a real client (skopeo) shows what its config blob says."""
    from tests.e2e.images import TestImage, busybox_layer, text_layer
    from tests.e2e.tools import Skopeo

    image = TestImage(
        layers=[busybox_layer(tmp_path), text_layer(tmp_path, "motd", {"etc/motd": b"ahoy\n"})],
        message="hello-from-ui",
        labels={"org.opencontainers.image.title": "pushed"},
    )
    source = image.write_oci_layout(tmp_path / "layout", "v1")
    skopeo = Skopeo(tmp_path / "skopeo")
    skopeo(
        "copy", "--dest-tls-verify=false", "--dest-creds", f"ship:{PASSWORD}",
        source, f"docker://{site.address}/ship/pushed:v1",
    )  # fmt: skip
    sign_in(page, site, "ship")
    page.goto(site.url + "/r/ship/pushed/")
    row = page.locator(".tags-table tbody tr").first
    assert "v1" in row.inner_text() and "linux/amd64" in row.inner_text()
    assert "by ship" in row.inner_text()
    page.click(".tags-table a.tag-name:text-is('v1')")
    page.wait_for_url(re.compile(r"/-/tags/v1/$"))
    assert "/bin/busybox echo hello-from-ui" in page.locator(".facts").last.inner_text()
    assert "org.opencontainers.image.title=pushed" in page.content()
    layers = page.locator(".layers-table tbody tr")
    assert layers.count() == 2
    assert "motd.tar" in layers.nth(1).inner_text()
    assert page.locator("dd code.digest").inner_text().startswith("sha256:")
    shot(page, "tag-detail-pushed")

"""Issue 19 in a real browser: each changed page at 1280 px and 390 px, in English and Chinese.

Layout facts are asserted (no sideways page scroll on a phone, pull commands on one line, a
working Copy button); screenshots land in test-output/screenshots/polish-*.png for a human.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SHOTS, csp_violations

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": 1280, "phone": 390}
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}
# Each page of the issue: (name, path, signed-in user or None).
PAGES = [
    ("explore", "/", None),
    ("search", "/search/?q=polish", None),
    ("repository", "/r/skipper/polish-app/", None),
    ("tags-by-name", "/r/skipper/polish-app/?ordering=-name#tags", None),
    ("tag-detail", "/r/skipper/polish-app/-/tags/latest/", None),
    ("tag-history", "/r/skipper/polish-app/-/tags/latest/history/", None),
    ("tokens", "/settings/tokens/", "skipper"),
    ("settings", "/settings/", "newcomer"),
    ("profile-edit", "/settings/profile/", "newcomer"),
    ("profile-empty", "/u/newcomer/", "newcomer"),
    ("webhook-new", "/r/skipper/polish-app/-/webhooks/", "skipper"),
    ("admin", "/admin/", "skipper"),
    ("admin-dashboard", "/admin/dashboard/", "skipper"),
    ("admin-user", "/admin/hub/user/", "skipper"),
    ("admin-repositories", "/admin/hub/repository/", "skipper"),
    # The pages the rest of this wave added (compare, rename/transfer, signing keys, scanning).
    ("compare", "/r/skipper/polish-app/-/compare/?from=v3&to=v30", None),
    ("repository-settings", "/r/skipper/polish-app/-/settings/", "skipper"),
    ("signing-keys", "/settings/signing-keys/", "skipper"),
    ("vulnerabilities", "/-/vulnerabilities/", "skipper"),
    ("sign-in", "/accounts/login/", None),
]


@pytest.fixture(scope="module")
def site(server):
    for username in ("skipper", "newcomer"):
        server.create_user(username, PASSWORD)
    server.python(
        "from django.contrib.auth import get_user_model\n"
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        "from registry_api.models import Tag\n"
        "from tests.web.conftest import image_create, index_create\n"
        "User = get_user_model()\n"
        "User.objects.filter(username='skipper').update(is_staff=True, is_superuser=True)\n"
        "skipper = User.objects.get(username='skipper')\n"
        "ns = Namespace.objects.get(name='skipper')\n"
        "repo = repository_create(namespace=ns, name='polish-app', actor=skipper,\n"
        "    description='Issue 19 pages',\n"
        "    full_description='# Polish\\n\\n> A quoted line with a bar beside it.\\n')\n"
        "index_create(repo, 'latest', pushed_by=skipper)\n"
        "for n in (3, 9, 10, 29, 30):\n"
        "    image_create(repo, f'v{n}', pushed_by=skipper)\n"
    )
    return server


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _context(browser, site, *, width: int, language: str, user: str | None):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale=LANGUAGES[language]
    )
    context.set_default_timeout(15000)
    if user:
        page = context.new_page()
        page.goto(site.url + "/accounts/login/")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        page.close()
    return context


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"polish-{name}.png"), full_page=True)


# Each pull-command box: its text is one line (one client rect) and the page does not widen.
ONE_LINE = """() => [...document.querySelectorAll('.pull-command code')].map((code) => {
  const range = document.createRange(); range.selectNodeContents(code);
  return range.getClientRects().length;
})"""


# The elements that stick out past the viewport's right edge (none: no sideways page scroll).
WIDER_THAN_VIEWPORT = """() => document.documentElement.scrollWidth <= innerWidth ? [] :
  [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > innerWidth + 1)
    .slice(-5).map((el) => el.tagName + '.' + el.className + ' ' + el.textContent.slice(0, 40))"""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_changed_pages_fit_and_keep_commands_on_one_line(browser, site, width, language):
    contexts = {}
    try:
        for name, path, user in PAGES:
            if user not in contexts:
                contexts[user] = _context(
                    browser, site, width=WIDTHS[width], language=language, user=user
                )
            page = contexts[user].new_page()
            violations = csp_violations(page)
            response = page.goto(site.url + path)
            assert response.status == 200, (name, response.status)
            html_lang = page.evaluate("document.documentElement.lang")
            assert html_lang == ("zh-hans" if language == "zh" else "en"), name
            _shot(page, f"{name}-{width}-{language}")
            if width == "phone":
                assert page.evaluate(WIDER_THAN_VIEWPORT) == [], f"{name} scrolls sideways"
            assert all(rects == 1 for rects in page.evaluate(ONE_LINE)), name
            assert violations == [], name
            page.close()
    finally:
        for context in contexts.values():
            context.close()


def test_page_facts(browser, site):
    context = _context(browser, site, width=1280, language="en", user="skipper")
    try:
        page = context.new_page()
        page.goto(site.url + "/r/skipper/polish-app/?ordering=-name")
        names = page.locator(".tags-table a.tag-name").all_inner_texts()
        assert names == ["v30", "v29", "v10", "v9", "v3", "latest"]
        assert (
            page.locator(".markdown blockquote").evaluate(
                "el => getComputedStyle(el).borderLeftStyle"
            )
            == "solid"
        )
        assert page.locator(".tags-table time[datetime][title]").count() == 6
        page.select_option("select[name=ordering]", "size")  # submits by itself
        page.wait_for_url(re.compile(r"ordering=size"))
        page.goto(site.url + "/")
        assert page.locator("nav .nav-admin").count() == 1
        card = page.locator(".repo-card", has_text="skipper/polish-app").first
        assert "6 tags" in card.inner_text() and "linux/arm64/v8" in card.inner_text()
        page.goto(site.url + "/admin/")
        assert "Dockyard administration" in page.locator("#site-name").inner_text()
        for changelist in ("/admin/hub/user/", "/admin/hub/repository/"):
            page.goto(site.url + changelist)
            # The last column (date joined, updated at) is in sight, not cut off.
            right = page.locator("#result_list thead th").last.evaluate(
                "th => th.getBoundingClientRect().right"
            )
            box = page.locator("#changelist .results").evaluate(
                "el => el.getBoundingClientRect().right"
            )
            assert right <= box + 1, changelist
        page.goto(site.url + "/admin/hub/user/add/")
        assert "<username>/<repository>" in page.locator("main").inner_text()
    finally:
        context.close()


def test_new_token_copy_button_copies_it(browser, site):
    context = _context(browser, site, width=390, language="en", user="skipper")
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        page = context.new_page()
        violations = csp_violations(page)
        page.goto(site.url + "/settings/tokens/")
        page.fill("input[name=label]", "ci")
        page.check("input[name=scopes][value='repo:write']")
        page.locator("main form button.primary").click()
        page.wait_for_load_state()
        secret = page.locator("#new-token .pull-command code").inner_text()
        assert secret.startswith("dky_")
        page.locator("#new-token button.copy").click()
        page.locator("#new-token button.copy.copied").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == secret
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert violations == []
        _shot(page, "token-created-phone-en")
    finally:
        context.close()

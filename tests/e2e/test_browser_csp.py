"""The Content-Security-Policy in a real browser: the UI and the API docs work under it, and a
README image from another origin is never fetched."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, csp_violations

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site(server):
    server.create_user("purser", PASSWORD)
    server.python(
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        "from django.contrib.auth import get_user_model\n"
        "purser = get_user_model().objects.get(username='purser')\n"
        "ns = Namespace.objects.get(name='purser')\n"
        "if not ns.repositories.filter(name='csp-harbor').exists():\n"
        "    repository_create(namespace=ns, name='csp-harbor', actor=purser,\n"
        "        full_description='# Harbor notes')\n"
    )
    return server


@pytest.fixture
def page():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(15000)
        yield context.new_page()
        browser.close()


class _Pixel(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        _Pixel.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a")

    def log_message(self, *args):
        pass


def test_pages_and_api_docs_work_without_csp_violations(page, site):
    violations = csp_violations(page)
    for path in ("/", "/r/purser/csp-harbor/", "/accounts/login/"):
        page.goto(site.url + path)
        page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.htmx") == "object"
    page.goto(site.url + "/api/v1/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Dockyard API" in page.locator(".swagger-ui .info .title").inner_text()
    assert violations == []


def test_readme_image_from_another_origin_is_blocked(page, site):
    tracker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pixel)
    threading.Thread(target=tracker.serve_forever, daemon=True).start()
    try:
        pixel = f"http://127.0.0.1:{tracker.server_address[1]}/p.gif"
        site.python(
            "from hub.models import Repository\n"
            "Repository.objects.filter(namespace__name='purser', name='csp-harbor').update(\n"
            f"    full_description='# Harbor notes\\n\\n![pixel]({pixel})')\n"
        )
        violations = csp_violations(page)
        page.goto(site.url + "/r/purser/csp-harbor/")
        page.wait_for_load_state("networkidle")
        assert page.locator(f".markdown img[src='{pixel}']").count() == 1
        assert _Pixel.hits == 0
        assert any("img-src" in message for message in violations), violations
    finally:
        tracker.shutdown()

"""Simplified Chinese: chosen by the browser's language or by the switcher, and complete."""

from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from hub.models import AccessToken
from tests.conftest import PASSWORD
from webhooks.models import Delivery, Event, Webhook

BASE_DIR = Path(settings.BASE_DIR)
ZH_PO = Path("zh_Hans") / "LC_MESSAGES" / "django.po"
# What the catalogue is made from: everything but these (as in the makemessages command line).
NOT_SOURCES = {"locale", ".venv", "var", "test-output", "tests", "bench", "node_modules"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


@pytest.fixture(scope="module", autouse=True)
def _compiled_messages():
    # *.mo files are build products (not in git); compile them as scripts/test.sh does.
    call_command("compilemessages", verbosity=0, ignore_patterns=[".*", "var", "test-output"])


def test_browser_language_picks_chinese(client, public_repo):
    html = client.get("/r/alice/app/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html
    assert "拉取此镜像" in html and "标签" in html and "评论" in html


def test_english_is_the_default(client, public_repo):
    html = client.get("/r/alice/app/").content.decode()
    assert 'lang="en"' in html and "Pull this image" in html


def test_switcher_sets_the_language(client, public_repo):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}, follow=True)
    assert "探索仓库" in response.content.decode()


def _po_entries(text: str) -> list[dict]:
    """The entries of a .po file (obsolete ones left out): msgid, msgstr(s), flags."""
    entries = []
    for block in text.split("\n\n"):
        entry: dict = {"flags": "", "msgid": None, "msgstr": []}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and key:
                value = ast.literal_eval(line)
                if key == "msgstr":
                    entry["msgstr"][-1] += value
                else:
                    entry[key] += value
            else:
                key, _, value = line.partition(" ")
                key = "msgstr" if key.startswith("msgstr") else key
                if key == "msgstr":
                    entry["msgstr"].append(ast.literal_eval(value))
                else:
                    entry[key] = ast.literal_eval(value)
        if entry["msgid"]:  # not the header, not an obsolete (#~) entry
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def regenerated_catalogue(tmp_path_factory) -> list[dict]:
    """The zh_Hans catalogue as `makemessages` would leave it for today's sources.

    Runs on a throwaway tree: symlinks to the sources and a copy of locale/, so the
    repository is never written to. A string added without a translation shows up here as
    an entry with an empty msgstr (or a fuzzy guess).
    """
    tree = tmp_path_factory.mktemp("i18n") / "project"
    tree.mkdir()
    for child in BASE_DIR.iterdir():
        if child.name not in NOT_SOURCES and not child.name.startswith("."):
            (tree / child.name).symlink_to(child)
    shutil.copytree(BASE_DIR / "locale", tree / "locale", ignore=shutil.ignore_patterns("*.mo"))
    cwd = os.getcwd()
    try:
        os.chdir(tree)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(settings, "LOCALE_PATHS", [str(tree / "locale")])
            call_command(
                "makemessages",
                locale=["zh_Hans"],
                symlinks=True,
                no_wrap=True,
                ignore_patterns=sorted(NOT_SOURCES - {"locale"}),
                verbosity=0,
            )
    finally:
        os.chdir(cwd)
    return _po_entries((tree / "locale" / ZH_PO).read_text(encoding="utf-8"))


def test_the_catalogue_is_made_from_the_sources(regenerated_catalogue):
    msgids = {entry["msgid"] for entry in regenerated_catalogue}
    # From a template, a form and the webhooks pages: the extraction saw all of them.
    assert {"Explore repositories", "Personal access tokens", "Recent deliveries"} <= msgids


def test_every_message_has_a_chinese_translation(regenerated_catalogue):
    missing = [
        entry["msgid"]
        for entry in regenerated_catalogue
        if "fuzzy" in entry["flags"] or not all(entry["msgstr"])
    ]
    assert missing == [], "run makemessages (see the docstring above) and translate these"


def test_translations_keep_the_placeholders(regenerated_catalogue):
    wrong = [
        entry["msgid"]
        for entry in regenerated_catalogue
        for msgstr in entry["msgstr"]
        if sorted(PLACEHOLDER.findall(msgstr)) != sorted(PLACEHOLDER.findall(entry["msgid"]))
        and "msgid_plural" not in entry
    ]
    assert wrong == []


def test_the_committed_catalogue_is_complete():
    entries = _po_entries((BASE_DIR / "locale" / ZH_PO).read_text(encoding="utf-8"))
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"] or not all(e["msgstr"])] == []


def _zh(client, url: str) -> str:
    return client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()


def test_webhooks_pages_in_chinese(client, alice, public_repo, acme):
    hook = Webhook.objects.create(repository=public_repo, name="ci", url="http://127.0.0.1:9/")
    event = Event.objects.create(action="push", repository=public_repo, data={"tag": "latest"})
    Delivery.objects.create(webhook=hook, event=event, attempts=1, next_attempt_at=timezone.now())
    Webhook.objects.create(organization=acme, name="org-ci", url="http://127.0.0.1:9/")
    assert client.login(username="alice", password=PASSWORD)

    html = _zh(client, "/r/alice/app/-/webhooks/")
    assert 'lang="zh-hans"' in html and "添加 Webhook" in html and "负载 URL" in html
    html = _zh(client, f"/r/alice/app/-/webhooks/{hook.pk}/")
    assert "最近投递" in html and "下次尝试" in html and "保存 Webhook" in html
    html = _zh(client, "/u/acme/-/webhooks/")
    assert "acme 的 Webhook" in html and "这些 Webhook 会接收 acme 所有仓库的事件。" in html


def test_tokens_page_in_chinese(client, alice):
    AccessToken.objects.create(
        user=alice, label="ci", token_prefix="dky_0000", token_hash="0" * 64, scopes=["repo:read"]
    )
    assert client.login(username="alice", password=PASSWORD)
    html = _zh(client, "/settings/tokens/")
    assert "个人访问令牌" in html and "用令牌代替密码" in html and "吊销" in html
    assert "Personal access tokens" not in html


def test_form_labels_and_choices_are_translated(client, alice, public_repo, acme):
    assert client.login(username="alice", password=PASSWORD)
    english = {
        "/settings/tokens/": ["<legend>Scopes</legend>", "Read &amp; write"],
        "/u/acme/": ['<span class="badge">Owner</span>'],
        "/r/alice/app/-/webhooks/": ["Docker Hub compatible", "Push: a tag now points at"],
    }
    left = {url: [s for s in strings if s in _zh(client, url)] for url, strings in english.items()}
    assert left == {url: [] for url in english}


def test_failed_sign_in_names_the_username_field_in_chinese(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "wrong"},
        HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9",
    )
    # Django's message names the field by User.username's verbose_name.
    assert "请输入一个正确的用户名和密码" in response.content.decode()


def test_service_errors_in_chinese(client, alice, acme):
    assert client.login(username="alice", password=PASSWORD)
    response = client.post(
        "/orgs/acme/members/",
        {"username": "nobody", "role": "member"},
        HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9",
    )
    assert "没有名为 &#x27;nobody&#x27; 的用户。" in response.content.decode()

"""Simplified Chinese: chosen by the browser's language or by the switcher."""

from __future__ import annotations

import pytest
from django.core.management import call_command


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


def test_every_message_has_a_chinese_translation():
    from pathlib import Path

    po = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    entries = po.read_text(encoding="utf-8").split("\n\n")[1:]
    untranslated = [
        entry for entry in entries if 'msgstr ""' in entry and 'msgstr ""\n"' not in entry
    ]
    untranslated += [entry for entry in entries if "#, fuzzy" in entry]
    assert untranslated == []

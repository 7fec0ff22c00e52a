"""Version order per ecosystem."""

from __future__ import annotations

import pytest

from scanning.versions import version_compare


@pytest.mark.parametrize(
    ("ecosystem", "lower", "higher"),
    [
        ("deb", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2"),
        ("deb", "3.0.11~rc1-1", "3.0.11-1"),  # ~ sorts before everything
        ("deb", "2.0", "1:0.9"),  # the epoch wins
        ("deb", "1.2.3-1", "1.2.10-1"),
        ("pypi", "1.0rc1", "1.0"),
        ("pypi", "1.0", "1.0.post1"),
        ("pypi", "1.9", "1.10"),
        ("apk", "1.2.4-r2", "1.2.4-r10"),
        ("apk", "1.2.4_rc1", "1.2.4"),
        ("apk", "1.2.4", "1.2.4_p1"),
        ("apk", "1.2.4", "1.2.4a"),
        ("apk", "3.0.9-r3", "3.0.10-r0"),
        ("npm", "1.0.0-alpha", "1.0.0-alpha.1"),
        ("npm", "1.0.0-alpha.beta", "1.0.0-beta"),
        ("npm", "1.0.0-rc.1", "1.0.0"),
        ("npm", "1.9.0", "1.10.0"),
        ("golang", "v0.3.7", "0.3.8"),
        ("rpm", "3.0.7-6.el9", "3.0.7-16.el9"),
        ("rpm", "1.0~rc1", "1.0"),
        ("rpm", "2.0", "1:1.0"),
    ],
)
def test_versions_order(ecosystem, lower, higher):
    assert version_compare(ecosystem, lower, higher) == -1
    assert version_compare(ecosystem, higher, lower) == 1
    assert version_compare(ecosystem, lower, lower) == 0


def test_unparsable_versions_fall_back_to_text_order():
    assert version_compare("pypi", "not a version", "zzz") == -1
    assert version_compare("apk", "???", "???") == 0

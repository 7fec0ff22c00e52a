"""OSV ranges and severities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanning.cvss import cvss3_base_score
from scanning.matching import fixed_version, range_affects, version_affected
from scanning.osv import OsvInvalid, osv_record_parse, record_severity

OSV = Path(__file__).parent / "osv"


def test_introduced_and_fixed_bound_a_half_open_interval():
    events = [{"introduced": "1.0"}, {"fixed": "1.5"}]
    assert not range_affects("pypi", "0.9", events)
    assert range_affects("pypi", "1.0", events)
    assert range_affects("pypi", "1.4.9", events)
    assert not range_affects("pypi", "1.5", events)


def test_last_affected_is_inclusive_and_events_need_not_be_sorted():
    events = [{"last_affected": "2.0.0"}, {"introduced": "0"}]
    assert range_affects("npm", "2.0.0", events)
    assert not range_affects("npm", "2.0.1", events)


def test_several_intervals_in_one_range():
    events = [{"introduced": "0"}, {"fixed": "1.1"}, {"introduced": "2.0"}, {"fixed": "2.3"}]
    assert [range_affects("pypi", v, events) for v in ("1.0", "1.5", "2.1", "2.3")] == [
        True, False, True, False,
    ]  # fmt: skip


def test_dpkg_semantics_decide_debian_ranges():
    events = [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]
    assert range_affects("deb", "3.0.11-1~deb12u1", events)
    assert not range_affects("deb", "3.0.11-1", events)  # ~deb12u2 < 3.0.11-1 for dpkg


def test_versions_list_and_fixed_version():
    assert version_affected("npm", "1.2.3", ranges=[], versions=["1.2.3"])
    ranges = [[{"introduced": "0"}, {"fixed": "1.10.0"}], [{"introduced": "0"}, {"fixed": "1.9.1"}]]
    assert fixed_version("npm", "1.9.0", ranges) == "1.9.1"
    assert fixed_version("npm", "2.0.0", ranges) == ""


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.0/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
    ],
)
def test_cvss3_base_scores(vector, score):
    assert cvss3_base_score(vector) == score


def test_severity_sources():
    assert record_severity({"database_specific": {"severity": "MODERATE"}}) == "medium"
    cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert record_severity({"severity": [{"type": "CVSS_V3", "score": cvss}]}) == "critical"
    assert record_severity({"severity": [{"type": "Ubuntu", "score": "high"}]}) == "high"
    assert record_severity({"severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N"}]}) == (
        "unknown"
    )
    assert record_severity({}) == "unknown"


def test_record_parse_normalizes_ecosystems():
    record = osv_record_parse(json.loads((OSV / "DSA-9001-1.json").read_text()))
    [affected] = record.affected
    assert (affected.ecosystem, affected.distro, affected.release, affected.name) == (
        "deb", "debian", "12", "openssl",
    )  # fmt: skip
    assert record.severity == "critical"
    alpine = osv_record_parse({
        "id": "ALPINE-1", "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Alpine:v3.19", "name": "musl"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
                     {"package": {"ecosystem": "crates.io", "name": "ignored"}, "versions": ["1"]},
                     {"package": {"ecosystem": "Go", "name": "git-only"},
                      "ranges": [{"type": "GIT", "events": [{"introduced": "abc"}]}]}],
    })  # fmt: skip
    assert [(a.ecosystem, a.release) for a in alpine.affected] == [("apk", "3.19")]


@pytest.mark.parametrize("document", [[], {"modified": "x"}, {"id": "A", "modified": "never"}])
def test_bad_records_are_refused(document):
    with pytest.raises(OsvInvalid):
        osv_record_parse(document)

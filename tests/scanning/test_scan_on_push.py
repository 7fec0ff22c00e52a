"""A push is scanned once (off the request path): packages kept, SBOM stored as an OCI
referrer; OSV imports match stored packages; results in the API, the tag page and the pull
policy. Pushes speak the registry protocol through the Django test client."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from registry_api.digests import digest_bytes
from registry_api.models import Manifest
from scanning.models import Finding, ImagePackage, ImageScan, ScanPolicy
from tests.registry_api.conftest import bearer, image_push, pull_access, push_access
from tests.registry_api.test_manifests import (
    OCI_INDEX,
    OCI_MANIFEST,
    descriptor,
    dumps,
    manifest_put,
)
from tests.scanning.images import DEBIAN_FILES, tar_layer
from webhooks.models import Delivery, Event, Webhook
from webhooks.payloads import payload_render

pytestmark = pytest.mark.django_db

OSV = Path(__file__).parent / "osv"
SPDX = "application/spdx+json"
VULNERABLE = "3.0.11-1~deb12u1"


@pytest.fixture
def pushed(client, public_repo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        digest = image_push(client, "alice/app", "v1", layer=tar_layer(DEBIAN_FILES))
    return digest


def _import(*names: str) -> None:
    call_command("import_osv", *[str(OSV / name) for name in names])


def test_push_stores_packages_and_an_spdx_referrer(client, pushed):
    headers = bearer("alice", pull_access("alice/app"))
    index = client.get(f"/v2/alice/app/referrers/{pushed}", **headers).json()
    [referrer] = index["manifests"]
    assert referrer["artifactType"] == SPDX
    manifest = client.get(
        f"/v2/alice/app/manifests/{referrer['digest']}", HTTP_ACCEPT=OCI_MANIFEST, **headers
    ).json()
    assert manifest["subject"]["digest"] == pushed
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    [layer] = manifest["layers"]
    document = json.loads(b"".join(client.get(f"/v2/alice/app/blobs/{layer['digest']}", **headers)))
    assert document["spdxVersion"] == "SPDX-2.3"
    purls = {
        ref["referenceLocator"] for p in document["packages"] for ref in p.get("externalRefs", [])
    }
    assert f"pkg:deb/debian/openssl@{VULNERABLE}?arch=amd64&distro=debian-12" in purls
    assert "pkg:pypi/x@1.0" in purls
    # The SBOM is not scanned itself, and moved no tag: one scan, one push event.
    assert ImageScan.objects.count() == 1
    assert Event.objects.filter(action="push").count() == 1


def test_an_image_without_package_databases_gets_a_scan_but_no_sbom(
    client, public_repo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        digest = image_push(client, "alice/app", "plain", layer=tar_layer({"bin/sh": b"#!"}))
    assert ImageScan.objects.get().sbom_digest == ""
    assert not Manifest.objects.filter(subject_digest=digest).exists()


def test_each_platform_of_an_index_is_scanned(
    client, api, public_repo, django_capture_on_commit_callbacks
):
    headers = bearer("alice", push_access("alice/app"))
    children = []
    with django_capture_on_commit_callbacks(execute=True):
        for arch in ("amd64", "arm64"):
            files = {**DEBIAN_FILES, "etc/arch": arch.encode()}
            digest = image_push(client, "alice/app", f"only-{arch}", layer=tar_layer(files))
            body = bytes(Manifest.objects.get(digest=digest).payload)
            children.append(
                descriptor(OCI_MANIFEST, body, platform={"architecture": arch, "os": "linux"})
            )
        ImageScan.objects.all().delete()  # as if the platforms had been pushed by digest only
        ImagePackage.objects.all().delete()
        index = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children})
        assert (
            manifest_put(client, "alice/app", "multi", index, headers, OCI_INDEX).status_code == 201
        )
    assert ImageScan.objects.count() == 2
    assert not ImageScan.objects.filter(manifest__digest=digest_bytes(index)).exists()
    assert api.get("/api/v1/repositories/alice/app/tags/multi/sbom/").json()["count"] == 6
    platform = children[1]["digest"]
    page = client.get(f"/r/alice/app/-/tags/multi/?platform={platform}").content.decode()
    assert page.count("pkg:deb/debian/openssl@") == 1


def test_sbom_api_lists_and_filters_packages(api, pushed):
    answer = api.get("/api/v1/repositories/alice/app/tags/v1/sbom/")
    assert answer.status_code == 200
    assert {(p["ecosystem"], p["name"]) for p in answer.json()["results"]} == {
        ("deb", "openssl"), ("deb", "libssl3"), ("pypi", "x"),
    }  # fmt: skip
    filtered = api.get("/api/v1/repositories/alice/app/tags/v1/sbom/?q=ssl").json()
    assert filtered["count"] == 2


def test_osv_import_flags_the_vulnerable_package_with_its_fix(api, pushed):
    _import("DSA-9001-1.json", "GHSA-test-x.json")
    body = api.get("/api/v1/repositories/alice/app/tags/v1/vulnerabilities/").json()
    assert body["summary"] == {"critical": 2, "high": 0, "medium": 1, "low": 0, "unknown": 0}
    openssl = next(r for r in body["results"] if r["package"] == "openssl")
    assert openssl == {
        **openssl, "id": "DSA-9001-1", "installed": VULNERABLE,
        "fixed": "3.0.11-1~deb12u2", "severity": "critical",
    }  # fmt: skip
    x = next(r for r in body["results"] if r["package"] == "x")
    assert (x["fixed"], x["severity"]) == ("1.2", "medium")


def test_a_newer_import_re_evaluates_without_reading_layers_and_tells_webhooks(
    api, pushed, public_repo
):
    _import("GHSA-test-x.json")
    scan = ImageScan.objects.get()
    hook = Webhook.objects.create(
        repository=public_repo, name="ci", url="https://ci.example/hook", events=["scan"]
    )
    assert not Event.objects.filter(action="scan.vulnerabilities_found").exists()  # medium only
    _import("GHSA-test-x-critical.json")
    again = ImageScan.objects.get()
    # No rescan: the same scan row, the same bytes read from storage, no new scan time.
    assert (again.pk, again.bytes_read, again.scanned_at) == (
        scan.pk,
        scan.bytes_read,
        scan.scanned_at,
    )
    assert again.evaluated_at > scan.evaluated_at
    summary = api.get("/api/v1/repositories/alice/app/tags/v1/vulnerabilities/").json()["summary"]
    assert (summary["critical"], summary["medium"]) == (1, 1)
    event = Event.objects.get(action="scan.vulnerabilities_found")
    assert event.data["vulnerabilities"] == ["GHSA-xxxx-test-0002"]
    assert event.data["tag"] == "v1"
    body, _ = payload_render(Delivery.objects.get(webhook=hook, event=event))
    payload = json.loads(body)
    assert payload["action"] == "scan.vulnerabilities_found"
    assert payload["scan"]["critical"] == 1
    # The same data again changes nothing and announces nothing new.
    _import("GHSA-test-x-critical.json")
    assert Event.objects.filter(action="scan.vulnerabilities_found").count() == 1


def test_a_withdrawn_advisory_clears_its_findings(pushed, tmp_path):
    _import("DSA-9001-1.json")
    assert Finding.objects.count() == 2
    record = json.loads((OSV / "DSA-9001-1.json").read_text())
    record.update(modified="2026-03-01T00:00:00Z", withdrawn="2026-03-01T00:00:00Z")
    (tmp_path / "withdrawn.json").write_text(json.dumps(record))
    call_command("import_osv", str(tmp_path / "withdrawn.json"))
    assert Finding.objects.count() == 0


def test_import_osv_reads_all_zip_exports(pushed, tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "all.zip", "w") as archive:
        for name in ("DSA-9001-1.json", "GHSA-test-x.json"):
            archive.write(OSV / name, name)
    call_command("import_osv", str(tmp_path / "all.zip"))
    assert Finding.objects.count() == 3


def test_import_osv_refuses_what_is_not_an_export(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CommandError, match="not an OSV export"):
        call_command("import_osv", str(tmp_path / "bad.json"))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_osv", str(tmp_path / "missing.json"))


def test_debian_advisories_do_not_match_other_distributions(
    client, public_repo, django_capture_on_commit_callbacks
):
    ubuntu = {**DEBIAN_FILES, "etc/os-release": b"ID=ubuntu\nVERSION_ID=22.04\n"}
    with django_capture_on_commit_callbacks(execute=True):
        image_push(client, "alice/app", "ubuntu", layer=tar_layer(ubuntu))
    _import("DSA-9001-1.json")
    assert Finding.objects.count() == 0


def test_package_search_finds_images_by_name_and_version(api, pushed):
    answer = api.get(f"/api/v1/search/packages/?name=openssl&version={VULNERABLE}")
    assert answer.status_code == 200
    [row] = [r for r in answer.json()["results"] if r["name"] == "openssl"]
    assert (row["repository"], row["tags"], row["image"]) == ("alice/app", ["v1"], pushed)
    assert api.get("/api/v1/search/packages/?name=openssl&version=9.9").json()["count"] == 0
    assert api.get("/api/v1/search/packages/").status_code == 400
    assert api.get("/api/v1/search/packages/?name=X").json()["count"] == 1  # PyPI: any spelling


def test_private_repositories_stay_invisible_to_outsiders(
    client, api, as_user, private_repo, charlie, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        image_push(client, "alice/secret", "v1", layer=tar_layer(DEBIAN_FILES))
    _import("DSA-9001-1.json")
    search = "/api/v1/search/packages/?name=openssl"
    for outsider in (api, as_user(charlie)):
        assert outsider.get(search).json()["count"] == 0
        for path in ("tags/v1/sbom/", "tags/v1/vulnerabilities/", "vulnerabilities/"):
            secret = outsider.get(f"/api/v1/repositories/alice/secret/{path}")
            absent = outsider.get(f"/api/v1/repositories/alice/nothing/{path}")
            assert secret.status_code == absent.status_code == 404
            assert secret.json() == absent.json()
        assert outsider.get("/api/v1/vulnerabilities/").json()["summary"]["critical"] == 0
    found = as_user(bob).get(search).json()["results"]
    assert {(row["repository"], row["name"]) for row in found} == {
        ("alice/secret", "openssl"), ("alice/secret", "libssl3"),  # libssl3's source is openssl
    }  # fmt: skip
    registry = as_user(bob).get("/api/v1/vulnerabilities/").json()
    assert registry["repositories"]["alice/secret"]["critical"] == 2


def test_repository_view_sums_its_tags(api, pushed):
    _import("DSA-9001-1.json")
    body = api.get("/api/v1/repositories/alice/app/vulnerabilities/").json()
    assert body["summary"]["critical"] == 2
    assert body["tags"] == [{"tag": "v1", "digest": pushed, "summary": body["summary"]}]


def test_pull_policy_refuses_images_with_old_critical_vulnerabilities(
    client, as_user, alice, charlie, public_repo, pushed
):
    headers = bearer("alice", pull_access("alice/app"))
    _import("DSA-9001-1.json")
    assert (
        as_user(charlie)
        .put(
            "/api/v1/repositories/alice/app/scan-policy/",
            {"refuse_critical_after_days": 30},
            format="json",
        )
        .status_code
        == 403
    )
    answer = as_user(alice).put(
        "/api/v1/repositories/alice/app/scan-policy/",
        {"refuse_critical_after_days": 30},
        format="json",
    )
    assert answer.status_code == 200
    assert (
        client.get("/v2/alice/app/manifests/v1", HTTP_ACCEPT=OCI_MANIFEST, **headers).status_code
        == 200
    )
    Finding.objects.update(first_seen_at=timezone.now() - timedelta(days=31))
    for reference in ("v1", pushed):
        refused = client.get(
            f"/v2/alice/app/manifests/{reference}", HTTP_ACCEPT=OCI_MANIFEST, **headers
        )
        assert refused.status_code == 403
        [error] = refused.json()["errors"]
        assert error["code"] == "DENIED"
        assert "DSA-9001-1" in error["message"] and "3.0.11-1~deb12u2" in error["message"]
    # Lifting the policy takes effect at once, though the pull path remembers it per process.
    lifted = as_user(alice).put(
        "/api/v1/repositories/alice/app/scan-policy/",
        {"refuse_critical_after_days": None},
        format="json",
    )
    assert lifted.status_code == 200
    assert (
        client.get("/v2/alice/app/manifests/v1", HTTP_ACCEPT=OCI_MANIFEST, **headers).status_code
        == 200
    )
    # So does one changed in the admin site (a model save, not the service).
    policy = ScanPolicy.objects.get()
    policy.refuse_critical_after_days = 30
    policy.save()
    refused = client.get("/v2/alice/app/manifests/v1", HTTP_ACCEPT=OCI_MANIFEST, **headers)
    assert refused.status_code == 403


def test_scan_policy_rejects_bad_input(as_user, alice, public_repo):
    answer = as_user(alice).put(
        "/api/v1/repositories/alice/app/scan-policy/",
        {"refuse_critical_after_days": -1},
        format="json",
    )
    assert answer.status_code == 400


def test_tag_page_shows_packages_vulnerabilities_and_filters(client, pushed):
    _import("DSA-9001-1.json")
    page = client.get("/r/alice/app/-/tags/v1/").content.decode()
    assert "openssl" in page and "pkg:pypi/x@1.0" in page
    assert "DSA-9001-1" in page and "3.0.11-1~deb12u2" in page
    filtered = client.get("/r/alice/app/-/tags/v1/?pkg=x").content.decode()
    assert "pkg:pypi/x@1.0" in filtered and "pkg:deb/debian/libssl3" not in filtered


def test_admin_upload_imports_an_export(client, pushed, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-root-1")
    client.force_login(admin)
    with open(OSV / "DSA-9001-1.json", "rb") as export:
        answer = client.post("/admin/scanning/advisory/upload/", {"export": export})
    assert answer.status_code == 302, answer.content[:500]
    assert Finding.objects.count() == 2
    assert client.get("/admin/scanning/advisory/").status_code == 200


def test_the_sweep_scans_images_a_push_left_unscanned(client, public_repo, settings):
    settings.SCAN_ON_PUSH = False  # as if the broker had been down at push time
    digest = image_push(client, "alice/app", "late", layer=tar_layer(DEBIAN_FILES))
    Manifest.objects.filter(digest=digest).update(created_at=timezone.now() - timedelta(minutes=5))
    from scanning.tasks import scan_sweep

    assert scan_sweep() == 1
    assert ImageScan.objects.get().manifest.digest == digest
    assert scan_sweep() == 0


def test_artifacts_that_are_not_images_are_remembered_as_skipped(
    client, public_repo, django_capture_on_commit_callbacks
):
    headers = bearer("alice", push_access("alice/app"))
    from tests.registry_api.test_manifests import image_body

    with django_capture_on_commit_callbacks(execute=True):
        body = image_body(
            client, "alice/app", headers, config=b"{}", config_media_type="application/x-chart"
        )
        assert manifest_put(client, "alice/app", "chart", body, headers).status_code == 201
    assert ImageScan.objects.get().status == ImageScan.Status.SKIPPED


def test_overview_page_lists_only_visible_repositories(
    client, public_repo, private_repo, charlie, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        image_push(client, "alice/app", "v1", layer=tar_layer(DEBIAN_FILES))
        image_push(client, "alice/secret", "v1", layer=tar_layer(DEBIAN_FILES))
    _import("DSA-9001-1.json")
    client.force_login(charlie)
    page = client.get("/-/vulnerabilities/").content.decode()
    assert "alice/app" in page and "alice/secret" not in page


@pytest.mark.parametrize("text", ["\x00", "a\x00b", "%" * 500])
def test_odd_filter_text_is_no_server_error(client, api, pushed, text):
    assert api.get("/api/v1/repositories/alice/app/tags/v1/sbom/", {"q": text}).status_code == 200
    assert api.get("/api/v1/search/packages/", {"name": text}).status_code in (200, 400)
    page = client.get("/r/alice/app/-/tags/v1/", {"pkg": text, "platform": text})
    assert page.status_code == 200


def test_comparing_two_scanned_tags_shows_the_package_diff(
    client, public_repo, django_capture_on_commit_callbacks
):
    newer = dict(DEBIAN_FILES)
    newer["var/lib/dpkg/status"] = DEBIAN_FILES["var/lib/dpkg/status"].replace(
        VULNERABLE.encode(), b"3.0.13-1~deb12u1"
    )
    newer["usr/lib/python3/site-packages/y-2.0.dist-info/METADATA"] = (
        b"Metadata-Version: 2.1\nName: y\nVersion: 2.0\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        image_push(client, "alice/app", "v1", layer=tar_layer(DEBIAN_FILES))
        image_push(client, "alice/app", "v2", layer=tar_layer(newer))
    answer = client.get("/api/v1/repositories/alice/app/compare/", {"from": "v1", "to": "v2"})
    assert answer.status_code == 200, answer.content
    packages = answer.json()["packages"]
    assert packages is not None
    text = json.dumps(packages)
    assert "pypi/y" in text and "deb/openssl" in text and "3.0.13-1~deb12u1" in text
    page = client.get("/r/alice/app/-/compare/", {"from": "v1", "to": "v2"})
    assert page.status_code == 200
    assert "deb/openssl" in page.content.decode()

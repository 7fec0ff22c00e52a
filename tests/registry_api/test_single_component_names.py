"""Single-component names, as Docker Hub has them: `centos` is `library/centos`.

Every endpoint takes either name and answers in the one the client used; the token service and
the gate compare canonical names; a push the caller may not make is DENIED at once with where
they may push instead, and a private repository still answers exactly as an absent one.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from hub import permissions
from hub.models import Membership, Namespace, Repository
from hub.names import OFFICIAL_NAMESPACE
from hub.registry_tokens import token_verify
from hub.services.organizations import membership_remove
from registry_api.digests import digest_bytes
from registry_api.manifests import OCI_MANIFEST
from registry_api.names import repository_resolve
from tests import factories
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, blob_upload

pytestmark = pytest.mark.django_db

CATALOG = [{"type": "registry", "name": "catalog", "actions": ["*"]}]


@pytest.fixture
def root(db):
    user = factories.UserFactory(username="root")
    user.is_superuser = user.is_staff = True
    user.save()
    return user


@pytest.fixture
def library():
    return Namespace.objects.get(name=OFFICIAL_NAMESPACE)


def token(client, scope: str, username: str) -> dict:
    """A token from the token service, asked for as docker asks for it."""
    response = client.get(
        "/auth/token",
        {"service": settings.REGISTRY_SERVICE, "scope": scope},
        HTTP_AUTHORIZATION=basic_auth(username),
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def image(client, name: str, headers: dict, layer: bytes = b"centos layer") -> bytes:
    config = b'{"architecture": "amd64", "os": "linux"}'
    for data in (config, layer):
        blob_upload(client, name, data, headers)
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_bytes(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest_bytes(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()


@pytest.fixture
def centos(client, root):
    """`docker push HOST/centos:latest` by a superuser; the manifest body."""
    headers = token(client, "repository:centos:pull,push", "root")
    body = image(client, "centos", headers)
    answer = client.put(
        "/v2/centos/manifests/latest", data=body, content_type=OCI_MANIFEST, **headers
    )
    assert answer.status_code == 201, answer.content
    assert answer["Location"] == f"/v2/centos/manifests/{digest_bytes(body)}"
    return body


def test_a_single_component_is_the_library_namespace():
    assert repository_resolve("centos") == ("library", "centos")
    assert repository_resolve("library/centos") == ("library", "centos")
    assert repository_resolve("alice/tools/app") == ("alice", "tools/app")


@pytest.mark.parametrize("name", ["Centos", "centos/", "-centos", "a" * 250])
def test_malformed_single_names_stay_invalid(client, root, name):
    response = client.get(f"/v2/{name}/tags/list", HTTP_AUTHORIZATION=basic_auth("root"))
    assert response.status_code in (400, 404)
    assert response.json()["errors"][0]["code"] in ("NAME_INVALID", "NAME_UNKNOWN")


def test_the_push_lands_in_library(centos, library):
    repository = Repository.objects.get(namespace=library, name="centos")
    assert repository.full_name == "library/centos"
    assert repository.tags.get(name="latest").manifest.digest == digest_bytes(centos)


def test_upload_locations_use_the_clients_name(client, root):
    headers = token(client, "repository:centos:pull,push", "root")
    start = client.post("/v2/centos/blobs/uploads/", **headers)
    assert start.status_code == 202
    assert start["Location"].startswith("/v2/centos/blobs/uploads/")
    status = client.get(start["Location"], **headers)
    assert status.status_code == 204
    assert status["Location"] == start["Location"]
    done = client.put(
        f"{start['Location']}?digest={digest_bytes(b'x')}",
        data=b"x",
        content_type="application/octet-stream",
        **headers,
    )
    assert done["Location"] == f"/v2/centos/blobs/{digest_bytes(b'x')}"


@pytest.mark.parametrize("name", ["centos", "library/centos"])
def test_both_names_pull_the_same_image(client, centos, charlie, name):
    digest = digest_bytes(centos)
    headers = token(client, f"repository:{name}:pull", "charlie")
    manifest = client.get(f"/v2/{name}/manifests/latest", HTTP_ACCEPT=OCI_MANIFEST, **headers)
    assert manifest.status_code == 200
    assert manifest["Docker-Content-Digest"] == digest
    assert client.head(f"/v2/{name}/manifests/{digest}", **headers).status_code == 200
    layer = json.loads(centos)["layers"][0]["digest"]
    blob = client.get(f"/v2/{name}/blobs/{layer}", **headers)
    assert blob.status_code == 200
    assert b"".join(blob.streaming_content) == b"centos layer"
    tags = client.get(f"/v2/{name}/tags/list", **headers)
    assert tags.json() == {"name": name, "tags": ["latest"]}


def test_tags_list_link_uses_the_clients_name(client, centos, root):
    headers = token(client, "repository:centos:pull,push", "root")
    client.put("/v2/centos/manifests/v2", data=centos, content_type=OCI_MANIFEST, **headers)
    first = client.get("/v2/centos/tags/list?n=1", **headers)
    assert first.json() == {"name": "centos", "tags": ["latest"]}
    assert first["Link"] == '</v2/centos/tags/list?n=1&last=latest>; rel="next"'


def test_a_token_for_one_name_holds_for_the_other(client, centos, root):
    short = token(client, "repository:centos:pull,push", "root")
    full = token(client, "repository:library/centos:pull,push", "root")
    layer = json.loads(centos)["layers"][0]["digest"]
    assert client.head(f"/v2/library/centos/blobs/{layer}", **short).status_code == 200
    assert client.head(f"/v2/centos/blobs/{layer}", **full).status_code == 200
    assert client.post("/v2/library/centos/blobs/uploads/", **short).status_code == 202
    assert client.post("/v2/centos/blobs/uploads/", **full).status_code == 202
    # A grant on another name does not carry over.
    other = bearer("root", [{"type": "repository", "name": "alpine", "actions": ["pull"]}])
    assert client.get("/v2/centos/tags/list", **other).status_code == 401


def test_the_decision_is_the_same_for_both_names(centos, root, charlie):
    for user in (root, charlie):
        short = permissions.repository_access(user, "centos")
        full = permissions.repository_access(user, "library/centos")
        assert short.actions == full.actions
    assert "push" in permissions.repository_access(root, "centos").actions
    assert permissions.repository_access(charlie, "centos").actions == {"pull"}


def test_token_service_grants_by_the_canonical_name(client, library, charlie, dave):
    Membership.objects.create(
        organization=library.organization, user=dave, role=Membership.Role.MEMBER
    )
    for username, expected in (("dave", ["pull", "push"]), ("charlie", [])):
        response = client.get(
            "/auth/token",
            {"service": settings.REGISTRY_SERVICE, "scope": "repository:centos:pull,push"},
            HTTP_AUTHORIZATION=basic_auth(username),
        )
        access = token_verify(response.json()["token"])["access"]
        assert access == [{"type": "repository", "name": "centos", "actions": expected}]


def test_a_revoked_membership_ends_a_token_issued_for_the_short_name(client, library, dave):
    membership = Membership.objects.create(
        organization=library.organization, user=dave, role=Membership.Role.MEMBER
    )
    headers = token(client, "repository:centos:pull,push", "dave")
    assert client.post("/v2/centos/blobs/uploads/", **headers).status_code == 202

    membership_remove(membership=membership)

    for name in ("centos", "library/centos"):
        refused = client.post(f"/v2/{name}/blobs/uploads/", **headers)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["code"] == "DENIED"


def test_mount_from_either_name(client, centos, alice):
    layer = json.loads(centos)["layers"][0]["digest"]
    headers = token(client, "repository:alice/copy:pull,push repository:centos:pull", "alice")
    for source in ("centos", "library/centos"):
        mounted = client.post(
            f"/v2/alice/copy/blobs/uploads/?mount={layer}&from={source}", **headers
        )
        assert mounted.status_code == 201, mounted.content
        assert mounted["Location"] == f"/v2/alice/copy/blobs/{layer}"


def test_mount_into_the_short_name(client, public_repo, root):
    data = b"alice's layer"
    blob_upload(client, "alice/app", data, basic_headers("alice"))
    mounted = client.post(
        f"/v2/centos/blobs/uploads/?mount={digest_bytes(data)}&from=alice/app",
        **basic_headers("root"),
    )
    assert mounted.status_code == 201
    assert mounted["Location"] == f"/v2/centos/blobs/{digest_bytes(data)}"


def basic_headers(username: str) -> dict:
    return {"HTTP_AUTHORIZATION": basic_auth(username)}


def test_referrers_and_delete_by_the_short_name(client, centos, root):
    headers = token(client, "repository:centos:pull,push,delete", "root")
    digest = digest_bytes(centos)
    referrers = client.get(f"/v2/centos/referrers/{digest}", **headers)
    assert referrers.status_code == 200
    assert referrers.json()["manifests"] == []
    deleted = client.delete(f"/v2/centos/manifests/{digest}", **headers)
    assert deleted.status_code == 202
    gone = client.get("/v2/library/centos/manifests/latest", **headers)
    assert gone.status_code == 404


def test_a_non_member_is_denied_at_once_and_told_where_to_push(client, charlie, centos):
    headers = token(client, "repository:centos:pull,push", "charlie")
    for answer in (
        client.post("/v2/centos/blobs/uploads/", **headers),
        client.put(
            "/v2/centos/manifests/latest", data=centos, content_type=OCI_MANIFEST, **headers
        ),
        client.post("/v2/centos/blobs/uploads/", **basic_headers("charlie")),
    ):
        assert answer.status_code == 403
        assert answer.json()["errors"][0] == {
            "code": "DENIED",
            "message": (
                "requested access to library/centos is denied: you may push to charlie/centos"
            ),
            "detail": {},
        }


def test_pushing_into_another_users_namespace_names_ones_own(client, alice, bob):
    headers = token(client, "repository:bob/app:pull,push", "alice")
    answer = client.post("/v2/bob/app/blobs/uploads/", **headers)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["message"] == (
        "requested access to bob/app is denied: you may push to alice/app"
    )
    # Pushing to one's own name with a read-only access token: no suggestion to go elsewhere.


def test_a_read_only_access_token_gets_no_suggestion(client, alice):
    from hub.services.access_tokens import access_token_create

    _, secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    answer = client.post(
        "/v2/bob/app/blobs/uploads/", HTTP_AUTHORIZATION=basic_auth("alice", secret)
    )
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["message"] == "requested access to bob/app is denied"


def test_anonymous_pushes_are_challenged(client, centos):
    answer = client.post("/v2/centos/blobs/uploads/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].endswith('scope="repository:centos:pull,push"')
    anonymous = token_anonymous(client, "repository:centos:pull,push")
    again = client.post("/v2/centos/blobs/uploads/", **anonymous)
    assert again.status_code in (401, 403)
    assert again.json()["errors"][0]["code"] != "NAME_INVALID"


def token_anonymous(client, scope: str) -> dict:
    response = client.get("/auth/token", {"service": settings.REGISTRY_SERVICE, "scope": scope})
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


@pytest.mark.parametrize("credentials", ["token", "basic"])
def test_a_private_official_repository_answers_as_an_absent_one(
    client, library, root, charlie, credentials
):
    factories.RepositoryFactory(namespace=library, name="secret", is_private=True)

    def headers(name):
        if credentials == "basic":
            return basic_headers("charlie")
        return token(client, f"repository:{name}:pull,push", "charlie")

    for method, path in (
        ("post", "/blobs/uploads/"),
        ("put", "/manifests/latest"),
        ("get", "/tags/list"),
        ("get", "/manifests/latest"),
        ("head", f"/blobs/{digest_bytes(b'x')}"),
    ):
        hidden = getattr(client, method)(f"/v2/secret{path}", **headers("secret"))
        absent = getattr(client, method)(f"/v2/nothing{path}", **headers("nothing"))
        assert hidden.status_code == absent.status_code, path
        assert hidden.content.replace(b"secret", b"X") == absent.content.replace(b"nothing", b"X")
        assert hidden.get("WWW-Authenticate", "").replace("secret", "X") == absent.get(
            "WWW-Authenticate", ""
        ).replace("nothing", "X")


def test_a_private_repository_answers_a_push_as_an_absent_one(client, private_repo, charlie):
    for headers in (
        basic_headers("charlie"),
        token(client, "repository:alice/secret:pull,push", "charlie"),
    ):
        hidden = client.post("/v2/alice/secret/blobs/uploads/", **headers)
        absent = client.post("/v2/alice/nothing/blobs/uploads/", **headers)
        assert hidden.status_code == absent.status_code == 403
        assert hidden.content.replace(b"secret", b"X") == absent.content.replace(b"nothing", b"X")


@pytest.fixture
def catalog(root, library, public_repo, acme, bob):
    for namespace, name in (
        (library, "centos"),
        (library, "a/b"),
        (library, "zlib"),
        (library, "hidden"),
        (acme.namespace, "web"),
        (bob.namespace, "zeta"),
    ):
        factories.RepositoryFactory(namespace=namespace, name=name, is_private=name == "hidden")


def test_the_catalog_shows_official_repositories_by_their_short_name(client, catalog):
    shown = client.get("/v2/_catalog", **bearer("charlie", CATALOG)).json()["repositories"]
    assert shown == ["acme/web", "alice/app", "bob/zeta", "centos", "library/a/b", "zlib"]
    everything = client.get("/v2/_catalog", **basic_headers("root")).json()["repositories"]
    assert "hidden" in everything


def test_catalog_pagination_runs_on_the_shown_names(client, catalog, charlie):
    headers = bearer("charlie", CATALOG)
    seen, last = [], ""
    while True:
        query = f"?n=2&last={last}" if last else "?n=2"
        page = client.get(f"/v2/_catalog{query}", **headers)
        names = page.json()["repositories"]
        seen.extend(names)
        if "Link" not in page:
            break
        last = names[-1]
        assert page["Link"].startswith(f"</v2/_catalog?n=2&last={last.replace('/', '%2F')}>")
    assert seen == ["acme/web", "alice/app", "bob/zeta", "centos", "library/a/b", "zlib"]
    after = client.get("/v2/_catalog?last=centos", **headers).json()["repositories"]
    assert after == ["library/a/b", "zlib"]


def test_a_push_to_the_short_name_fires_the_library_webhooks(
    client, root, library, settings, django_capture_on_commit_callbacks
):
    from tests.webhooks.receiver import Receiver
    from webhooks.models import Webhook

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on loopback
    receiver = Receiver()
    try:
        Webhook.objects.create(
            organization=library.organization, name="official", url=receiver.url, events=["push"]
        )
        headers = token(client, "repository:centos:pull,push", "root")
        body = image(client, "centos", headers)
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.put(
                "/v2/centos/manifests/v1", data=body, content_type=OCI_MANIFEST, **headers
            )
        assert answer.status_code == 201
        [request] = receiver.wait_for(1)
        payload = json.loads(request.body)
        # Docker Hub's payloads name official images in full.
        assert payload["repository"]["repo_name"] == "library/centos"
        assert payload["push_data"]["tag"] == "v1"
    finally:
        receiver.close()


def test_a_token_for_the_short_name_ends_when_the_repository_turns_private(client, centos):
    from hub.services.repositories import repository_update

    headers = token_anonymous(client, "repository:centos:pull")
    assert client.get("/v2/centos/tags/list", **headers).status_code == 200

    repository = Repository.objects.get(namespace__name=OFFICIAL_NAMESPACE, name="centos")
    repository_update(repository=repository, is_private=True)

    assert client.get("/v2/centos/tags/list", **headers).status_code == 401
    assert client.get("/v2/library/centos/tags/list", **headers).status_code == 401


def test_grant_versions_key_on_the_canonical_name(centos):
    from hub import grant_versions

    access = [{"type": "repository", "name": "centos", "actions": ["pull"]}]
    claims = {"sub": "", grant_versions.CLAIM: grant_versions.stamp(None, access)}
    # Unchanged: the gate need not decide again, under either name.
    assert grant_versions.stamp_current(claims, "library/centos")
    assert grant_versions.stamp_current(claims, "centos")
    grant_versions.repository_changed(
        Repository.objects.get(namespace__name=OFFICIAL_NAMESPACE, name="centos")
    )
    assert not grant_versions.stamp_current(claims, "library/centos")
    assert not grant_versions.stamp_current(claims, "centos")

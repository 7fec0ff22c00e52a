"""The /v2/ gate: challenges, Bearer and Basic authentication, and private == absent."""

from __future__ import annotations

import pytest
from django.conf import settings

from hub.registry_tokens import token_issue
from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db


def bearer(subject: str, access: list[dict]) -> dict:
    token, _ = token_issue(subject=subject, audience=settings.REGISTRY_SERVICE, access=access)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_ping_without_credentials_is_challenged(client):
    response = client.get("/v2/")
    assert response.status_code == 401
    assert response["Docker-Distribution-API-Version"] == "registry/2.0"
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="http://testserver/auth/token",service="{settings.REGISTRY_SERVICE}"'
    )
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_ping_with_token_and_with_basic(client, alice):
    assert client.get("/v2/", **bearer("alice", [])).json() == {}
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("alice")).status_code == 200
    wrong = client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("alice", "wrong"))
    assert wrong.status_code == 401


def test_forged_token_is_refused(client, alice):
    headers = bearer("alice", [])
    headers["HTTP_AUTHORIZATION"] = headers["HTTP_AUTHORIZATION"][:-4] + "AAAA"
    response = client.get("/v2/", **headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_private_repository_looks_absent(client, private_repo, charlie):
    auth = basic_auth("charlie")
    hidden = client.get("/v2/alice/secret/tags/list", HTTP_AUTHORIZATION=auth)
    absent = client.get("/v2/alice/nothing/tags/list", HTTP_AUTHORIZATION=auth)
    assert hidden.status_code == absent.status_code == 401
    assert hidden.content == absent.content
    assert hidden["WWW-Authenticate"].replace("secret", "X") == absent["WWW-Authenticate"].replace(
        "nothing", "X"
    )


def test_token_scope_is_required(client, public_repo, private_repo):
    pull_only = [{"type": "repository", "name": "alice/app", "actions": ["pull"]}]
    # Visible but not writable: DENIED, as Docker Hub answers a push to someone else's repo.
    denied = client.put("/v2/alice/app/manifests/latest", **bearer("bob", pull_only))
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "DENIED"
    # Not granted at all: the challenge names the scope to ask for.
    response = client.put("/v2/alice/secret/manifests/latest", **bearer("bob", pull_only))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].endswith(
        'scope="repository:alice/secret:pull,push",error="insufficient_scope"'
    )


def test_invalid_name_and_unknown_route(client, alice):
    headers = bearer("alice", [])
    assert client.get("/v2/Alice/App/tags/list", **headers).status_code == 404
    response = client.get("/v2/alice/app/nonsense", **headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_method_not_allowed_is_unsupported(client, public_repo):
    response = client.post("/v2/alice/app/tags/list", **bearer("alice", []))
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_a_token_lacking_a_scope_its_subject_holds_is_challenged_for_it(client, public_repo):
    # oras deletes with the token it pulled with: the challenge must name `delete`.
    response = client.delete("/v2/alice/app/manifests/latest", **bearer("alice", pull_only()))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].endswith(
        'scope="repository:alice/app:delete",error="insufficient_scope"'
    )
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    push = client.put("/v2/alice/app/manifests/latest", **bearer("alice", pull_only()))
    assert push.status_code == 401
    assert 'scope="repository:alice/app:pull,push"' in push["WWW-Authenticate"]


def pull_only(name: str = "alice/app") -> list[dict]:
    return [{"type": "repository", "name": name, "actions": ["pull"]}]


def test_reading_an_upload_session_needs_only_pull(client, public_repo, alice):
    start = client.post("/v2/alice/app/blobs/uploads/", HTTP_AUTHORIZATION=basic_auth("alice"))
    assert start.status_code == 202
    status = client.get(start["Location"], **bearer("alice", pull_only()))
    assert status.status_code == 204, status.content
    assert status["Range"] == "0-0"


def test_the_mount_challenge_names_the_source_pull_scope(client, alice, bob):
    response = client.post("/v2/bob/copy/blobs/uploads/?mount=sha256:ab&from=alice/app")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].endswith(
        'scope="repository:bob/copy:pull,push repository:alice/app:pull"'
    )
    # Text that is no repository name is not echoed into the header.
    odd = client.post('/v2/bob/copy/blobs/uploads/?mount=sha256:ab&from=a"b')
    assert odd["WWW-Authenticate"].endswith('scope="repository:bob/copy:pull,push"')


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Digest foo", "Basic", "Basic !!!not-base64", "Negotiate x"]
)
def test_a_malformed_authorization_header_is_challenged_not_anonymous(client, public_repo, header):
    # alice/app is public: an anonymous pull would succeed, a malformed header must not.
    response = client.get("/v2/alice/app/tags/list", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="http://testserver/auth/token"')
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_asking_for_what_the_mount_challenge_names_mounts_the_blob(client, public_repo, bob):
    from tests.registry_api.conftest import blob_upload, push_access

    digest = blob_upload(client, "alice/app", b"layer", bearer("alice", push_access("alice/app")))
    path = f"/v2/bob/copy/blobs/uploads/?mount={digest}&from=alice/app"
    challenge = client.post(path)["WWW-Authenticate"]
    scope = challenge.split('scope="')[1].split('"')[0]
    token = client.get(
        "/auth/token",
        {"service": settings.REGISTRY_SERVICE, "scope": scope},
        HTTP_AUTHORIZATION=basic_auth("bob"),
    ).json()["token"]

    mounted = client.post(path, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert mounted.status_code == 201, mounted.content
    assert mounted["Docker-Content-Digest"] == digest

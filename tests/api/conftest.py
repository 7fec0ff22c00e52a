"""REST API fixtures: an APIClient per member of the cast, access tokens, tags in the database."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from hub.services.access_tokens import access_token_create
from registry_api.models import Manifest, Tag
from tests import factories
from tests.conftest import basic_auth
from tests.factories import digest_of

API = "/api/v1"


@pytest.fixture
def api():
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def as_user():
    """as_user(user) → a client authenticated with the user's password over Basic."""

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=basic_auth(user.username))
        return client

    return make


@pytest.fixture
def as_token():
    """as_token(user, *scopes) → a client sending a Bearer access token with those scopes."""

    def make(user, *scopes):
        _, secret = access_token_create(user=user, label="test", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


def manifest_make(repository, payload: dict, *, total_size: int = 0, pusher=None) -> Manifest:
    body = json.dumps(payload).encode()
    return Manifest.objects.create(
        repository=repository,
        digest=digest_of(body),
        media_type=payload["mediaType"],
        payload=body,
        size=len(body),
        total_size=total_size,
        pushed_by=pusher,
    )


@pytest.fixture
def tagged(public_repo, alice):
    """alice/app with `latest` (an image) and `multi` (an index of amd64 + arm64/v8)."""
    image = manifest_make(
        public_repo,
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "x", "digest": digest_of(b"c"), "size": 1},
            "layers": [],
        },
        total_size=1234,
        pusher=alice,
    )
    arm = manifest_make(
        public_repo,
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "n": 2},
        total_size=999,
    )
    index = manifest_make(
        public_repo,
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": image.digest,
                    "size": 10,
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": arm.digest,
                    "size": 10,
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest_of(b"attestation"),
                    "size": 10,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                },
            ],
        },
    )
    index.children.add(image, arm)
    Tag.objects.create(repository=public_repo, name="latest", manifest=image, pushed_by=alice)
    Tag.objects.create(repository=public_repo, name="multi", manifest=index)
    return public_repo


@pytest.fixture
def cast(alice, bob, charlie, private_repo):
    """Callers of alice/secret by role: owner, admin/write/read collaborators, outsider, anonymous.

    Values are clients; "narrow" is alice with a repo:read access token.
    """
    reader = factories.UserFactory(username="reader")
    admin = factories.UserFactory(username="adm")
    factories.CollaboratorFactory(repository=private_repo, user=reader, role="read")
    factories.CollaboratorFactory(repository=private_repo, user=admin, role="admin")
    return {"owner": alice, "admin": admin, "write": bob, "read": reader, "outsider": charlie}


@pytest.fixture
def client_for(cast, as_user, as_token):
    """client_for(caller) for a caller name of `cast`, "anonymous" or "narrow"."""

    def make(caller):
        if caller == "anonymous":
            return APIClient()
        if caller == "narrow":
            return as_token(cast["owner"], "repo:read")
        return as_user(cast[caller])

    return make

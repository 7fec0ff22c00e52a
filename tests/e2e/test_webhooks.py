"""Webhooks end to end: a real push (skopeo) to the real server fires a signed delivery.

The session server uses Redis when the run has it; a second server runs the embedded default
(`make run`: no Redis, Celery on the filesystem broker) through the same path, with a retry; a
third uses a Redis broker of our own that we stop during a push.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import time

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.server import Server, free_port
from tests.e2e.tools import Skopeo
from tests.webhooks.processes import RedisServer
from tests.webhooks.receiver import Receiver


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification written from the spec."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, part.split(",", 1)[1])
        for part in headers["webhook-signature"].split()
    )


@pytest.fixture
def receiver():
    instance = Receiver()
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def skopeo(tmp_path_factory):
    return Skopeo(tmp_path_factory.mktemp("skopeo-webhooks"))


def _repository_with_hook(server: Server, user: str, name: str, hook_url: str) -> dict:
    server.python(
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        f"repository_create(namespace=Namespace.objects.get(name={user!r}), name={name!r})\n"
    )
    answer = requests.post(
        f"{server.url}/api/v1/repositories/{user}/{name}/webhooks/",
        json={"name": "ci", "url": hook_url, "events": ["push"]},
        auth=(user, PASSWORD),
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _copy(skopeo: Skopeo, server: Server, oci_ref: str, target: str, user: str) -> str:
    skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"{user}:{PASSWORD}",
        oci_ref,
        f"docker://{server.address}/{target}",
    )
    digest = skopeo(
        "inspect",
        "--tls-verify=false",
        "--creds",
        f"{user}:{PASSWORD}",
        "--format",
        "{{.Digest}}",
        f"docker://{server.address}/{target}",
    ).stdout.strip()
    return digest


def _deliveries(server: Server, user: str, name: str, hook_id: int) -> list[dict]:
    answer = requests.get(
        f"{server.url}/api/v1/repositories/{user}/{name}/webhooks/{hook_id}/deliveries/",
        auth=(user, PASSWORD),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def test_push_fires_one_signed_delivery(server, registry_users, skopeo, platform_images, receiver):
    hook = _repository_with_hook(server, "alice", "hooked", receiver.url)
    _, oci_ref = platform_images[0]
    digest = _copy(skopeo, server, oci_ref, "alice/hooked:v1", "alice")

    [request] = receiver.wait_for(1, timeout=60)
    assert _verify(hook["secret"], request.headers, request.body)
    payload = json.loads(request.body)
    assert payload["push_data"]["tag"] == "v1"
    assert payload["push_data"]["pusher"] == "alice"
    assert payload["push_data"]["digest"] == digest
    assert payload["push_data"]["media_type"]
    assert payload["repository"]["repo_name"] == "alice/hooked"
    assert payload["repository"]["repo_url"].startswith(server.url)
    time.sleep(2)
    assert len(receiver.requests) == 1  # one push, one delivery (not one per blob)
    [delivery] = _deliveries(server, "alice", "hooked", hook["id"])
    assert delivery["status"] == "delivered"
    assert delivery["webhook_id"] == request.headers["webhook-id"]


def _quick_retry_server(tmp_path_factory, name: str, user: str, **env: str) -> Server:
    """A started server of its own whose deliveries retry and sweep within seconds, and `user`."""
    env = server_env(
        tmp_path_factory, WEBHOOK_RETRY_BACKOFF_SECONDS="1", WEBHOOK_SWEEP_SECONDS="2", **env
    )
    instance = Server(tmp_path_factory.mktemp(name), env=env).start()
    instance.create_user(user, PASSWORD)
    return instance


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """The embedded default: no Redis, Celery on the filesystem broker, as `make run` serves."""
    instance = _quick_retry_server(tmp_path_factory, "dockyard-embedded-webhooks", "erin")
    yield instance
    instance.stop()


def test_embedded_default_delivers_and_retries(embedded, skopeo, platform_images, receiver):
    hook = _repository_with_hook(embedded, "erin", "tool", receiver.url)
    receiver.statuses = [500]
    _, oci_ref = platform_images[0]
    _copy(skopeo, embedded, oci_ref, "erin/tool:1", "erin")

    first, second = receiver.wait_for(2, timeout=60)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert _verify(hook["secret"], second.headers, second.body)
    assert json.loads(second.body)["push_data"]["tag"] == "1"
    deadline = time.monotonic() + 20
    while True:
        [delivery] = _deliveries(embedded, "erin", "tool", hook["id"])
        if delivery["status"] == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 2
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 200]


@pytest.fixture(scope="module")
def own_redis():
    """A redis-server of our own (the machine's Redis is shared: we may not stop it)."""
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    instance = RedisServer(free_port()).start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def redis_broker_server(tmp_path_factory, own_redis):
    """Celery on our Redis; the cache stays on files so only the broker goes away."""
    instance = _quick_retry_server(
        tmp_path_factory, "dockyard-redis-broker", "frank", CELERY_BROKER_URL=own_redis.url
    )
    yield instance
    instance.stop()


def test_push_while_the_broker_is_down_delivers_once_it_is_back(
    redis_broker_server, own_redis, skopeo, platform_images, receiver
):
    server = redis_broker_server
    hook = _repository_with_hook(server, "frank", "outage", receiver.url)
    own_redis.stop()
    _, oci_ref = platform_images[0]
    _copy(skopeo, server, oci_ref, "frank/outage:1", "frank")  # the push succeeds
    [delivery] = _deliveries(server, "frank", "outage", hook["id"])
    assert delivery["status"] == "pending" and receiver.requests == []
    own_redis.start()
    [request] = receiver.wait_for(1, timeout=90)
    assert request.headers["webhook-id"] == delivery["webhook_id"]
    assert _verify(hook["secret"], request.headers, request.body)

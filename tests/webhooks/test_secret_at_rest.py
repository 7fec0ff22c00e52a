"""The signing secret is stored encrypted (DATA_ENCRYPTION_KEY); deliveries still sign with it."""

from __future__ import annotations

from django.db import connection

from tests.webhooks.conftest import standard_webhooks_verify
from webhooks.models import Webhook
from webhooks.services.events import event_publish
from webhooks.services.hooks import webhook_create


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_webhook_secret_is_encrypted_in_the_database_and_still_signs(
    public_repo, alice, receiver, allow_loopback, django_capture_on_commit_callbacks
):
    hook = webhook_create(
        repository=public_repo, actor=alice, name="ci", url=receiver.url, events=["push"]
    )
    secret = hook.secret
    stored = _raw("webhooks_webhook", "secret", hook.pk)
    assert secret.startswith("whsec_") and secret not in stored
    assert secret.removeprefix("whsec_") not in stored
    assert Webhook.objects.get(pk=hook.pk).secret == secret
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(
            action="push",
            repository=public_repo,
            actor=alice,
            data={"tag": "v1", "digest": "sha256:" + "b" * 64, "media_type": "x"},
        )
    [request] = receiver.wait_for(1)
    assert standard_webhooks_verify(secret, request.headers, request.body)

"""The delivery path in-process: a real loopback receiver, Celery eager, the retry state machine."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.conftest import celery_producer_reset, standard_webhooks_verify
from webhooks.models import Delivery, Webhook
from webhooks.services.delivery import delivery_attempt, message_id
from webhooks.services.events import event_publish
from webhooks.services.hooks import webhook_create, webhook_test, webhook_update
from webhooks.services.sweep import RETENTION_DAYS, delivery_redeliver, delivery_sweep

PUSH = {"tag": "v1", "digest": "sha256:" + "b" * 64, "media_type": "application/json"}


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def hook(public_repo, alice, receiver, allow_loopback):
    return webhook_create(
        repository=public_repo, actor=alice, name="ci", url=receiver.url, events=["push"]
    )


def _publish(repo, actor, capture, action="push", data=PUSH):
    with capture(execute=True):
        return event_publish(action=action, repository=repo, actor=actor, data=data)


def _make_due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_push_is_delivered_signed(hook, public_repo, alice, receiver, capture):
    _publish(public_repo, alice, capture)
    [request] = receiver.wait_for(1)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-dockyard-event"] == "push"
    assert standard_webhooks_verify(hook.secret, request.headers, request.body)
    assert json.loads(request.body)["push_data"]["tag"] == "v1"
    delivery = Delivery.objects.get(webhook=hook)
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert request.headers["webhook-id"] == message_id(delivery)
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok" and not attempt.error


def test_only_matching_active_hooks_get_deliveries(hook, public_repo, alice, receiver, capture):
    Webhook.objects.create(
        repository=public_repo, name="off", url=receiver.url, events=["push"], is_active=False
    )
    Webhook.objects.create(
        repository=public_repo, name="repo-events", url=receiver.url, events=["repository"]
    )
    event = _publish(public_repo, alice, capture)
    assert list(event.deliveries.values_list("webhook__name", flat=True)) == ["ci"]
    event = _publish(public_repo, alice, capture, "repository_create", {})
    assert list(event.deliveries.values_list("webhook__name", flat=True)) == ["repo-events"]


def test_organization_hooks_get_their_repositories_events(
    acme, alice, receiver, allow_loopback, capture
):
    from tests.factories import RepositoryFactory

    repo = RepositoryFactory(namespace=acme.namespace, name="tool")
    Webhook.objects.create(organization=acme, name="org", url=receiver.url, events=["push"])
    event = _publish(repo, alice, capture)
    assert event.deliveries.get().status == "delivered"


def test_failures_are_retried_with_the_same_webhook_id(hook, public_repo, alice, receiver, capture):
    receiver.statuses = [500, 500]
    _publish(public_repo, alice, capture)
    delivery = Delivery.objects.get(webhook=hook)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=9)
    # Not due yet: a duplicate task (the sweep, a redelivered message) does nothing.
    assert delivery_attempt(delivery_id=delivery.pk) is None
    for _ in range(2):
        _make_due(delivery)
        delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 200]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert all(standard_webhooks_verify(hook.secret, r.headers, r.body) for r in receiver.requests)


def test_redirects_are_failures_not_followed(hook, public_repo, alice, receiver, capture):
    receiver.statuses = [302]
    _publish(public_repo, alice, capture)
    attempt = Delivery.objects.get(webhook=hook).attempt_log.get()
    assert attempt.status_code == 302 and "not followed" in attempt.error
    assert len(receiver.requests) == 1


def test_gives_up_after_max_attempts_and_disables_after_consecutive_failures(
    hook, public_repo, alice, receiver, settings, capture
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    receiver.statuses = [503] * 10
    for _ in range(2):
        _publish(public_repo, alice, capture)
    third = event_publish(action="push", repository=public_repo, actor=alice, data=PUSH)
    for delivery in Delivery.objects.filter(webhook=hook).exclude(event=third):
        _make_due(delivery)
        delivery_attempt(delivery_id=delivery.pk)
    statuses = set(Delivery.objects.filter(webhook=hook).values_list("status", flat=True))
    assert statuses == {"failed"}  # the pending third one is failed with the hook
    hook.refresh_from_db()
    assert not hook.is_active
    assert "2 deliveries in a row failed" in hook.disabled_reason
    assert "HTTP 503" in hook.disabled_reason
    # Re-enabling clears the count and the reason.
    webhook_update(webhook=hook, is_active=True)
    hook.refresh_from_db()
    assert hook.is_active and hook.consecutive_failures == 0 and hook.disabled_reason == ""


def test_success_resets_the_failure_count(hook, public_repo, alice, capture):
    Webhook.objects.filter(pk=hook.pk).update(consecutive_failures=5)
    _publish(public_repo, alice, capture)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0


def test_sweep_requeues_overdue_deliveries(hook, public_repo, alice, receiver, settings):
    settings.WEBHOOK_SWEEP_SECONDS = 5
    # Published without running on_commit: as if the broker had been down.
    event_publish(action="push", repository=public_repo, actor=alice, data=PUSH)
    assert delivery_sweep() == 0  # not overdue yet
    delivery = Delivery.objects.get(webhook=hook)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=10)
    )
    assert delivery_sweep() == 1
    receiver.wait_for(1)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_sweep_fails_deliveries_whose_last_attempt_was_lost(hook, public_repo, alice, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    event_publish(action="push", repository=public_repo, actor=alice, data=PUSH)
    Delivery.objects.filter(webhook=hook).update(
        attempts=3, next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    delivery_sweep()
    assert Delivery.objects.get(webhook=hook).status == "failed"


def test_redeliver_and_test_send_again(hook, public_repo, alice, receiver, capture):
    _publish(public_repo, alice, capture)
    first = Delivery.objects.get(webhook=hook)
    with capture(execute=True):
        again = delivery_redeliver(delivery=first)
    with capture(execute=True):
        test = webhook_test(webhook=hook, actor=alice)
    requests = receiver.wait_for(3)
    again.refresh_from_db()
    test.refresh_from_db()
    assert again.status == test.status == "delivered"
    assert requests[0].body == requests[1].body  # same event, same payload
    assert requests[2].headers["x-dockyard-event"] == "test"
    assert json.loads(requests[2].body)["push_data"]["tag"] == "test"


def test_broker_errors_do_not_break_the_publishing_transaction(
    hook, public_repo, alice, settings, capture
):
    # Celery reads its configuration from Django settings on each access.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    celery_producer_reset()
    try:
        started = time.monotonic()
        _publish(public_repo, alice, capture)
        assert time.monotonic() - started < 5
    finally:
        celery_producer_reset()
    assert Delivery.objects.get(webhook=hook).status == "pending"


def test_sweep_prunes_old_finished_deliveries_and_orphan_events(hook, public_repo, alice):
    from webhooks.models import Event

    old = timezone.now() - timedelta(days=RETENTION_DAYS + 1)
    event_publish(action="push", repository=public_repo, actor=alice, data=PUSH)
    Delivery.objects.update(status="delivered", created_at=old)
    Event.objects.update(created_at=old)
    event_publish(action="push", repository=public_repo, actor=alice, data=PUSH)
    delivery_sweep()
    assert Delivery.objects.count() == 1 and Event.objects.count() == 1


def test_nul_bytes_in_the_answer_are_logged_safely(hook, public_repo, alice, receiver, capture):
    receiver.statuses = [200]
    original = receiver.server.RequestHandlerClass.do_POST

    def answer_with_nul(handler):
        handler.rfile.read(int(handler.headers["Content-Length"]))
        receiver.requests.append(None)
        handler.send_response(200)
        handler.send_header("Content-Length", "3")
        handler.end_headers()
        handler.wfile.write(b"a\x00b")

    receiver.server.RequestHandlerClass.do_POST = answer_with_nul
    try:
        _publish(public_repo, alice, capture)
    finally:
        receiver.server.RequestHandlerClass.do_POST = original
    attempt = Delivery.objects.get(webhook=hook).attempt_log.get()
    assert attempt.response_excerpt == "a\ufffdb"


def test_renaming_does_not_recheck_an_unchanged_url(hook, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # the hook's loopback URL would be refused now
    webhook_update(webhook=hook, name="renamed")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        webhook_update(webhook=hook, url=hook.url + "x")


def test_repository_delete_reaches_the_repositorys_own_hooks(
    public_repo, alice, receiver, allow_loopback, capture
):
    from hub.services.repositories import repository_delete

    hook = webhook_create(
        repository=public_repo, actor=alice, name="ci", url=receiver.url, events=["repository"]
    )
    with capture(execute=True):
        repository_delete(repository=public_repo, actor=alice)
    [request] = receiver.wait_for(1)
    assert request.headers["x-dockyard-event"] == "repository_delete"
    assert standard_webhooks_verify(hook.secret, request.headers, request.body)
    body = json.loads(request.body)
    assert body["action"] == "repository_delete"
    assert body["repository"]["repo_name"] == "alice/app"
    assert Delivery.objects.get(webhook=hook).status == "delivered"
    # Sent: the sweep deletes the hook of the deleted repository, with its log.
    delivery_sweep()
    assert not Webhook.objects.filter(pk=hook.pk).exists()
    assert not Delivery.objects.filter(webhook_id=hook.pk).exists()


def test_a_deleted_repositorys_hook_stays_while_deliveries_are_pending(
    public_repo, alice, receiver, allow_loopback, capture
):
    from hub.services.repositories import repository_delete

    hook = webhook_create(
        repository=public_repo, actor=alice, name="ci", url=receiver.url, events=["repository"]
    )
    receiver.statuses = [503]
    with capture(execute=True):
        repository_delete(repository=public_repo, actor=alice)
    delivery = Delivery.objects.get(webhook=hook)
    assert delivery.status == "pending" and delivery.attempts == 1
    delivery_sweep()
    assert Webhook.objects.filter(pk=hook.pk).exists()
    _make_due(delivery)
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert [r.headers["x-dockyard-event"] for r in receiver.requests] == ["repository_delete"] * 2
    delivery_sweep()
    assert not Webhook.objects.filter(pk=hook.pk).exists()


def test_services_queue_tasks_by_name_and_never_import_them():
    import ast
    from pathlib import Path

    from config.celery import app
    from webhooks import tasks
    from webhooks.services.queue import DELIVER_TASK

    assert app.tasks[DELIVER_TASK].name == tasks.deliver_webhook.name == DELIVER_TASK
    for module in Path(tasks.__file__).parent.joinpath("services").glob("*.py"):
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(ast.parse(module.read_text()))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not any(name and name.startswith("webhooks.tasks") for name in imported), module

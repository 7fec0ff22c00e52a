"""Webhooks, the events they receive (an outbox), and the log of every delivery attempt."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.encryption import EncryptedTextField
from webhooks.signing import secret_generate


class Webhook(models.Model):
    class Format(models.TextChoices):
        DOCKER_HUB = "dockerhub", _("Docker Hub compatible")
        CLOUDEVENTS = "cloudevents", "CloudEvents 1.0"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # One of these: a repository's hook, or an organization's hook for all its repos. A deleted
    # repository's hooks lose their repository but stay until their pending deliveries (its
    # repository_delete event among them) are done; the sweep then deletes them.
    repository = models.ForeignKey(
        "hub.Repository", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks"
    )
    organization = models.ForeignKey(
        "hub.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    payload_format = models.CharField(
        max_length=20, choices=Format.choices, default=Format.DOCKER_HUB
    )
    secret = EncryptedTextField(max_length=200, default=secret_generate)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The site's address as seen when the hook was made: links in payloads when SITE_URL is unset.
    site_url = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(repository__isnull=True) | Q(organization__isnull=True),
                name="webhook_has_at_most_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"


class Event(models.Model):
    """Something that happened to a repository, written in the same transaction as the change."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    action = models.CharField(max_length=30)
    repository = models.ForeignKey(
        "hub.Repository", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Plain data (repository, tag, digest, actor, …) so webhooks knows no registry internals.
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.action} {self.data.get('repository', '')}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_response_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The periodic sweep: pending deliveries whose next attempt is due.
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.uuid} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"attempt on {self.delivery_id} at {self.started_at}"

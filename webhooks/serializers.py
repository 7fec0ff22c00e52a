"""REST shapes of hooks and deliveries."""

from __future__ import annotations

from rest_framework import serializers

from webhooks.models import Delivery, DeliveryAttempt, Webhook
from webhooks.services.delivery import message_id
from webhooks.services.events import EVENT_CHOICES


class WebhookOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = [
            "id",
            "name",
            "url",
            "events",
            "payload_format",
            "is_active",
            "consecutive_failures",
            "disabled_reason",
            "created_at",
        ]

    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))


class WebhookWithSecretSerializer(WebhookOutputSerializer):
    """Returned once, when a hook is created or its secret replaced."""

    class Meta(WebhookOutputSerializer.Meta):
        fields = [*WebhookOutputSerializer.Meta.fields, "secret"]

    secret = serializers.CharField(help_text="whsec_<base64 key>; shown only in this response.")


class WebhookUpdatedSerializer(WebhookOutputSerializer):
    """A PATCH answer: `secret` is present only when the request changed it."""

    class Meta(WebhookOutputSerializer.Meta):
        fields = [*WebhookOutputSerializer.Meta.fields, "secret"]

    secret = serializers.CharField(
        required=False, help_text="The new secret, when the request set or regenerated it."
    )


class WebhookCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), default=lambda: ["push"]
    )
    payload_format = serializers.ChoiceField(
        choices=Webhook.Format.choices, default=Webhook.Format.DOCKER_HUB
    )
    secret = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="whsec_<base64 key>; generated when omitted.",
    )
    is_active = serializers.BooleanField(default=True)


class WebhookUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    url = serializers.URLField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), required=False
    )
    payload_format = serializers.ChoiceField(choices=Webhook.Format.choices, required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="true re-enables a disabled hook and clears its failure count."
    )
    secret = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text='A new whsec_ secret; "" generates one. The response shows it once.',
    )


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["started_at", "status_code", "duration_ms", "response_excerpt", "error"]


class EventSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    action = serializers.CharField()
    created_at = serializers.DateTimeField()
    data = serializers.SerializerMethodField()

    def get_data(self, event) -> dict:
        return {key: value for key, value in event.data.items() if key != "repository_info"}


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "webhook_id",
            "status",
            "attempts",
            "last_response_code",
            "created_at",
            "next_attempt_at",
            "delivered_at",
            "event",
            "attempt_log",
        ]

    webhook_id = serializers.SerializerMethodField(help_text="The webhook-id header value.")
    event = EventSerializer()
    attempt_log = DeliveryAttemptSerializer(many=True)

    def get_webhook_id(self, delivery) -> str:
        return message_id(delivery)

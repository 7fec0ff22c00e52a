from django.contrib import admin

from webhooks.models import Delivery, DeliveryAttempt, Event, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "url",
        "repository",
        "organization",
        "payload_format",
        "is_active",
        "consecutive_failures",
    ]
    list_filter = ["is_active", "payload_format"]
    search_fields = ["name", "url", "repository__name", "organization__name"]
    exclude = ["secret"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    readonly_fields = ["started_at", "status_code", "duration_ms", "response_excerpt", "error"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["uuid", "webhook", "status", "attempts", "last_response_code", "created_at"]
    list_filter = ["status"]
    search_fields = ["uuid", "webhook__name"]
    inlines = [DeliveryAttemptInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["uuid", "action", "repository", "created_at"]
    list_filter = ["action"]

"""Counts for the admin dashboard: the state of the whole hub, for administrators only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

DASHBOARD_DAYS = 14


@dataclass(frozen=True)
class Day:
    day: date
    pushes: int
    pulled_tags: int


@dataclass(frozen=True)
class DashboardCounts:
    users: int
    repositories: int
    private_repositories: int
    stored_bytes: int
    pulls: int
    webhook_failures: int  # deliveries that gave up, in the last DASHBOARD_DAYS days
    days: list[Day]


def _per_day(queryset, field: str, since) -> dict[date, int]:
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def dashboard_counts() -> DashboardCounts:
    from hub.models import Repository, User
    from registry_api.models import Tag, TagEvent
    from webhooks.models import Delivery

    today = timezone.localdate()
    first = today - timedelta(days=DASHBOARD_DAYS - 1)
    since = timezone.make_aware(timezone.datetime.combine(first, timezone.datetime.min.time()))
    pushes = _per_day(TagEvent.objects.filter(action=TagEvent.Action.PUSH), "created_at", since)
    # Pulls are counted per repository, not per day: a day shows the tags last pulled on it.
    pulled = _per_day(Tag.objects.all(), "last_pulled_at", since)
    totals = Repository.objects.aggregate(stored=Sum("stored_bytes"), pulls=Sum("pull_count"))
    days = [first + timedelta(days=n) for n in range(DASHBOARD_DAYS)]
    return DashboardCounts(
        users=User.objects.filter(robot__isnull=True).count(),
        repositories=Repository.objects.count(),
        private_repositories=Repository.objects.filter(is_private=True).count(),
        stored_bytes=totals["stored"] or 0,
        pulls=totals["pulls"] or 0,
        webhook_failures=Delivery.objects.filter(
            status=Delivery.Status.FAILED, created_at__gte=since
        ).count(),
        days=[Day(day=d, pushes=pushes.get(d, 0), pulled_tags=pulled.get(d, 0)) for d in days],
    )

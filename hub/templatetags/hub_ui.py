"""Template helpers for the web UI: Markdown, digests, sizes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from hub.markdown import markdown_render

register = template.Library()
_RFC3339_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|z|[+-]\d\d:\d\d)$")


@register.simple_tag
def repository_card_facts(repository):
    """Tag count, size and platforms of a card's repository (its `latest` or newest tag)."""
    from hub.views.tag_rows import card_facts

    return card_facts(repository)


@register.filter
def markdown(text: str):
    """Render Markdown; raw HTML is sanitised."""
    return markdown_render(text, allow_html=True)


@register.filter
def markdown_text_only(text: str):
    """Render Markdown; raw HTML is shown as text (user comments)."""
    return markdown_render(text, allow_html=False)


@register.filter
def short_digest(digest: str) -> str:
    """sha256:abcdef0123456789… → sha256:abcdef012345."""
    algorithm, _, hexdigest = (digest or "").partition(":")
    return f"{algorithm}:{hexdigest[:12]}" if hexdigest else digest


@register.filter
def size(value) -> str:
    return filesizeformat(value or 0)


@register.filter
def join_command(value) -> str:
    """Cmd/Entrypoint lists as a shell-ish line."""
    if isinstance(value, list | tuple):
        return " ".join(str(part) for part in value)
    return str(value or "")


def _datetime(value):
    """A datetime, or an RFC 3339 string as image configs carry it (nanoseconds, `Z`)."""
    if isinstance(value, datetime):
        return value
    match = _RFC3339_RE.match(str(value or ""))
    if match is None:
        return None
    head, fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        # Python parses at most microseconds: drop the nanoseconds beyond them.
        return datetime.fromisoformat(f"{head}{(fraction or '')[:7]}{zone}")
    except ValueError:
        return None


@register.filter
def time_tag(value):
    """`<time>` showing "3 minutes ago", the exact time on hover; anything unparsable as is."""
    moment = _datetime(value)
    if moment is None:
        return value or ""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        date_format(timezone.localtime(moment), "DATETIME_FORMAT"),
        naturaltime(moment),
    )

"""Comment bodies as HTML, rendered once per body and then served from the cache."""

from __future__ import annotations

import hashlib

from django import template
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

from hub.markdown import markdown_render

register = template.Library()

# Keyed by the body's hash, so an edit is a new key; the timeout bounds how long a change of the
# sanitiser's rules takes to reach old comments.
CACHE_SECONDS = 24 * 3600


@register.filter
def comment_html(body: str) -> SafeString:
    """Markdown of a comment; raw HTML is shown as text (anyone may write comments)."""
    key = (
        "comment-html:" + hashlib.sha256((body or "").encode("utf-8", "surrogatepass")).hexdigest()
    )
    html = cache.get(key)
    if html is None:
        html = str(markdown_render(body, allow_html=False))
        cache.set(key, html, timeout=CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - markdown_render's output, sanitised by nh3

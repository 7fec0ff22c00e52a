"""Template helpers for the web UI: Markdown, digests, sizes."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import filesizeformat

from hub.markdown import markdown_render

register = template.Library()


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

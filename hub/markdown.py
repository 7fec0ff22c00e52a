"""Markdown to safe HTML: Python-Markdown renders, nh3 (ammonia) keeps only harmless markup."""

from __future__ import annotations

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

EXTENSIONS = ["fenced_code", "tables", "sane_lists", "nl2br"]
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}


def _converter(*, allow_html: bool) -> markdown_lib.Markdown:
    converter = markdown_lib.Markdown(extensions=EXTENSIONS)
    if not allow_html:
        # Raw HTML is shown as text, not interpreted: comments are written by anyone.
        converter.preprocessors.deregister("html_block")
        converter.inlinePatterns.deregister("html")
    return converter


def markdown_render(text: str, *, allow_html: bool = True) -> SafeString:
    """Return sanitised HTML for Markdown `text`; raw HTML is cleaned, or escaped if not allowed."""
    html = _converter(allow_html=allow_html).convert(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 - nh3 output is sanitised

"""Request body parsers of the REST API."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far deeper than any request body of this API; far below the interpreter's recursion limit, so
# serializers and error rendering never recurse into a hostile structure either.
MAX_JSON_DEPTH = 64


def _depth_exceeds(data, limit: int) -> bool:
    """Walk without recursion: a hostile body must not be able to exhaust the stack here."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering nesting bombs (`[` x 100000) with 400, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data

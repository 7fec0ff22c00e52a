"""Generated avatars: a symmetric 5×5 identicon from the name's hash, as an SVG drawn here."""

from __future__ import annotations

import hashlib

CELLS = 5


def identicon_svg(name: str) -> str:
    """The same name always draws the same picture; no user text reaches the SVG."""
    digest = hashlib.sha256(name.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    squares = []
    for row in range(CELLS):
        for column in range((CELLS + 1) // 2):  # the left half and middle; mirrored
            if digest[2 + row * 3 + column] % 2:
                for x in {column, CELLS - 1 - column}:
                    squares.append(f'<rect x="{x + 1}" y="{row + 1}" width="1" height="1"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 7 7" width="112" height="112">'
        f'<rect width="7" height="7" fill="hsl({hue} 45% 92%)"/>'
        f'<g fill="hsl({hue} 55% 45%)">{"".join(squares)}</g></svg>'
    )

"""The shop's colour as a stylesheet, adjusted so that text on it and links in it stay readable."""

from __future__ import annotations

import re

DEFAULT = "#0b5fff"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def _rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _darken(colour: str, factor: float) -> str:
    r, g, b = _rgb(colour)
    return "#" + "".join(f"{int(c * factor):02x}" for c in (r, g, b))


def readable_on_white(colour: str) -> str:
    """The colour, darkened until it reaches WCAG AA (4.5:1) against white."""
    factor = 1.0
    out = colour
    while contrast(out, "#ffffff") < 4.5 and factor > 0:
        factor -= 0.05
        out = _darken(colour, factor)
    return out


def brand_css(colour: str) -> str:
    colour = colour if _HEX.match(colour or "") else DEFAULT
    ink = "#ffffff" if contrast(colour, "#ffffff") >= contrast(colour, "#111111") else "#111111"
    return f":root{{--brand:{colour};--on-brand:{ink};--brand-text:{readable_on_white(colour)}}}\n"

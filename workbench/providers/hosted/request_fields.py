"""Small conversions between a GenerationRequest's fields and provider vocabularies."""

from __future__ import annotations

import re

_WXH = re.compile(r"^\s*(\d+)\s*[xX:*]\s*(\d+)\s*$")
_P = re.compile(r"^\s*(\d+)\s*[pP]\s*$")


def dimensions(resolution: str | None) -> tuple[int, int] | None:
    """``"1280x720"`` -> ``(1280, 720)``; ``None`` for anything else."""
    if not resolution:
        return None
    match = _WXH.match(resolution)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def p_label(resolution: str | None) -> str | None:
    """``"1280x720"`` -> ``"720p"``; ``"1080p"`` stays; ``None`` when unknown."""
    if not resolution:
        return None
    if _P.match(resolution):
        return resolution.strip().lower()
    dims = dimensions(resolution)
    if dims is None:
        return None
    return f"{min(dims)}p"


def whole(value: float | None) -> int | float | None:
    """An integral float as an int (``5.0`` -> ``5``), anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value

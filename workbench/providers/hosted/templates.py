"""``{placeholder}`` templates for request bodies, URLs and headers.

Strings may contain ``{prompt}``, ``{seed}``, ``{duration}``, ... (the keys of
:meth:`GenerationRequest.template_values`). A string that is *exactly* one
placeholder becomes the raw value, so ``"{seed}"`` gives the number ``42`` and
``"{duration}"`` gives ``5`` (or ``null`` when the prompt sets no duration).
Inside a longer string a missing value renders as the empty string and an
integral float as an integer (``"{duration}s"`` -> ``"5s"``). ``{{`` and ``}}``
stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: Placeholders a request fills in (see GenerationRequest.template_values).
REQUEST_PLACEHOLDERS = frozenset(
    {
        "model",
        "prompt_id",
        "prompt",
        "seed",
        "repeat",
        "duration",
        "resolution",
        "aspect_ratio",
        "fps",
        "negative_prompt",
    }
)

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders_in(template: Any) -> set[str]:
    """Every placeholder name used anywhere in a string, list or table."""
    found: set[str] = set()
    if isinstance(template, str):
        for match in _TOKEN.finditer(template):
            if match.group(1):
                found.add(match.group(1))
    elif isinstance(template, Mapping):
        for value in template.values():
            found |= placeholders_in(value)
    elif isinstance(template, (list, tuple)):
        for value in template:
            found |= placeholders_in(value)
    return found


def check_placeholders(template: Any, allowed: Iterable[str], where: str) -> None:
    """Raise ``ValueError`` naming any placeholder not in ``allowed``."""
    allowed = set(allowed)
    unknown = sorted(placeholders_in(template) - allowed)
    if unknown:
        names = ", ".join("{" + n + "}" for n in unknown)
        known = ", ".join("{" + n + "}" for n in sorted(allowed))
        raise ValueError(f"{where}: unknown placeholder(s) {names} (known: {known})")


def _raw(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(value: Any) -> str:
    value = _raw(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_string(template: str, values: Mapping[str, Any]) -> Any:
    """Fill one string; ``KeyError`` for a placeholder with no value."""
    whole = _TOKEN.fullmatch(template)
    if whole and whole.group(1):
        return _raw(values[whole.group(1)])

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return _text(values[match.group(1)])

    return _TOKEN.sub(replace, template)


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill every string inside a JSON-like value (tables and lists recursively)."""
    if isinstance(template, str):
        return render_string(template, values)
    if isinstance(template, Mapping):
        return {key: render(value, values) for key, value in template.items()}
    if isinstance(template, (list, tuple)):
        return [render(value, values) for value in template]
    return template

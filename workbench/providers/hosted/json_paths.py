"""Dot paths into JSON answers: ``"data.id"``, ``"output.0"``, ``"assets.video"``.

A segment that is an integer (``0``, ``-1``) indexes a list; any other segment
is a key of an object. An integer segment applied to an object is looked up as
a string key, so ``"outputs.0"`` also works for ``{"outputs": {"0": ...}}``.
"""

from __future__ import annotations

import re
from typing import Any

_INT = re.compile(r"^-?\d+$")
_MISSING = object()


class PathNotFound(LookupError):
    """The path does not lead to a value in the given document."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path!r}: {reason}")


def check_path(path: str) -> str:
    """Return ``path`` if it is well formed, else raise ``ValueError`` saying why."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError("a dot path must be a non-empty string such as 'data.id'")
    segments = path.split(".")
    if any(not s for s in segments):
        raise ValueError(f"dot path {path!r} has an empty segment (two dots, or a leading/trailing dot)")
    return path


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        keys = sorted(str(k) for k in value)[:8]
        more = ", ..." if len(value) > 8 else ""
        return f"an object with keys [{', '.join(keys)}{more}]"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def resolve(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``; :class:`PathNotFound` if absent."""
    current = document
    walked: list[str] = []
    for segment in path.split("."):
        where = ".".join(walked) or "the top level"
        if isinstance(current, dict):
            if segment not in current:
                raise PathNotFound(path, f"no {segment!r} in {where} ({_describe(current)})")
            current = current[segment]
        elif isinstance(current, list):
            if not _INT.match(segment):
                raise PathNotFound(path, f"{where} is {_describe(current)}, {segment!r} is not an index")
            index = int(segment)
            if not -len(current) <= index < len(current):
                raise PathNotFound(path, f"index {index} out of range in {where} ({_describe(current)})")
            current = current[index]
        else:
            raise PathNotFound(path, f"{where} is {_describe(current)}, cannot take {segment!r} from it")
        walked.append(segment)
    return current


def lookup(document: Any, path: str, default: Any = None) -> Any:
    """The value at ``path``, or ``default`` when it is absent."""
    try:
        return resolve(document, path)
    except PathNotFound:
        return default

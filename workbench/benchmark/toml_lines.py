"""Find the line of a key in a TOML text, so errors can point at it."""

from __future__ import annotations

import re

_HEADER_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.\- \"']+?)\s*=")


def _split_key(key: str) -> list[str]:
    parts: list[str] = []
    for match in re.finditer(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', key):
        parts.append(next(g for g in match.groups() if g is not None))
    return parts


def find_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line that best matches the key path ``loc``, or None.

    Looks for the deepest table header that is a prefix of ``loc`` and then for
    the remaining key inside that table (dotted keys are understood).
    """
    path = [str(p) for p in loc]
    best_line: int | None = None
    best_depth = -1
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER_RE.match(line)
        if header and not line.lstrip().startswith("#"):
            table = _split_key(header.group(1))
            if table == path[: len(table)] and len(table) > best_depth:
                best_line, best_depth = number, len(table)
            continue
        key = _KEY_RE.match(line)
        if key and not line.lstrip().startswith("#"):
            full = table + _split_key(key.group(1))
            # A key matches if it is a prefix of the path or the path is a prefix of it.
            common = 0
            for a, b in zip(full, path):
                if a != b:
                    break
                common += 1
            if common == len(full) or common == len(path):
                if common > best_depth:
                    best_line, best_depth = number, common
    return best_line

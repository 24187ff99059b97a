"""The score cache: one JSONL file of results keyed by video content and scorer version.

A record is kept per (video sha256, scorer name, scorer version, inputs), where
``inputs`` hashes whatever else the scorer reads (the requested parameters, the
prompt text, an external program's argv) so that a changed prompt re-scores only
the scorers that read it. A record for ``@thumbnails`` remembers how many
thumbnails a video yields, so a short video is not decoded again for a
thumbnail it can never have. The file is append-only; the last record for a
key wins and torn or foreign lines are ignored.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from workbench.safe_files import append_jsonl_many
from workbench.scorers.base import ScorerInfo, ScoreValue

CACHE_FILE = "scores.jsonl"
THUMBNAILS_KEY = "@thumbnails"
THUMBNAILS_VERSION = "1"

Key = tuple[str, str, str, str]


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def inputs_key(info: ScorerInfo, requested: dict | None, prompt_text: str) -> str:
    """A short hash of what ``info``'s scorer reads besides the video ('' if nothing)."""
    payload: dict[str, Any] = {}
    if "requested" in info.inputs:
        payload["requested"] = {k: v for k, v in (requested or {}).items() if v is not None}
    if "prompt_text" in info.inputs:
        payload["prompt_text"] = prompt_text
    if info.fingerprint:
        payload["fingerprint"] = info.fingerprint
    return _digest(payload) if payload else ""


def thumbnails_key(count: int, max_size: int) -> str:
    return _digest({"count": count, "max_size": max_size})


class ScoreCache:
    """Reads the cache file once; :meth:`add` appends new results to it."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / CACHE_FILE
        self._records: dict[Key, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            try:
                record = json.loads(line)
                key = (record["sha256"], record["scorer"], record["version"], record.get("inputs", ""))
            except (ValueError, KeyError, TypeError):
                continue
            if all(isinstance(part, str) for part in key):
                self._records[key] = record

    def get(self, sha256: str, info: ScorerInfo, inputs: str) -> tuple[ScoreValue, str | None] | None:
        """(cached score, whole-file error) or None."""
        record = self._records.get((sha256, info.name, info.version, inputs))
        if record is None:
            return None
        value = record.get("value")
        if value is not None and not isinstance(value, (int, float)):
            return None
        score = ScoreValue(
            info.name, info.version,
            float(value) if value is not None else None,
            error=record.get("error"), detail=record.get("detail"),
        )
        return score, record.get("video_error")

    def thumbnail_count(self, sha256: str, key: str) -> int | None:
        record = self._records.get((sha256, THUMBNAILS_KEY, THUMBNAILS_VERSION, key))
        value = record.get("value") if record else None
        return int(value) if isinstance(value, (int, float)) else None

    def add(self, sha256: str, entries: list[tuple[ScoreValue, str]], video_error: str | None,
            thumbnails: tuple[str, int] | None = None) -> None:
        """Append ``(score, inputs key)`` entries and optionally a thumbnail count."""
        records = []
        for score, inputs in entries:
            records.append({
                "sha256": sha256, "scorer": score.name, "version": score.version, "inputs": inputs,
                "value": score.value, "error": score.error, "detail": score.detail,
                "video_error": video_error,
            })
        if thumbnails is not None:
            key, count = thumbnails
            records.append({
                "sha256": sha256, "scorer": THUMBNAILS_KEY, "version": THUMBNAILS_VERSION,
                "inputs": key, "value": count, "error": None, "detail": None, "video_error": video_error,
            })
        if not records:
            return
        append_jsonl_many(self.path, records)
        for record in records:
            self._records[(sha256, record["scorer"], record["version"], record["inputs"])] = record

"""Decisions already taken, and taking a new one: the glue a front end needs around records.

:func:`list_decisions` reads ``BENCH/decisions/*.json`` (newest first) into short
summaries; a file that is not a readable decision record is skipped with a warning
naming it. :func:`record_decision` writes a record for a gate result exactly as
``workbench gate --record`` does (contact sheet plan, record, files never overwritten).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.decide.gate_inputs import GateInputs
from workbench.decide.gate_result import GateResult
from workbench.decide.records import (
    RECORD_FORMAT, RecordFiles, build_record, decider_name, final_decision,
    plan_contact_sheet, record_stem, utc_now, write_record,
)

_SUFFIX = re.compile(r"-(\d+)$")


@dataclass(frozen=True)
class DecisionSummary:
    """One earlier decision record, as a list shows it."""

    json_file: Path
    markdown_file: Path | None
    decided_at: str
    """ISO 8601 UTC, e.g. ``2026-03-04T05:06:07Z``."""
    decided_by: str
    candidate: str
    incumbent: str
    decision: str
    verdict: str
    overridden: bool
    note: str

    @property
    def date(self) -> str:
        return self.decided_at[:10]

    @property
    def when(self) -> str:
        """``2026-03-04 05:06`` (UTC)."""
        return self.decided_at[:16].replace("T", " ")


@dataclass
class DecisionHistory:
    """Every readable record (newest first) and a warning per file that is not one."""

    decisions: list[DecisionSummary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{key}' is missing or not text")
    return value


def _summary(path: Path, record: Any) -> DecisionSummary:
    if not isinstance(record, dict):
        raise ValueError("it is not a JSON object")
    if record.get("format") != RECORD_FORMAT:
        raise ValueError(f"'format' is {record.get('format')!r}, expected {RECORD_FORMAT!r}")
    decided_at = _text(record, "decided_at")
    try:
        datetime.fromisoformat(decided_at.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'decided_at' {decided_at!r} is not an ISO 8601 time") from None
    note = record.get("note") or ""
    markdown = path.with_suffix(".md")
    return DecisionSummary(
        json_file=path,
        markdown_file=markdown if markdown.is_file() else None,
        decided_at=decided_at,
        decided_by=str(record.get("decided_by") or ""),
        candidate=_text(record, "candidate"),
        incumbent=_text(record, "incumbent"),
        decision=_text(record, "decision"),
        verdict=_text(record, "verdict"),
        overridden=bool(record.get("overridden")),
        note=note if isinstance(note, str) else str(note),
    )


def _sequence(summary: DecisionSummary) -> int:
    """1 for ``<stem>.json``, N for ``<stem>-N.json`` (later records of the same day)."""
    base = record_stem({"decided_at": summary.decided_at, "candidate": summary.candidate,
                        "incumbent": summary.incumbent})
    stem = summary.json_file.stem
    if stem != base and stem.startswith(base):
        match = _SUFFIX.fullmatch(stem[len(base):])
        if match:
            return int(match.group(1))
    return 1


def list_decisions(decisions_dir: Path) -> DecisionHistory:
    """The records in ``decisions_dir``, newest first; a missing folder has none."""
    history = DecisionHistory()
    folder = Path(decisions_dir)
    if not folder.is_dir():
        return history
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            history.decisions.append(_summary(path, record))
        except OSError as exc:
            history.warnings.append(f"{path}: cannot read it ({exc.strerror or exc})")
        except UnicodeDecodeError:
            history.warnings.append(f"{path}: not a decision record (not UTF-8 text)")
        except json.JSONDecodeError as exc:
            history.warnings.append(f"{path}:{exc.lineno}: not a decision record (invalid JSON: "
                                    f"{exc.msg})")
        except ValueError as exc:
            history.warnings.append(f"{path}: not a decision record ({exc})")
    history.decisions.sort(key=lambda s: (s.decided_at, _sequence(s), s.json_file.name),
                           reverse=True)
    return history


@dataclass(frozen=True)
class RecordedDecision:
    """A record just written: its content and its files."""

    record: dict[str, Any]
    files: RecordFiles

    @property
    def file_names(self) -> list[str]:
        return [p.name for p in (self.files.markdown, self.files.json, self.files.contact_sheet)
                if p is not None]


def record_decision(
    inputs: GateInputs, result: GateResult, *, note: str | None = None,
    override: str | None = None, decider: str | None = None,
    decided_at: datetime | None = None,
) -> RecordedDecision:
    """Write a decision record for ``result`` into ``BENCH/decisions/`` (never overwriting).

    Raises :class:`~workbench.decide.records.DecisionError` before writing anything for
    an override that is not allowed (same as the verdict, or without a note).
    """
    final_decision(result.verdict, override, note)
    who = decider_name(decider)
    sheet = plan_contact_sheet(inputs)
    record = build_record(inputs, result, sheet, decider=who, decided_at=decided_at or utc_now(),
                          note=note, override=override)
    files = write_record(inputs.bench.decisions_dir, record, sheet)
    return RecordedDecision(record=record, files=files)

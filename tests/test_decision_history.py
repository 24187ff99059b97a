"""Earlier decisions listed newest first, bad files skipped with a warning, and recording glue."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from workbench.benchmark.folder import Benchmark
from workbench.decide.gate_inputs import evaluate_inputs, gather_gate_inputs
from workbench.decide.records import RECORD_FORMAT, DecisionError
from workbench.decision_history import list_decisions, record_decision

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


@pytest.fixture
def scored(scored_bench: Path) -> Path:
    return scored_bench


def _write(folder: Path, name: str, **fields) -> Path:
    record = {"format": RECORD_FORMAT, "decided_at": "2026-01-02T03:04:05Z", "decided_by": "ana",
              "candidate": "new", "incumbent": "old", "decision": "ship", "verdict": "ship",
              "overridden": False, "note": ""}
    record.update(fields)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(record))
    return path


def test_a_missing_folder_has_no_decisions(tmp_path):
    history = list_decisions(tmp_path / "decisions")
    assert history.decisions == [] and history.warnings == []


def test_newest_first_by_time_then_by_sequence_number(tmp_path):
    folder = tmp_path / "decisions"
    _write(folder, "2026-01-02-new-vs-old.json")
    _write(folder, "2026-01-02-new-vs-old-2.json")
    _write(folder, "2026-01-02-new-vs-old-10.json", note="tenth")
    _write(folder, "2026-02-01-old-vs-new.json", decided_at="2026-02-01T00:00:00Z",
           candidate="old", incumbent="new", decision="hold", verdict="ship", overridden=True,
           note="QA found artefacts")
    _write(folder, "2025-12-31-new-vs-old.json", decided_at="2025-12-31T23:59:59Z")
    (folder / "2026-02-01-old-vs-new.md").write_text("# Hold\n")
    history = list_decisions(folder)
    assert history.warnings == []
    names = [d.json_file.name for d in history.decisions]
    assert names == ["2026-02-01-old-vs-new.json", "2026-01-02-new-vs-old-10.json",
                     "2026-01-02-new-vs-old-2.json", "2026-01-02-new-vs-old.json",
                     "2025-12-31-new-vs-old.json"]
    newest = history.decisions[0]
    assert (newest.candidate, newest.incumbent, newest.decision, newest.verdict) == (
        "old", "new", "hold", "ship")
    assert newest.overridden and newest.note == "QA found artefacts"
    assert newest.markdown_file == folder / "2026-02-01-old-vs-new.md"
    assert history.decisions[1].markdown_file is None
    assert newest.date == "2026-02-01" and newest.when == "2026-02-01 00:00"


def test_files_that_are_not_records_are_skipped_with_a_warning_naming_them(tmp_path):
    folder = tmp_path / "decisions"
    good = _write(folder, "2026-01-02-new-vs-old.json")
    (folder / "broken.json").write_text('{"format": ')
    (folder / "list.json").write_text("[1, 2]")
    _write(folder, "other.json", format="something-else/1")
    _write(folder, "nocand.json", candidate=None)
    _write(folder, "badtime.json", decided_at="yesterday")
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00")
    history = list_decisions(folder)
    assert [d.json_file for d in history.decisions] == [good]
    text = "\n".join(history.warnings)
    assert len(history.warnings) == 6
    assert f"{folder / 'broken.json'}:1: not a decision record (invalid JSON" in text
    assert f"{folder / 'list.json'}: not a decision record (it is not a JSON object)" in text
    assert "other.json: not a decision record ('format' is 'something-else/1'" in text
    assert "nocand.json: not a decision record ('candidate' is missing or not text)" in text
    assert "badtime.json: not a decision record ('decided_at' 'yesterday'" in text
    assert "binary.json: not a decision record (not UTF-8 text)" in text


def test_recording_writes_new_files_each_time_and_lists_them_newest_first(scored, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RATER", "casey")
    bench = Benchmark.load(scored)
    inputs = gather_gate_inputs(bench)
    result = evaluate_inputs(inputs)
    first = record_decision(inputs, result, note="steady", decided_at=WHEN)
    stem = f"2026-03-04-{result.candidate}-vs-{result.incumbent}"
    assert first.file_names == [f"{stem}.md", f"{stem}.json", f"{stem}.png"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in
               (first.files.markdown, first.files.json, first.files.contact_sheet))
    assert result.verdict == "ship"
    second = record_decision(inputs, result, note="QA said wait", override="hold",
                             decider="robin", decided_at=WHEN)
    assert second.file_names[0] == f"{stem}-2.md"
    assert json.loads(first.files.json.read_text())["note"] == "steady"  # untouched
    history = list_decisions(bench.decisions_dir)
    assert [d.json_file.name for d in history.decisions] == [f"{stem}-2.json", f"{stem}.json"]
    latest = history.decisions[0]
    assert latest.decision == "hold" and latest.verdict == result.verdict and latest.overridden
    assert latest.decided_by == "robin" and latest.note == "QA said wait"
    assert history.decisions[1].decided_by == "casey" and not history.decisions[1].overridden


def test_an_override_without_a_note_writes_nothing(scored):
    bench = Benchmark.load(scored)
    inputs = gather_gate_inputs(bench)
    result = evaluate_inputs(inputs)
    assert result.verdict == "ship"
    with pytest.raises(DecisionError, match="needs a note"):
        record_decision(inputs, result, override="hold", note="  ")
    with pytest.raises(DecisionError, match="nothing to override"):
        record_decision(inputs, result, override="ship", note="x")
    assert not bench.decisions_dir.exists() or not any(bench.decisions_dir.iterdir())

"""Gate screen: the verdict and evidence as the core computes them, switching models,
recording decisions (with the core's override rules) and the list of earlier ones."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from workbench.benchmark.folder import Benchmark
from workbench.decide.gate_inputs import evaluate_inputs, gather_gate_inputs
from workbench.decide.records import DecisionError, final_decision
from workbench.decide.verdict_text import format_number
from workbench.decision_history import record_decision
from workbench.tui.app import WorkbenchApp

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _decider(monkeypatch):
    monkeypatch.setenv("WORKBENCH_RATER", "casey")


def _expected(root: Path, candidate: str, incumbent: str):
    inputs = gather_gate_inputs(Benchmark.load(root), candidate=candidate, incumbent=incumbent)
    return evaluate_inputs(inputs)


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def _cells(table: DataTable, key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


def _row_keys(table: DataTable) -> list[str]:
    return [row.key.value for row in table.ordered_rows]


async def _settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def _add_model(root: Path, name: str) -> None:
    toml = root / "benchmark.toml"
    text = toml.read_text()
    toml.write_text(text.replace("[thresholds.", f'[models.{name}]\nprovider = "synthetic"\n\n'
                                 "[thresholds.", 1))


def _drop_gate(root: Path) -> None:
    toml = root / "benchmark.toml"
    text = toml.read_text()
    toml.write_text(text[:text.index("[gate]")])


async def test_verdict_reasons_and_tables_match_the_core(scored_bench):
    expected = _expected(scored_bench, "new", "old")
    app = WorkbenchApp(scored_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert type(screen).__name__ == "GateScreen"
        assert (screen.candidate, screen.incumbent) == ("new", "old")
        assert screen.result.verdict == expected.verdict == "ship"
        assert screen.result.reasons == expected.reasons
        verdict = screen.query_one("#gate-verdict", Static)
        assert _text(app, "#gate-verdict").startswith("SHIP  new vs old")
        assert verdict.has_class("verdict-ship") and not verdict.has_class("verdict-hold")
        reasons = _text(app, "#gate-reasons")
        for reason in expected.reasons:
            assert f"• {reason}" in reasons
        assert not screen.query_one("#gate-rules").display  # rules come from [gate]

        stats = expected.scorer_stats("temporal_flicker")
        row = _cells(screen.query_one("#gate-scorers", DataTable), "temporal_flicker")
        assert row == ["temporal_flicker", "higher", format_number(stats.incumbent_mean),
                       format_number(stats.candidate_mean), f"+{format_number(stats.mean_diff)}",
                       f"{format_number(stats.ci_low)} to {format_number(stats.ci_high)}",
                       f"{stats.wins}/{stats.ties}/{stats.losses}", format_number(stats.sign_p),
                       str(stats.n), "pass"]
        tags = screen.query_one("#gate-tags", DataTable)
        assert _row_keys(tags) == ["hands", "smoke", "text"]
        assert _cells(tags, "hands")[-1] == "ok"
        assert _cells(tags, "smoke")[-1] == "not checked (1 prompt)"
        rates = expected.pass_rates
        assert (f"incumbent old {format_number(rates.overall['old'] * 100)}% "
                f"({rates.passed['old']}/{rates.n_prompts})") in _text(app, "#gate-pass-rates")
        assert "No decisions recorded yet" in _text(app, "#gate-history-note")


async def test_switching_models_re_evaluates(scored_bench):
    _add_model(scored_bench, "mid")  # a third model, never run
    app = WorkbenchApp(scored_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert screen.result.verdict == "ship"

        await pilot.press("x")  # swap: old is now the candidate
        assert screen.evaluating or screen.result.candidate == "old"
        await _settle(app, pilot)
        swapped = _expected(scored_bench, "old", "new")
        assert (screen.result.candidate, screen.result.incumbent) == ("old", "new")
        assert screen.result.verdict == swapped.verdict == "hold"
        assert screen.result.reasons == swapped.reasons
        assert screen.query_one("#gate-verdict").has_class("verdict-hold")
        tags = screen.query_one("#gate-tags", DataTable)
        assert _cells(tags, "hands")[-1] == "REGRESSES"
        assert _cells(screen.query_one("#gate-scorers", DataTable), "temporal_flicker")[-1] == "fail"

        await pilot.press("c")  # a list of the models but the incumbent: old (current), mid
        await pilot.pause()
        assert type(app.screen).__name__ == "ChoiceScreen"
        await pilot.press("down", "enter")  # old -> mid
        await _settle(app, pilot)
        mid = _expected(scored_bench, "mid", "new")
        assert screen.candidate == "mid" and screen.result.candidate == "mid"
        assert screen.result.verdict == mid.verdict == "inconclusive"
        assert screen.result.reasons == mid.reasons
        assert "there are no scores for the candidate 'mid'" in _text(app, "#gate-reasons")

        await pilot.press("i")  # old, new (current); mid is the candidate
        await pilot.pause()
        await pilot.press("up", "enter")  # incumbent new -> old
        await _settle(app, pilot)
        assert (screen.candidate, screen.incumbent) == ("mid", "old")
        assert screen.result.reasons == _expected(scored_bench, "mid", "old").reasons


async def test_recording_writes_files_and_a_second_record_gets_new_ones(scored_bench):
    app = WorkbenchApp(scored_bench, start="gate")
    decisions = scored_bench / "decisions"
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        modal = app.screen
        assert type(modal).__name__ == "RecordDecisionScreen"
        assert modal.query_one("#record-decider").value == "casey"
        await pilot.press(*"steadier [hands]")
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "GateScreen"
        first = sorted(p.name for p in decisions.iterdir())
        assert len(first) == 3 and {Path(n).suffix for n in first} == {".md", ".json", ".png"}
        stem = Path(first[0]).stem
        assert stem.endswith("-new-vs-old")
        record = json.loads((decisions / f"{stem}.json").read_text())
        assert record["note"] == "steadier [hands]" and record["decided_by"] == "casey"
        assert record["decision"] == record["verdict"] == "ship" and not record["overridden"]
        recorded = _text(app, "#gate-recorded")
        assert all(name in recorded for name in first)
        history = app.screen.query_one("#gate-history", DataTable)
        assert _row_keys(history) == [f"{stem}.json"]

        await pilot.press("d")
        await pilot.pause()
        await pilot.press("enter")  # no note, no override: records the verdict again
        await _settle(app, pilot)
        names = sorted(p.name for p in decisions.iterdir())
        assert len(names) == 6 and f"{stem}-2.md" in names and f"{stem}-2.png" in names
        assert json.loads((decisions / f"{stem}.json").read_text())["note"] == "steadier [hands]"
        assert _row_keys(history) == [f"{stem}-2.json", f"{stem}.json"]
        assert f"{stem}-2.md" in _text(app, "#gate-recorded")


async def test_an_override_without_a_note_is_refused_with_the_core_message(scored_bench):
    app = WorkbenchApp(scored_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        modal = app.screen
        await pilot.press("tab", "tab")  # note -> decider -> decision
        await pilot.press("down", "enter")  # choose "override: hold"
        await pilot.pause()
        assert modal.override == "hold"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is modal  # still open
        with pytest.raises(DecisionError) as refused:
            final_decision("ship", "hold", "")
        error = modal.query_one("#record-error", Static)
        assert error.has_class("shown") and str(error.render()) == str(refused.value)
        assert "needs a note" in str(refused.value) and "--" not in str(refused.value)  # no CLI flags here
        assert not (scored_bench / "decisions").exists()

        await pilot.press("shift+tab", "shift+tab")
        await pilot.press(*"QA found artefacts")
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        [json_file] = (scored_bench / "decisions").glob("*.json")
        record = json.loads(json_file.read_text())
        assert (record["decision"], record["verdict"], record["overridden"]) == ("hold", "ship", True)
        assert record["note"] == "QA found artefacts"
        row = _cells(app.screen.query_one("#gate-history", DataTable), json_file.name)
        assert row[2:5] == ["hold", "ship", "yes"]

        await pilot.press("d")
        await pilot.pause()
        await pilot.press("escape")  # cancelling writes nothing
        await _settle(app, pilot)
        assert len(list((scored_bench / "decisions").glob("*.json"))) == 1


async def test_earlier_decisions_are_listed_newest_first(scored_bench):
    bench = Benchmark.load(scored_bench)
    inputs = gather_gate_inputs(bench)
    result = evaluate_inputs(inputs)
    record_decision(inputs, result, note="first look", decided_at=datetime(2026, 1, 5, 9, 30,
                                                                          tzinfo=timezone.utc))
    record_decision(inputs, result, note="QA wants a week more", override="hold", decider="robin",
                    decided_at=datetime(2026, 2, 1, 14, 0, tzinfo=timezone.utc))
    (bench.decisions_dir / "notes.json").write_text("{not json")
    app = WorkbenchApp(scored_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        history = app.screen.query_one("#gate-history", DataTable)
        assert _row_keys(history) == ["2026-02-01-new-vs-old.json", "2026-01-05-new-vs-old.json"]
        assert _cells(history, "2026-02-01-new-vs-old.json") == [
            "2026-02-01 14:00", "new vs old", "hold", "ship", "yes", "robin", "QA wants a week more"]
        assert _cells(history, "2026-01-05-new-vs-old.json") == [
            "2026-01-05 09:30", "new vs old", "ship", "ship", "no", "casey", "first look"]
        note = _text(app, "#gate-history-note")
        assert "notes.json:1: not a decision record (invalid JSON" in note


async def test_without_a_gate_section_default_rules_apply_and_say_how_to_add_one(scored_bench):
    _drop_gate(scored_bench)
    app = WorkbenchApp(scored_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        expected = _expected(scored_bench, "new", "old")
        assert screen.inputs.gate_from_config is False
        assert screen.result.verdict == expected.verdict
        assert screen.result.reasons == expected.reasons
        rules = screen.query_one("#gate-rules", Static)
        assert rules.display
        text = str(rules.render())
        assert "No [gate] section in benchmark.toml: default rules apply" in text
        assert '[gate]\n  incumbent = "old"\n  candidate = "new"\n  primary = [' in text
        assert "rules: default rules (no [gate] section)" in _text(app, "#gate-models")


async def test_no_scores_is_inconclusive_with_the_reason(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert screen.result.verdict == "inconclusive"
        assert screen.result.reasons[0].startswith("there are no scores yet: run `workbench run")
        assert _text(app, "#gate-verdict").startswith("INCONCLUSIVE")
        assert screen.query_one("#gate-verdict").has_class("verdict-inconclusive")
        assert "there are no scores yet" in _text(app, "#gate-reasons")
        assert not screen.query_one("#gate-tags").display


async def test_a_single_model_benchmark_explains_what_the_gate_needs(fresh_bench):
    toml = fresh_bench / "benchmark.toml"
    text = toml.read_text()
    start, end = text.index("[models.new]"), text.index("[thresholds.")
    toml.write_text(text[:start] + text[end:text.index("[gate]")])
    app = WorkbenchApp(fresh_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        assert app.bench is not None
        empty = app.screen.query_one("#gate-empty", Static)
        assert empty.display and not app.screen.query_one("#gate-body").display
        assert "The gate compares two models" in str(empty.render())
        await pilot.press("d", "c", "x")  # nothing to do, nothing breaks
        await _settle(app, pilot)
        assert not (fresh_bench / "decisions").exists()


async def test_small_terminal_does_not_crash(scored_bench):
    app = WorkbenchApp(scored_bench, start="gate")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("x")
        await _settle(app, pilot)
        await pilot.press("n", "d")
        await pilot.pause()
        assert type(app.screen).__name__ == "RecordDecisionScreen"
        await pilot.press("escape")
        await _settle(app, pilot)
        assert app.screen.result.verdict == "hold"
        assert _text(app, "#gate-verdict").startswith("HOLD")

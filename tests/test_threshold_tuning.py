"""Tuning thresholds: steps, moves checked against the evaluator, suggestions, and saving to benchmark.toml."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.benchmark.config import Bounds, Threshold
from workbench.benchmark.folder import Benchmark
from workbench.decide.thresholds import ThresholdError, ThresholdEvaluator, passed_column
from workbench.errors import FileConflict
from workbench.judgments.alignment import pass_label_pairs
from workbench.judgments.threshold_suggestion import suggest_threshold
from dataclasses import replace

from workbench.decide.gate_inputs import evaluate_inputs, gather_gate_inputs
from workbench.gate_preview import GatePreviewUnavailable, prepare_gate_preview
from workbench.judgments.alignment import scorer_alignment
from workbench.threshold_tuning import (
    DiffLine, PassAgreement, TuningSession, grid_edge, nice_step, on_grid, plan_threshold_save, save_thresholds,
    step_for,
)

SCHEMA = {"run": pl.Utf8, "model": pl.Utf8, "prompt_id": pl.Utf8, "repeat": pl.Int64, "scorer": pl.Utf8,
          "version": pl.Utf8, "value": pl.Float64, "error": pl.Utf8}
TAGS = {"p0": ("hands",), "p1": ("smoke",), "p2": ("hands", "text"), "p3": (), "p4": ("smoke",)}
FLICKER = {  # model -> per-prompt values of "flicker" (higher is better)
    "old": [0.91, 0.95, 0.97, 0.99, 0.93],
    "new": [0.96, 0.98, 0.92, 0.995, 0.97],
}
NOISE = {"old": [3.0, 9.0, 4.0, None, 6.0], "new": [2.0, 3.0, 8.0, 1.0, 2.5]}  # lower is better


def table(human: dict[tuple[str, str], bool] | None = None) -> pl.DataFrame:
    rows = []
    for model in ("old", "new"):
        for i, prompt in enumerate(TAGS):
            rows.append(("r1", model, prompt, 0, "flicker", "1", FLICKER[model][i], None))
            noise = NOISE[model][i]
            rows.append(("r1", model, prompt, 0, "noise", "1", noise, None if noise is not None else "boom"))
    for (model, prompt), passed in (human or {}).items():
        rows.append(("r1", model, prompt, 0, "human.pass", "1", 1.0 if passed else 0.0, None))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


class Info:
    def __init__(self, direction: str, rng=(None, None)):
        self.direction, self.unit, self.range, self.description = direction, "", rng, f"{direction} is better"


INFOS = {"flicker": Info("higher", (0.0, 1.0)), "noise": Info("lower", (0.0, None))}
SAVED = {"flicker": Threshold(min=0.94)}


def session(human=None, saved=SAVED) -> TuningSession:
    return TuningSession(table(human), prompt_tags=TAGS, saved=saved, enabled=["flicker", "noise"],
                         model_order=["old", "new"], infos=INFOS)


# ----------------------------------------------------------------------------- steps


def test_steps_are_round_numbers_from_the_spread():
    assert [nice_step(x) for x in (0.0009, 0.0031, 0.006, 0.09, 7.6, 420)] == [0.001, 0.002, 0.005, 0.1, 10, 500]
    assert on_grid(0.9, 0.001, 1) == 0.901 and on_grid(0.901, 0.001, -1) == 0.9
    assert on_grid(0.8735, 0.002, 1) == 0.874 and on_grid(0.8735, 0.002, -1) == 0.872
    assert on_grid(0.1, 0.01, -1) == 0.09 and on_grid(1e6, 5.0, 3) == 1000015.0
    assert grid_edge(0.913, 0.005, down=True) == 0.91 and grid_edge(0.913, 0.005, down=False) == 0.915
    values = np.array([[0.91, 0.95, np.nan], [0.99, 0.93, 0.97]])
    assert step_for(values) == nice_step((np.percentile([0.91, 0.95, 0.99, 0.93, 0.97], 95)
                                          - np.percentile([0.91, 0.95, 0.99, 0.93, 0.97], 5)) / 100)
    assert step_for(np.array([1.0, 1.0])) == 0.01 and step_for(np.array([np.nan])) == 0.01
    with pytest.raises(ValueError):
        nice_step(0.0)


# ----------------------------------------------------------------------------- moving


def test_moves_agree_with_a_fresh_evaluator_and_flips_are_relative_to_saved():
    s = session()
    assert s.scorers == ("flicker", "noise") and s.models == ("old", "new")
    reference = ThresholdEvaluator(table(), TAGS, SAVED, models=["old", "new"])
    total_passing: set = set()
    total_failing: set = set()
    for _ in range(6):
        change = s.nudge("flicker", "min", 2)
        bound = s.threshold("flicker").min
        expected = reference.move("flicker", min=bound)
        assert change.flipped == expected.flipped
        assert s.pass_rates() == expected.pass_rates
        total_passing ^= set(expected.now_passing)
        total_failing ^= set(expected.now_failing)
    passing, failing = s.flips()
    fresh = ThresholdEvaluator(table(), TAGS, s.thresholds, models=["old", "new"]).evaluate()
    saved = ThresholdEvaluator(table(), TAGS, SAVED, models=["old", "new"]).evaluate()
    differs = {(m, p) for m in s.models for p in s.prompt_ids
               if fresh.prompt_passed(m, p) != saved.prompt_passed(m, p)}
    assert set(passing) | set(failing) == differs and differs
    assert all(not fresh.prompt_passed(*k) for k in failing)
    assert s.is_edited("flicker") and s.edits() == {"flicker": s.threshold("flicker")}
    # back down to the saved bound: no verdict differs and nothing is edited
    while s.threshold("flicker").min > 0.94:
        s.nudge("flicker", "min", -1)
    assert s.threshold("flicker") == SAVED["flicker"] and s.flips() == ([], [])
    assert not s.is_edited("flicker") and s.pass_rates() == s.saved_rates


def test_a_new_bound_starts_at_the_edge_of_the_data_and_stays_in_range_and_order():
    s = session()
    change = s.nudge("noise", "max", -1)
    # it appears at the lenient edge: every value passes, only old/p3 (no noise value) now fails
    assert change.flipped == (("old", "p3"),) and change.now_failing == (("old", "p3"),)
    assert s.threshold("noise").max == grid_edge(9.0, s.facts["noise"].step, down=False)
    s.set_bound("noise", "min", 5.0)
    s.set_bound("noise", "min", 50.0)  # cannot cross the max
    assert s.threshold("noise").min == s.threshold("noise").max
    s.set_bound("flicker", "max", 7.0)  # flicker's declared range ends at 1
    assert s.threshold("flicker").max == 1.0
    # the missing value of old/p3 fails as soon as noise has a threshold
    assert ("old", "p3") in s.flips()[1]
    assert [str(f) for f in s.failures("old", "p3")][0].startswith("noise missing")


def test_clearing_bounds_and_tag_overrides():
    s = session()
    with pytest.raises(ThresholdError, match="before overriding it for tag 'hands'"):
        s.nudge("noise", "max", -1, tag="hands")
    s.nudge("flicker", "min", 3, tag="hands")
    assert s.has_override("flicker", "hands")
    assert s.threshold("flicker").tags["hands"] == Bounds(min=round(0.94 + 3 * s.facts["flicker"].step, 6))
    assert s.bounds("flicker", "smoke") == (0.94, None)  # no override: the scorer's own bounds
    assert s.clear_bound("flicker", "max", tag="hands") is None  # nothing to clear
    s.clear_bound("flicker", "min", tag="hands")  # the override's only bound: the override goes
    assert not s.has_override("flicker", "hands") and not s.is_edited("flicker")
    s.set_bound("flicker", "max", 0.99)
    s.clear_bound("flicker", "min")
    assert s.threshold("flicker") == Threshold(max=0.99)
    s.clear_bound("flicker", "max")  # the last bound: the threshold goes
    assert s.threshold("flicker") is None and s.edits() == {"flicker": None}
    reference = ThresholdEvaluator(table(), TAGS, {}, models=["old", "new"])
    assert s.pass_rates() == reference.pass_rates()


def test_revert_one_scorer_or_all():
    s = session()
    s.nudge("flicker", "min", 4)
    s.nudge("noise", "max", -30)
    assert set(s.edits()) == {"flicker", "noise"}
    s.revert("noise")
    assert set(s.edits()) == {"flicker"} and s.threshold("noise") is None
    s.revert()
    assert s.edits() == {} and s.flips() == ([], []) and s.thresholds == SAVED


def test_edits_survive_a_rebuild_and_mark_saved_adopts_them():
    s = session()
    s.nudge("flicker", "min", 4)
    s.nudge("noise", "max", -30)
    edits = s.edits()
    again = session()
    again.apply_edits(edits)
    assert again.thresholds == s.thresholds and again.flips() == s.flips()
    again.mark_saved({"flicker": edits["flicker"]})
    assert again.edits() == {"noise": edits["noise"]}
    assert again.saved["flicker"] == edits["flicker"]
    failing_now = again.flips()[1]
    assert failing_now and all(k in s.flips()[1] for k in failing_now)


def test_suggestion_comes_from_human_labels_and_can_be_applied():
    human = {("old", "p0"): False, ("old", "p1"): True, ("old", "p4"): False, ("new", "p0"): True,
             ("new", "p2"): False, ("new", "p3"): True}
    s = session(human)
    auto, people = table(human).filter(~pl.col("scorer").str.starts_with("human.")), \
        table(human).filter(pl.col("scorer").str.starts_with("human."))
    values, labels = pass_label_pairs(auto, people, "flicker")
    expected = suggest_threshold(values, labels, "higher")
    facts = s.facts["flicker"]
    assert facts.suggestion == expected and facts.n_labels == 6 and expected.bound == "min"
    s.apply_suggestion("flicker")
    assert s.threshold("flicker").min == expected.threshold
    assert session().facts["flicker"].suggestion is None  # no labels, no suggestion
    s.clear_bound("flicker", "min")
    s.set_bound("flicker", "max", 0.5)
    with pytest.raises(ThresholdError, match="above the max 0.5"):
        s.apply_suggestion("flicker")
    assert s.threshold("flicker") == Threshold(max=0.5)


def test_only_enabled_scorers_with_values_and_thresholded_ones_are_listed():
    s = TuningSession(table(), prompt_tags=TAGS, saved={"gone": Threshold(max=1.0)}, enabled=["noise", "other"],
                      infos=INFOS)
    assert s.scorers == ("noise", "gone")
    assert s.facts["gone"].n_values == 0 and s.facts["gone"].direction == ""


# ----------------------------------------------------------------------------- saving


def scored(bench_root: Path) -> Benchmark:
    """Give the tiny benchmark a run with scores (written as the scorer would)."""
    run = bench_root / "runs" / "20240101-000000-abcd"
    run.mkdir(parents=True)
    lines = []
    for model, values in (("old", [0.91, 0.95, 0.97]), ("new", [0.96, 0.98, 0.92])):
        for prompt, value in zip(("hands-1", "smoke-1", "text-1"), values):
            lines.append(json.dumps({"run": run.name, "model": model, "prompt_id": prompt, "repeat": 0,
                                     "scorer": "temporal_flicker", "version": "1", "value": value,
                                     "error": None, "video_sha256": None}))
    (run / "scores.jsonl").write_text("\n".join(lines) + "\n")
    return Benchmark.load(bench_root)


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_saving_one_bound_is_a_one_line_diff_that_keeps_comments(tiny_bench):
    bench = scored(tiny_bench)
    before = bench.config_path.read_text()
    s = TuningSession.load(bench)
    assert s.scorers == ("temporal_flicker",) and s.saved["temporal_flicker"] == Threshold(min=0.9)
    s.nudge("temporal_flicker", "min", 20)
    new_min = s.threshold("temporal_flicker").min
    result = save_thresholds(bench, s.edits())
    after = bench.config_path.read_text()
    assert changed_lines(before, after) == ["-min = 0.9  # keep this comment",
                                            f"+min = {new_min}  # keep this comment"]
    assert list(result.diff) == changed_lines(before, after)
    assert result.changes == (f"temporal_flicker: min 0.9 -> {new_min:g}",)
    assert Benchmark.load(tiny_bench).config.thresholds["temporal_flicker"] == Threshold(min=new_min)
    # the loaded benchmark itself was not touched: saving again from it is refused
    assert bench.config.thresholds["temporal_flicker"].min == 0.9
    with pytest.raises(FileConflict):
        save_thresholds(bench, {"temporal_flicker": Threshold(min=0.5)})


def test_saving_overrides_new_thresholds_and_removals(tiny_bench):
    bench = scored(tiny_bench)
    before = bench.config_path.read_text()
    wanted = {
        "temporal_flicker": Threshold(min=0.9, tags={"hands": Bounds(min=0.95, max=0.99)}),
        "sharpness": Threshold(min=12.5),
    }
    result = save_thresholds(bench, wanted)
    reloaded = Benchmark.load(tiny_bench)
    assert reloaded.config.thresholds == wanted
    after = bench.config_path.read_text()
    assert "min = 0.9  # keep this comment" in after and "# a comment inside a model table" in after
    assert all(line.startswith("+") or line == "+" for line in changed_lines(before, after))
    assert "temporal_flicker [tag hands]: new 0.95..0.99" in result.changes
    assert "sharpness: new >= 12.5" in result.changes
    result = save_thresholds(reloaded, {"temporal_flicker": None, "sharpness": Threshold(min=12.5)})
    assert result.changes == ("temporal_flicker: removed (>= 0.9 and 1 tag override(s))",)
    assert set(Benchmark.load(tiny_bench).config.thresholds) == {"sharpness"}


def test_a_file_changed_on_disk_is_not_overwritten(tiny_bench):
    bench = scored(tiny_bench)
    edited_elsewhere = bench.config_path.read_text() + "# someone else was here\n"
    bench.config_path.write_text(edited_elsewhere)
    with pytest.raises(FileConflict, match="changed on disk"):
        save_thresholds(bench, {"temporal_flicker": Threshold(min=0.95)})
    assert bench.config_path.read_text() == edited_elsewhere
    assert bench.config.thresholds["temporal_flicker"].min == 0.9
    assert "min = 0.9  # keep this comment" in bench.document.as_string()


def test_nothing_to_save_writes_nothing(tiny_bench):
    bench = scored(tiny_bench)
    stat = bench.config_path.stat()
    result = save_thresholds(bench, {"temporal_flicker": Threshold(min=0.9)})
    assert result.written == {} and result.diff == () and bench.config_path.stat().st_mtime_ns == stat.st_mtime_ns


def test_a_plan_shows_the_changed_lines_with_their_numbers_and_writes_nothing(tiny_bench):
    bench = scored(tiny_bench)
    before = bench.config_path.read_text()
    number = before.splitlines().index("min = 0.9  # keep this comment") + 1
    edits = {"temporal_flicker": Threshold(min=0.93, tags={"smoke": Bounds(max=0.99)})}
    plan = plan_threshold_save(bench, edits)
    assert bench.config_path.read_text() == before and bench.config.thresholds["temporal_flicker"].min == 0.9
    assert plan.lines[:2] == (DiffLine("-", number, "min = 0.9  # keep this comment"),
                              DiffLine("+", number, "min = 0.93  # keep this comment"))
    assert all(line.sign == "+" for line in plan.lines[2:]) and len(plan.lines) > 2
    assert list(plan.diff) == [str(line) for line in plan.lines]
    written = save_thresholds(bench, edits)
    after = bench.config_path.read_text()
    assert written.lines == plan.lines and written.changes == plan.changes
    assert changed_lines(before, after) == list(plan.diff)
    for line in plan.lines:  # each number points at that line in the old (-) or new (+) file
        text = (before if line.sign == "-" else after).splitlines()[line.number - 1]
        assert text == line.text
    assert plan_threshold_save(Benchmark.load(tiny_bench), edits).empty


HUMAN = {("old", "p0"): False, ("old", "p1"): True, ("old", "p4"): False, ("new", "p0"): True,
         ("new", "p2"): False, ("new", "p3"): True, ("new", "p4"): True}


def split(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    is_human = pl.col("scorer").str.starts_with("human.")
    return frame.filter(~is_human), frame.filter(is_human)


def test_pass_agreement_follows_the_edits_as_workbench_align_computes_it():
    s = session(HUMAN, saved={"flicker": Threshold(min=0.94), "noise": Threshold(max=5.0)})
    auto, human = split(table(HUMAN))
    directions = {"flicker": "higher", "noise": "lower"}

    def align(thresholds):  # what `workbench align` reports once these thresholds are saved
        judged = auto.with_columns(passed_column(auto, TAGS, thresholds).alias("passed"))
        return {row.scorer: row for row in scorer_alignment(judged, human, thresholds, directions)}

    for move in range(6):
        expected = align(s.thresholds)
        for scorer in ("flicker", "noise"):
            got = s.pass_agreement(scorer)
            assert (got.share, got.n) == (expected[scorer].pass_agreement, expected[scorer].n_pass_labels)
        s.nudge("flicker", "min", 3)
        s.nudge("noise", "max", -7)
    shares = {s.pass_agreement("flicker").share, s.pass_agreement("flicker", saved=True).share}
    assert len(shares) == 2, "the moves should change the agreement"
    # a tag override judges the prompts with that tag by its own bounds
    s.revert()
    s.set_bound("flicker", "min", 0.99, tag="hands")
    with_override = align(s.thresholds)["flicker"].pass_agreement
    assert with_override != align({"flicker": Threshold(min=0.94)})["flicker"].pass_agreement
    assert s.pass_agreement("flicker").share == with_override
    saved_rows = align(s.saved)
    assert s.pass_agreement("noise", saved=True).share == saved_rows["noise"].pass_agreement
    people = s.alignment()
    assert dict(people.rows) == {k: r for k, r in
                                 ((r.scorer, r) for r in scorer_alignment(auto, human, s.saved, directions))}
    assert (people.rated_clips, people.labelled_clips) == (0, len(HUMAN))
    assert session(HUMAN, saved={}).pass_agreement("flicker") is None
    few = session({("old", "p0"): True, ("new", "p0"): False})
    assert few.pass_agreement("flicker").share is None and few.pass_agreement("flicker").n == 2
    assert session().pass_agreement("flicker") == PassAgreement(None, 0)


def test_the_gate_preview_is_the_gate_with_the_edited_thresholds(scored_bench):
    bench = Benchmark.load(scored_bench)
    s = TuningSession.load(bench)
    preview = prepare_gate_preview(bench, s.table)
    inputs = gather_gate_inputs(bench)
    assert preview.evaluate(s.saved) == evaluate_inputs(inputs)
    # a sharpness min between the lowest 'new' value and the lowest 'old' one fails one more 'new' prompt
    values = s.values("sharpness")
    lowest_new, lowest_old = float(np.nanmin(values[s.models.index("new")])), \
        float(np.nanmin(values[s.models.index("old")]))
    assert lowest_new < lowest_old, "the fixture's 'new' model should have the least sharp clip"
    s.set_bound("sharpness", "min", (lowest_new + lowest_old) / 2)
    edited = preview.evaluate(s.thresholds)
    assert edited == evaluate_inputs(replace(inputs, thresholds=s.thresholds))
    assert evaluate_inputs(inputs).verdict == "ship"
    assert edited.verdict == "hold" and any("pass rate falls" in r for r in edited.reasons)


def test_no_gate_section_means_no_preview(tiny_bench):
    config = tiny_bench / "benchmark.toml"
    text = config.read_text()
    config.write_text(text[:text.index("[gate]")] if "[gate]" in text else text)
    bench = scored(tiny_bench)
    assert bench.config.gate is None
    with pytest.raises(GatePreviewUnavailable, match=r"no \[gate\] section"):
        prepare_gate_preview(bench, TuningSession.load(bench).table)

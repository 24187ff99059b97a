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
from workbench.decide.thresholds import ThresholdError, ThresholdEvaluator
from workbench.errors import FileConflict
from workbench.judgments.alignment import pass_label_pairs
from workbench.judgments.threshold_suggestion import suggest_threshold
from workbench.threshold_tuning import (
    TuningSession, grid_edge, nice_step, on_grid, save_thresholds, step_for,
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

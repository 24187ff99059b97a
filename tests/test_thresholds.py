"""Thresholds: per-tag overrides, missing values, pass rates, and incremental moves."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from workbench.benchmark.config import Threshold
from workbench.decide.score_matrix import ScoresTableError
from workbench.decide.thresholds import (
    ThresholdError,
    ThresholdEvaluator,
    passed_column,
)

SCHEMA = {"prompt_id": pl.Utf8, "model": pl.Utf8, "repeat": pl.Int64, "scorer": pl.Utf8,
          "value": pl.Float64, "error": pl.Utf8}


def table(rows: list[tuple]) -> pl.DataFrame:
    """Rows of (prompt_id, model, repeat, scorer, value[, error])."""
    full = [r if len(r) == 6 else (*r, None) for r in rows]
    return pl.DataFrame(full, schema=SCHEMA, orient="row")


# -- a reference implementation, written independently of the evaluator ---------

def reference_verdicts(df, tags, thresholds, models, prompts):
    """(model, prompt) -> passed, computed row by row with Threshold.for_tags."""
    sums: dict[tuple, list[float]] = {}
    for row in df.iter_rows(named=True):
        v = row["value"]
        if v is not None and not math.isnan(v):
            sums.setdefault((row["model"], row["prompt_id"], row["scorer"]), []).append(v)
    out = {}
    for m in models:
        for p in prompts:
            ok = True
            for scorer, threshold in thresholds.items():
                vals = sums.get((m, p, scorer))
                if not vals:
                    ok = False
                    continue
                if not threshold.for_tags(tags.get(p, ())).passes(sum(vals) / len(vals)):
                    ok = False
            out[(m, p)] = ok
    return out


def random_table(seed: int, n_prompts=40, models=("a", "b", "c"), scorers=("s1", "s2", "s3"),
                 repeats=2, missing=0.05):
    rng = np.random.default_rng(seed)
    tag_names = ["hands", "city", "night", "water"]
    prompts = [f"p{i:02d}" for i in range(n_prompts)]
    tags = {p: tuple(rng.choice(tag_names, size=int(rng.integers(0, 3)), replace=False))
            for p in prompts}
    rows = []
    for p in prompts:
        for m in models:
            for r in range(repeats):
                for s in scorers:
                    v = float(rng.uniform(0, 1))
                    rows.append((p, m, r, s, None if rng.random() < missing else v))
    return table(rows), tags, prompts


# -- averaging, overrides, missing -------------------------------------------------

def test_repeats_are_averaged_before_the_threshold_is_applied():
    df = table([("p1", "a", 0, "sharp", 0.2), ("p1", "a", 1, "sharp", 0.6)])
    report = ThresholdEvaluator(df, {"p1": ()}, {"sharp": Threshold(min=0.35)}).evaluate()
    assert report.prompt_passed("a", "p1")  # mean 0.4 >= 0.35
    # each row on its own: 0.2 fails, 0.6 passes
    assert passed_column(df, {"p1": ()}, {"sharp": Threshold(min=0.35)}).to_list() == [
        False, True]


def test_per_tag_override_replaces_the_bounds_and_the_strictest_applies():
    df = table([
        ("plain", "a", 0, "sharp", 0.5),
        ("hand", "a", 0, "sharp", 0.5),
        ("both", "a", 0, "sharp", 0.5),
        ("both2", "a", 0, "sharp", 0.7),
        ("night", "a", 0, "sharp", 0.42),
    ])
    tags = {"plain": ("city",), "hand": ("hands",), "both": ("night", "hands"),
            "both2": ("hands", "night"), "night": ("night",)}
    threshold = Threshold(min=0.4, max=0.9, tags={"hands": {"min": 0.6},
                                                  "night": {"max": 0.45}})
    ev = ThresholdEvaluator(df, tags, {"sharp": threshold})
    assert ev.prompt_passed("a", "plain")
    assert not ev.prompt_passed("a", "hand")  # override min 0.6
    assert ev.prompt_passed("a", "night")  # override max 0.45 replaces the scorer's min 0.4 too
    # both overrides apply, whatever the order of the tags: min 0.6 and max 0.45
    (failure,) = ev.failures("a", "both")
    assert failure.reason == "below min" and failure.bound == 0.6
    (failure,) = ev.failures("a", "both2")
    assert failure.reason == "above max" and failure.bound == 0.45
    assert threshold.for_tags(("night", "hands")) == threshold.for_tags(("hands", "night"))
    (failure,) = ev.failures("a", "hand")
    assert failure.reason == "below min" and str(failure) == "sharp 0.5 below min 0.6"
    assert passed_column(df, tags, {"sharp": threshold}).to_list() == [True, False, False, False, True]


def test_missing_values_fail_with_reason_missing():
    df = table([
        ("p1", "a", 0, "sharp", 0.9), ("p1", "a", 0, "flicker", None, "decode failed"),
        ("p2", "a", 0, "sharp", 0.9), ("p2", "a", 0, "flicker", 0.1),
    ])
    tags = {"p1": (), "p2": (), "p3": ()}  # p3 has no scores at all
    thresholds = {"sharp": Threshold(min=0.5), "flicker": Threshold(max=0.3)}
    report = ThresholdEvaluator(df, tags, thresholds).evaluate()
    assert report.prompt_passed("a", "p2")
    assert not report.prompt_passed("a", "p1")
    (failure,) = report.failures("a", "p1")
    assert failure.scorer == "flicker" and failure.reason == "missing"
    assert failure.detail == "decode failed"
    assert [f.reason for f in report.failures("a", "p3")] == ["missing", "missing"]
    assert report.pass_rates.overall["a"] == pytest.approx(1 / 3)
    assert report.pass_rates.n_prompts == 3


def test_nan_counts_as_missing():
    df = table([("p1", "a", 0, "sharp", float("nan"))])
    ev = ThresholdEvaluator(df, {}, {"sharp": Threshold(min=0.0)})
    assert [f.reason for f in ev.failures("a", "p1")] == ["missing"]
    assert ev.value("a", "p1", "sharp") is None


def test_a_listed_model_without_scores_fails_everything():
    df = table([("p1", "a", 0, "sharp", 0.9)])
    ev = ThresholdEvaluator(df, {"p1": ()}, {"sharp": Threshold(min=0.5)}, models=["a", "ghost"])
    rates = ev.pass_rates()
    assert rates.overall == {"a": 1.0, "ghost": 0.0}


def test_no_thresholds_means_every_prompt_passes():
    df = table([("p1", "a", 0, "sharp", 0.1)])
    report = ThresholdEvaluator(df, {"p1": ()}, {}).evaluate()
    assert report.prompt_passed("a", "p1")
    assert report.scorers == ()
    assert passed_column(df, {}, {}).to_list() == [None]


def test_pass_rates_overall_and_per_tag():
    # a passes p1, p2; b passes p2, p3
    df = table([
        ("p1", "a", 0, "q", 0.9), ("p2", "a", 0, "q", 0.9), ("p3", "a", 0, "q", 0.1),
        ("p4", "a", 0, "q", 0.1),
        ("p1", "b", 0, "q", 0.1), ("p2", "b", 0, "q", 0.9), ("p3", "b", 0, "q", 0.9),
        ("p4", "b", 0, "q", 0.1),
    ])
    tags = {"p1": ("hands",), "p2": ("hands", "city"), "p3": ("city",), "p4": ()}
    rates = ThresholdEvaluator(df, tags, {"q": Threshold(min=0.5)}).pass_rates()
    assert rates.overall == {"a": 0.5, "b": 0.5}
    assert rates.passed == {"a": 2, "b": 2}
    assert rates.tag_sizes == {"city": 2, "hands": 2}
    assert rates.by_tag["a"] == {"city": 0.5, "hands": 1.0}
    assert rates.by_tag["b"] == {"city": 1.0, "hands": 0.5}
    js = rates.to_json()
    assert js["models"]["a"]["tags"]["hands"] == {"passed": 2, "n": 2, "rate": 1.0}


def test_prompts_outside_tags_are_kept_and_tagless():
    df = table([("zz", "a", 0, "q", 0.9)])
    ev = ThresholdEvaluator(df, {"p1": ("hands",)}, {"q": Threshold(min=0.5)})
    assert ev.prompt_ids == ("p1", "zz")
    assert ev.pass_rates().overall["a"] == 0.5


# -- moving thresholds -------------------------------------------------------------

def test_move_lists_exactly_the_flipped_prompts_against_a_reference():
    df, tags, prompts = random_table(seed=3)
    models = ("a", "b", "c")
    thresholds = {
        "s1": Threshold(min=0.3, tags={"hands": {"min": 0.5}}),
        "s2": Threshold(max=0.8, tags={"city": {"max": 0.6}, "night": {"min": 0.1}}),
    }
    ev = ThresholdEvaluator(df, tags, thresholds)
    before = reference_verdicts(df, tags, ev.thresholds, models, prompts)
    assert {k: ev.prompt_passed(*k) for k in before} == before
    rng = np.random.default_rng(11)
    moves = 0
    total_flips = 0
    while moves < 40:
        scorer = str(rng.choice(["s1", "s2", "s3"]))
        tag = str(rng.choice(["hands", "city", "night"])) if rng.random() < 0.4 else None
        side = "min" if rng.random() < 0.5 else "max"
        value = float(np.round(rng.uniform(0, 1), 2))
        if tag is not None and scorer not in ev.thresholds:
            tag = None
        try:
            change = ev.move(scorer, tag=tag, **{side: value})
        except ThresholdError:
            continue  # min above max: the evaluator must be left unchanged
        moves += 1
        after = reference_verdicts(df, tags, ev.thresholds, models, prompts)
        expected = [k for k in before if before[k] != after[k]]
        order = {k: i for i, k in enumerate((m, p) for m in models for p in prompts)}
        assert list(change.flipped) == sorted(expected, key=order.__getitem__)
        assert set(change.now_passing) == {k for k in expected if after[k]}
        assert set(change.now_failing) == {k for k in expected if not after[k]}
        for m in models:
            assert change.pass_rates.overall[m] == pytest.approx(
                sum(after[(m, p)] for p in prompts) / len(prompts))
        total_flips += len(expected)
        before = after
    assert total_flips > 0
    # after all the moves, a fresh evaluator agrees with the incremental one
    fresh = ThresholdEvaluator(df, tags, ev.thresholds).evaluate()
    assert np.array_equal(fresh.passed, ev.evaluate().passed)


def test_move_with_a_tag_starts_from_the_scorer_bounds_and_keeps_others():
    df = table([("p1", "a", 0, "q", 0.5), ("p2", "a", 0, "q", 0.5)])
    tags = {"p1": ("hands",), "p2": ()}
    ev = ThresholdEvaluator(df, tags, {"q": Threshold(min=0.4, max=0.9)})
    change = ev.move("q", min=0.6, tag="hands")
    assert change.flipped == (("a", "p1"),) and change.now_failing == (("a", "p1"),)
    assert ev.thresholds["q"].tags["hands"].max == 0.9  # inherited from the scorer bounds
    change = ev.move("q", min=None)
    assert change.flipped == ()  # p2 still passes, p1 still fails its override
    assert ev.thresholds["q"].min is None and "hands" in ev.thresholds["q"].tags
    change = ev.remove("q", tag="hands")
    assert change.now_passing == (("a", "p1"),)
    change = ev.remove("q")
    assert change.threshold is None and change.flipped == ()
    assert ev.thresholds == {}


def test_moving_a_threshold_on_a_scorer_without_scores_fails_everyone():
    df = table([("p1", "a", 0, "q", 0.5)])
    ev = ThresholdEvaluator(df, {}, {})
    change = ev.move("ghost", min=0.0)
    assert change.now_failing == (("a", "p1"),)
    assert [f.reason for f in ev.failures("a", "p1")] == ["missing"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"min": 0.9}, "min (0.9) is greater than max (0.5)"),
        ({"max": None}, None),
        ({"min": float("nan")}, "finite number"),
        ({"min": "high"}, "must be a number"),
    ],
)
def test_bad_moves_are_refused_and_change_nothing(kwargs, message):
    df = table([("p1", "a", 0, "q", 0.3)])
    ev = ThresholdEvaluator(df, {}, {"q": Threshold(min=0.2, max=0.5)})
    if message is None:  # removing max leaves min: allowed
        ev.move("q", **kwargs)
        assert ev.thresholds["q"].max is None
        return
    with pytest.raises(ThresholdError, match="threshold for q") as info:
        ev.move("q", **kwargs)
    assert message in str(info.value)
    assert ev.thresholds["q"] == Threshold(min=0.2, max=0.5)
    assert ev.prompt_passed("a", "p1")


def test_a_move_that_removes_both_bounds_or_overrides_a_missing_threshold_is_refused():
    df = table([("p1", "a", 0, "q", 0.3)])
    ev = ThresholdEvaluator(df, {"p1": ("hands",)}, {"q": Threshold(min=0.2)})
    with pytest.raises(ThresholdError, match="needs 'min', 'max' or both"):
        ev.move("q", min=None)
    with pytest.raises(ThresholdError, match="no threshold of its own"):
        ev.move("other", min=0.1, tag="hands")


# -- per-row column and the frame ------------------------------------------------

def test_passed_column_per_row_with_overrides_missing_and_unthresholded():
    df = table([
        ("p1", "a", 0, "q", 0.55),   # hands override min 0.6 -> False
        ("p2", "a", 0, "q", 0.55),   # default min 0.5 -> True
        ("p2", "a", 1, "q", None),   # missing -> False
        ("p2", "a", 0, "free", 0.0),  # no threshold -> None
        ("p9", "a", 0, "q", 0.7),    # prompt not in tags -> default -> True
    ])
    tags = {"p1": ("hands",), "p2": ("city",)}
    col = passed_column(df, tags, {"q": Threshold(min=0.5, tags={"hands": {"min": 0.6}})})
    assert col.name == "passed" and col.dtype == pl.Boolean
    assert col.to_list() == [False, True, False, None, True]


def test_report_to_frame_lists_failed_scorers():
    df = table([("p1", "a", 0, "q", 0.1), ("p1", "a", 0, "r", 0.9), ("p2", "a", 0, "q", 0.9),
                ("p2", "a", 0, "r", 0.9)])
    report = ThresholdEvaluator(df, {}, {"q": Threshold(min=0.5),
                                         "r": Threshold(max=0.95)}).evaluate()
    frame = report.to_frame()
    assert frame.rows() == [("a", "p1", False, ["q"]), ("a", "p2", True, [])]


def test_a_table_without_required_columns_is_a_clear_error():
    with pytest.raises(ScoresTableError, match="missing column\\(s\\) 'value'"):
        ThresholdEvaluator(pl.DataFrame({"prompt_id": ["p"], "model": ["a"],
                                         "scorer": ["q"]}), {}, {})


def test_a_value_column_of_text_is_a_clear_error():
    df = pl.DataFrame({"prompt_id": ["p"], "model": ["a"], "scorer": ["q"], "value": ["x"]})
    with pytest.raises(ScoresTableError, match="column 'value' must hold numbers"):
        ThresholdEvaluator(df, {}, {"q": Threshold(min=0)})

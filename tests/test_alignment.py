"""Rank correlations, pass/fail agreement and threshold suggestions on cases with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from workbench.benchmark.config import Bounds, Threshold
from workbench.judgments.alignment import (
    average_ranks, kendall_tau_b, pass_label_pairs, scorer_alignment, spearman,
)
from workbench.judgments.human_scores import SCORE_SCHEMA
from workbench.judgments.threshold_suggestion import nice_between, suggest_threshold


def frame(rows: list[tuple[str, str, int, str, float | None]]) -> pl.DataFrame:
    """Long-format rows from (model, prompt_id, repeat, scorer, value)."""
    return pl.DataFrame(
        {"run": ["r1"] * len(rows), "model": [r[0] for r in rows], "prompt_id": [r[1] for r in rows],
         "repeat": [r[2] for r in rows], "scorer": [r[3] for r in rows], "version": ["1"] * len(rows),
         "value": [r[4] for r in rows], "error": [None] * len(rows)},
        schema=SCORE_SCHEMA,
    )


def brute_tau_b(x, y) -> float:
    concordant = discordant = tied_x = tied_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = x[i] - x[j], y[i] - y[j]
        if dx == 0 and dy == 0:
            tied_x += 1
            tied_y += 1
        elif dx == 0:
            tied_x += 1
        elif dy == 0:
            tied_y += 1
        elif dx * dy > 0:
            concordant += 1
        else:
            discordant += 1
    n0 = len(x) * (len(x) - 1) / 2
    return (concordant - discordant) / np.sqrt((n0 - tied_x) * (n0 - tied_y))


# ----------------------------------------------------------------------------- statistics


def test_average_ranks_share_ties():
    assert average_ranks(np.array([30.0, 10.0, 20.0, 20.0])).tolist() == [4.0, 1.0, 2.5, 2.5]
    assert average_ranks(np.array([5.0, 5.0, 5.0])).tolist() == [2.0, 2.0, 2.0]


def test_perfectly_monotone_data():
    x = np.array([0.1, 0.5, 0.7, 2.0, 9.0])
    up = np.exp(x)  # monotone but not linear: ranks are what count
    assert spearman(x, up) == pytest.approx(1.0)
    assert kendall_tau_b(x, up) == pytest.approx(1.0)
    assert spearman(x, -up) == pytest.approx(-1.0)
    assert kendall_tau_b(x, -up) == pytest.approx(-1.0)


def test_hand_computed_example_with_ties():
    x = np.array([1.0, 2.0, 2.0, 3.0])
    y = np.array([2.0, 1.0, 3.0, 3.0])
    # Pairs (i, j): (0,1) dx+ dy- discordant; (0,2) C; (0,3) C; (1,2) tied in x;
    # (1,3) C; (2,3) tied in y.  C = 3, D = 1, n0 = 6, tx = 1, ty = 1:
    # tau_b = (3 - 1) / sqrt((6 - 1) * (6 - 1)) = 2 / 5 = 0.4.
    assert kendall_tau_b(x, y) == pytest.approx(0.4)
    # Average ranks: x -> [1, 2.5, 2.5, 4], y -> [2, 1, 3.5, 3.5]; centred (mean 2.5):
    # [-1.5, 0, 0, 1.5] and [-0.5, -1.5, 1, 1]; sum of products 2.25, sums of squares 4.5 and 4.5:
    # rho = 2.25 / 4.5 = 0.5.
    assert spearman(x, y) == pytest.approx(0.5)


def test_constant_side_gives_none():
    x = np.array([1.0, 2.0, 3.0])
    assert spearman(x, np.array([4.0, 4.0, 4.0])) is None
    assert kendall_tau_b(np.array([4.0, 4.0, 4.0]), x) is None


def test_kendall_matches_brute_force_across_blocks():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 6, size=300).astype(float)  # many ties
    y = x + rng.integers(-3, 4, size=300)
    expected = brute_tau_b(x, y)
    assert kendall_tau_b(x, y) == pytest.approx(expected)
    assert kendall_tau_b(x, y, block=7) == pytest.approx(expected)


# ----------------------------------------------------------------------------- per scorer

PROMPTS = ["p1", "p2", "p3", "p4", "p5"]


def human_rows(ratings: list[float], passes: list[float]) -> pl.DataFrame:
    rows = [("new", p, 0, "human.rating", r) for p, r in zip(PROMPTS, ratings)]
    rows += [("new", p, 0, "human.pass", v) for p, v in zip(PROMPTS, passes)]
    return frame(rows)


def test_alignment_figures_and_pass_agreement():
    scores = frame([("new", p, 0, "sharpness", v) for p, v in zip(PROMPTS, [10.0, 20.0, 30.0, 40.0, 50.0])]
                   + [("new", p, 0, "frozen_frames", v) for p, v in zip(PROMPTS, [0.5, 0.4, 0.3, 0.2, 0.1])])
    # pass shares: p3 is an even split between two raters, so it has no label
    human = human_rows([1, 2, 3, 4, 5], [0.0, 1.0, 0.5, 1.0, 1.0])
    thresholds = {"sharpness": Threshold(min=25.0)}
    rows = {r.scorer: r for r in scorer_alignment(scores, human, thresholds,
                                                  {"sharpness": "higher", "frozen_frames": "lower"})}
    sharp = rows["sharpness"]
    assert sharp.n_rated == 5
    assert sharp.spearman == pytest.approx(1.0) and sharp.kendall == pytest.approx(1.0)
    # labelled: p1 fail (10 < 25: fail, agree), p2 pass (20: fail, disagree), p4, p5 pass (agree)
    assert sharp.n_pass_labels == 4
    assert sharp.pass_agreement == pytest.approx(3 / 4)
    assert sharp.threshold_used == ">= 25"
    assert sharp.sign_agrees is True
    frozen = rows["frozen_frames"]
    assert frozen.spearman == pytest.approx(-1.0)
    assert frozen.sign_agrees is True  # lower is better and people agree
    assert frozen.pass_agreement is None and frozen.threshold_used is None
    assert frozen.n_pass_labels == 0


def test_sign_against_direction_is_flagged():
    scores = frame([("new", p, 0, "blockiness", v) for p, v in zip(PROMPTS, [1.0, 2.0, 3.0, 4.0, 5.0])])
    human = human_rows([1, 2, 3, 5, 4], [0, 0, 1, 1, 1])
    (row,) = scorer_alignment(scores, human, {}, {"blockiness": "lower"})
    assert row.spearman == pytest.approx(0.9)
    assert row.sign_agrees is False and "disagrees" in row.note


def test_passed_column_wins_over_base_threshold():
    scores = frame([("new", p, 0, "sharpness", v) for p, v in zip(PROMPTS, [10.0, 20.0, 30.0, 40.0, 50.0])])
    scores = scores.with_columns(pl.Series("passed", [False, True, True, True, True]))  # e.g. a tag override
    human = human_rows([1, 2, 3, 4, 5], [0, 1, 1, 1, 1])
    (row,) = scorer_alignment(scores, human, {"sharpness": Threshold(min=25.0)})
    assert row.pass_agreement == 1.0 and row.n_pass_labels == 5


def test_too_few_items_gives_none_with_reason():
    scores = frame([("new", "p1", 0, "sharpness", 1.0), ("new", "p2", 0, "sharpness", 2.0),
                    ("old", "p1", 0, "sharpness", 3.0)])
    human = frame([("new", "p1", 0, "human.rating", 2.0), ("new", "p2", 0, "human.rating", 4.0),
                   ("new", "p1", 0, "human.pass", 1.0), ("new", "p2", 0, "human.pass", 0.0)])
    (row,) = scorer_alignment(scores, human, {"sharpness": Threshold(min=1.5)})
    assert row.n_rated == 2 and row.spearman is None and row.kendall is None
    assert row.pass_agreement is None and row.n_pass_labels == 2
    assert "2 rated items (need 3)" in row.note and "2 pass/fail labels (need 3)" in row.note


def test_pass_label_pairs_join_on_clip():
    scores = frame([("new", p, 0, "sharpness", v) for p, v in zip(PROMPTS, [1.0, 2.0, 3.0, 4.0, 5.0])])
    human = human_rows([1, 2, 3, 4, 5], [0.0, 1.0, 0.5, 1.0, 0.25])
    values, labels = pass_label_pairs(scores, human, "sharpness")
    assert values.tolist() == [1.0, 2.0, 4.0, 5.0]
    assert labels.tolist() == [False, True, True, False]


# ----------------------------------------------------------------------------- suggestions


def agreement_at(values, labels, bound: Bounds) -> float:
    return float(np.mean([bound.passes(v) == lab for v, lab in zip(values, labels)]))


def test_separable_data_is_split_perfectly():
    values = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9]
    labels = [False, False, False, True, True, True]
    s = suggest_threshold(values, labels, "higher")
    assert s is not None and s.bound == "min"
    assert s.agreement == 1.0 and s.n == 6 and (s.n_pass, s.n_fail) == (3, 3) and s.informative
    assert 0.3 < s.threshold <= 0.7
    assert s.threshold == 0.5
    assert agreement_at(values, labels, Bounds(min=s.threshold)) == 1.0

    lower = suggest_threshold(values, [not x for x in labels], "lower")
    assert lower.bound == "max" and lower.agreement == 1.0
    assert 0.3 <= lower.threshold < 0.7
    assert agreement_at(values, [not x for x in labels], Bounds(max=lower.threshold)) == 1.0


def test_overlapping_classes_best_cut_and_lenient_tie_break():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    labels = [False, True, False, True, True, True]
    s = suggest_threshold(values, labels, "higher")
    # min in (1, 2]: only the fail at 3 is wrong -> 5/6; min in (3, 4]: only the pass at 2 is
    # wrong -> 5/6; every other cut is worse. A tie, so the more lenient (lower) min wins.
    assert s.agreement == pytest.approx(5 / 6)
    assert 1.0 < s.threshold <= 2.0
    assert agreement_at(values, labels, Bounds(min=s.threshold)) == pytest.approx(5 / 6)
    assert s.describe() == ">= 1.5 (83% of 6)"


def test_all_pass_labels_give_no_suggestion_and_other_edge_cases():
    assert suggest_threshold([1.0, 2.0, 3.0], [True, True, True], "higher") is None
    assert suggest_threshold([1.0, 2.0], [True, False], "higher") is None
    assert suggest_threshold([1.0, 2.0, 3.0], [True, False, True], "none") is None
    s = suggest_threshold([3.0, 9.0, 3.0, 9.0], [False, True, False, True], "higher")
    assert s.agreement == 1.0 and s.threshold == 6.0
    mixed = suggest_threshold([3.0, 3.0, 3.0, 9.0], [False, True, False, True], "higher")
    assert mixed.agreement == 0.75 and 3.0 < mixed.threshold <= 9.0  # the pass at 3 cannot be kept
    assert mixed.informative  # 3 of 4 right beats "all pass" and "all fail" (2 of 4 each)
    useless = suggest_threshold([1.0, 2.0, 3.0, 4.0], [True, False, True, True], "higher")
    # every cut gets at most 3 of 4 right, as does passing everything: the lenient all-pass cut wins
    assert useless.agreement == 0.75 and not useless.informative
    assert useless.threshold <= 1.0


def test_nice_between_prefers_short_decimals():
    assert nice_between(0.93124, 0.95877, include_lo=False, include_hi=True) == 0.95
    assert nice_between(10.0, 30.0, include_lo=False, include_hi=True) == 20.0
    assert nice_between(1.0, 2.0, include_lo=False, include_hi=True) == 1.5  # not the edge 2.0
    tiny_gap = nice_between(0.1, np.nextafter(0.1, 1.0), include_lo=True, include_hi=False)
    assert tiny_gap == 0.1

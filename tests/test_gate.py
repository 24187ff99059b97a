"""The paired release gate: statistics, rules, verdicts, and their words."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest

from workbench.benchmark.config import GateConfig, Threshold
from workbench.decide import paired_stats
from workbench.decide.gate import GateConfigError, evaluate_gate
from workbench.decide.paired_stats import (
    BootstrapPlan,
    bootstrap_ci,
    count_outcomes,
    sign_test_p,
)
from workbench.decide.verdict_text import format_number, render_text

SCHEMA = {"prompt_id": pl.Utf8, "model": pl.Utf8, "repeat": pl.Int64, "scorer": pl.Utf8,
          "value": pl.Float64, "error": pl.Utf8}


def synthetic(
    seed: int,
    n_prompts: int,
    effects: dict[str, float],
    noise: float = 0.03,
    repeats: int = 2,
    tag_of=lambda i: ("city",),
    tag_effects: dict[tuple[str, str], float] | None = None,
    models=("inc", "cand"),
) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]]]:
    """Scores where the candidate's true shift on each scorer is ``effects[scorer]``.

    ``tag_effects[(scorer, tag)]`` replaces the shift on prompts with that tag.
    """
    rng = np.random.default_rng(seed)
    prompts = [f"p{i:03d}" for i in range(n_prompts)]
    tags = {p: tuple(tag_of(i)) for i, p in enumerate(prompts)}
    cols: dict[str, list] = {k: [] for k in SCHEMA}
    for scorer, effect in effects.items():
        base = rng.normal(0.5, 0.15, n_prompts)
        for model in models:
            for r in range(repeats):
                for i, p in enumerate(prompts):
                    shift = 0.0
                    if model == "cand":
                        shift = effect
                        for t in tags[p]:
                            if tag_effects and (scorer, t) in tag_effects:
                                shift = tag_effects[(scorer, t)]
                    cols["prompt_id"].append(p)
                    cols["model"].append(model)
                    cols["repeat"].append(r)
                    cols["scorer"].append(scorer)
                    cols["value"].append(float(base[i] + shift + rng.normal(0, noise)))
                    cols["error"].append(None)
    return pl.DataFrame(cols, schema=SCHEMA), tags


def gate(**kw) -> GateConfig:
    base = dict(incumbent="inc", candidate="cand", primary=["quality"], margin=0.02,
                min_prompts=10, resamples=2000, seed=1)
    base.update(kw)
    return GateConfig(**base)


# -- sign test, outcomes, bootstrap ----------------------------------------------

@pytest.mark.parametrize(
    "wins, losses, expected",
    [
        (10, 0, 2 / 1024),
        (0, 10, 2 / 1024),
        (9, 1, 2 * 11 / 1024),
        (3, 7, 2 * (1 + 10 + 45 + 120) / 1024),
        (5, 5, 1.0),
        (0, 0, 1.0),
        (1, 0, 1.0),
        (6, 0, 2 / 64),
    ],
)
def test_sign_test_exact_small_cases(wins, losses, expected):
    assert sign_test_p(wins, losses) == pytest.approx(expected, rel=1e-12)


def test_sign_test_large_n_is_finite_and_matches_normal_approximation():
    p = sign_test_p(560, 440)  # n = 1000, z = 120 / sqrt(250) ~ 3.79
    z = (560 - 500) / math.sqrt(250)
    normal = math.erfc((z - 1 / math.sqrt(1000)) / math.sqrt(2))  # continuity-corrected
    assert 0 < p < 1e-3
    assert p == pytest.approx(normal, rel=0.15)
    assert sign_test_p(5000, 5000) == 1.0
    assert 0.0 <= sign_test_p(3000, 0) < 1e-300


def test_wins_ties_losses_respect_direction_and_rounding_ties():
    inc = np.array([0.5, 0.5, 0.5, 0.1 + 0.2])
    cand = np.array([0.6, 0.4, 0.5, 0.3])  # last pair differs only by rounding
    assert count_outcomes(cand, inc, 1.0) == (1, 2, 1)
    assert count_outcomes(cand, inc, -1.0) == (1, 2, 1)
    assert count_outcomes(np.array([0.2, 0.2]), np.array([0.3, 0.4]), -1.0) == (2, 0, 0)


def test_bootstrap_matches_a_naive_index_resampling_with_the_same_draws():
    rng = np.random.default_rng(5)
    diffs = rng.normal(0.1, 0.3, 37)
    resamples, seed = 3000, 9
    ci = bootstrap_ci(diffs, resamples=resamples, seed=seed, confidence=0.9)
    # replay the same index stream and resample the plain way
    gen = np.random.default_rng(paired_stats._seed_sequence(seed, len(diffs), resamples))
    piece = max(1, paired_stats._CHUNK_ELEMENTS // len(diffs))
    means = []
    done = 0
    while done < resamples:
        take = min(piece, resamples - done)
        idx = gen.integers(0, len(diffs), size=(take, len(diffs)), dtype=np.uint16)
        means.append(diffs[idx].mean(axis=1))
        done += take
    low, high = np.quantile(np.concatenate(means), [0.05, 0.95])
    assert ci.low == pytest.approx(low, abs=1e-6)
    assert ci.high == pytest.approx(high, abs=1e-6)


def test_bootstrap_with_gaps_is_the_mean_of_the_drawn_prompts_it_has():
    rng = np.random.default_rng(2)
    full = rng.normal(0, 1, 25)
    gappy = full.copy()
    gappy[::3] = np.nan
    plan = BootstrapPlan(25, 500, 4, 0.8)
    t_full, t_gap = plan.add(full), plan.add(gappy)
    got = plan.run()
    gen = np.random.default_rng(paired_stats._seed_sequence(4, 25, 500))
    idx = gen.integers(0, 25, size=(500, 25), dtype=np.uint16)
    present = ~np.isnan(gappy)
    sums = np.where(present, gappy, 0.0)[idx].sum(axis=1)
    counts = present[idx].sum(axis=1)
    keep = counts > 0
    low, high = np.quantile(sums[keep] / counts[keep], [0.1, 0.9])
    assert got[t_gap].low == pytest.approx(low, abs=1e-6)
    assert got[t_gap].high == pytest.approx(high, abs=1e-6)
    low, high = np.quantile(full[idx].mean(axis=1), [0.1, 0.9])
    assert got[t_full].low == pytest.approx(low, abs=1e-6)


def test_bootstrap_is_reproducible_and_degenerate_cases_are_points():
    d = np.random.default_rng(0).normal(size=50)
    assert bootstrap_ci(d, 1000, seed=3) == bootstrap_ci(d, 1000, seed=3)
    assert bootstrap_ci(d, 1000, seed=3) != bootstrap_ci(d, 1000, seed=4)
    one = bootstrap_ci([0.25], 1000)
    assert (one.low, one.high) == (0.25, 0.25)
    same = bootstrap_ci([0.1] * 8, 1000)
    assert same.low == same.high == pytest.approx(0.1)
    assert bootstrap_ci([], 1000) is None


def test_format_number_three_significant_digits():
    assert format_number(0.0312) == "0.0312"
    assert format_number(0.03125) in ("0.0312", "0.0313")
    assert format_number(-0.2) == "-0.2"
    assert format_number(12.345) == "12.3"
    assert format_number(999.7) == "1000"
    assert format_number(123456.7) == "123457"
    assert format_number(0.0) == "0"
    assert format_number(0.00001234) == "1.23e-05"
    assert format_number(None) == "n/a"
    assert format_number(float("nan")) == "n/a"


# -- verdicts ----------------------------------------------------------------------

def test_clear_improvement_ships_with_reasons():
    df, tags = synthetic(1, 40, {"quality": 0.08})
    result = evaluate_gate(df, tags, gate(), {}, {"quality": "higher"})
    assert result.verdict == "ship"
    stats = result.scorer_stats("quality")
    assert stats.n == 40 and stats.mean_diff == pytest.approx(0.08, abs=0.02)
    assert stats.ci_low > 0.02 and stats.wins > 30
    assert stats.mean_diff == pytest.approx(stats.candidate_mean - stats.incumbent_mean)
    assert result.reasons[0].startswith("quality improves by ")
    assert "95% CI" in result.reasons[0] and "at least the margin 0.02" in result.reasons[0]
    assert any("pass-rate rule does not apply" in r for r in result.reasons)
    assert result.headline.startswith("ship: quality improves by")
    assert render_text(result).startswith("SHIP: cand vs inc (40 paired prompts of 40)")


def test_lower_is_better_scorer_counts_a_drop_as_an_improvement():
    df, tags = synthetic(2, 40, {"temporal_flicker": -0.08})
    result = evaluate_gate(df, tags, gate(primary=["temporal_flicker"]), {},
                           {"temporal_flicker": "lower"})
    assert result.verdict == "ship"
    stats = result.scorer_stats("temporal_flicker")
    assert stats.mean_diff == pytest.approx(0.08, abs=0.02)
    assert stats.mean_diff == pytest.approx(stats.incumbent_mean - stats.candidate_mean)
    assert stats.wins > stats.losses
    assert stats.to_json()["difference"] == "incumbent - candidate"
    assert result.reasons[0].startswith("temporal_flicker improves by ")
    assert "(lower is better; 95% CI " in result.reasons[0]
    # the same data with the wrong direction is a regression
    held = evaluate_gate(df, tags, gate(primary=["temporal_flicker"]), {},
                         {"temporal_flicker": "higher"})
    assert held.verdict == "hold"
    assert "temporal_flicker is worse by" in held.reasons[0]


def test_an_improvement_below_the_margin_holds():
    df, tags = synthetic(3, 60, {"quality": 0.03}, noise=0.005)
    result = evaluate_gate(df, tags, gate(margin=0.05), {}, {"quality": "higher"})
    assert result.verdict == "hold"
    assert "improves by only 0.03" in result.reasons[0]
    assert "below the margin 0.05" in result.reasons[0]


def test_per_scorer_overrides_of_margin_and_rule():
    df, tags = synthetic(4, 60, {"quality": 0.03, "motion": -0.01}, noise=0.01)
    cfg = gate(primary=["quality", "motion"], margin=0.02,
               scorers={"motion": {"rule": "non-inferiority", "margin": 0.03}})
    result = evaluate_gate(df, tags, cfg, {}, {"quality": "higher", "motion": "higher"})
    assert result.verdict == "ship", result.reasons
    assert any(r.startswith("motion is not worse than the incumbent by more than the margin 0.03")
               for r in result.reasons)
    strict = gate(primary=["quality", "motion"],
                  scorers={"motion": {"rule": "non-inferiority", "margin": 0.001}})
    held = evaluate_gate(df, tags, strict, {}, {"quality": "higher", "motion": "higher"})
    assert held.verdict == "hold"
    assert held.reasons[0].startswith("motion may be worse than the incumbent by more than")


def test_regression_confined_to_one_tag_holds_and_names_the_tag():
    def tag_of(i):
        return ("hands",) if i % 4 == 0 else (("city",) if i % 2 else ("animals", "city"))

    df, tags = synthetic(5, 80, {"quality": 0.1}, noise=0.02, tag_of=tag_of,
                         tag_effects={("quality", "hands"): -0.12})
    result = evaluate_gate(df, tags, gate(tag_allowance=0.05), {}, {"quality": "higher"})
    assert result.verdict == "hold"
    assert result.scorer_stats("quality").mean_diff > 0.02  # overall still improves
    tag_reasons = [r for r in result.reasons if "tag '" in r]
    assert len(tag_reasons) == 1
    assert tag_reasons[0].startswith("the candidate is worse on tag 'hands' by 0.1")
    assert "beyond the allowance 0.05" in tag_reasons[0]
    hands = result.tag_stats("hands", "quality")
    assert hands.n == 20 and hands.ci_high < 0
    assert result.tag_stats("city", "quality").ci_low > 0
    assert {s.tag for s in result.tags} == {"hands", "city", "animals"}


def test_missing_tag_allowance_falls_back_to_the_margin():
    df, tags = synthetic(6, 40, {"quality": 0.1}, noise=0.01,
                         tag_of=lambda i: ("hands",) if i < 10 else ("city",),
                         tag_effects={("quality", "hands"): -0.01})
    # margin 0.02: a -0.01 tag shift is within the allowance (= margin)
    assert evaluate_gate(df, tags, gate(), {}, {"quality": "higher"}).verdict == "ship"
    held = evaluate_gate(df, tags, gate(margin=0.0), {}, {"quality": "higher"})
    assert held.verdict == "hold" and "tag 'hands'" in held.reasons[0]


def test_pass_rate_must_not_fall():
    df, tags = synthetic(7, 40, {"quality": 0.05, "sharpness": -0.3}, noise=0.01)
    thresholds = {"sharpness": Threshold(min=0.4)}
    directions = {"quality": "higher", "sharpness": "higher"}
    result = evaluate_gate(df, tags, gate(), thresholds, directions)
    assert result.verdict == "hold"
    (reason,) = result.reasons
    assert reason.startswith("the candidate's threshold pass rate falls from")
    rates = result.pass_rates
    assert rates.passed["cand"] < rates.passed["inc"]
    relaxed = evaluate_gate(df, tags, gate(pass_rate_must_not_fall=False), thresholds, directions)
    assert relaxed.verdict == "ship"
    assert relaxed.pass_rates is not None


def test_too_few_prompts_is_inconclusive():
    df, tags = synthetic(8, 6, {"quality": 0.3}, noise=0.001)
    result = evaluate_gate(df, tags, gate(min_prompts=10), {}, {"quality": "higher"})
    assert result.verdict == "inconclusive"
    assert result.reasons[0] == (
        "only 6 prompts have quality scores from both models; the gate needs at least 10")
    assert result.scorer_stats("quality").n == 6  # statistics are still reported


def test_unpaired_prompts_do_not_count():
    df, tags = synthetic(9, 12, {"quality": 0.3}, noise=0.001)
    # the candidate failed on 4 prompts (every repeat null) -> 8 paired, below 10
    failed = pl.col("prompt_id").is_in(["p000", "p001", "p002", "p003"]) & (
        pl.col("model") == "cand")
    df = df.with_columns(
        pl.when(failed).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(failed).then(pl.lit("timeout")).otherwise(pl.col("error")).alias("error"),
    )
    tags["never_run"] = ("city",)
    result = evaluate_gate(df, tags, gate(), {}, {"quality": "higher"})
    assert result.verdict == "inconclusive"
    assert result.scorer_stats("quality").n == 8
    assert result.n_prompts == 8 and result.n_benchmark_prompts == 13


def test_missing_model_is_inconclusive_and_named():
    df, tags = synthetic(10, 30, {"quality": 0.1})
    result = evaluate_gate(df, tags, gate(), {}, {"quality": "higher"}, candidate="new-model")
    assert result.verdict == "inconclusive"
    assert result.candidate == "new-model"
    assert result.reasons == (
        "there are no scores for the candidate 'new-model' (models with scores: 'cand', 'inc')",)


def test_missing_primary_scorer_is_inconclusive():
    df, tags = synthetic(11, 30, {"quality": 0.1, "motion": 0.0})
    result = evaluate_gate(df, tags, gate(primary=["quality", "human.rating"]), {},
                           {"quality": "higher"})
    assert result.verdict == "inconclusive"
    assert result.reasons == ("there are no human.rating scores for either model",)
    only_one = df.filter(~((pl.col("model") == "inc") & (pl.col("scorer") == "quality")))
    result = evaluate_gate(only_one, tags, gate(), {}, {"quality": "higher"})
    assert result.verdict == "inconclusive"
    assert result.reasons == ("there are no quality scores for the incumbent 'inc'",)


def test_human_rating_is_an_ordinary_scorer():
    df, tags = synthetic(12, 30, {"human.rating": 0.5}, noise=0.3)
    result = evaluate_gate(df, tags, gate(primary=["human.rating"], margin=0.2), {},
                           {"human.rating": "higher"})
    assert result.verdict == "ship"


def test_candidate_and_incumbent_can_be_overridden():
    df, tags = synthetic(13, 30, {"quality": 0.1}, noise=0.01)
    swapped = evaluate_gate(df, tags, gate(), {}, {"quality": "higher"},
                            candidate="inc", incumbent="cand")
    assert swapped.verdict == "hold"
    assert swapped.config["gate"]["candidate"] == "inc"
    assert swapped.scorer_stats("quality").mean_diff < 0


@pytest.mark.parametrize(
    "directions, kwargs, message",
    [
        ({"quality": "none"}, {}, "direction 'none'"),
        ({}, {}, "its direction is unknown"),
        ({"quality": "up"}, {}, "direction 'up' is not one of"),
        ({"quality": "higher"}, {"candidate": "inc"}, "are the same model ('inc')"),
    ],
)
def test_configuration_errors_are_clear(directions, kwargs, message):
    df, tags = synthetic(14, 12, {"quality": 0.1})
    with pytest.raises(GateConfigError) as info:
        evaluate_gate(df, tags, gate(), {}, directions, **kwargs)
    assert message in str(info.value)


def test_to_json_is_plain_stable_and_reproducible():
    df, tags = synthetic(15, 30, {"quality": 0.05},
                         tag_of=lambda i: ("solo",) if i == 0 else ("city",))
    thresholds = {"quality": Threshold(min=0.2)}
    first = evaluate_gate(df, tags, gate(), thresholds, {"quality": "higher"}).to_json()
    second = evaluate_gate(df, tags, gate(), thresholds, {"quality": "higher"}).to_json()
    text = json.dumps(first, allow_nan=False)
    assert text == json.dumps(second, allow_nan=False)
    assert list(first) == ["verdict", "reasons", "candidate", "incumbent", "n_prompts",
                           "n_benchmark_prompts", "difference", "scorers", "tags",
                           "pass_rates", "checks", "config"]
    assert "incumbent - candidate where lower is better" in first["difference"]
    assert first["config"]["gate"]["resamples"] == 2000
    assert first["config"]["thresholds"] == {"quality": {"min": 0.2, "tags": {}}}
    assert first["tags"]["solo"]["quality"]["n"] == 1
    assert first["pass_rates"]["models"]["cand"]["passed"] >= 0
    other_seed = evaluate_gate(df, tags, gate(seed=2), thresholds, {"quality": "higher"})
    assert other_seed.to_json()["scorers"][0]["ci_low"] != first["scorers"][0]["ci_low"]
    # the one-prompt tag is reported but not checked
    assert any("1 with a single paired prompt not checked" in c["message"]
               for c in first["checks"])


def test_failed_clips_on_hard_prompts_never_ship_quietly():
    # 20 prompts, a clear improvement, but the candidate produced nothing on 3 of them:
    # enough paired prompts remain, yet the missing results make the gate inconclusive.
    df, tags = synthetic(21, 20, {"quality": 0.3}, noise=0.001)
    failed = pl.col("prompt_id").is_in(["p000", "p001", "p002"]) & (pl.col("model") == "cand")
    df = df.with_columns(pl.when(failed).then(None).otherwise(pl.col("value")).alias("value"))
    result = evaluate_gate(df, tags, gate(min_prompts=10), {}, {"quality": "higher"})
    assert result.verdict == "inconclusive"
    assert result.reasons[0].startswith(
        "missing quality results from the candidate 'cand' for 3 prompts (p000, p001, p002)")
    # the same table without the gaps ships
    full, _ = synthetic(21, 20, {"quality": 0.3}, noise=0.001)
    assert evaluate_gate(full, tags, gate(min_prompts=10), {}, {"quality": "higher"}).verdict == "ship"


def test_no_paired_prompt_is_inconclusive_never_ship():
    # each model scored a different half of the prompts: nothing can be compared
    df, tags = synthetic(22, 20, {"quality": 0.3}, noise=0.001)
    first_half = pl.col("prompt_id") < "p010"
    keep = (first_half & (pl.col("model") == "inc")) | (~first_half & (pl.col("model") == "cand"))
    df = df.filter(keep)
    for must_not_fall in (True, False):
        result = evaluate_gate(df, tags, gate(min_prompts=1, pass_rate_must_not_fall=must_not_fall),
                               {}, {"quality": "higher"})
        assert result.verdict == "inconclusive", result.reasons

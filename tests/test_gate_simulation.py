"""The gate's error rates, checked by simulation over many seeds.

For speed the simulations use 2,000 bootstrap resamples (the default is 10,000);
the seeds are fixed, so the rates below are reproducible.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from workbench.benchmark.config import GateConfig
from workbench.decide.gate import evaluate_gate
from workbench.decide.paired_stats import bootstrap_ci

SEEDS = range(200)
RESAMPLES = 2000


def two_models(seed: int, n_prompts: int, effect: float, noise: float = 0.04,
               spread: float = 0.15, repeats: int = 2):
    """A 'quality' score per (model, prompt, repeat): prompt difficulty + shift + noise.

    The candidate's true mean improvement is exactly ``effect``.
    """
    rng = np.random.default_rng(seed)
    prompts = np.array([f"p{i:03d}" for i in range(n_prompts)])
    difficulty = rng.normal(0.5, spread, n_prompts)
    frames = []
    for model, shift in (("inc", 0.0), ("cand", effect)):
        for r in range(repeats):
            frames.append(pl.DataFrame({
                "prompt_id": prompts,
                "model": [model] * n_prompts,
                "repeat": [r] * n_prompts,
                "scorer": ["quality"] * n_prompts,
                "value": difficulty + shift + rng.normal(0, noise, n_prompts),
                "error": pl.Series([None] * n_prompts, dtype=pl.Utf8),
            }))
    tags = {p: ("even",) if i % 2 == 0 else ("odd",) for i, p in enumerate(prompts)}
    return pl.concat(frames), tags


def ship_rate(n_prompts: int, effect: float, margin: float, noise: float = 0.04) -> float:
    config = GateConfig(incumbent="inc", candidate="cand", primary=["quality"], margin=margin,
                        rule="superiority", min_prompts=10, resamples=RESAMPLES, seed=0)
    ships = 0
    for seed in SEEDS:
        df, tags = two_models(seed, n_prompts, effect, noise=noise)
        result = evaluate_gate(df, tags, config.model_copy(update={"seed": seed}), {},
                               {"quality": "higher"})
        ships += result.verdict == "ship"
    return ships / len(SEEDS)


def test_identical_models_rarely_ship_under_superiority_even_with_zero_margin():
    rate = ship_rate(n_prompts=30, effect=0.0, margin=0.0)
    print(f"identical models, margin 0: ship rate {rate:.3f}")
    assert rate <= 0.05


def test_identical_models_with_a_margin_ship_even_less():
    rate = ship_rate(n_prompts=30, effect=0.0, margin=0.02)
    print(f"identical models, margin 0.02: ship rate {rate:.3f}")
    assert rate <= 0.01


def test_a_true_improvement_of_twice_the_margin_over_20_prompts_is_detected():
    # noise 0.07 per clip: the per-prompt difference has sd 0.07, so the standard
    # error of the mean difference (0.016) is close to the margin itself
    rate = ship_rate(n_prompts=20, effect=0.04, margin=0.02, noise=0.07)
    print(f"improvement 0.04 = 2 x margin 0.02, 20 prompts, noise 0.07: ship rate {rate:.3f}")
    assert rate > 0.5


def test_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time():
    covered = 0
    trials = 400
    for seed in range(trials):
        rng = np.random.default_rng(10_000 + seed)
        diffs = rng.normal(0.1, 0.2, 40)
        ci = bootstrap_ci(diffs, resamples=RESAMPLES, seed=seed, confidence=0.95)
        covered += ci.low <= 0.1 <= ci.high
    coverage = covered / trials
    print(f"bootstrap 95% CI coverage over {trials} trials (n=40): {coverage:.3f}")
    assert 0.89 <= coverage <= 0.99

"""Speed of threshold moves and of the release gate on a large synthetic benchmark.

Run: ``PYTHONPATH=. python tests/bench/bench_gate.py`` from the project root.
Prints medians of several runs against the targets, and ratios against naive
baselines measured in the same run.
"""

from __future__ import annotations

import os

# As the `workbench` command does (workbench/cli/main.py): one BLAS thread unless the user says otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import statistics  # noqa: E402
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workbench.benchmark.config import GateConfig, Threshold  # noqa: E402
from workbench.decide import ThresholdEvaluator, evaluate_gate  # noqa: E402

N_PROMPTS, N_MODELS, N_SCORERS, N_TAGS = 2000, 5, 12, 8
MOVE_TARGET_MS, GATE_TARGET_MS = 20.0, 500.0


def synthetic_table(
    seed: int = 0, gaps: str = "clip"
) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]]]:
    """1% of values missing: whole clips (``gaps="clip"``: every scorer of a failed
    video, the usual case) or single cells (``"cell"``: every scorer has its own
    gaps, the slowest case for the gate)."""
    rng = np.random.default_rng(seed)
    prompts = [f"p{i:04d}" for i in range(N_PROMPTS)]
    tag_names = [f"tag{t}" for t in range(N_TAGS)]
    tags = {}
    for p in prompts:
        k = int(rng.integers(1, 3))
        tags[p] = tuple(rng.choice(tag_names, size=k, replace=False).tolist())
    models = [f"m{m}" for m in range(N_MODELS)]
    scorers = [f"s{s:02d}" for s in range(N_SCORERS)]
    base = rng.normal(0.5, 0.15, size=(N_PROMPTS, N_SCORERS))
    frames = []
    for m, model in enumerate(models):
        values = base + 0.01 * m + rng.normal(0, 0.05, size=base.shape)
        if gaps == "clip":
            values[rng.random(N_PROMPTS) < 0.01, :] = np.nan
        else:
            values[rng.random(values.shape) < 0.01] = np.nan
        frames.append(pl.DataFrame({
            "prompt_id": np.repeat(prompts, N_SCORERS),
            "model": [model] * values.size,
            "repeat": np.zeros(values.size, dtype=np.int64),
            "scorer": scorers * N_PROMPTS,
            "value": values.ravel(),
        }))
    df = pl.concat(frames).with_columns(
        pl.col("value").fill_nan(None), error=pl.lit(None, dtype=pl.Utf8))
    return df, tags


def median_ms(fn, runs: int, cpu: bool = False) -> float:
    """Median wall time (or process CPU time: all threads) of ``runs`` calls, in ms."""
    clock = time.process_time if cpu else time.perf_counter
    times = []
    for _ in range(runs):
        start = clock()
        fn()
        times.append((clock() - start) * 1000)
    return statistics.median(times)


def bench_moves(df: pl.DataFrame, tags: dict) -> None:
    thresholds = {
        f"s{s:02d}": Threshold(min=0.2, tags={"tag1": {"min": 0.3}}) for s in range(N_SCORERS)
    }
    start = time.perf_counter()
    evaluator = ThresholdEvaluator(df, tags, thresholds)
    build_ms = (time.perf_counter() - start) * 1000
    rng = np.random.default_rng(1)
    steps = iter(rng.uniform(0.1, 0.5, size=10_000))
    counter = iter(range(10_000))

    def one_move() -> None:
        i = next(counter)
        scorer = f"s{i % N_SCORERS:02d}"
        if i % 3 == 2:
            evaluator.move(scorer, min=float(next(steps)), tag="tag1")
        else:
            evaluator.move(scorer, min=float(next(steps)))

    move_ms = median_ms(one_move, 300)
    rebuild_ms = median_ms(lambda: ThresholdEvaluator(df, tags, evaluator.thresholds), 5)
    verdict = "OK" if move_ms <= MOVE_TARGET_MS else "OVER TARGET"
    print(f"threshold move ({N_PROMPTS} prompts x {N_MODELS} models x {N_SCORERS} scorers): "
          f"median {move_ms:.3f} ms (target <= {MOVE_TARGET_MS:.0f} ms) {verdict}")
    print(f"  baseline: full re-evaluation from the table {rebuild_ms:.1f} ms "
          f"-> move is {rebuild_ms / move_ms:.0f}x faster; first build {build_ms:.1f} ms")


def naive_bootstrap_ms(df: pl.DataFrame, gate: GateConfig) -> float:
    """One np.take + mean bootstrap per scorer, overall only (no tags)."""
    wide = (df.filter(pl.col("model").is_in([gate.incumbent, gate.candidate]))
            .pivot(on="model", index=["prompt_id", "scorer"], values="value"))

    def run() -> None:
        for scorer in gate.primary:
            part = wide.filter(pl.col("scorer") == scorer).drop_nulls()
            d = (part[gate.candidate] - part[gate.incumbent]).to_numpy()
            idx = np.random.default_rng(0).integers(0, len(d), size=(gate.resamples, len(d)))
            np.quantile(d[idx].mean(axis=1), [0.025, 0.975])

    return median_ms(run, 3)


def bench_gate(df: pl.DataFrame, tags: dict, label: str) -> None:
    gate = GateConfig(incumbent="m0", candidate="m1",
                      primary=[f"s{s:02d}" for s in range(N_SCORERS)],
                      margin=0.005, tag_allowance=0.05, resamples=10_000)
    thresholds = {"s00": Threshold(min=0.2)}
    directions = {f"s{s:02d}": ("higher" if s % 2 else "lower") for s in range(N_SCORERS)}
    result = evaluate_gate(df, tags, gate, thresholds, directions)  # warm-up
    gate_ms = median_ms(lambda: evaluate_gate(df, tags, gate, thresholds, directions), 7)
    cpu_ms = median_ms(lambda: evaluate_gate(df, tags, gate, thresholds, directions), 5, cpu=True)
    naive_ms = naive_bootstrap_ms(df, gate)
    verdict = "OK" if gate_ms <= GATE_TARGET_MS else "OVER TARGET"
    print(f"gate, {label} ({N_PROMPTS} prompts x {N_SCORERS} scorers, {gate.resamples} resamples, "
          f"{len(result.tags)} per-tag stats over {N_TAGS} tags): median {gate_ms:.0f} ms "
          f"(target <= {GATE_TARGET_MS:.0f} ms) {verdict}; CPU time {cpu_ms:.0f} ms")
    print(f"  baseline: naive np.take bootstrap, overall scorers only, {naive_ms:.0f} ms "
          f"-> gate with tags is {naive_ms / gate_ms:.1f}x faster; verdict {result.verdict}")


def main() -> None:
    df, tags = synthetic_table()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"table: {df.height} score rows; {os.cpu_count()} CPUs, load average {load:.2f} "
          "(timings are wall-clock medians; a busy machine inflates them)")
    bench_moves(df, tags)
    bench_gate(df, tags, "failed clips miss every scorer")
    df, tags = synthetic_table(gaps="cell")
    bench_gate(df, tags, "every scorer has its own gaps")


if __name__ == "__main__":
    main()

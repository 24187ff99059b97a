"""A judgment follows its clip into a newer run that shows the same video (taken from the cache),
and stays behind when the newer run made the clip afresh."""

from __future__ import annotations

import polars as pl

from workbench.benchmark.folder import Benchmark
from workbench.engine.runner import run_benchmark_sync
from workbench.engine.runs import list_runs
from workbench.judgments.ratings import record_rating
from workbench.run_scoring import score_runs
from workbench.tables.score_table import load_table


def _human(bench: Benchmark) -> pl.DataFrame:
    table = load_table(bench)
    return table.filter(pl.col("scorer") == "human.rating").select("model", "prompt_id", "repeat", "run", "value")


def test_a_rating_carries_over_to_the_same_video_in_a_newer_run_but_not_to_a_new_one(scored_bench):
    bench = Benchmark.load(scored_bench)
    (first,) = [info.run_id for info in list_runs(bench)]
    record_rating(bench, "hands-1", "old", rater="ana", repeat=0, run=first, score=4)
    assert _human(bench).rows() == [("old", "hands-1", 0, first, 4.0)]

    # a second run with two repeats: repeat 0 comes from the cache (the same video), repeat 1 is new
    summary = run_benchmark_sync(bench, repeats=2)
    score_runs(Benchmark.load(scored_bench), workers=1)
    second = summary.run_id
    assert second != first
    bench = Benchmark.load(scored_bench)
    assert _human(bench).rows() == [("old", "hands-1", 0, second, 4.0)]

    # a rating of repeat 1 in the second run does not leak onto anything else
    record_rating(bench, "hands-1", "old", rater="ana", repeat=1, run=second, score=2)
    rows = sorted(_human(Benchmark.load(scored_bench)).rows())
    assert rows == [("old", "hands-1", 0, second, 4.0), ("old", "hands-1", 1, second, 2.0)]

    # the model changes: a third run makes the clip afresh, and what was said no longer applies
    toml = (scored_bench / "benchmark.toml").read_text()
    (scored_bench / "benchmark.toml").write_text(toml.replace("[models.old]", "[models.old]\nnoise = 9.5", 1))
    run_benchmark_sync(Benchmark.load(scored_bench), repeats=2)
    score_runs(Benchmark.load(scored_bench), workers=1)
    assert _human(Benchmark.load(scored_bench)).filter(pl.col("model") == "old").is_empty()

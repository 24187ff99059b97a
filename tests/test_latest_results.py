"""Each prompt's latest result per model, from real runs and scores."""

from __future__ import annotations

from workbench.benchmark.curation import add_prompt
from workbench.benchmark.folder import Benchmark
from workbench.engine.runner import run_benchmark_sync
from workbench.engine.runs import list_runs
from workbench.latest_results import latest_results

EXTRA_MODELS = '''[models.broken]
provider = "synthetic"
failure_rate = 1

[models.late]
provider = "synthetic"

'''


def test_pass_fail_failed_unscored_and_not_run(scored_bench):
    config = scored_bench / "benchmark.toml"
    config.write_text(config.read_text().replace("[thresholds", EXTRA_MODELS + "[thresholds", 1))
    bench = Benchmark.load(scored_bench)
    # between the two models' temporal_flicker (old ~0.98, new ~0.996): old fails, new passes
    bench.set_threshold("temporal_flicker", min=0.99, max=None)
    bench.save_config()
    run_benchmark_sync(Benchmark.load(scored_bench), models=["broken", "late"])  # not scored
    bench = Benchmark.load(scored_bench)
    add_prompt(bench, "A kite in a storm", prompt_id="kite-1")

    results = latest_results(Benchmark.load(scored_bench))
    assert results.models == ("old", "new", "broken", "late")
    first_run, second_run = (info.run_id for info in list_runs(bench))
    for prompt_id in ("hands-1", "smoke-1", "text-1"):
        old, new, broken, late = (result for _model, result in results.for_prompt(prompt_id))
        assert old.outcome == "fail" and "temporal_flicker" in old.reason and "below min 0.99" in old.reason
        assert old.run_id == first_run
        assert new.outcome == "pass" and new.reason is None
        assert broken.outcome == "failed" and "synthetic failure" in broken.reason
        assert broken.run_id == second_run
        assert late.outcome == "unscored"
    assert results.get("kite-1", "old") is None  # never run
    assert [result for _model, result in results.for_prompt("kite-1")] == [None] * 4


def test_no_runs_no_models(tiny_bench):
    results = latest_results(Benchmark.load(tiny_bench))
    assert results.models == () and not results.results

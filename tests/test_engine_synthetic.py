"""End to end with the built-in synthetic provider on a small benchmark."""

from __future__ import annotations

import json

import pytest

from workbench.benchmark.folder import Benchmark
from workbench.engine import latest_job_records, load_run, plan_run, run_benchmark
from workbench.media.video_check import video_problem

pytest.importorskip("workbench.providers.synthetic")


async def test_synthetic_benchmark_runs_caches_and_regenerates_one_edited_prompt(tiny_bench):
    first = await run_benchmark(Benchmark.load(tiny_bench))
    assert first.ok and first.succeeded == 6 and first.provider_calls == 6
    record = load_run(tiny_bench, first.run_id)
    for job in record.jobs:
        assert video_problem(job.video) is None
    assert record.manifest["benchmark"] == "tiny"
    assert record.manifest["model_configs"]["old"] == {"provider": "synthetic", "description": "",
                                                       "flicker": 0.05}

    again = await run_benchmark(Benchmark.load(tiny_bench))
    assert again.provider_calls == 0 and again.cached == 6

    prompts = tiny_bench / "prompts.jsonl"
    lines = prompts.read_text().splitlines()
    record_1 = json.loads(lines[1])
    record_1["text"] = "Thick smoke rises from a chimney at dusk"
    lines[1] = json.dumps(record_1)
    prompts.write_text("\n".join(lines) + "\n")
    bench = Benchmark.load(tiny_bench)
    assert plan_run(bench).to_generate == 2  # smoke-1, for both models
    third = await run_benchmark(bench)
    assert third.provider_calls == 2 and third.cached == 4 and third.ok
    latest = latest_job_records(tiny_bench)
    assert latest[("new", "smoke-1", 0)][0] == third.run_id
    assert len(latest) == 6

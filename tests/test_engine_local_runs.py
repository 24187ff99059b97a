"""Running benchmarks against a local fake provider: limits, retries, failures, cache, budget, secrets."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from tests.engine_support.bench_folder import load, write_bench
from tests.engine_support.fake_local import FakeLocalProvider
from tests.engine_support.fixtures import *  # noqa: F401,F403 - fixtures
from workbench.engine import (
    BudgetExceeded, RetryPolicy, RunInProgress, list_runs, load_run, run_benchmark,
)
from workbench.engine import events as ev
from workbench.media.video_check import video_problem

LOG = FakeLocalProvider.log


def cache_files(root):
    folder = root / ".workbench-cache" / "videos"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_global_and_per_model_concurrency_limits_hold(tmp_path):
    root = write_bench(tmp_path / "b", {
        "solo": {"provider": "fake-local", "latency": 0.03, "max_concurrency": 1},
        "wide": {"provider": "fake-local", "latency": 0.03, "style": "wide"},
    }, 12)
    summary = await run_benchmark(load(root), concurrency=3)
    assert summary.succeeded == 24 and summary.ok
    assert LOG.max_active["solo"] == 1
    assert LOG.max_active_total == 3  # the global limit is reached, never passed
    assert LOG.max_active["wide"] >= 2


async def test_requests_per_minute_spaces_a_models_calls(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "requests_per_minute": 1200}}, 5)
    await run_benchmark(load(root), concurrency=5)
    times = sorted(call[3] for call in LOG.calls)
    # Call k starts no earlier than k slots (50 ms each) after the first.
    offsets = [t - times[0] for t in times]
    assert len(times) == 5 and all(off >= k * 0.05 - 0.005 for k, off in enumerate(offsets)), offsets


async def test_transient_errors_are_retried_honouring_retry_after(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "transient_failures": 2,
                                              "retry_after": 0.12}}, 1)
    seen = []
    summary = await run_benchmark(load(root), retry=RetryPolicy(max_attempts=5, base=0.0001, cap=0.0001),
                                  on_event=seen.append)
    assert summary.ok
    assert [e.message for e in seen if e.kind == ev.JOB_RETRYING] == ["attempt 2 of 5", "attempt 3 of 5"]
    # the job's events say which attempt is starting and how long the job has taken so far
    job_events = [e for e in seen if e.model == "m"]
    assert [(e.kind, e.attempt) for e in job_events] == [
        (ev.JOB_STARTED, 1), (ev.JOB_RETRYING, 2), (ev.JOB_RETRYING, 3), (ev.JOB_SUCCEEDED, None)]
    assert job_events[0].elapsed_s is not None and job_events[0].elapsed_s < 0.1
    assert job_events[-1].elapsed_s >= 0.23  # two Retry-After waits of 0.12 s
    assert all(e.elapsed_s is None for e in seen if e.model is None)
    times = [call[3] for call in LOG.calls]
    assert len(times) == 3 and all(b - a >= 0.115 for a, b in zip(times, times[1:]))
    job = load_run(root, summary.run_id).job("m", "p00")
    assert job.status == "succeeded" and job.attempts == 3


async def test_a_job_that_keeps_failing_transiently_fails_and_the_run_goes_on(tmp_path):
    root = write_bench(tmp_path / "b", {"flaky": {"provider": "fake-local", "transient_failures": 99},
                                        "fine": {"provider": "fake-local", "style": "fine"}}, 2)
    summary = await run_benchmark(load(root), retry=RetryPolicy(max_attempts=3, base=0.001, cap=0.001))
    assert (summary.succeeded, summary.failed, summary.status) == (2, 2, "finished")
    assert not summary.ok
    assert len([c for c in LOG.calls if c[0] == "flaky"]) == 6  # 3 attempts x 2 jobs
    failure = summary.failures[0]
    assert failure.model == "flaky" and "gave up after 3 attempts" in failure.error and "429" in failure.error
    assert load_run(root, summary.run_id).job("flaky", "p00").attempts == 3  # journaled with the failure


async def test_permanent_errors_bugs_and_bad_files_fail_only_their_job(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {
        "provider": "fake-local", "fail_prompts": ["p00"], "crash_prompts": ["p01"],
        "garbage_prompts": ["p02"]}}, 4)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert (summary.succeeded, summary.failed) == (1, 3)
    assert len(LOG.calls) == 4  # permanent errors are not retried
    record = load_run(root, summary.run_id)
    errors = {j.prompt_id: j.error for j in record.jobs}
    assert "content policy" in errors["p00"]
    assert errors["p01"] == "ZeroDivisionError: fake provider bug"
    assert "does not decode" in errors["p02"]
    assert errors["p03"] is None
    assert all(j.video is None for j in record.jobs if j.status == "failed")
    videos = root / "runs" / summary.run_id / "videos" / "m"
    assert sorted(p.name for p in videos.iterdir()) == ["p03--r0.mp4"]
    assert all(not name.startswith(".") for name in cache_files(root))  # no temp files left


async def test_second_run_makes_no_calls_and_links_cached_clips(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local"}, "n": {"provider": "fake-local",
                                                                              "style": "n"}}, 3)
    first = await run_benchmark(load(root))
    assert len(LOG.calls) == 6 and first.provider_calls == 6
    LOG.reset()
    second = await run_benchmark(load(root))
    assert LOG.calls == [] and second.provider_calls == 0
    assert second.run_id != first.run_id and second.cached == 6 and second.ok
    for job in load_run(root, second.run_id).jobs:
        assert job.cached and job.cost == 0.0
        cached = root / ".workbench-cache" / "videos" / f"{job.key}.mp4"
        assert os.path.samefile(job.video, cached)  # a hardlink, not a copy
        assert video_problem(job.video) is None


async def test_editing_one_prompt_regenerates_only_that_prompt(tmp_path):
    prompts = [{"id": f"p{i}", "text": f"scene {i}"} for i in range(4)]
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local"}}, prompts)
    await run_benchmark(load(root))
    prompts[2]["text"] = "scene 2, now at night"
    write_bench(root, {"m": {"provider": "fake-local"}}, prompts)
    LOG.reset()
    summary = await run_benchmark(load(root))
    assert LOG.prompts_called() == ["p2"]
    assert summary.cached == 3 and summary.succeeded == 4


async def test_identical_clips_in_one_run_are_made_once(tmp_path):
    root = write_bench(tmp_path / "b", {"a": {"provider": "fake-local", "latency": 0.02},
                                        "b": {"provider": "fake-local", "latency": 0.02}}, 3)
    summary = await run_benchmark(load(root), concurrency=6)
    assert summary.succeeded == 6 and len(LOG.calls) == 3 and summary.cached == 3


async def test_a_run_estimated_over_budget_is_refused(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "price_per_clip": 1.0}}, 3)
    with pytest.raises(BudgetExceeded, match=r"estimated cost \$3.00 is over the budget of \$2.00"):
        await run_benchmark(load(root), budget=2)
    assert LOG.calls == [] and not (root / "runs").exists()
    write_bench(root, {"m": {"provider": "fake-local", "price_per_clip": 1.0}}, 3, run={"budget": 1.5})
    with pytest.raises(BudgetExceeded):
        await run_benchmark(load(root))


async def test_submitting_stops_once_the_budget_is_spent(tmp_path):
    # The provider bills more than the estimate: after the first clip the budget is gone.
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "price_per_clip": 1.0,
                                              "cost": 2.5}}, 3)
    seen = []
    summary = await run_benchmark(load(root), budget=3, concurrency=1, on_event=seen.append)
    assert (summary.succeeded, summary.skipped, summary.failed) == (1, 2, 0)
    assert summary.cost == pytest.approx(2.5) and len(LOG.calls) == 1
    record = load_run(root, summary.run_id)
    assert [j.status for j in record.jobs] == ["succeeded", "skipped", "skipped"]
    assert record.jobs[1].error == "skipped: budget"
    assert record.manifest["cost"] == pytest.approx(2.5)
    assert [e.kind for e in seen].count(ev.JOB_SKIPPED) == 2


async def test_secrets_never_reach_journal_manifest_or_errors(tmp_path, monkeypatch):
    secret = "sk-live-7Hq9ZpQ2xV4"
    monkeypatch.setenv("WB_FAKE_KEY", secret)
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "echo_secret_env": "WB_FAKE_KEY"}}, 2)
    seen = []
    summary = await run_benchmark(load(root), on_event=seen.append)
    assert summary.failed == 2
    run_dir = root / "runs" / summary.run_id
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert all(secret not in f.error and "[redacted]" in f.error for f in summary.failures)
    assert all(secret not in (e.message or "") for e in seen)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["model_configs"]["m"]["echo_secret_env"] == "WB_FAKE_KEY"  # the name is fine


async def test_progress_events_count_every_job(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "fail_prompts": ["p01"]}}, 3)
    seen = []
    await run_benchmark(load(root), on_event=seen.append)
    kinds = [e.kind for e in seen]
    assert kinds[0] == ev.RUN_STARTED and kinds[-1] == ev.RUN_FINISHED
    assert kinds.count(ev.JOB_STARTED) == 3 and kinds.count(ev.JOB_SUCCEEDED) == 2
    assert kinds.count(ev.JOB_FAILED) == 1
    final = seen[-1].progress_of("m")
    assert (final.total, final.done, final.succeeded, final.failed, final.running) == (3, 3, 2, 1, 0)
    assert len({e.run_id for e in seen}) == 1


async def test_cancelled_run_is_interrupted_then_resumed_without_redoing_work(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "latency": 0.15}}, 6)
    task = asyncio.ensure_future(run_benchmark(load(root), concurrency=2))
    while len(LOG.calls) < 4:  # two done, two in progress
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [info] = list_runs(root)
    assert info.status == "interrupted"
    record = load_run(root, info.run_id)
    done = {j.prompt_id for j in record.jobs if j.status == "succeeded"}
    assert 2 <= len(done) < 6 and {j.status for j in record.jobs} <= {"succeeded", "pending"}
    assert not [n for n in cache_files(root) if n.startswith(".")]  # no partial clip
    videos = list((info.path / "videos" / "m").iterdir())
    assert sorted(p.name for p in videos) == sorted(f"{p}--r0.mp4" for p in done)

    LOG.reset()
    summary = await run_benchmark(load(root), concurrency=2)
    assert summary.run_id == info.run_id and summary.resumed and summary.ok
    assert sorted(LOG.prompts_called()) == sorted({f"p0{i}" for i in range(6)} - done)
    manifest = json.loads((info.path / "manifest.json").read_text())
    assert manifest["status"] == "finished" and manifest["sessions"] == 2
    assert manifest["jobs"]["succeeded"] == 6


async def test_a_second_concurrent_run_is_refused(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "latency": 0.2}}, 2)
    first = asyncio.ensure_future(run_benchmark(load(root)))
    while not LOG.calls:
        await asyncio.sleep(0.01)
    with pytest.raises(RunInProgress, match="another `workbench run` is in progress"):
        await run_benchmark(load(root))
    assert list_runs(root)[0].status == "running"
    assert (await first).ok

"""Running benchmarks against a loopback hosted API: submit, poll, download, resume."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest

from tests.engine_support.bench_folder import load, write_bench
from tests.engine_support.fixtures import *  # noqa: F401,F403 - fixtures
from workbench.engine import RetryPolicy, list_runs, load_run, run_benchmark
from workbench.engine.journal import read_journal
from workbench.media.video_check import video_problem


def remote(server, **extra):
    return {"provider": "fake-remote", "base_url": server.base_url, "poll_interval": 0.02, **extra}


def configure(server, **options):
    server.api.config.update(options)


def submitted_prompts(server):
    return sorted(s["prompt_id"] for s in server.stats()["submits"])


async def test_jobs_are_submitted_once_polled_and_downloaded(tmp_path, remote_server):
    configure(remote_server, latency=0.1)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server, price_per_clip=0.2)}, 4)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.ok and summary.succeeded == 4
    assert submitted_prompts(remote_server) == ["p00", "p01", "p02", "p03"]
    assert summary.cost == pytest.approx(0.8)
    record = load_run(root, summary.run_id)
    for job in record.jobs:
        assert job.provider_job_id.startswith("job-") and video_problem(job.video) is None
        assert job.cost == pytest.approx(0.2)
    events = read_journal(record.path / "journal.jsonl").events
    for prompt in ("p00", "p01"):
        kinds = [e["event"] for e in events if e.get("prompt_id") == prompt]
        assert kinds == ["submitting", "submitted", "succeeded"]
    submitted = next(e for e in events if e["event"] == "submitted")
    assert submitted["state"]["status_url"].startswith("/v1/jobs/")


async def test_submit_429_honours_retry_after(tmp_path, remote_server):
    configure(remote_server, submit_429=2, retry_after=0.2)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server)}, 1)
    began = time.monotonic()
    summary = await run_benchmark(load(root), retry=RetryPolicy(base=0.0001, cap=0.0001))
    assert summary.ok
    assert time.monotonic() - began >= 0.4  # two waits of Retry-After: 0.2
    stats = remote_server.stats()
    assert stats["submit_requests"] == 3 and len(stats["submits"]) == 1
    assert load_run(root, summary.run_id).jobs[0].attempts == 3


async def test_transient_poll_errors_back_off_without_resubmitting(tmp_path, remote_server):
    configure(remote_server, poll_503=2)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server)}, 2)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.ok and len(remote_server.stats()["submits"]) == 2
    assert remote_server.stats()["polls"] >= 6


async def test_a_job_the_provider_fails_is_recorded_and_others_finish(tmp_path, remote_server):
    configure(remote_server, fail_prompts=["p01"], latency=0.05)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server)}, 3)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert (summary.succeeded, summary.failed) == (2, 1)
    [failure] = summary.failures
    assert failure.prompt_id == "p01" and "could not render" in failure.error
    events = read_journal(root / "runs" / summary.run_id / "journal.jsonl").events
    failed = next(e for e in events if e["event"] == "failed")
    assert failed["phase"] == "provider" and failed["resumable"] is False


async def test_a_broken_download_is_fetched_again_not_resubmitted(tmp_path, remote_server):
    configure(remote_server, broken_downloads=1)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server)}, 2)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.ok
    stats = remote_server.stats()
    assert len(stats["submits"]) == 2 and stats["downloads"] == 4


async def test_download_failure_leaves_the_job_open_for_the_next_run(tmp_path, remote_server):
    configure(remote_server, broken_downloads=99)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server, price_per_clip=1.0)}, 2)
    first = await run_benchmark(load(root), retry=FAST_RETRY)
    assert first.failed == 2 and first.status == "finished"
    assert all("next run polls it again" in f.error for f in first.failures)
    assert not list((root / "runs" / first.run_id / "videos").rglob("*.mp4"))

    configure(remote_server, broken_downloads=0)
    from workbench.engine import plan_run
    plan = plan_run(load(root))
    assert plan.estimated_cost == 0 and sum(m.in_flight for m in plan.per_model) == 2
    second = await run_benchmark(load(root), retry=FAST_RETRY)
    assert second.ok and second.run_id != first.run_id and second.cost == 0
    assert len(remote_server.stats()["submits"]) == 2  # never paid twice
    events = read_journal(root / "runs" / second.run_id / "journal.jsonl").events
    adopted = [e for e in events if e["event"] == "submitted"]
    assert {e["adopted_from"] for e in adopted} == {first.run_id}
    assert all(e["charged"] == 0 for e in adopted)


async def test_a_job_past_its_poll_deadline_is_polled_again_later(tmp_path, remote_server):
    configure(remote_server, latency=30)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server, timeout_total=0.2)}, 1)
    first = await run_benchmark(load(root), retry=FAST_RETRY)
    assert first.failed == 1 and "after 0.2 s of polling" in first.failures[0].error
    configure(remote_server, latency=0)
    second = await run_benchmark(load(root), retry=FAST_RETRY)
    assert second.ok and len(remote_server.stats()["submits"]) == 1


async def test_an_echoed_key_is_scrubbed_everywhere(tmp_path, remote_server, monkeypatch):
    secret = "fk-4f9a1c77e0d2b6aa"
    monkeypatch.setenv("WB_REMOTE_KEY", secret)
    configure(remote_server, reject_prompts=["p00"])
    root = write_bench(tmp_path / "b", {"r": remote(remote_server, api_key_env="WB_REMOTE_KEY")}, 2)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert (summary.succeeded, summary.failed) == (1, 1)
    error = summary.failures[0].error
    assert "invalid credentials" in error and "[redacted]" in error and secret not in error
    for path in (root / "runs").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    manifest = json.loads((root / "runs" / summary.run_id / "manifest.json").read_text())
    assert manifest["model_configs"]["r"]["api_key_env"] == "WB_REMOTE_KEY"


async def test_an_unreachable_api_fails_its_jobs_without_charging(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = write_bench(tmp_path / "b", {"r": {"provider": "fake-remote", "base_url": f"http://127.0.0.1:{port}",
                                              "price_per_clip": 1.0}}, 2)
    summary = await run_benchmark(load(root), retry=RetryPolicy(max_attempts=2, base=0.001, cap=0.001))
    assert summary.failed == 2 and summary.cost == 0
    assert all("ConnectError" in f.error and "2 attempts" in f.error for f in summary.failures)
    events = read_journal(root / "runs" / summary.run_id / "journal.jsonl").events
    assert {e["phase"] for e in events if e["event"] == "failed"} == {"submit"}


async def test_an_interrupted_run_polls_its_submitted_jobs_on_resume(tmp_path, remote_server):
    configure(remote_server, latency=0.6)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server)}, 4)
    task = asyncio.ensure_future(run_benchmark(load(root), retry=FAST_RETRY))
    while len(remote_server.stats()["submits"]) < 4:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [info] = list_runs(root)
    assert info.status == "interrupted"
    assert {j.status for j in load_run(root, info.run_id).jobs} == {"submitted"}

    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.run_id == info.run_id and summary.ok
    assert len(remote_server.stats()["submits"]) == 4  # polled, not submitted again
    assert all(video_problem(j.video) is None for j in load_run(root, info.run_id).jobs)


async def test_fake_server_speaks_plain_http(remote_server):
    async with httpx.AsyncClient(base_url=remote_server.base_url) as client:
        answer = await client.post("/v1/jobs", json={"prompt_id": "x"})
        job_id = answer.json()["id"]
        status = (await client.get(f"/v1/jobs/{job_id}")).json()
        video = await client.get(f"/v1/jobs/{job_id}/video")
    assert status["status"] == "succeeded" and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"


async def test_stopping_during_a_submit_waits_for_its_job_id(tmp_path, remote_server):
    """Ctrl-C while a submit is on the wire: its answer is still journaled, so resume polls it."""
    configure(remote_server, submit_delay=0.3, latency=0.1)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server)}, 1)
    task = asyncio.ensure_future(run_benchmark(load(root), retry=FAST_RETRY))
    while not remote_server.stats()["submits"]:
        await asyncio.sleep(0.005)
    task.cancel()  # the provider has the job; its answer is still 0.3 s away
    with pytest.raises(asyncio.CancelledError):
        await task
    [info] = list_runs(root)
    [job] = load_run(root, info.run_id).jobs
    assert job.status == "submitted" and job.provider_job_id == "job-1"

    configure(remote_server, submit_delay=0)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.ok and summary.run_id == info.run_id
    assert len(remote_server.stats()["submits"]) == 1


async def test_a_submit_cut_off_by_a_crash_is_never_sent_again(tmp_path, remote_server):
    root = write_bench(tmp_path / "b", {"r": remote(remote_server, price_per_clip=0.5)}, 2)
    first = await run_benchmark(load(root), retry=FAST_RETRY)
    run_dir = root / "runs" / first.run_id
    # Rewrite history: the process died after "submitting" p01 and before the answer came.
    lines = (run_dir / "journal.jsonl").read_text().splitlines()
    kept = [ln for ln in lines if '"p01"' not in ln or '"submitting"' in ln]
    kept = [ln for ln in kept if '"run_finished"' not in ln]
    (run_dir / "journal.jsonl").write_text("\n".join(kept) + "\n")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    (run_dir / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    for video in (root / ".workbench-cache" / "videos").iterdir():  # nothing cached for p01
        if video.name.startswith(load_run(root, first.run_id).job("r", "p01").key or "?"):
            video.unlink()
    (run_dir / "videos" / "r" / "p01--r0.mp4").unlink()

    from workbench.engine import plan_run
    plan = plan_run(load(root))
    assert plan.resume_run_id == first.run_id and plan.per_model[0].uncertain == 1
    assert plan.estimated_cost == 0
    submits_before = len(remote_server.stats()["submits"])
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.run_id == first.run_id and summary.failed == 1
    assert "not submitted again" in summary.failures[0].error
    assert len(remote_server.stats()["submits"]) == submits_before


async def test_a_lost_clip_of_a_done_hosted_job_is_downloaded_again_not_paid_again(tmp_path, remote_server):
    root = write_bench(tmp_path / "b", {"r": remote(remote_server, price_per_clip=1.0)}, 2)
    first = await run_benchmark(load(root), retry=FAST_RETRY)
    run_dir = root / "runs" / first.run_id
    # As after a power cut that lost the last rename: the journal says done, the files are gone.
    manifest = json.loads((run_dir / "manifest.json").read_text())
    (run_dir / "manifest.json").write_text(json.dumps({**manifest, "status": "interrupted"}))
    for path in [*(root / ".workbench-cache" / "videos").iterdir(), *(run_dir / "videos" / "r").iterdir()]:
        path.unlink()
    from workbench.engine import plan_run
    plan = plan_run(load(root))
    assert plan.resume_run_id == first.run_id and plan.estimated_cost == 0
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.ok and summary.run_id == first.run_id
    assert len(remote_server.stats()["submits"]) == 2 and remote_server.stats()["downloads"] == 4
    assert all(video_problem(j.video) is None for j in load_run(root, first.run_id).jobs)

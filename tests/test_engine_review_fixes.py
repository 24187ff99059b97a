"""Run-engine defects found in review, each reproduced against real runs, files and servers.

* a submit left in doubt by one run is never paid for again by a later, different run;
* Ctrl-C while a submit fails "maybe delivered" leaves the job in doubt, not unsubmitted;
* short secret values and structural fields (keys, job ids, hashes) are never redacted;
* ``submitting`` is journaled only when a request may really be on the wire;
* error text is scrubbed before it is cut to length;
* a failed final manifest write is a clear RunStorageError.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine_support.bench_folder import load, write_bench
from tests.engine_support.clips import sample_mp4_bytes
from tests.engine_support.fake_remote import FakeRemoteParams, FakeRemoteProvider
from tests.engine_support.fake_remote_server import FakeRemoteServer
from tests.engine_support.fixtures import *  # noqa: F401,F403 - fixtures
from tests.fake_providers import Fault
from tests.fake_providers.replicate import FakeReplicate
from workbench.cli.main import main as cli_main
from workbench.engine import RetryPolicy, events as ev, list_runs, load_run, plan_run, run_benchmark
from workbench.engine import session as session_module
from workbench.engine.backoff import CancelledInFlight, RetriesExhausted, call_finishing_on_cancel
from workbench.engine.journal import read_journal, replay
from workbench.engine.redaction import Scrubber
from workbench.engine.runner import UNCERTAIN_SUBMIT, RunStorageError, run_benchmark_sync
from workbench.engine.session import ERROR_CHARS, describe_error
from workbench.media.video_check import video_problem
from workbench.providers.base import PermanentError, TransientError
from workbench.secrets import REDACTED, remember_secret

FAST_RETRY = RetryPolicy(max_attempts=5, base=0.002, cap=0.01)


def remote(server: FakeRemoteServer, **extra):
    return {"provider": "fake-remote", "base_url": server.base_url, "poll_interval": 0.02, **extra}


def submits_of(server: FakeRemoteServer, prompt_id: str, repeat: int = 0) -> int:
    return sum(1 for s in server.stats()["submits"]
               if s["prompt_id"] == prompt_id and s["repeat"] == repeat)


def journal_of(root: Path, run_id: str) -> list[dict]:
    return read_journal(root / "runs" / run_id / "journal.jsonl").events


def only_run(root: Path) -> str:
    [info] = list_runs(root)
    return info.run_id


async def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.005)


#: How late the fake API answers the submits that a stopped run leaves on the wire.
SUBMIT_DELAY = 0.5


@contextlib.contextmanager
def slow_submit_server() -> Iterator[FakeRemoteServer]:
    """A fake API whose submits answer late; on exit it waits for those answers to go out."""
    with FakeRemoteServer(submit_delay=SUBMIT_DELAY) as server:
        began = time.monotonic()
        yield server
        time.sleep(max(0.0, began + SUBMIT_DELAY + 0.1 - time.monotonic()))


async def stop_while_submits_hang(root: Path, server: FakeRemoteServer, count: int) -> None:
    """Start a run, stop it while ``count`` submits are on the wire and unanswered."""
    task = asyncio.ensure_future(run_benchmark(load(root), retry=FAST_RETRY))
    await wait_until(lambda: len(server.stats()["submits"]) >= count)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# ---------------------------------------------------------- 1. doubt across runs
@pytest.mark.parametrize("next_run", ["edited-prompt", "other-repeats", "old-run-failed"])
def test_a_submit_in_doubt_is_not_paid_again_by_a_different_later_run(tmp_path, monkeypatch, next_run):
    monkeypatch.setattr(session_module, "SUBMIT_GRACE", 0.05)  # do not wait for the late answers
    with slow_submit_server() as server:
        root = write_bench(tmp_path / "b", {"r": remote(server, price_per_clip=1.0)}, 2)
        asyncio.run(stop_while_submits_hang(root, server, 2))
        first = only_run(root)
        states = replay(journal_of(root, first))
        assert {s.status for s in states.values()} == {"submitting"}  # the provider has both
        server.api.config["submit_delay"] = 0.0

        repeats = None
        if next_run == "edited-prompt":  # p01 changes; p00 is the very same clip
            (root / "prompts.jsonl").write_text(
                json.dumps({"id": "p00", "text": "prompt number 0"}) + "\n"
                + json.dumps({"id": "p01", "text": "prompt number 1, edited"}) + "\n")
        elif next_run == "other-repeats":
            repeats = 2
        else:
            manifest_path = root / "runs" / first / "manifest.json"
            manifest = json.loads(manifest_path.read_text())
            manifest_path.write_text(json.dumps({**manifest, "status": "failed"}))

        plan = plan_run(load(root), repeats=repeats)
        assert plan.resume_run_id is None  # a new run, not the one that sent the submits
        in_doubt = 1 if next_run == "edited-prompt" else 2
        new_clips = {"edited-prompt": 1, "other-repeats": 2, "old-run-failed": 0}[next_run]
        assert plan.per_model[0].uncertain == in_doubt and plan.estimated_cost == new_clips
        summary = run_benchmark_sync(load(root), repeats=repeats, retry=FAST_RETRY)
        assert submits_of(server, "p00") == 1  # not paid twice
        assert submits_of(server, "p01") == (2 if next_run == "edited-prompt" else 1)
        assert summary.failed == in_doubt and summary.cost == new_clips
        assert len(server.stats()["submits"]) == 2 + new_clips
        failure = next(f for f in summary.failures if f.prompt_id == "p00" and f.repeat == 0)
        assert first in failure.error and "--retry-uncertain" in failure.error
        assert "dashboard" in failure.error


def test_the_doubt_outlives_later_runs_until_retry_uncertain_is_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(session_module, "SUBMIT_GRACE", 0.05)
    with slow_submit_server() as server:
        root = write_bench(tmp_path / "b", {"r": remote(server, price_per_clip=1.0)}, 1)
        asyncio.run(stop_while_submits_hang(root, server, 1))
        server.api.config["submit_delay"] = 0.0
        (root / "prompts.jsonl").write_text(  # a new prompt: the plan differs, p00 does not
            json.dumps({"id": "p00", "text": "prompt number 0"}) + "\n"
            + json.dumps({"id": "extra", "text": "one more"}) + "\n")

        for _ in range(2):  # each a new, finished run: the doubt is carried forward, not forgotten
            summary = run_benchmark_sync(load(root), retry=FAST_RETRY)
            assert summary.status == "finished" and [f.prompt_id for f in summary.failures] == ["p00"]
        assert submits_of(server, "p00") == 1

        capsys.readouterr()
        code = cli_main(["run", str(root), "--yes", "--retry-uncertain"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "submitted again (--retry-uncertain)" in out
        assert submits_of(server, "p00") == 2 and submits_of(server, "extra") == 1
        latest = load_run(root, list_runs(root)[-1].run_id).job("r", "p00")
        assert latest.status == "succeeded" and video_problem(latest.video) is None

        plan = plan_run(load(root))  # settled: the clip is cached, nothing is in doubt
        assert plan.per_model[0].uncertain == 0 and plan.per_model[0].cached == 2


def test_retry_uncertain_resubmits_within_the_resumed_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(session_module, "SUBMIT_GRACE", 0.05)
    with slow_submit_server() as server:
        root = write_bench(tmp_path / "b", {"r": remote(server)}, 2)
        asyncio.run(stop_while_submits_hang(root, server, 2))
        server.api.config["submit_delay"] = 0.0
        run_id = only_run(root)

        assert cli_main(["run", str(root), "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert f"resuming run {run_id}" in out and "--retry-uncertain submits them again" in out
        assert "--retry-uncertain" in UNCERTAIN_SUBMIT

        summary = run_benchmark_sync(load(root), retry=FAST_RETRY, retry_uncertain=True)
        assert summary.run_id == run_id and summary.resumed and summary.ok
        assert submits_of(server, "p00") == 2 and submits_of(server, "p01") == 2
        assert all(video_problem(j.video) is None for j in load_run(root, run_id).jobs)


# ------------------------------------------------- 2. Ctrl-C, then "maybe delivered"
async def test_cancel_then_a_maybe_delivered_error_is_in_flight_not_unsent():
    async def dropped_after_send():
        await asyncio.sleep(0.1)
        raise TransientError("connection dropped after the request was sent", maybe_delivered=True)

    async def refused_before_send():
        await asyncio.sleep(0.1)
        raise TransientError("could not connect")

    for call, expected in ((dropped_after_send, CancelledInFlight), (refused_before_send, None)):
        task = asyncio.ensure_future(call_finishing_on_cancel(call, FAST_RETRY, grace=5.0))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        assert isinstance(info.value, CancelledInFlight) == (expected is CancelledInFlight)


async def test_stopping_a_run_whose_submit_then_times_out_keeps_the_job_in_doubt(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_review_fixes_token_123")
    async with FakeReplicate(api_key="r8_review_fixes_token_123",
                             faults={"submit": [Fault("slow", delay=1.5)]}) as fake:
        table = {"provider": "replicate", "base_url": fake.base_url, "model": "acme/video-model",
                 "timeout": 0.4, "poll_interval": 0.01}
        root = write_bench(tmp_path / "b", {"cand": table}, 1)
        task = asyncio.ensure_future(run_benchmark(load(root), retry=FAST_RETRY))
        await wait_until(lambda: fake.submits >= 1)  # the provider has the job; no answer yet
        task.cancel()  # the submit then fails "no answer in time": it may have been delivered
        with pytest.raises(asyncio.CancelledError):
            await task
        run_id = only_run(root)
        [state] = replay(journal_of(root, run_id)).values()
        assert state.status == "submitting" and state.uncertain  # not "unsubmitted"

        summary = await run_benchmark(load(root), retry=FAST_RETRY)
        assert summary.run_id == run_id and summary.failed == 1
        assert summary.failures[0].error == UNCERTAIN_SUBMIT
        assert fake.submits == 1


# ---------------------------------------------- 3. short secrets, structural fields
async def test_a_short_passed_through_value_corrupts_no_key_or_job_id(tmp_path, monkeypatch, remote_server):
    source = tmp_path / "source.mp4"
    source.write_bytes(sample_mp4_bytes())
    monkeypatch.setenv("WB_REVIEW_AUTH", "1")  # a flag, named like a secret, passed to a program
    copier = "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])"
    models = {
        "r": remote(remote_server),
        "c": {"provider": "command", "env": ["WB_REVIEW_AUTH"],
              "argv": [sys.executable, "-c", copier, str(source), "{output}"]},
    }
    root = write_bench(tmp_path / "b", models, 1)
    plan = plan_run(load(root))
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.ok
    events = journal_of(root, summary.run_id)
    keys = {(j.model, j.prompt_id, j.repeat): j.key for j in plan.jobs}
    for event in events:
        if "key" in event:
            assert event["key"] == keys[(event["model"], event["prompt_id"], event["repeat"])]
    assert "job-1" in {e.get("job_id") for e in events}
    assert REDACTED not in (root / "runs" / summary.run_id / "journal.jsonl").read_text()


async def test_structural_fields_are_kept_while_the_same_secret_is_scrubbed_from_errors(
        tmp_path, monkeypatch, remote_server):
    remote_server.api.config["reject_prompts"] = ["p00"]  # its 400 echoes the Authorization header
    root = write_bench(tmp_path / "b", {"r": remote(remote_server, api_key_env="WB_REVIEW_KEY")}, 2)
    bench = load(root)
    plan = plan_run(bench)
    good = next(j for j in plan.jobs if j.prompt_id == "p01")
    secret = good.key[10:30]  # an unlucky key: 20 characters that also occur in a cache key
    monkeypatch.setenv("WB_REVIEW_KEY", secret)

    summary = await run_benchmark(bench, retry=FAST_RETRY)
    assert summary.succeeded == 1 and summary.failed == 1
    run_dir = root / "runs" / summary.run_id
    failure = summary.failures[0]
    assert secret not in failure.error and REDACTED in failure.error  # free text: scrubbed
    record = load_run(root, summary.run_id)
    assert record.job("r", "p01").key == good.key  # structural: intact
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["prompts_sha256"] == bench.prompts_hash()
    assert manifest["run_id"] == summary.run_id
    journal_text = (run_dir / "journal.jsonl").read_text()
    assert journal_text.count(secret) == journal_text.count(good.key)  # only inside the key itself

    second = plan_run(load(root))  # the next run finds the clip by its key
    assert second.actions[good.id] == "cached"


# ------------------------------------------------------ 4. what "submitting" means
async def test_jobs_waiting_for_the_rate_limiter_are_not_journaled_as_submitting(tmp_path, remote_server):
    models = {"r": remote(remote_server, requests_per_minute=20)}  # a call every 3 s
    root = write_bench(tmp_path / "b", models, 3, run={"concurrency": 3})
    task = asyncio.ensure_future(run_benchmark(load(root), retry=FAST_RETRY))
    try:
        await wait_until(lambda: len(remote_server.stats()["submits"]) == 1)
        await asyncio.sleep(0.2)  # the other two are waiting for their slot: a kill now...
        states = replay(journal_of(root, only_run(root)))
        doubtful = [ident for ident, s in states.items() if s.status == "submitting"]
        sent = {s["prompt_id"] for s in remote_server.stats()["submits"]}
        assert {ident[1] for ident in doubtful} <= sent  # ...leaves in doubt only what was sent
        assert plan_run(load(root)).per_model[0].uncertain == len(doubtful) <= 1
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(remote_server.stats()["submits"]) == 1


async def test_a_backoff_wait_after_a_refused_submit_is_journaled_as_unsubmitted(tmp_path, remote_server):
    remote_server.api.config.update(submit_429=1, retry_after=0.6)
    root = write_bench(tmp_path / "b", {"r": remote(remote_server)}, 1)
    task = asyncio.ensure_future(run_benchmark(load(root), retry=FAST_RETRY))
    await wait_until(lambda: remote_server.stats()["submit_requests"] == 1)
    await asyncio.sleep(0.2)  # in the Retry-After wait: nothing is on the wire
    [state] = replay(journal_of(root, only_run(root))).values()
    assert state.status == "pending" and not state.uncertain
    summary = await task
    assert summary.ok
    kinds = [e["event"] for e in journal_of(root, summary.run_id) if e.get("prompt_id") == "p00"]
    assert kinds == ["submitting", "unsubmitted", "submitting", "submitted", "succeeded"]


# ---------------------------------------------------- 5. scrub, then cut to length
def test_a_key_straddling_the_length_limit_never_leaks_in_part():
    token = "tok_" + "S3CR3T" * 6
    remember_secret(token)
    header = "prog exited with status 1; last output:\n"
    for pad in range(ERROR_CHARS - len(header) - len(token), ERROR_CHARS - len(header) + 2):
        error = PermanentError(header + "y" * pad + token)
        for text in (describe_error(error), describe_error(RetriesExhausted(error, 5))):
            assert "tok_" not in text and len(text) <= ERROR_CHARS, pad


def test_a_provider_reported_key_is_scrubbed_before_the_cut(monkeypatch):
    monkeypatch.setenv("WB_REVIEW_PROVIDER_KEY", "pk_only_this_provider_knows_0042")
    provider = FakeRemoteProvider("r", FakeRemoteParams(base_url="http://127.0.0.1:9",
                                                        api_key_env="WB_REVIEW_PROVIDER_KEY"))
    scrubber = Scrubber([provider])
    error = PermanentError("HTTP 401: " + "z" * (ERROR_CHARS - 20) + "pk_only_this_provider_knows_0042")
    text = describe_error(error, scrubber.text)
    assert "pk_only" not in text and len(text) == ERROR_CHARS


async def test_a_program_echoing_its_token_at_the_cut_leaves_no_fragment_in_the_run(
        tmp_path, monkeypatch):
    token = "tok_" + "Pr0gramT0ken" * 3
    monkeypatch.setenv("WB_REVIEW_TOKEN", token)  # passed through; the provider reports it as secret
    echo = "import os, sys; print('y' * int(sys.argv[1]) + os.environ['WB_REVIEW_TOKEN'], " \
           "file=sys.stderr); sys.exit(1)"
    header = f"{Path(sys.executable).name} exited with status 1; last output:\n"
    first = ERROR_CHARS - len(header) - len(token) + 1  # the token's first character fits...
    pads = (first, first + len(token) // 2, ERROR_CHARS - len(header) - 1)  # ...its last does not
    prompts = [{"id": f"pad{pad}", "text": str(pad)} for pad in pads]
    models = {"c": {"provider": "command", "env": ["WB_REVIEW_TOKEN"],
                    "argv": [sys.executable, "-c", echo, "{prompt}"]}}
    root = write_bench(tmp_path / "b", models, prompts)
    summary = await run_benchmark(load(root), retry=FAST_RETRY)
    assert summary.failed == len(pads)
    journal = (root / "runs" / summary.run_id / "journal.jsonl").read_text()
    for failure in summary.failures:
        assert failure.error.startswith(header) and len(failure.error) <= ERROR_CHARS
        assert "tok_" not in failure.error
    assert "tok_" not in journal


# ---------------------------------------------- 6. the final manifest write fails
async def test_a_failed_final_manifest_write_is_a_clear_storage_error(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local"}}, 1)
    blocked: list[Path] = []

    def block_the_manifest(event) -> None:
        if event.kind == ev.JOB_SUCCEEDED and not blocked:
            manifest = root / "runs" / event.run_id / "manifest.json"
            manifest.unlink()
            manifest.mkdir()  # a folder in the way: the final rename of the manifest fails
            (manifest / "keep").write_text("x")
            blocked.append(manifest)

    with pytest.raises(RunStorageError) as info:
        await run_benchmark(load(root), on_event=block_the_manifest)
    assert blocked and str(blocked[0]) in str(info.value)
    assert "manifest" in str(info.value)

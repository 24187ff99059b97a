"""The durable journal: append, torn lines, replay, and reading runs back."""

from __future__ import annotations

import json
import os

from tests.engine_support.bench_folder import load, write_bench
from tests.engine_support.fixtures import *  # noqa: F401,F403 - fixtures
from workbench.engine import latest_job_records, list_runs, load_run, run_benchmark
from workbench.engine.journal import Journal, read_journal, replay


def job_event(kind: str, prompt: str = "p", **fields):
    return {"event": kind, "model": "m", "prompt_id": prompt, "repeat": 0, "seed": 1, "key": "k-" + prompt,
            **fields}


def test_every_append_is_a_whole_line_on_disk(tmp_path):
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.append(job_event("submitted", job_id="j1", state={"url": "/x"}, charged=0.5))
        # Read through another handle while the journal is still open: already durable.
        lines = path.read_text().splitlines()
        assert len(lines) == 1 and json.loads(lines[0])["job_id"] == "j1"
        journal.append(job_event("succeeded", video="videos/m/p--r0.mp4"))
    assert [e["event"] for e in read_journal(path).events] == ["submitted", "succeeded"]


def test_torn_last_line_is_skipped_and_the_next_append_starts_fresh(tmp_path):
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.append(job_event("submitted", job_id="j1", state={}))
    with open(path, "ab") as handle:  # a crash in the middle of writing the next event
        handle.write(b'{"event": "succeeded", "model": "m", "prompt_id": "p", "rep')
    contents = read_journal(path)
    assert [e["event"] for e in contents.events] == ["submitted"]
    assert contents.bad_lines == [2]
    assert replay(contents.events)[("m", "p", 0)].open_submission

    with Journal(path) as journal:  # a resumed run appends after the torn line
        journal.append(job_event("succeeded", video="v.mp4"))
    contents = read_journal(path)
    assert [e["event"] for e in contents.events] == ["submitted", "succeeded"]
    assert len(contents.bad_lines) == 1
    state = replay(contents.events)[("m", "p", 0)]
    assert state.status == "succeeded" and not state.open_submission and state.job_id == "j1"


def test_replay_tracks_open_submissions_and_costs():
    events = [
        job_event("submitted", "a", job_id="j1", state={"u": 1}, charged=0.25, attempts=2),
        job_event("failed", "a", error="poll timed out", phase="poll", resumable=True),
        job_event("submitted", "b", job_id="j2", state={}, charged=0.25),
        job_event("failed", "b", error="the provider said no", phase="provider", resumable=False),
        job_event("skipped", "c", reason="budget"),
        job_event("succeeded", "d", video="videos/m/d--r0.mp4", cached=True, charged=0.0),
        {"event": "run_finished"},
        "not even a dict",
    ]
    states = replay([e for e in events if isinstance(e, dict)])
    a, b, c, d = (states[("m", p, 0)] for p in "abcd")
    assert a.open_submission and a.job_id == "j1" and a.submission_state == {"u": 1} and a.attempts == 2
    assert a.charged == 0.25
    assert b.status == "failed" and not b.open_submission and b.charged == 0.25
    assert c.status == "skipped" and c.reason == "budget"
    assert d.status == "succeeded" and d.cached and d.charged == 0.0


def test_replay_forgets_a_job_whose_clip_identity_changed():
    states = replay([
        job_event("submitted", job_id="j1", state={}),
        {**job_event("succeeded", video="v"), "key": "other"},
    ])
    state = states[("m", "p", 0)]
    assert state.key == "other" and state.job_id is None and state.status == "succeeded"


async def test_runs_read_back_with_records_and_latest_results(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local", "fail_prompts": ["p01"]},
                                        "n": {"provider": "fake-local", "style": "n"}}, 3)
    first = await run_benchmark(load(root), retry=FAST_RETRY)
    assert (first.succeeded, first.failed) == (5, 1)
    infos = list_runs(root)
    assert [i.run_id for i in infos] == [first.run_id]
    assert infos[0].status == "finished" and infos[0].jobs["failed"] == 1

    record = load_run(load(root), first.run_id)
    assert record.manifest["models"] == ["m", "n"] and record.manifest["prompt_ids"] == ["p00", "p01", "p02"]
    by_id = {j.id: j for j in record.jobs}
    ok = by_id[("m", "p00", 0)]
    assert ok.status == "succeeded" and ok.video.is_file() and ok.attempts == 1 and not ok.cached
    assert ok.video == root / "runs" / first.run_id / "videos" / "m" / "p00--r0.mp4"
    assert ok.latency_s is not None and ok.latency_s >= 0 and ok.seed is not None
    bad = by_id[("m", "p01", 0)]
    assert bad.status == "failed" and "refused" in bad.error and bad.video is None

    # Change model m (its params are part of its clips' identity): m regenerates, n is cached.
    write_bench(root, {"m": {"provider": "fake-local"}, "n": {"provider": "fake-local", "style": "n"}}, 3)
    second = await run_benchmark(load(root), retry=FAST_RETRY)
    assert second.succeeded == 6 and second.cached == 3
    latest = latest_job_records(root)
    assert latest[("m", "p01", 0)][0] == second.run_id
    assert latest[("m", "p01", 0)][1].status == "succeeded"
    assert latest[("m", "p00", 0)][0] == second.run_id  # newest succeeded wins
    only_n = latest_job_records(root, models=["n"])
    assert {k[0] for k in only_n} == {"n"}
    assert [i.run_id for i in list_runs(root)] == [first.run_id, second.run_id]


async def test_a_killed_run_reads_back_as_interrupted_with_pending_jobs(tmp_path):
    root = write_bench(tmp_path / "b", {"m": {"provider": "fake-local"}}, 2)
    summary = await run_benchmark(load(root))
    run_dir = root / "runs" / summary.run_id
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["status"] = "running"  # as left by kill -9
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    lines = (run_dir / "journal.jsonl").read_text().splitlines()
    kept = [line for line in lines if '"p01"' not in line]
    (run_dir / "journal.jsonl").write_text("\n".join(kept) + "\n" + lines[-1][: len(lines[-1]) // 2])
    record = load_run(root, summary.run_id)
    assert record.status == "interrupted"
    assert record.torn_lines == 1
    assert record.job("m", "p01").status == "pending"
    assert record.job("m", "p00").status == "succeeded"
    assert os.path.exists(record.job("m", "p00").video)

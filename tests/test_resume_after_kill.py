"""kill -9 in the middle of a run, then resume: nothing is submitted twice, every clip decodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.engine_support.bench_folder import write_bench
from tests.engine_support.fake_remote_server import FakeRemoteServer
from tests.engine_support.fixtures import *  # noqa: F401,F403 - fixtures
from workbench.engine import list_runs, load_run
from workbench.engine.journal import read_journal, replay
from workbench.engine.runner import UNCERTAIN_SUBMIT
from workbench.media.video_check import video_problem

REPO = Path(__file__).resolve().parents[1]


def start_cli(root: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine_support.driver", "run", str(root), "--yes", *extra],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def journal_states(root: Path):
    runs = list((root / "runs").glob("*/journal.jsonl"))
    if not runs:
        return {}
    return replay(read_journal(runs[0]).events)


def test_kill_9_then_resume_never_submits_twice(tmp_path):
    with FakeRemoteServer(latency=0.6) as server:
        models = {
            "alpha": {"provider": "fake-remote", "base_url": server.base_url, "poll_interval": 0.05,
                      "price_per_clip": 0.1},
            "beta": {"provider": "fake-remote", "base_url": server.base_url, "poll_interval": 0.05,
                     "style": "beta", "price_per_clip": 0.1},
        }
        root = write_bench(tmp_path / "bench", models, 4, run={"concurrency": 3})
        process = start_cli(root)
        deadline = time.monotonic() + 60
        try:
            # Kill when some clips are done and others are submitted: the moment the first
            # clips finish is also when the next submits go out.
            while time.monotonic() < deadline:
                states = journal_states(root)
                done = [s for s in states.values() if s.status == "succeeded"]
                open_ = [s for s in states.values() if s.open_submission]
                if len(done) >= 2 and open_:
                    break
                assert process.poll() is None, process.communicate()
                time.sleep(0.02)
            else:
                raise AssertionError("the run never got going")
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait(30)
        assert process.returncode == -signal.SIGKILL
        submitted_before = {s["id"] for s in server.stats()["submits"]}
        assert 2 < len(submitted_before) < 8
        at_kill = journal_states(root)
        in_doubt = {ident for ident, s in at_kill.items() if s.status == "submitting"}

        [info] = list_runs(root)
        assert info.status == "interrupted"  # the manifest says running; nobody holds the lock
        with open(info.path / "journal.jsonl", "ab") as journal:  # as if the kill tore a write
            journal.write(b'{"event": "succeeded", "model": "alpha", "prom')

        resumed = start_cli(root)
        out, err = resumed.communicate(timeout=90)
        assert f"resuming run {info.run_id}" in out
        assert resumed.returncode == (1 if in_doubt else 0), out + err

        submits = server.stats()["submits"]
        per_job = Counter((s["model"], s["prompt_id"], s["repeat"]) for s in submits)
        assert set(per_job.values()) == {1}, per_job  # no job was ever submitted twice

    [after] = list_runs(root)
    assert after.run_id == info.run_id and after.status == "finished"
    record = load_run(root, info.run_id)
    assert record.torn_lines == 1
    assert len(record.jobs) == 8
    for job in record.jobs:
        if job.id in in_doubt:  # killed between "submitting" and "submitted": never resubmitted
            assert job.status == "failed" and job.error == UNCERTAIN_SUBMIT
            assert per_job[job.id] <= 1
        else:
            assert job.status == "succeeded" and video_problem(job.video) is None, job
            assert per_job[job.id] == 1
    manifest = json.loads((info.path / "manifest.json").read_text())
    assert manifest["sessions"] == 2 and manifest["jobs"]["succeeded"] == 8 - len(in_doubt)
    assert abs(manifest["cost"] - 0.8) < 1e-9  # each clip paid (or possibly paid) once
    cache = root / ".workbench-cache" / "videos"
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]
    assert not list((info.path / "videos").rglob(".*"))

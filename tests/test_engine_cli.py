"""``workbench run``: plan, confirmation, progress, summary, exit codes, Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.engine_support.bench_folder import write_bench
from tests.engine_support.fake_local import FakeLocalProvider
from tests.engine_support.fixtures import *  # noqa: F401,F403 - fixtures
from workbench.cli.main import main
from workbench.cli.run_command import Progress
from workbench.engine import list_runs, load_run
from workbench.engine.events import ModelProgress, RunEvent

REPO = Path(__file__).resolve().parents[1]


def bench(tmp_path, **m_params):
    return write_bench(tmp_path / "b", {"old": {"provider": "fake-local", **m_params},
                                        "new": {"provider": "fake-local", "style": "new"}}, 3)


def test_run_prints_plan_progress_and_summary(tmp_path, capsys):
    root = bench(tmp_path)
    assert main(["run", str(root), "--yes"]) == 0
    out, err = capsys.readouterr()
    assert "engine-test: 2 models x 3 prompts x 1 repeat = 6 jobs" in out
    assert "old" in out and "fake-local" in out
    assert "6 succeeded, 0 failed; 6 provider calls" in out
    assert "[6/6]" in err  # plain progress lines when stderr is not a terminal
    # Again: everything comes from the cache.
    assert main(["run", str(root), "--yes"]) == 0
    out, _ = capsys.readouterr()
    assert "6 succeeded (6 from the cache), 0 failed; 0 provider calls" in out
    assert len(list_runs(root)) == 2


def test_failed_jobs_exit_1_and_are_listed(tmp_path, capsys):
    root = bench(tmp_path, fail_prompts=["p01"])
    assert main(["run", str(root), "--yes"]) == 1
    out, err = capsys.readouterr()
    assert "5 succeeded, 1 failed" in out
    assert "old/p01 r0: content policy: prompt p01 refused" in out
    assert "FAILED: content policy" in err


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    root = bench(tmp_path)
    assert main(["run", str(root), "--model", "nope"]) == 2
    assert "no model 'nope'" in capsys.readouterr().err
    for flag in (["--repeats", "0"], ["--concurrency", "x"], ["--budget", "-1"]):
        with pytest.raises(SystemExit) as info:
            main(["run", str(root), *flag])
        assert info.value.code == 2
    assert "out of range" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing")]) == 2
    assert not (root / "runs").exists()


def test_budget_refusal_and_dry_run(tmp_path, capsys):
    root = write_bench(tmp_path / "b", {"paid": {"provider": "fake-local", "price_per_clip": 0.4}}, 3)
    assert main(["run", str(root), "--budget", "1", "--yes"]) == 2
    captured = capsys.readouterr()
    assert "estimated cost: $1.20 (budget $1.00)" in captured.out
    assert "over the budget of $1.00" in captured.err
    assert main(["run", str(root), "--dry-run"]) == 0
    assert "dry run: nothing generated" in capsys.readouterr().out
    assert not (root / "runs").exists() and FakeLocalProvider.log.calls == []
    assert main(["run", str(root), "--model", "paid", "--repeats", "2", "--budget", "2.40", "--yes"]) == 0
    assert "6 succeeded" in capsys.readouterr().out


def test_spending_money_asks_first_on_a_terminal(tmp_path, capsys, monkeypatch):
    root = write_bench(tmp_path / "b", {"paid": {"provider": "fake-local", "price_per_clip": 0.4}}, 2)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter(["n"])
    monkeypatch.setattr("builtins.input", lambda prompt: (print(prompt), next(answers))[1])
    assert main(["run", str(root)]) == 1
    out = capsys.readouterr().out
    assert "Spend up to $0.80? [y/N]" in out and "nothing run" in out
    assert not (root / "runs").exists()
    answers = iter(["y"])
    assert main(["run", str(root)]) == 0


def test_terminal_progress_redraws_bars_in_place():
    stream = io.StringIO()
    progress = Progress(stream, tty=True)

    def event(kind, message=None, **counts):
        return RunEvent(kind=kind, run_id="r1", model="m", prompt_id="p", repeat=0, message=message,
                        progress=(ModelProgress("m", total=4, **counts), ModelProgress("other", total=4)))

    progress(event("run_started"))
    progress(event("job_failed", "boom", succeeded=1, failed=1))
    progress(event("run_finished", succeeded=4))
    text = stream.getvalue()
    assert "\x1b[2F" in text  # moved back over the two bar lines
    assert "FAILED: boom" in text
    assert "m     [" + "#" * 28 + "]    4/4" in text


def test_ctrl_c_marks_the_run_interrupted_and_leaves_no_partial_clip(tmp_path):
    root = write_bench(tmp_path / "b", {"slow": {"provider": "fake-local", "latency": 0.3}}, 12,
                       run={"concurrency": 2})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "tests.engine_support.driver", "run", str(root), "--yes"],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        journals = list((root / "runs").glob("*/journal.jsonl"))
        if journals and '"succeeded"' in journals[0].read_text():
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert "interrupted" in err and "again to resume" in err
    [info] = list_runs(root)
    assert info.status == "interrupted"
    events = [json.loads(line)["event"] for line in (info.path / "journal.jsonl").read_text().splitlines()]
    assert events[-1] == "run_interrupted"
    record = load_run(root, info.run_id)
    finished = [j for j in record.jobs if j.status == "succeeded"]
    assert 1 <= len(finished) < 12 and {j.status for j in record.jobs} == {"succeeded", "pending"}
    on_disk = sorted(p.name for p in (info.path / "videos").rglob("*"))
    assert on_disk == sorted(["slow", *(f"{j.prompt_id}--r0.mp4" for j in finished)])
    assert not [p for p in (root / ".workbench-cache" / "videos").iterdir() if p.name.startswith(".")]

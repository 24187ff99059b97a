"""A copy of the sample benchmark, run and scored, with everything a run leaves that depends on
the clock (run id, times, latencies, pids) set to fixed values, so screens that show them look
the same on every machine and every day. Used by the snapshot tests."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample_benchmarks" / "hard-cases"
RUN_ID = "20260105-093000-a1b2"
START = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)


def _stamp(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _job_order(record: dict) -> tuple:
    if "model" not in record:
        return ("",)
    return (record["model"], record["prompt_id"], record.get("repeat", 0))


def freeze_run(run_dir: Path) -> None:
    """Journal lines in a fixed job order (each job's own lines keep their order), fixed times,
    latencies and pids; the manifest's times to match."""
    journal = run_dir / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    records.sort(key=_job_order)  # stable: a job's lines stay in the order they happened
    for index, record in enumerate(records):
        record["time"] = _stamp(index * 0.25)
        if "pid" in record:
            record["pid"] = 4242
        if "latency_s" in record:
            record["latency_s"] = round(40 + (index % 7) * 3.5, 1)
    journal.write_text("".join(json.dumps(r) + "\n" for r in records))
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["run_id"] = run_dir.name
    manifest["created"] = _stamp(0)
    if manifest.get("ended"):
        manifest["ended"] = _stamp(len(records) * 0.25)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def build_snapshot_bench(root: Path) -> Path:
    """The sample at ``root``, run with its synthetic models and scored, the clock taken out."""
    from workbench.benchmark.folder import Benchmark
    from workbench.engine.runner import run_benchmark_sync
    from workbench.run_scoring import score_runs

    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("runs", "decisions", ".workbench-cache",
                                                                "ratings.jsonl"))
    run_benchmark_sync(Benchmark.load(root))
    (made,) = [path for path in (root / "runs").iterdir() if path.is_dir()]
    run_dir = made.rename(root / "runs" / RUN_ID)
    freeze_run(run_dir)
    score_runs(Benchmark.load(root), workers=2)
    return root

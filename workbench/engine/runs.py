"""Reading runs back: which runs exist, and what happened to every job in one.

This is what scoring, tables, the gate and the TUI use; nothing here writes.
A run folder is ``BENCH/runs/<run-id>/`` with ``manifest.json``,
``journal.jsonl`` and ``videos/<model>/<prompt_id>--r<repeat>.mp4``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from workbench.engine.journal import JOURNAL_FILE, JobState, JournalContents, read_journal, replay
from workbench.engine.manifest import MANIFEST_FILE, read_manifest
from workbench.engine.run_lock import run_in_progress
from workbench.benchmark.folder import CACHE_DIR, RUNS_DIR
from workbench.errors import NotFound

JobKey = tuple[str, str, int]  # (model, prompt_id, repeat)


def _root(bench: Any) -> Path:
    """A benchmark folder from a Benchmark or a path."""
    if isinstance(bench, (str, os.PathLike)):
        return Path(bench)
    return Path(bench.root)


def _runs_dir(bench: Any) -> Path:
    return _root(bench) / RUNS_DIR


@dataclass(frozen=True)
class RunInfo:
    """One run at a glance (from its manifest)."""

    run_id: str
    path: Path
    status: str  # running | interrupted | finished | failed
    created: str
    ended: str | None
    models: tuple[str, ...]
    repeats: int
    jobs: dict[str, int] = field(default_factory=dict)  # total, succeeded, cached, failed, skipped, pending
    cost: float = 0.0


@dataclass(frozen=True)
class JobRecord:
    """What happened to one job of a run."""

    model: str
    prompt_id: str
    repeat: int
    seed: int | None
    status: str  # succeeded | failed | skipped | submitted | pending
    video: Path | None
    error: str | None
    cost: float | None
    provider_job_id: str | None
    attempts: int
    latency_s: float | None
    cached: bool
    key: str | None = None  # the clip's cache key
    requested: dict[str, Any] | None = None  # what the request asked for (journals before this: None)

    @property
    def id(self) -> JobKey:
        return (self.model, self.prompt_id, self.repeat)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    path: Path
    manifest: dict[str, Any]
    jobs: list[JobRecord]
    torn_lines: int = 0  # unreadable journal lines (a crash mid-write leaves one)

    @property
    def status(self) -> str:
        return str(self.manifest.get("status", "unknown"))

    def job(self, model: str, prompt_id: str, repeat: int = 0) -> JobRecord | None:
        for record in self.jobs:
            if record.id == (model, prompt_id, repeat):
                return record
        return None


def effective_status(manifest: dict[str, Any], root: Path) -> str:
    """The manifest's status, except that a 'running' run nobody is running was interrupted."""
    status = str(manifest.get("status", "unknown"))
    if status == "running" and not run_in_progress(root / CACHE_DIR):
        return "interrupted"
    return status


def _info(run_dir: Path, manifest: dict[str, Any], root: Path) -> RunInfo:
    jobs = manifest.get("jobs") if isinstance(manifest.get("jobs"), dict) else {}
    cost = manifest.get("cost")
    return RunInfo(
        run_id=str(manifest.get("run_id") or run_dir.name),
        path=run_dir,
        status=effective_status(manifest, root),
        created=str(manifest.get("created") or ""),
        ended=manifest.get("ended") if isinstance(manifest.get("ended"), str) else None,
        models=tuple(str(m) for m in manifest.get("models") or ()),
        repeats=int(manifest.get("repeats") or 1),
        jobs={str(k): int(v) for k, v in jobs.items() if isinstance(v, int)},
        cost=float(cost) if isinstance(cost, (int, float)) else 0.0,
    )


def run_folders(bench: Any) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, manifest) of every run with a readable manifest, oldest first."""
    runs_dir = _runs_dir(bench)
    if not runs_dir.is_dir():
        return []
    found = []
    for run_dir in runs_dir.iterdir():
        if not run_dir.is_dir() or not (run_dir / MANIFEST_FILE).is_file():
            continue
        manifest = read_manifest(run_dir)
        if manifest is not None:
            found.append((run_dir, manifest))
    found.sort(key=lambda item: (str(item[1].get("created") or ""), item[0].name))
    return found


def list_runs(bench: Any) -> list[RunInfo]:
    """Every run of a benchmark, newest last."""
    root = _root(bench)
    return [_info(run_dir, manifest, root) for run_dir, manifest in run_folders(bench)]


def planned_jobs(manifest: dict[str, Any]) -> list[JobKey]:
    """The jobs a run was asked to do, in model, prompt, repeat order."""
    models = [str(m) for m in manifest.get("models") or ()]
    prompt_ids = [str(p) for p in manifest.get("prompt_ids") or ()]
    repeats = int(manifest.get("repeats") or 1)
    return [(m, p, r) for m in models for p in prompt_ids for r in range(repeats)]


def job_record(run_dir: Path, ident: JobKey, state: JobState | None) -> JobRecord:
    if state is None:
        return JobRecord(*ident, seed=None, status="pending", video=None, error=None, cost=None,
                         provider_job_id=None, attempts=0, latency_s=None, cached=False)
    video: Path | None = None
    error = state.error
    status = state.status
    if status == "succeeded":
        candidate = run_dir / state.video if state.video else None
        if candidate is not None and candidate.is_file():
            video = candidate
        else:
            error = f"video file is missing from the run folder ({state.video})"
    if status == "skipped" and state.reason:
        error = f"skipped: {state.reason}"
    return JobRecord(
        model=state.model, prompt_id=state.prompt_id, repeat=state.repeat, seed=state.seed,
        status=status, video=video, error=error, cost=state.charged,
        provider_job_id=state.job_id, attempts=state.attempts, latency_s=state.latency_s,
        cached=state.cached, key=state.key, requested=state.requested,
    )


def records_from(run_dir: Path, manifest: dict[str, Any], contents: JournalContents) -> list[JobRecord]:
    states = replay(contents.events)
    order = planned_jobs(manifest)
    seen = set(order)
    order += [ident for ident in states if ident not in seen]
    return [job_record(run_dir, ident, states.get(ident)) for ident in order]


def load_run(bench: Any, run_id: str) -> RunRecord:
    """One run with every job's record; NotFound when there is no such run."""
    root = _root(bench)
    run_dir = _runs_dir(bench) / run_id
    manifest = read_manifest(run_dir) if run_dir.is_dir() else None
    if manifest is None:
        known = ", ".join(info.run_id for info in list_runs(bench)[-5:]) or "none"
        raise NotFound(f"{root}: no run {run_id!r} (latest: {known})")
    manifest = dict(manifest)
    manifest["status"] = effective_status(manifest, root)
    contents = read_journal(run_dir / JOURNAL_FILE)
    return RunRecord(run_id=run_id, path=run_dir, manifest=manifest,
                     jobs=records_from(run_dir, manifest, contents),
                     torn_lines=len(contents.bad_lines))


def latest_job_records(
    bench: Any, models: Iterable[str] | None = None
) -> dict[JobKey, tuple[str, JobRecord]]:
    """Per (model, prompt_id, repeat): the newest succeeded result across runs.

    A job that never succeeded maps to its newest non-pending record (failed,
    skipped or still submitted), so callers can show why it has no video.
    """
    wanted = set(models) if models is not None else None
    best: dict[JobKey, tuple[str, JobRecord]] = {}
    for info in list_runs(bench):
        if wanted is not None and not wanted.intersection(info.models):
            continue
        record = load_run(bench, info.run_id)
        for job in record.jobs:
            if wanted is not None and job.model not in wanted:
                continue
            if job.status == "pending":
                continue
            current = best.get(job.id)
            if job.status == "succeeded" and job.video is not None:
                best[job.id] = (info.run_id, job)
            elif current is None or current[1].status != "succeeded":
                best[job.id] = (info.run_id, job)
    return best

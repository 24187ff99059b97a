"""Score many videos in parallel (one process per core) with a result cache.

Results already in the cache are returned without decoding anything; only the
missing scorers (and missing thumbnails) of a video are computed. Each worker
process runs :func:`workbench.scorers.scoring.score_video_known_hash`.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.resource_tracker
import os
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from workbench.benchmark.config import ExternalScorerConfig
from workbench.media.probe import error_reason
from workbench.media.thumbnails import DEFAULT_COUNT, DEFAULT_MAX_SIZE, thumbnail_paths
from workbench.safe_files import sha256_file
from workbench.scorers.base import ScorerInfo, ScoreValue, VideoScores
from workbench.scorers.cache import ScoreCache, inputs_key, thumbnails_key
from workbench.scorers.registry import BUILTIN_SCORERS, resolve_scorers
from workbench.scorers.scoring import score_video_known_hash

# A job whose worker process died is retried this many times in a fresh pool.
CRASH_RETRIES = 1


@dataclass(frozen=True)
class ScoreJob:
    """One video to score. ``key`` is the caller's own handle, returned untouched."""

    path: Path
    requested: dict | None = None
    prompt_text: str = ""
    thumbnails_dir: Path | None = None
    thumbnails: int = DEFAULT_COUNT
    key: Any = field(default=None, compare=False)


@dataclass
class _Plan:
    """What is known and still missing for one job."""

    index: int
    job: ScoreJob
    sha256: str | None
    inputs: dict[str, str]
    cached: dict[str, ScoreValue]
    video_error: str | None
    missing: list[str]
    thumbnails_cached: int | None

    def wants_thumbnails(self) -> bool:
        return self.job.thumbnails_dir is not None and self.job.thumbnails > 0

    def needs_thumbnails(self) -> bool:
        return self.wants_thumbnails() and self.thumbnails_cached is None

    def needs_work(self) -> bool:
        return bool(self.missing) or self.needs_thumbnails()

    def work_args(self) -> tuple:
        return (self.job, self.sha256, self.missing, self.needs_thumbnails())


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _hash(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _plan(index: int, job: ScoreJob, infos: list[ScorerInfo], cache: ScoreCache | None) -> _Plan:
    sha = _hash(Path(job.path))
    inputs = {info.name: inputs_key(info, job.requested, job.prompt_text) for info in infos}
    cached: dict[str, ScoreValue] = {}
    video_error: str | None = None
    thumbs: int | None = None
    if cache is not None and sha is not None:
        for info in infos:
            hit = cache.get(sha, info, inputs[info.name])
            if hit is not None:
                cached[info.name], error = hit
                video_error = video_error or error
        if job.thumbnails_dir is not None and job.thumbnails > 0:
            count = cache.thumbnail_count(sha, thumbnails_key(job.thumbnails, DEFAULT_MAX_SIZE))
            if count is not None and all(p.is_file() for p in thumbnail_paths(job.thumbnails_dir, count)):
                thumbs = count
    missing = [info.name for info in infos if info.name not in cached]
    return _Plan(index, job, sha, inputs, cached, video_error, missing, thumbs)


def _work(job: ScoreJob, sha256: str | None, names: list[str], thumbnails: bool,
          external: Mapping[str, ExternalScorerConfig] | None, threads: int) -> VideoScores:
    """Runs in a worker process (or inline): score one video's missing scorers (and thumbnails)."""
    return score_video_known_hash(
        Path(job.path), sha256, scorers=names, requested=job.requested, prompt_text=job.prompt_text,
        thumbnails_dir=job.thumbnails_dir if thumbnails else None, thumbnails=job.thumbnails,
        external=external, decode_threads=threads,
    )


def decode_threads(workers: int, processes: int) -> int:
    """Decoder threads per process so that all processes together use ``workers`` cores.

    0 (FFmpeg's own choice) when one process has the whole machine.
    """
    per_process = max(1, workers // max(1, processes))
    return 0 if per_process >= default_workers() else per_process


def _merge(plan: _Plan, infos: list[ScorerInfo], fresh: VideoScores | None) -> VideoScores:
    by_name = dict(plan.cached)
    thumbnails: list[Path] = []
    error = plan.video_error
    warnings: list[str] = []
    sha = plan.sha256 or ""
    if fresh is not None:
        by_name.update({score.name: score for score in fresh.scores})
        thumbnails = list(fresh.thumbnails)
        error = fresh.error or error
        warnings = list(fresh.warnings)
        sha = fresh.sha256 or sha
    if plan.thumbnails_cached is not None and plan.job.thumbnails_dir is not None and not thumbnails:
        thumbnails = thumbnail_paths(plan.job.thumbnails_dir, plan.thumbnails_cached)
    scores = [by_name[info.name] for info in infos if info.name in by_name]
    return VideoScores(sha, scores, thumbnails, error, warnings)


def _failed(plan: _Plan, infos: list[ScorerInfo], reason: str) -> VideoScores:
    fresh = [ScoreValue(info.name, info.version, None, error=reason)
             for info in infos if info.name in plan.missing]
    result = _merge(plan, infos, None)
    by_name = {s.name: s for s in result.scores} | {s.name: s for s in fresh}
    return VideoScores(result.sha256, [by_name[i.name] for i in infos if i.name in by_name],
                       result.thumbnails, result.error, [reason])


def _remember(cache: ScoreCache | None, plan: _Plan, infos: list[ScorerInfo], fresh: VideoScores) -> None:
    """Append what is safe to reuse: values, built-in errors and errors of non-videos."""
    if cache is None or not fresh.sha256 or fresh.sha256 != plan.sha256:
        return
    kinds = {info.name: info.kind for info in infos}
    entries = []
    for score in fresh.scores:
        if score.name not in plan.missing:
            continue
        if score.value is not None or fresh.error or kinds.get(score.name) == "built-in":
            entries.append((score, plan.inputs[score.name]))
    thumbs = None
    if plan.needs_thumbnails() and not any(w.startswith("thumbnails:") for w in fresh.warnings):
        thumbs = (thumbnails_key(plan.job.thumbnails, DEFAULT_MAX_SIZE), len(fresh.thumbnails))
    cache.add(fresh.sha256, entries, fresh.error, thumbs)


def score_videos(
    jobs: list[ScoreJob],
    *,
    scorers: list[str],
    cache_dir: Path | None,
    workers: int | None,
    external: Mapping[str, ExternalScorerConfig] | None = None,
    on_result: Callable[[ScoreJob, VideoScores], None] | None = None,
) -> list[tuple[ScoreJob, VideoScores]]:
    """Score every job; returns (job, scores) in job order.

    ``workers`` is how many cores to use (default: all): that many worker
    processes, each decoding single-threaded, since videos in parallel scale
    better than threads within one decode; a batch smaller than ``workers``
    gives its spare cores to the decoders.

    ``on_result`` is called in this process as each video finishes (cached ones
    first). Unknown scorer names raise before anything runs; a video that
    cannot be scored gets errors, never an exception.
    """
    infos = resolve_scorers(list(scorers), external)
    cache = ScoreCache(Path(cache_dir)) if cache_dir is not None else None
    results: list[VideoScores | None] = [None] * len(jobs)
    todo: list[_Plan] = []

    def deliver(plan: _Plan, scores: VideoScores) -> None:
        results[plan.index] = scores
        if on_result is not None:
            on_result(plan.job, scores)

    for index, job in enumerate(jobs):
        plan = _plan(index, job, infos, cache)
        if plan.needs_work():
            todo.append(plan)
        else:
            deliver(plan, _merge(plan, infos, None))

    def finished(plan: _Plan, fresh: VideoScores) -> None:
        _remember(cache, plan, infos, fresh)
        deliver(plan, _merge(plan, infos, fresh))

    budget = workers or default_workers()
    count = min(budget, len(todo))
    threads = decode_threads(budget, count)
    if count <= 1:
        for plan in todo:
            try:
                fresh = _work(*plan.work_args(), external, threads)
            except Exception as exc:  # noqa: BLE001 - one video never stops the batch
                deliver(plan, _failed(plan, infos, f"scoring failed: {type(exc).__name__}: {exc}"))
                continue
            finished(plan, fresh)
    else:
        _run_pool(todo, count, threads, external, finished,
                  lambda plan, reason: deliver(plan, _failed(plan, infos, reason)))
    return [(job, scores) for job, scores in zip(jobs, results) if scores is not None]


def _run_pool(todo: list[_Plan], workers: int, threads: int,
              external: Mapping[str, ExternalScorerConfig] | None,
              finished: Callable[[_Plan, VideoScores], None],
              failed: Callable[[_Plan, str], None]) -> None:
    """Run plans in worker processes.

    If a worker process dies (a decoder crash), every video it took down is
    retried alone in a fresh process, so a crashing file only fails itself.
    """
    # Largest files first, so no worker is left with a long video at the end.
    todo = sorted(todo, key=lambda plan: _size(plan.job.path), reverse=True)
    crashed = _run_once(todo, workers, threads, external, finished, failed)
    for plan in crashed:
        for _attempt in range(CRASH_RETRIES):
            if not _run_once([plan], 1, threads, external, finished, failed):
                break
        else:
            failed(plan, "scoring failed: the worker process died while scoring this video")


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _start_helper_processes_with_real_stderr() -> None:
    """Start multiprocessing's resource tracker with a usable stderr.

    A host that replaces ``sys.stderr`` with an object whose ``fileno()`` is not
    a real descriptor (a TUI capturing output does) makes the tracker fail with
    "bad value(s) in fds_to_keep"; started once with the real stderr, every
    later pool reuses it.
    """
    try:
        if sys.stderr is not None and sys.stderr.fileno() >= 0:
            return
    except (AttributeError, OSError, ValueError):
        pass
    captured = sys.stderr
    sys.stderr = sys.__stderr__
    try:
        multiprocessing.resource_tracker.ensure_running()
    finally:
        sys.stderr = captured


def _pool_context() -> multiprocessing.context.BaseContext:
    # forkserver: workers fork from a clean server process with the scorers
    # already imported, never from a parent that may be running threads.
    _start_helper_processes_with_real_stderr()
    context = multiprocessing.get_context("forkserver")
    modules = {target.split(":")[0] for target in BUILTIN_SCORERS.values()}
    context.set_forkserver_preload(["workbench.scorers.batch", *sorted(modules)])
    return context


def _run_once(plans: list[_Plan], workers: int, threads: int,
              external: Mapping[str, ExternalScorerConfig] | None,
              finished: Callable[[_Plan, VideoScores], None],
              failed: Callable[[_Plan, str], None]) -> list[_Plan]:
    """One pool over ``plans``; returns the plans lost to a dead worker."""
    crashed: list[_Plan] = []
    executor = ProcessPoolExecutor(max_workers=min(workers, len(plans)), mp_context=_pool_context())
    try:
        running: dict[Future, _Plan] = {
            executor.submit(_work, *plan.work_args(), external, threads): plan
            for plan in plans
        }
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                plan = running.pop(future)
                try:
                    fresh = future.result()
                except BrokenProcessPool:
                    crashed.append(plan)
                    continue
                except Exception as exc:  # noqa: BLE001
                    failed(plan, f"scoring failed: {type(exc).__name__}: {error_reason(exc)}")
                    continue
                finished(plan, fresh)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return crashed

"""Score the videos of runs and append the results to each run's ``scores.jsonl``.

The glue between the run engine (which videos exist) and the scorers (one decode
pass per video). Every finished clip is passed to the scorers, whose cache
(video hash, scorer@version, inputs) answers unchanged ones without decoding;
only outcomes that differ from what ``scores.jsonl`` already records are appended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from workbench.benchmark.folder import Benchmark
from workbench.engine.runs import list_runs, load_run
from workbench.errors import NotFound, WorkbenchError
from workbench.safe_files import append_jsonl_many
from workbench.scorers.batch import ScoreJob, score_videos
from workbench.scorers.registry import resolve_scorers
from workbench.tables.score_table import SCORES_FILE

ClipKey = tuple[str, str, int]  # model, prompt_id, repeat

# Parameters a scorer can check a clip against (the negative prompt is not checkable).
REQUESTED_KEYS = ("duration", "resolution", "aspect_ratio", "fps")


@dataclass
class ScoringReport:
    runs: list[str] = field(default_factory=list)
    scored: int = 0  # clips scored now (decoded or served from the score cache)
    up_to_date: int = 0  # clips that already had every score
    not_generated: int = 0  # failed or skipped jobs, recorded as errors
    errors: int = 0  # scores that came back as errors
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScoringProgress:
    done: int
    total: int
    run: str
    clip: ClipKey


def thumbnails_dir(video: Path) -> Path:
    return video.with_name(video.stem + ".thumbs")


def _latest_rows(path: Path) -> dict[tuple[ClipKey, str], tuple[Any, ...]]:
    """The newest recorded outcome per (clip, scorer): (version, value, error, sha256, detail)."""
    latest: dict[tuple[ClipKey, str], tuple[Any, ...]] = {}
    if not path.exists():
        return latest
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
            clip = (row["model"], row["prompt_id"], int(row["repeat"]))
            latest[(clip, row["scorer"])] = _outcome(row)
        except (ValueError, KeyError, TypeError):
            continue  # a torn line: the clip is scored again
    return latest


def _outcome(row: dict[str, Any]) -> tuple[Any, ...]:
    return (str(row.get("version")), row.get("value"), row.get("error"), row.get("video_sha256"),
            row.get("detail"))


def _row(run: str, clip: ClipKey, name: str, version: str, value: float | None,
         error: str | None, sha: str | None, detail: str | None = None) -> dict[str, Any]:
    model, prompt_id, repeat = clip
    return {"run": run, "model": model, "prompt_id": prompt_id, "repeat": repeat, "scorer": name,
            "version": version, "value": value, "error": error, "video_sha256": sha, "detail": detail}


def score_runs(
    bench: Benchmark,
    runs: list[str] | None = None,
    *,
    workers: int | None = None,
    on_progress: Callable[[ScoringProgress], None] | None = None,
) -> ScoringReport:
    """Score every finished clip of the given runs (default: all runs) that is not scored yet."""
    config = bench.config
    if not config.scorers:
        raise WorkbenchError(f"{bench.config_path}: no scorers enabled; list them in 'scorers = [...]'")
    infos = resolve_scorers(list(config.scorers), config.scoring.external)
    known = [info.run_id for info in list_runs(bench)]
    if runs:
        for run_id in runs:
            if run_id not in known:
                raise NotFound(f"{bench.runs_dir}: no run {run_id!r} (runs: {', '.join(known) or 'none yet'})")
    selected = list(runs) if runs else known
    report = ScoringReport(runs=selected)
    prompts = {p.id: p for p in bench.prompts}
    count_thumbs = config.scoring.thumbnails

    jobs: list[ScoreJob] = []
    latest: dict[Path, dict[tuple[ClipKey, str], tuple[Any, ...]]] = {}

    def changed(path: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows whose outcome differs from what the file already says (nothing is written twice)."""
        known = latest.setdefault(path, _latest_rows(path))
        fresh = []
        for row in rows:
            key = ((row["model"], row["prompt_id"], row["repeat"]), row["scorer"])
            if known.get(key) != _outcome(row):
                known[key] = _outcome(row)
                fresh.append(row)
        return fresh

    for run_id in selected:
        record = load_run(bench, run_id)
        scores_path = record.path / SCORES_FILE
        for job in record.jobs:
            clip = job.id
            if job.status in ("failed", "skipped") or (job.status == "succeeded" and job.video is None):
                reason = f"no video: {job.error or job.status}"
                rows = changed(scores_path, [_row(run_id, clip, i.name, i.version, None, reason, None)
                                             for i in infos])
                if rows:
                    append_jsonl_many(scores_path, rows)
                    report.not_generated += 1
                continue
            if job.status != "succeeded" or job.video is None:
                continue  # still in flight
            video: Path = job.video
            prompt = prompts.get(job.prompt_id)
            if prompt is None:
                report.warnings.append(f"{run_id}: prompt {job.prompt_id!r} is no longer in the benchmark; "
                                       "scored without its requested parameters")
            if job.requested is not None:  # what the clip was asked to be when it was made
                requested = {k: v for k, v in job.requested.items() if k in REQUESTED_KEYS}
            else:
                requested = {k: v for k, v in (prompt.generation_params() if prompt else {}).items()
                             if k in REQUESTED_KEYS}
            # Every clip goes to the scorers: the score cache (video hash, scorer@version, inputs)
            # answers unchanged ones without decoding, and re-runs what may have changed (an
            # external scorer that failed, an edited prompt, missing thumbnails).
            jobs.append(ScoreJob(path=video, requested=requested, prompt_text=prompt.text if prompt else "",
                                 thumbnails_dir=thumbnails_dir(video) if count_thumbs else None,
                                 thumbnails=count_thumbs, key=(run_id, clip, scores_path)))

    total = len(jobs)
    done = 0

    def on_result(job: ScoreJob, scores: Any) -> None:
        nonlocal done
        run_id, clip, path = job.key
        rows = changed(path, [_row(run_id, clip, s.name, s.version, s.value, s.error, scores.sha256 or None,
                                   s.detail) for s in scores.scores])
        report.warnings.extend(f"{job.path}: {w}" for w in scores.warnings)
        if rows:
            report.errors += sum(1 for row in rows if row["error"])
            append_jsonl_many(path, rows)  # one fsync per clip: a crash loses at most the clip in hand
            report.scored += 1
        else:
            report.up_to_date += 1
        done += 1
        if on_progress is not None:
            on_progress(ScoringProgress(done, total, run_id, clip))

    if jobs:
        score_videos(jobs, scorers=list(config.scorers), cache_dir=bench.cache_dir,
                     workers=workers or config.scoring.workers, external=config.scoring.external,
                     on_result=on_result)
    return report

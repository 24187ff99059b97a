"""Each prompt's latest result per model, in one word: did its latest scored clip pass the
thresholds, fail them, or did the generation itself fail? Not scored yet, or never run?

Built from the score table (:func:`workbench.tables.score_table.load_table`, the newest score of
every clip), its verdicts as the Results screen computes them
(:func:`workbench.results_grid.build_results_grid`: repeats averaged, every threshold cleared),
and the runs' journals (:func:`workbench.engine.runs.latest_job_records`) for clips that have no
score: a generation that failed or was skipped, or a clip not scored yet. Why a prompt fails
is worked out only when asked (:meth:`LatestResults.get`), so reading 2,000 prompts x 5 models
stays well under a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from workbench.engine.runs import JobRecord, latest_job_records
from workbench.results_grid import VERDICT_GROUP, ResultsGrid, build_results_grid
from workbench.tables.score_table import load_table

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark

#: pass / fail: scored against the thresholds; scored: scored, but the benchmark has no
#: thresholds; unscored: a clip exists, not scored yet; failed / skipped / pending: no clip.
Outcome = Literal["pass", "fail", "scored", "unscored", "failed", "skipped", "pending"]


@dataclass(frozen=True)
class LatestResult:
    """One prompt x model: the outcome, the run it comes from, and why (the failed thresholds
    or the generation error)."""

    outcome: Outcome
    run_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LatestResults:
    """The latest result of every prompt x model that was run (models in benchmark order)."""

    models: tuple[str, ...] = ()
    results: Mapping[tuple[str, str], LatestResult] = field(default_factory=dict)  # (prompt, model)
    grid: ResultsGrid | None = None  # explains failed thresholds on demand
    warnings: tuple[str, ...] = ()

    def get(self, prompt_id: str, model: str) -> LatestResult | None:
        """The result with its reason (None when the model never ran this prompt)."""
        result = self.results.get((prompt_id, model))
        if result is None or result.outcome != "fail" or result.reason or self.grid is None:
            return result
        row = self.grid.row_of(prompt_id)
        reasons = self.grid.failed_scorers(model, row) if row is not None else []
        return replace(result, reason="; ".join(reasons) or None)

    def outcome(self, prompt_id: str, model: str) -> Outcome | None:
        """Just the outcome (cheap: no reason worked out)."""
        result = self.results.get((prompt_id, model))
        return result.outcome if result is not None else None

    def for_prompt(self, prompt_id: str) -> list[tuple[str, LatestResult | None]]:
        """(model, result or None) for every model, in column order."""
        return [(model, self.get(prompt_id, model)) for model in self.models]


def _model_order(bench: Benchmark, found: set[str]) -> tuple[str, ...]:
    configured = [m for m in bench.config.models if m in found]
    return tuple(configured + sorted(found - set(configured)))


def _scored_runs(table: pl.DataFrame) -> dict[tuple[str, str], str]:
    """(model, prompt_id) -> the newest run whose scores the table holds."""
    if not table.height:
        return {}
    newest = (table.filter(pl.col("run").is_not_null())
              .group_by(["model", "prompt_id"]).agg(pl.col("run").max()))
    return {(m, p): r for m, p, r in newest.iter_rows()}


def _has_values(grid: ResultsGrid) -> np.ndarray:
    """bool [model, row]: some scorer has a value for the prompt (not only errors)."""
    out = np.zeros((len(grid.models), grid.n_rows), dtype=bool)
    for column in grid.columns:
        if column.group != VERDICT_GROUP:
            m = grid.models.index(column.model)
            out[m] |= ~np.isnan(grid.values[column.index])
    return out


def _without_score(jobs: list[tuple[str, JobRecord]]) -> LatestResult:
    """What happened to a prompt x model whose clips have no score (one record per repeat)."""
    statuses = {job.status for _run, job in jobs}
    run_id = max(run for run, _job in jobs)
    if any(job.status == "succeeded" and job.video is not None for _run, job in jobs):
        return LatestResult("unscored", run_id)
    error = next((job.error for _run, job in jobs if job.error), None)
    if "failed" in statuses or "succeeded" in statuses:  # succeeded without its video: failed too
        return LatestResult("failed", run_id, error)
    if statuses == {"skipped"}:
        return LatestResult("skipped", run_id, error)
    return LatestResult("pending", run_id, error)


def latest_results(bench: Benchmark) -> LatestResults:
    """Read scores and run journals (call it off the UI thread) and sum them up per prompt."""
    warnings: list[str] = []
    table = load_table(bench, warnings=warnings)
    grid = build_results_grid(bench, table)
    scored_runs = _scored_runs(table)
    prompt_ids = {p.id for p in bench.prompts}
    jobs: dict[tuple[str, str], list[tuple[str, JobRecord]]] = {}
    for (model, prompt_id, _repeat), (run_id, job) in latest_job_records(bench).items():
        if prompt_id in prompt_ids:
            jobs.setdefault((prompt_id, model), []).append((run_id, job))

    results: dict[tuple[str, str], LatestResult] = {}
    has_values = _has_values(grid)
    for m, model in enumerate(grid.models):
        for row in np.flatnonzero(grid.scored[m]):
            prompt_id = grid.prompt_ids[row]
            run_id = scored_runs.get((model, prompt_id))
            if not has_values[m, row]:  # only errors: the clip has no video
                from_jobs = _without_score(jobs[(prompt_id, model)]) if (prompt_id, model) in jobs else None
                if from_jobs is not None and from_jobs.outcome != "unscored":
                    results[(prompt_id, model)] = from_jobs
                    continue
                message = next((grid.cell_errors[(c.index, row)] for c in grid.columns
                                if c.model == model and (c.index, row) in grid.cell_errors), None)
                results[(prompt_id, model)] = LatestResult("failed", run_id, message)
            elif not grid.has_thresholds:
                results[(prompt_id, model)] = LatestResult("scored", run_id)
            elif grid.model_passed[m, row]:
                results[(prompt_id, model)] = LatestResult("pass", run_id)
            else:
                results[(prompt_id, model)] = LatestResult("fail", run_id)
    for key, records in jobs.items():
        if key not in results:
            results[key] = _without_score(records)
    models = _model_order(bench, {model for _prompt, model in results})
    return LatestResults(models=models, results=results, grid=grid,
                         warnings=tuple(dict.fromkeys([*warnings, *grid.warnings])))

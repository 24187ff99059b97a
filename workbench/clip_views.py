"""What a score browser shows: one row per (prompt, model) with its score cells, and each clip's
video, thumbnails, run and scores.

Built from :func:`workbench.tables.score_table.load_table` (values and per-threshold verdicts),
the runs' job records (videos, failures) and the scorers' descriptions. Sorting and tag
filtering work on the loaded rows in memory, so they are instant for any benchmark size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

from workbench.benchmark.config import Threshold
from workbench.benchmark.prompts import Prompt
from workbench.decide.thresholds import ThresholdEvaluator
from workbench.engine.runs import JobKey, JobRecord, RunRecord, latest_job_records, load_run
from workbench.errors import WorkbenchError
from workbench.judgments.human_scores import HUMAN_PASS, HUMAN_PREFERENCE, HUMAN_RATING, HUMAN_SCORER_NAMES
from workbench.run_scoring import thumbnails_dir
from workbench.scorers.registry import available_scorers
from workbench.tables.score_table import load_table, scorer_order, wide_table

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark

#: grid columns that are not scorers
PROMPT_COLUMN = "prompt"
MODEL_COLUMN = "model"
VERDICT_COLUMN = "verdict"
KEY_COLUMNS = (PROMPT_COLUMN, MODEL_COLUMN, VERDICT_COLUMN)

Verdict = Literal["pass", "fail", "partial"]
RowState = Literal["scored", "not scored", "no video"]

HUMAN_DESCRIPTIONS = {
    HUMAN_RATING: "mean 1-5 score raters gave the clip",
    HUMAN_PASS: "share of raters who said the clip passes",
    HUMAN_PREFERENCE: "how often raters preferred this model's clip for the prompt (ties count half)",
}


@dataclass(frozen=True)
class ScorerNote:
    """How to read one column: what it measures and which way is better."""

    name: str
    description: str
    direction: str = "none"  # higher | lower | none
    unit: str = ""

    def better(self) -> str:
        return {"higher": "higher is better", "lower": "lower is better"}.get(self.direction, "")


@dataclass(frozen=True)
class Cell:
    """One scorer for one (prompt, model): the mean over repeats and its verdicts."""

    value: float | None
    passed: int = 0  # repeats within the threshold
    judged: int = 0  # repeats with a verdict (a threshold applies)
    errors: int = 0  # repeats where the scorer (or the video) failed
    error: str | None = None  # the first error message

    @property
    def verdict(self) -> Verdict | None:
        """None without a threshold; partial when only some repeats pass."""
        if not self.judged:
            return None
        if self.passed == self.judged:
            return "pass"
        return "fail" if self.passed == 0 else "partial"


EMPTY_CELL = Cell(None)


@dataclass(frozen=True)
class ClipScore:
    """One scorer's result for one clip (a single repeat)."""

    scorer: str
    value: float | None
    passed: bool | None  # None where no threshold applies
    error: str | None


@dataclass(frozen=True)
class ClipView:
    """One clip (model, prompt, repeat): where its video and thumbnails are, and its scores."""

    model: str
    prompt_id: str
    repeat: int
    run_id: str | None
    status: str  # succeeded | failed | skipped | submitted | unknown
    video: Path | None
    thumbnails: tuple[Path, ...]
    error: str | None  # why there is no video
    scores: Mapping[str, ClipScore] = field(default_factory=dict)
    note: str | None = None  # e.g. a newer run that is not scored yet

    @property
    def scored(self) -> bool:
        return bool(self.scores)


@dataclass(frozen=True)
class GridRow:
    """One (prompt, model) row of the grid."""

    prompt_id: str
    model: str
    cells: Mapping[str, Cell]
    state: RowState
    passes_all: bool | None  # every threshold passes (None: no thresholds, or nothing scored)
    failures: tuple[str, ...] = ()  # why it does not pass, one phrase per failed threshold
    error: str | None = None  # why the clip has no video / its first scorer error
    repeats: int = 1
    position: int = 0  # place in benchmark order (prompt, then model)

    @property
    def key(self) -> str:
        return row_key(self.prompt_id, self.model)

    def cell(self, scorer: str) -> Cell:
        return self.cells.get(scorer, EMPTY_CELL)


def row_key(prompt_id: str, model: str) -> str:
    """A stable key for a (prompt, model) row."""
    return f"{prompt_id}\x1f{model}"


@dataclass(frozen=True)
class ScoreBoard:
    """Everything the score browser needs, loaded in one go."""

    scorers: tuple[str, ...]
    models: tuple[str, ...]
    rows: tuple[GridRow, ...]
    prompts: Mapping[str, Prompt]
    clips: Mapping[tuple[str, str], tuple[ClipView, ...]]  # (prompt_id, model) -> one per repeat
    notes: Mapping[str, ScorerNote]
    thresholds: Mapping[str, Threshold]
    warnings: tuple[str, ...] = ()
    has_runs: bool = False

    @property
    def has_scores(self) -> bool:
        return any(row.state != "not scored" for row in self.rows)

    @property
    def is_empty(self) -> bool:
        return not self.rows

    @cached_property
    def _by_key(self) -> dict[str, GridRow]:
        return {row.key: row for row in self.rows}

    def row(self, prompt_id: str, model: str) -> GridRow | None:
        """The grid row of one (prompt, model), if it has one."""
        return self._by_key.get(row_key(prompt_id, model))

    def tags(self) -> list[tuple[str, int]]:
        """(tag, number of prompts with rows) for every tag of a prompt in the grid."""
        shown = {row.prompt_id for row in self.rows}
        counts: dict[str, int] = {}
        for prompt_id in shown:
            for tag in self.prompts[prompt_id].tags:
                counts[tag] = counts.get(tag, 0) + 1
        return sorted(counts.items())

    def rows_with_tag(self, tag: str | None) -> list[GridRow]:
        """The rows of prompts carrying ``tag`` (every row for None)."""
        if tag is None:
            return list(self.rows)
        return [row for row in self.rows if tag in self.prompts[row.prompt_id].tags]

    def clips_for(self, prompt_id: str) -> list[tuple[str, tuple[ClipView, ...]]]:
        """(model, clips by repeat) for every model that has a row for this prompt."""
        return [(m, self.clips.get((prompt_id, m), ())) for m in self.models
                if (prompt_id, m) in self.clips]

    def threshold_text(self, scorer: str, prompt_id: str | None = None) -> str:
        """The bounds in force for ``scorer`` (for this prompt's tags), e.g. ``min 0.9``."""
        threshold = self.thresholds.get(scorer)
        if threshold is None:
            return ""
        tags = self.prompts[prompt_id].tags if prompt_id in self.prompts else ()
        return bounds_in_force(threshold, tags)


def bounds_in_force(threshold: Threshold, tags: Sequence[str]) -> str:
    """The bounds a prompt with ``tags`` is held to, e.g. ``min 0.9`` or ``max 0.3 (tag crowds)``."""
    bounds = threshold.for_tags(tags)
    parts = []
    if bounds.min is not None:
        parts.append(f"min {bounds.min:g}")
    if bounds.max is not None:
        parts.append(f"max {bounds.max:g}")
    tag = next((t for t in tags if t in threshold.tags), None)
    return " ".join(parts) + (f" (tag {tag})" if tag else "")


def sort_rows(rows: Sequence[GridRow], column: str | None, descending: bool = False) -> list[GridRow]:
    """Rows ordered by a grid column; missing values always last. None keeps benchmark order."""
    if column is None or column == PROMPT_COLUMN and not descending:
        return sorted(rows, key=lambda r: r.position)
    if column == PROMPT_COLUMN:
        return sorted(rows, key=lambda r: r.position, reverse=True)
    if column == MODEL_COLUMN:
        return sorted(rows, key=lambda r: (r.model, r.position), reverse=descending)
    if column == VERDICT_COLUMN:
        rank = {True: 1, False: 0}

        def verdict_key(row: GridRow) -> float | None:
            return None if row.passes_all is None else rank[row.passes_all]
        return _sort_with_missing_last(rows, verdict_key, descending)
    return _sort_with_missing_last(rows, lambda r: r.cell(column).value, descending)


def _sort_with_missing_last(rows: Sequence[GridRow], value, descending: bool) -> list[GridRow]:
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=lambda r: r.position)
    present.sort(key=value, reverse=descending)  # stable: ties keep benchmark order
    missing.sort(key=lambda r: r.position)
    return present + missing


def pick_thumbnails(thumbnails: Sequence[Path], count: int) -> list[Path]:
    """``count`` thumbnails spread evenly over the clip (all of them when there are fewer)."""
    if count <= 0 or not thumbnails:
        return []
    if len(thumbnails) <= count:
        return list(thumbnails)
    if count == 1:
        return [thumbnails[0]]
    step = (len(thumbnails) - 1) / (count - 1)
    return [thumbnails[round(i * step)] for i in range(count)]


def clip_thumbnails(video: Path | None) -> tuple[Path, ...]:
    """The PNG thumbnails written beside a video by scoring, in frame order (none yet: empty)."""
    if video is None:
        return ()
    folder = thumbnails_dir(video)
    if not folder.is_dir():
        return ()
    return tuple(sorted(folder.glob("*.png")))


# ----------------------------------------------------------------------------- loading


def scorer_notes(bench: Benchmark, scorers: Sequence[str], warnings: list[str]) -> dict[str, ScorerNote]:
    """Description and direction of every column (a scorer not installed any more gets a note)."""
    try:
        infos = available_scorers(bench.config.scoring.external)
    except WorkbenchError as error:
        warnings.append(str(error))
        infos = {}
    notes: dict[str, ScorerNote] = {}
    for name in scorers:
        info = infos.get(name)
        if info is not None:
            notes[name] = ScorerNote(name, info.description, info.direction, info.unit)
        elif name in HUMAN_DESCRIPTIONS:
            notes[name] = ScorerNote(name, HUMAN_DESCRIPTIONS[name], "higher")
        else:
            notes[name] = ScorerNote(name, "not an installed scorer")
    return notes


def shown_scorers(bench: Benchmark, table: pl.DataFrame) -> list[str]:
    """The enabled scorers, any other scorer a threshold judges (its scores decide verdicts, so
    they are shown), then the human ones that have values: the columns a browser shows."""
    present = set(table.get_column("scorer").unique().to_list()) if table.height else set()
    humans = [n for n in HUMAN_SCORER_NAMES if n in present]
    judged = [n for n in bench.config.thresholds
              if n in present and n not in bench.config.scorers and n not in humans]
    return scorer_order(bench, [*bench.config.scorers, *judged, *humans])


def model_order(bench: Benchmark, found: set[str]) -> list[str]:
    """The models found, in benchmark.toml's order, then any no longer configured, by name."""
    configured = [m for m in bench.config.models if m in found]
    return configured + sorted(found - set(configured))


def _clip_scores(table: pl.DataFrame, columns: Sequence[str]) -> dict[JobKey, dict[str, ClipScore]]:
    wanted = set(columns)
    out: dict[JobKey, dict[str, ClipScore]] = {}
    for model, prompt_id, repeat, scorer, value, error, passed in table.select(
        "model", "prompt_id", "repeat", "scorer", "value", "error", "passed"
    ).iter_rows():
        if scorer not in wanted:
            continue
        if value is not None and math.isnan(value):
            value = None
        out.setdefault((model, prompt_id, repeat), {})[scorer] = ClipScore(scorer, value, passed, error)
    ordered = {name: i for i, name in enumerate(columns)}
    return {k: dict(sorted(v.items(), key=lambda kv: ordered[kv[0]])) for k, v in out.items()}


def _scored_runs(table: pl.DataFrame) -> dict[JobKey, str]:
    return {(m, p, r): run for m, p, r, run in
            table.select("model", "prompt_id", "repeat", "run").unique().iter_rows() if run is not None}


class _Runs:
    """Loads each run at most once."""

    def __init__(self, bench: Benchmark) -> None:
        self.bench = bench
        self._loaded: dict[str, RunRecord | None] = {}

    def job(self, run_id: str, key: JobKey) -> JobRecord | None:
        if run_id not in self._loaded:
            try:
                self._loaded[run_id] = load_run(self.bench, run_id)
            except WorkbenchError:
                self._loaded[run_id] = None
        record = self._loaded[run_id]
        return record.job(*key) if record is not None else None


def _clip_view(key: JobKey, scored_run: str | None, latest: tuple[str, JobRecord] | None,
               runs: _Runs, scores: Mapping[str, ClipScore]) -> ClipView:
    model, prompt_id, repeat = key
    job: JobRecord | None = None
    run_id = scored_run
    note = None
    if scored_run is not None:
        if latest is not None and latest[0] == scored_run:
            job = latest[1]
        else:
            job = runs.job(scored_run, key)
            if latest is not None and latest[0] > scored_run and latest[1].video is not None:
                note = f"run {latest[0]} has a newer clip, not scored yet"
    elif latest is not None:
        run_id, job = latest
    if job is None:
        return ClipView(model, prompt_id, repeat, run_id, "unknown", None, (), None, scores, note)
    return ClipView(model, prompt_id, repeat, run_id, job.status, job.video, clip_thumbnails(job.video),
                    None if job.video is not None else (job.error or job.status), scores, note)


def _row_failures(evaluator: ThresholdEvaluator | None, model: str,
                  prompt_id: str) -> tuple[bool | None, tuple[str, ...]]:
    if evaluator is None:
        return None, ()
    try:
        passed = evaluator.prompt_passed(model, prompt_id)
        failures = evaluator.failures(model, prompt_id)
    except KeyError:
        return None, ()
    return passed, tuple(str(f) for f in failures)


def load_board(bench: Benchmark) -> ScoreBoard:
    """Scores, verdicts, clips and scorer notes of every prompt x model that was run or scored."""
    warnings: list[str] = []
    table = load_table(bench, warnings=warnings)
    columns = shown_scorers(bench, table)
    notes = scorer_notes(bench, columns, warnings)
    prompts = {p.id: p for p in bench.prompts}
    thresholds = dict(bench.config.thresholds)

    records = {k: v for k, v in latest_job_records(bench).items() if k[1] in prompts}
    scored_runs = _scored_runs(table)
    clip_scores = _clip_scores(table, columns)
    keys = set(records) | set(scored_runs)
    models = model_order(bench, {k[0] for k in keys})
    runs = _Runs(bench)
    clips: dict[tuple[str, str], list[ClipView]] = {}
    for key in sorted(keys, key=lambda k: k[2]):
        view = _clip_view(key, scored_runs.get(key), records.get(key), runs, clip_scores.get(key, {}))
        clips.setdefault((key[1], key[0]), []).append(view)

    wide_rows: dict[tuple[str, str], dict] = {}
    if table.height:
        for row in wide_table(table, columns).iter_rows(named=True):
            wide_rows[(row["prompt_id"], row["model"])] = row
    scored_table = table.filter(pl.col("scorer").is_in(columns)) if table.height else table
    evaluator = None
    if thresholds and scored_table.height:
        evaluator = ThresholdEvaluator(scored_table, bench.prompt_tags(), thresholds, models=models)

    rows: list[GridRow] = []
    for prompt in bench.prompts:
        for model in models:
            views = clips.get((prompt.id, model))
            wide = wide_rows.get((prompt.id, model))
            if views is None and wide is None:
                continue
            rows.append(_grid_row(prompt.id, model, wide, views or [], columns, evaluator, len(rows)))
    return ScoreBoard(
        scorers=tuple(columns), models=tuple(models), rows=tuple(rows), prompts=prompts,
        clips={k: tuple(v) for k, v in clips.items()}, notes=notes, thresholds=thresholds,
        warnings=tuple(dict.fromkeys(warnings)), has_runs=bool(records) or bool(scored_runs),
    )


def _grid_row(prompt_id: str, model: str, wide: dict | None, views: list[ClipView], columns: Sequence[str],
              evaluator: ThresholdEvaluator | None, position: int) -> GridRow:
    errors = {name: score.error for view in views for name, score in reversed(view.scores.items())
              if score.error}
    cells: dict[str, Cell] = {}
    if wide is not None:
        for name in columns:
            value = wide.get(name)
            value = None if value is None or math.isnan(value) else float(value)
            cell = Cell(value=value, passed=int(wide.get(f"{name}:passed") or 0),
                        judged=int(wide.get(f"{name}:judged") or 0),
                        errors=int(wide.get(f"{name}:errors") or 0), error=errors.get(name))
            if value is not None or cell.errors or cell.judged:
                cells[name] = cell
    no_video = [v for v in views if v.video is None and v.error]
    state: RowState
    if any(c.value is not None for c in cells.values()):
        state = "scored"
    elif no_video:
        state = "no video"
    else:
        state = "scored" if cells else "not scored"
    error = no_video[0].error if no_video else next((c.error for c in cells.values() if c.error), None)
    if state == "not scored":
        passes_all, failures = None, ()
    else:
        passes_all, failures = _row_failures(evaluator, model, prompt_id)
    repeats = max(len(views), int(wide.get("repeats") or 1) if wide else 1)
    return GridRow(prompt_id, model, cells, state, passes_all, failures, error, repeats, position)

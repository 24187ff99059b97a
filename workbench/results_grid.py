"""The per-prompt results table as arrays: one row a prompt, one column per (scorer, model).

Built once per load from :func:`workbench.tables.score_table.load_table` (the current version
of each scorer, human judgments included), so a view can filter, sort and draw any part of it
without touching files again:

* ``values[column, row]``: the mean over repeats (NaN where there is none), as the thresholds
  and the gate see it (:func:`workbench.decide.score_matrix.build_cube`).
* ``states[column, row]``: how the cell reads against the thresholds (see the ``CELL_*`` codes).
  A thresholded cell passes or fails as the verdict judges it: the repeats' mean against the
  bounds. When the repeats themselves disagree the cell is marked ``*`` and its description
  says how many passed.
* Columns are grouped scorer-major: under each scorer, the models side by side. When the
  benchmark has thresholds, a first ``verdict`` group says per model whether the prompt clears
  every threshold (:class:`workbench.decide.thresholds.ThresholdEvaluator`, repeats averaged,
  a missing thresholded value fails).

Filtering (tag, text, failing, models disagree) and sorting return arrays of row indices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from workbench.benchmark.config import Threshold
from workbench.clip_views import ScorerNote, bounds_in_force, model_order, scorer_notes, shown_scorers
from workbench.decide.score_matrix import ScoreCube
from workbench.decide.thresholds import ThresholdEvaluator
from workbench.tables.score_table import load_table, run_ids
from workbench.tables.table_output import FAIL_MARK, PASS_MARK, format_value

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark

#: the group of columns that says whether a prompt clears every threshold, per model
VERDICT_GROUP = "verdict"
#: the sort key of the prompt id column (data columns are 0, 1, 2, ...)
PROMPT_COLUMN = -1

# What a cell shows, against the thresholds.
CELL_EMPTY = 0  # nothing recorded (not run or not scored)
CELL_PLAIN = 1  # a value; no threshold applies
CELL_PASS = 2  # every judged repeat passes
CELL_FAIL = 3  # no judged repeat passes (a missing value under a threshold included)
CELL_PARTIAL = 4  # some repeats pass, some do not
CELL_ERROR = 5  # no value, the scorer or the video failed; no threshold applies


@dataclass(frozen=True)
class ResultColumn:
    """One data column: a scorer (or the verdict) for one model."""

    group: str
    model: str
    index: int

    @property
    def label(self) -> str:
        return f"{self.group}/{self.model}"


@dataclass(frozen=True)
class ResultFilter:
    """Which prompts to show. Every set condition must hold."""

    tag: str | None = None
    text: str = ""  # words that must all appear in the prompt's id or text (any case)
    failing: bool = False  # some model fails the prompt
    disagree: bool = False  # one model passes the prompt and another fails it

    @property
    def active(self) -> bool:
        return bool(self.tag or self.text.strip() or self.failing or self.disagree)

    def describe(self) -> list[str]:
        """Short phrases for a status line, e.g. ``tag hands``, ``"cat"``, ``failing``."""
        parts = []
        if self.tag:
            parts.append(f"tag {self.tag}")
        if self.text.strip():
            parts.append(f'"{self.text.strip()}"')
        if self.failing:
            parts.append("failing")
        if self.disagree:
            parts.append("models disagree")
        return parts


@dataclass(frozen=True)
class ResultSort:
    """Sort by one column (:data:`PROMPT_COLUMN` or a data column index); None: benchmark order."""

    column: int | None = None
    descending: bool = False

    def next_for(self, column: int) -> "ResultSort":
        """The sort after asking for ``column`` again: ascending, then descending, then none."""
        if column != self.column:
            return ResultSort(column, False)
        if not self.descending:
            return ResultSort(column, True)
        return ResultSort(None, False)


@dataclass
class ResultsGrid:
    """Every prompt's results in columnar arrays (see the module docstring)."""

    prompt_ids: tuple[str, ...]
    prompt_texts: tuple[str, ...]
    prompt_tags: tuple[tuple[str, ...], ...]
    models: tuple[str, ...]
    groups: tuple[str, ...]
    columns: tuple[ResultColumn, ...]
    values: np.ndarray  # float64 [column, row]
    states: np.ndarray  # int8 [column, row]
    passed: np.ndarray  # int16 [column, row]: judged repeats that pass
    judged: np.ndarray  # int16 [column, row]: repeats with a verdict
    errors: np.ndarray  # int16 [column, row]: repeats where the scorer or the video failed
    scored: np.ndarray  # bool [model, row]: the model has any result for the prompt
    model_passed: np.ndarray  # bool [model, row]: clears every threshold (meaningful where scored)
    thresholds: Mapping[str, Threshold]
    evaluator: ThresholdEvaluator | None = None  # None without thresholds
    notes: Mapping[str, ScorerNote] = field(default_factory=dict)
    cell_errors: Mapping[tuple[int, int], str] = field(default_factory=dict)  # (column, row) -> message
    warnings: tuple[str, ...] = ()
    has_runs: bool = False

    def __post_init__(self) -> None:
        self._row_of = {p: i for i, p in enumerate(self.prompt_ids)}
        self._haystack = [f"{p}\n{t}".lower() for p, t in zip(self.prompt_ids, self.prompt_texts)]
        tag_names = sorted({t for tags in self.prompt_tags for t in tags})
        self._tag_masks = {t: np.zeros(self.n_rows, dtype=bool) for t in tag_names}
        for row, tags in enumerate(self.prompt_tags):
            for tag in tags:
                self._tag_masks[tag][row] = True
        judged = self.scored
        fails = judged & ~self.model_passed
        self.failing: np.ndarray = fails.any(axis=0) if self.has_thresholds else np.zeros(self.n_rows, bool)
        self.disagree: np.ndarray = (
            (judged & self.model_passed).any(axis=0) & self.failing
            if self.has_thresholds else np.zeros(self.n_rows, bool)
        )
        self._orders: dict[tuple[int | None, bool], np.ndarray] = {}

    # ------------------------------------------------------------ shape
    @property
    def n_rows(self) -> int:
        return len(self.prompt_ids)

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    @property
    def has_thresholds(self) -> bool:
        return bool(self.thresholds)

    @property
    def has_scores(self) -> bool:
        return bool(self.scored.any())

    def tags(self) -> list[tuple[str, int]]:
        """(tag, number of prompts carrying it), sorted by tag."""
        return [(t, int(m.sum())) for t, m in self._tag_masks.items()]

    def row_of(self, prompt_id: str) -> int | None:
        return self._row_of.get(prompt_id)

    def column_index(self, group: str, model: str) -> int | None:
        for column in self.columns:
            if column.group == group and column.model == model:
                return column.index
        return None

    # ------------------------------------------------------------ filtering and sorting
    def filter_mask(self, filters: ResultFilter) -> np.ndarray:
        """A bool per row: does the prompt meet every condition of ``filters``."""
        mask = np.ones(self.n_rows, dtype=bool)
        if filters.tag:
            tag_mask = self._tag_masks.get(filters.tag)
            mask &= tag_mask if tag_mask is not None else False
        words = filters.text.lower().split()
        if words:
            mask &= np.fromiter((all(w in text for w in words) for text in self._haystack),
                                dtype=bool, count=self.n_rows)
        if filters.failing:
            mask &= self.failing
        if filters.disagree:
            mask &= self.disagree
        return mask

    def sort_order(self, sort: ResultSort) -> np.ndarray:
        """Every row index in ``sort`` order; missing values last either way, ties in benchmark order."""
        key = (sort.column, sort.descending)
        cached = self._orders.get(key)
        if cached is not None:
            return cached
        if sort.column is None:
            order = np.arange(self.n_rows)
        elif sort.column == PROMPT_COLUMN:
            order = np.argsort(np.array(self.prompt_ids, dtype=object), kind="stable")
            if sort.descending:
                order = order[::-1].copy()
        else:
            order = _order_with_missing_last(self.values[sort.column], sort.descending)
        self._orders[key] = order
        return order

    def rows(self, filters: ResultFilter = ResultFilter(), sort: ResultSort = ResultSort()) -> np.ndarray:
        """The row indices to show, in order: the sort applied to the rows the filters keep."""
        order = self.sort_order(sort)
        if not filters.active:
            return order
        return order[self.filter_mask(filters)[order]]

    # ------------------------------------------------------------ reading cells
    def cell_text(self, column: int, row: int) -> str:
        """``0.931 ✓``, ``0.812 ✗``, ``0.874 2/3``, ``error``, ``- ✗`` (missing under a threshold), ``-``."""
        state = int(self.states[column, row])
        if self.columns[column].group == VERDICT_GROUP:
            if state == CELL_PASS:
                return f"{PASS_MARK} pass"
            return f"{FAIL_MARK} fail" if state == CELL_FAIL else "-"
        value = float(self.values[column, row])
        if math.isnan(value):
            if state == CELL_FAIL:
                return f"error {FAIL_MARK}" if self.errors[column, row] else f"- {FAIL_MARK}"
            return "error" if state == CELL_ERROR else "-"
        text = format_value(value)
        if state == CELL_PASS:
            text += f" {PASS_MARK}"
        elif state == CELL_FAIL:
            text += f" {FAIL_MARK}"
        elif state == CELL_PARTIAL:
            text += f" {int(self.passed[column, row])}/{int(self.judged[column, row])}"
        passed, judged = int(self.passed[column, row]), int(self.judged[column, row])
        if state in (CELL_PASS, CELL_FAIL) and 0 < passed < judged:
            text += "*"  # the repeats disagree; the mean decides (describe_cell says how many passed)
        if self.errors[column, row]:
            text += "!"
        return text

    def value(self, column: int, row: int) -> float | None:
        value = float(self.values[column, row])
        return None if math.isnan(value) else value

    def error(self, column: int, row: int) -> str | None:
        """The first error recorded for a cell (why it has no value), if any."""
        return self.cell_errors.get((column, row))

    def threshold_text(self, scorer: str, row: int) -> str:
        """The bounds in force for ``scorer`` on this prompt (per-tag overrides included)."""
        threshold = self.thresholds.get(scorer)
        if threshold is None:
            return ""
        return bounds_in_force(threshold, self.prompt_tags[row])

    def describe_cell(self, column: int, row: int) -> str:
        """One line about a cell: what it is, its value and the threshold it is held to."""
        col = self.columns[column]
        prompt_id = self.prompt_ids[row]
        if col.group == VERDICT_GROUP:
            if not self.scored[self.models.index(col.model), row]:
                return f"{prompt_id} · {col.model}: no results yet"
            text = self.cell_text(column, row)
            failed = self.failed_scorers(col.model, row)
            why = f": {', '.join(failed)}" if failed else ""
            return f"{prompt_id} · {col.model}: {text}{why} (every threshold, repeats averaged)"
        parts = [f"{prompt_id} · {col.group} · {col.model}: {self.cell_text(column, row)}"]
        threshold = self.threshold_text(col.group, row)
        if threshold:
            parts.append(f"threshold {threshold}")
        note = self.notes.get(col.group)
        if note is not None and note.better():
            parts.append(note.better())
        judged, errors = int(self.judged[column, row]), int(self.errors[column, row])
        if judged > 1:
            parts.append(f"{int(self.passed[column, row])} of {judged} repeats pass on their own; "
                         "their mean decides")
        if errors:
            parts.append(f"{errors} repeat{'s' if errors != 1 else ''} without a value")
        error = self.error(column, row)
        if error:
            parts.append(f"error: {error}")
        return " · ".join(parts)

    def failed_scorers(self, model: str, row: int) -> list[str]:
        """Why one model fails this prompt, one phrase per failed threshold (repeats averaged);
        missing values share one phrase, e.g. ``sharpness, decodes missing (no video: ...)``."""
        if self.evaluator is None:
            return []
        try:
            failures = self.evaluator.failures(model, self.prompt_ids[row])
        except KeyError:
            return []
        phrases = [str(f) for f in failures if f.reason != "missing"]
        missing = [f for f in failures if f.reason == "missing"]
        if missing:
            details = {f.detail for f in missing}
            detail = next(iter(details)) if len(details) == 1 else None
            phrases.append(", ".join(f.scorer for f in missing) + " missing" + (f" ({detail})" if detail else ""))
        return phrases


def _order_with_missing_last(values: np.ndarray, descending: bool) -> np.ndarray:
    present = ~np.isnan(values)
    rows = np.flatnonzero(present)
    keys = values[rows]
    order = rows[np.argsort(-keys if descending else keys, kind="stable")]
    return np.concatenate([order, np.flatnonzero(~present)])


# ----------------------------------------------------------------------------- building


def _index(name: str, keys: Sequence[str]) -> pl.Expr:
    return pl.col(name).replace_strict({k: i for i, k in enumerate(keys)}, default=-1,
                                       return_dtype=pl.Int64)


def build_results_grid(bench: Benchmark, table: pl.DataFrame | None = None) -> ResultsGrid:
    """The results of every prompt of ``bench`` (``table``: a :func:`load_table` frame already read)."""
    warnings: list[str] = []
    if table is None:
        table = load_table(bench, warnings=warnings)
    prompts = bench.prompts
    prompt_ids = [p.id for p in prompts]
    n_rows = len(prompt_ids)
    scorers = shown_scorers(bench, table)
    models = model_order(bench, set(table.get_column("model").unique().to_list()) if table.height else set())
    thresholds = dict(bench.config.thresholds)
    n_m, n_s = len(models), len(scorers)

    # One pass over the long table: per (scorer, model, prompt) the mean over repeats (as
    # workbench.decide.score_matrix.build_cube averages them) and the per-repeat verdict counts.
    cube_values = np.full((n_s, n_m, n_rows), np.nan)
    passed = np.zeros((n_s * n_m, n_rows), dtype=np.int16)
    judged = np.zeros_like(passed)
    errors = np.zeros_like(passed)
    scored = np.zeros((n_m, n_rows), dtype=bool)
    missing_errors: dict[tuple[str, str, str], str] = {}
    cells = _cell_frame(table, scorers, models, prompt_ids)
    with_error = cells.filter(pl.col("error").is_not_null()) if cells.height else cells
    if cells.height:
        s, m, p = (cells.get_column(name).to_numpy() for name in ("s", "m", "p"))
        cube_values[s, m, p] = cells.get_column("value").fill_null(np.nan).to_numpy()
        flat = s * n_m + m
        passed[flat, p] = cells.get_column("passed").to_numpy()
        judged[flat, p] = cells.get_column("judged").to_numpy()
        errors[flat, p] = cells.get_column("errors").to_numpy()
        scored[m, p] = True
        for si, mi, pi, has_value, message in zip(
                *(with_error.get_column(name).to_list() for name in ("s", "m", "p")),
                with_error.get_column("value").is_not_null().to_list(),
                with_error.get_column("error").to_list()):
            if not has_value:
                missing_errors[(models[mi], prompt_ids[pi], scorers[si])] = message
    cube_values.setflags(write=False)
    cube = ScoreCube(scorers=tuple(scorers), models=tuple(models), prompt_ids=tuple(prompt_ids),
                     values=cube_values, present_models=frozenset(models), errors=missing_errors)
    values = cube_values.reshape(n_s * n_m, n_rows)

    has_value = ~np.isnan(values)
    states = np.full(values.shape, CELL_EMPTY, dtype=np.int8)
    states[has_value] = CELL_PLAIN
    states[~has_value & (errors > 0)] = CELL_ERROR
    with_verdict = judged > 0
    states[with_verdict & (passed == judged)] = CELL_PASS
    states[with_verdict & (passed == 0)] = CELL_FAIL
    states[with_verdict & (passed > 0) & (passed < judged)] = CELL_PARTIAL

    evaluator = None
    model_passed = np.ones((n_m, n_rows), dtype=bool)
    if thresholds and n_m:
        evaluator = ThresholdEvaluator.from_cube(cube, bench.prompt_tags(), thresholds)
        model_passed = np.array(evaluator.evaluate().passed, dtype=bool)
        # A cell reads as the verdict judges it: the repeats' mean against the bounds. When the
        # repeats themselves disagree, the text says how many passed (see cell_text).
        for si, scorer in enumerate(scorers):
            mean_passed = evaluator.scorer_passed(scorer)
            if mean_passed is None:
                continue
            rows = slice(si * n_m, (si + 1) * n_m)
            judged_here = judged[rows] > 0
            states[rows] = np.where(judged_here & has_value[rows],
                                    np.where(mean_passed, CELL_PASS, CELL_FAIL), states[rows])

    groups = list(scorers)
    verdict_prefix = n_m if evaluator is not None else 0
    if verdict_prefix:
        groups.insert(0, VERDICT_GROUP)
        verdict_values = np.where(scored, model_passed.astype(np.float64), np.nan)
        verdict_states = np.where(scored, np.where(model_passed, CELL_PASS, CELL_FAIL),
                                  CELL_EMPTY).astype(np.int8)
        zeros = np.zeros((n_m, n_rows), dtype=np.int16)
        values = np.concatenate([verdict_values, values])
        states = np.concatenate([verdict_states, states])
        passed = np.concatenate([zeros, passed])
        judged = np.concatenate([zeros, judged])
        errors = np.concatenate([zeros, errors])
    cell_errors: dict[tuple[int, int], str] = {}
    if with_error.height:
        columns_of = (with_error.get_column("s") * n_m + with_error.get_column("m") + verdict_prefix).to_list()
        for c, r, message in zip(columns_of, with_error.get_column("p").to_list(),
                                 with_error.get_column("error").to_list()):
            cell_errors[(c, r)] = message
    columns = tuple(ResultColumn(group, model, g * n_m + m)
                    for g, group in enumerate(groups) for m, model in enumerate(models))
    for array in (values, states, passed, judged, errors, scored, model_passed):
        array.setflags(write=False)
    return ResultsGrid(
        prompt_ids=tuple(prompt_ids),
        prompt_texts=tuple(p.text for p in prompts),
        prompt_tags=tuple(tuple(p.tags) for p in prompts),
        models=tuple(models),
        groups=tuple(groups),
        columns=columns,
        values=values,
        states=states,
        passed=passed,
        judged=judged,
        errors=errors,
        scored=scored,
        model_passed=model_passed,
        thresholds=thresholds,
        evaluator=evaluator,
        notes=scorer_notes(bench, scorers, warnings),
        cell_errors=cell_errors,
        warnings=tuple(dict.fromkeys(warnings)),
        has_runs=bool(run_ids(bench)),
    )


def _cell_frame(table: pl.DataFrame, scorers: Sequence[str], models: Sequence[str],
                prompt_ids: Sequence[str]) -> pl.DataFrame:
    """One row per (scorer, model, prompt) with indices s, m, p: mean value over repeats (null
    when no repeat has one), repeats passing / judged / with an error, and the first error."""
    if not table.height or not models or not scorers:
        return pl.DataFrame(schema={"s": pl.Int64, "m": pl.Int64, "p": pl.Int64})
    return (
        table.lazy()
        .with_columns(_index("scorer", scorers).alias("s"), _index("model", models).alias("m"),
                      _index("prompt_id", prompt_ids).alias("p"))
        .filter((pl.col("s") >= 0) & (pl.col("m") >= 0) & (pl.col("p") >= 0))
        .group_by("s", "m", "p")
        .agg(
            pl.col("value").fill_nan(None).mean().alias("value"),
            pl.col("passed").cast(pl.Int16).sum().alias("passed"),
            pl.col("passed").is_not_null().sum().cast(pl.Int16).alias("judged"),
            pl.col("error").is_not_null().sum().cast(pl.Int16).alias("errors"),
            pl.col("error").drop_nulls().first().alias("error"),
        )
        .collect()
    )

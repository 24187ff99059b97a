"""Tune pass/fail thresholds interactively, then write the edited ones to ``benchmark.toml``.

A :class:`TuningSession` holds a benchmark's scores (repeat-averaged, as the gate sees
them), the thresholds as saved and the thresholds being edited. Moving a bound goes
through :class:`~workbench.decide.thresholds.ThresholdEvaluator`, so it costs a fraction
of a millisecond; the session also keeps which (model, prompt) verdicts now differ from
the saved thresholds, updated from each move's flips. With human judgments it also says
which scorers agree with people (:meth:`TuningSession.alignment`, as ``workbench align``)
and how often a scorer's pass/fail under the edited threshold matches people's
(:meth:`TuningSession.pass_agreement`).

:func:`plan_threshold_save` gives the lines of ``benchmark.toml`` a save would change,
without writing; :func:`save_thresholds` writes the edited scorers through
:meth:`Benchmark.set_threshold` and :meth:`Benchmark.save_config` (atomic, comments kept,
one line per changed bound) on a copy of the benchmark, so a refused save
(:class:`~workbench.errors.FileConflict`) leaves the loaded benchmark untouched.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import tomlkit

from workbench.benchmark.config import Bounds, Threshold
from workbench.benchmark.folder import Benchmark
from workbench.decide.score_matrix import ScoreCube, build_cube, table_keys
from workbench.decide.thresholds import (
    PassRates, passed_column, PromptFailure, ThresholdChange, ThresholdError, ThresholdEvaluator,
)
from workbench.judgments.alignment import ITEM, AlignmentRow, pass_label_pairs, scorer_alignment
from workbench.judgments.human_scores import HUMAN_PASS, HUMAN_RATING
from workbench.judgments.threshold_suggestion import Suggestion, suggest_threshold

Side = Literal["min", "max"]
SIDES: tuple[Side, Side] = ("min", "max")
FINE_STEPS = 100
"""A scorer's step is about 1/100 of the spread of its values (rounded to 1, 2 or 5 x 10^k)."""
BIG_STEP_FACTOR = 10
_EPS = 1e-9


# ----------------------------------------------------------------------------- steps


def nice_step(raw: float) -> float:
    """The number 1, 2 or 5 x 10^k closest (on a log scale) to ``raw`` (> 0)."""
    if not math.isfinite(raw) or raw <= 0:
        raise ValueError(f"a step must be a positive number, got {raw!r}")
    exponent = math.floor(math.log10(raw))
    mantissa = raw / 10.0 ** exponent
    for limit, pick in ((1.5, 1), (3.5, 2), (7.5, 5)):
        if mantissa < limit:
            return float(f"{pick}e{exponent}")
    return float(f"1e{exponent + 1}")


def step_decimals(step: float) -> int:
    """Decimal places that every multiple of a :func:`nice_step` needs."""
    return max(0, -math.floor(math.log10(step) + 1e-9))


def step_for(values: np.ndarray) -> float:
    """The fine step for a scorer, from the spread (5th to 95th percentile) of its values."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.01
    low, high = np.percentile(finite, [5, 95])
    # the bulk of the values sets the step, but a few far values keep it from being tiny
    spread = max(float(high - low), float(finite.max() - finite.min()) / 10)
    if spread <= 0:
        spread = abs(float(finite[0]))
    if spread <= 0:
        return 0.01
    return nice_step(spread / FINE_STEPS)


def on_grid(value: float, step: float, steps: int) -> float:
    """Move ``value`` by ``steps`` grid points of ``step`` (an off-grid value snaps first)."""
    position = value / step
    if steps > 0:
        index = math.floor(position + _EPS * max(1.0, abs(position))) + steps
    elif steps < 0:
        index = math.ceil(position - _EPS * max(1.0, abs(position))) + steps
    else:
        index = round(position)
    return round(index * step, step_decimals(step))


def grid_edge(value: float, step: float, down: bool) -> float:
    """The grid point at or below (``down``) / at or above ``value``."""
    position = value / step
    index = math.floor(position + _EPS * max(1.0, abs(position))) if down else math.ceil(position - _EPS * max(1.0, abs(position)))
    return round(index * step, step_decimals(step))


# ----------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class ScorerFacts:
    """What the tuning view shows about one scorer besides its bounds."""

    name: str
    direction: str
    """"higher", "lower", "none", or "" when the scorer is unknown."""
    unit: str
    description: str
    enabled: bool
    n_values: int
    """(model, prompt) cells with a value."""
    lo: float | None
    hi: float | None
    range: tuple[float | None, float | None]
    step: float
    big_step: float
    suggestion: Suggestion | None
    n_labels: int
    """Clips with a majority human pass/fail label and a value of this scorer."""

    @property
    def preferred_side(self) -> Side:
        return "max" if self.direction == "lower" else "min"


def _clamp_to_range(value: float, range_: tuple[float | None, float | None]) -> float:
    lo, hi = range_
    if lo is not None and value < lo:
        return float(lo)
    if hi is not None and value > hi:
        return float(hi)
    return value


def describe(bounds: Bounds | None) -> str:
    """``>= 0.9``, ``<= 3``, ``0.1..0.5`` or ``-`` (no threshold)."""
    if bounds is None:
        return "-"
    if bounds.min is not None and bounds.max is not None:
        return f"{bounds.min:g}..{bounds.max:g}"
    if bounds.min is not None:
        return f">= {bounds.min:g}"
    return f"<= {bounds.max:g}"


# ----------------------------------------------------------------------------- session


@dataclass(frozen=True)
class ScorerPassCounts:
    """Prompts that pass one scorer's own threshold (others ignored), per model."""

    passed: Mapping[str, int]
    n_prompts: int


def _labelled_rows(automated: pl.DataFrame, human: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The automated rows of clips people judged pass or fail, and those judgments (None: no labels)."""
    passes = human.filter(pl.col("scorer") == HUMAN_PASS)
    if passes.is_empty():
        return None
    items = passes.select(ITEM).unique()
    rows = automated.join(items, on=ITEM, how="semi")
    return rows.drop("passed", strict=False), passes


@dataclass(frozen=True)
class PassAgreement:
    """Share of human-labelled clips where a scorer's pass/fail matches the people's."""

    share: float | None
    """None with fewer than three labelled clips."""
    n: int


@dataclass(frozen=True)
class PeopleAgreement:
    """The alignment of every automated scorer with human judgments, and how many clips people judged."""

    rows: Mapping[str, AlignmentRow]
    rated_clips: int
    """Clips with a 1-5 rating."""
    labelled_clips: int
    """Clips with a pass/fail judgment."""


class TuningSession:
    """Saved and edited thresholds over one benchmark's scores.

    ``scores`` is the long table (:func:`workbench.tables.score_table.load_table`,
    automated and human rows). ``infos`` maps scorer names to objects with
    ``direction``, ``unit``, ``range`` and ``description`` (the scorer registry's infos).
    """

    def __init__(
        self,
        scores: pl.DataFrame,
        *,
        prompt_tags: Mapping[str, Sequence[str]],
        saved: Mapping[str, Threshold],
        enabled: Sequence[str],
        model_order: Sequence[str] = (),
        infos: Mapping[str, object] | None = None,
        tag_names: Sequence[str] | None = None,
    ):
        infos = infos or {}
        keys = table_keys(scores, prompt_tags)
        order = [m for m in model_order if m in keys.models]
        self.models: tuple[str, ...] = tuple(order + [m for m in keys.models if m not in order])
        self.prompt_ids: tuple[str, ...] = keys.prompt_ids
        self.prompt_tags = {p: tuple(prompt_tags.get(p, ())) for p in self.prompt_ids}
        self.tag_names: tuple[str, ...] = tuple(tag_names) if tag_names is not None else tuple(
            sorted({t for ts in self.prompt_tags.values() for t in ts}))
        self._cube: ScoreCube = build_cube(scores, self.models, self.prompt_ids, keys.scorers)
        self._saved: dict[str, Threshold] = dict(saved)
        self._model_index = {m: i for i, m in enumerate(self.models)}
        self._prompt_index = {p: i for i, p in enumerate(self.prompt_ids)}
        self.table = scores
        self._infos = dict(infos)
        """The long scores table the session was built from (automated and human rows)."""
        self._agreements: dict[tuple[str, str], PassAgreement] = {}

        is_human = pl.col("scorer").str.starts_with("human.")
        automated = scores.filter(~is_human)
        human = scores.filter(is_human)
        with_values = set(
            scores.filter(pl.col("value").is_not_null()).get_column("scorer").unique().to_list())
        listed = [s for s in enabled if s in with_values]
        listed += [s for s in self._saved if s not in listed]
        self.scorers: tuple[str, ...] = tuple(listed)
        self._labelled = _labelled_rows(automated, human)
        self.facts: dict[str, ScorerFacts] = {
            name: self._facts(name, name in enabled, infos.get(name), automated, human)
            for name in self.scorers
        }
        self._start(dict(self._saved))

    # -- building -------------------------------------------------------------

    @classmethod
    def load(cls, bench: Benchmark, warnings: list[str] | None = None) -> "TuningSession":
        """Read every run's scores and the human judgments of ``bench`` (slow: call from a worker)."""
        from workbench.scorers.registry import available_scorers
        from workbench.tables.score_table import load_table

        table = load_table(bench, include_human=True, warnings=warnings)
        try:
            infos = dict(available_scorers(bench.config.scoring.external))
        except Exception as error:  # a broken external/plugin config must not hide the scores
            if warnings is not None:
                warnings.append(f"scorer descriptions unavailable: {error}")
            infos = {}
        return cls(
            table,
            prompt_tags=bench.prompt_tags(),
            saved=bench.config.thresholds,
            enabled=bench.config.scorers,
            model_order=list(bench.config.models),
            infos=infos,
            tag_names=bench.tags(),
        )

    def _slab(self, scorer: str) -> np.ndarray:
        if scorer in self._cube.scorers:
            return self._cube.slab(scorer)
        return np.full((len(self.models), len(self.prompt_ids)), np.nan)

    def _facts(self, name: str, enabled: bool, info: object | None, automated: pl.DataFrame,
               human: pl.DataFrame) -> ScorerFacts:
        values = self._slab(name)
        finite = values[np.isfinite(values)]
        direction = getattr(info, "direction", "") if info is not None else ""
        if name.startswith("human."):
            direction = direction or "higher"
        suggestion = None
        n_labels = 0
        if not human.is_empty() and not name.startswith("human."):
            label_values, labels = pass_label_pairs(automated, human, name)
            n_labels = len(labels)
            if direction in ("higher", "lower"):
                suggestion = suggest_threshold(label_values, labels, direction)
        step = step_for(values)
        return ScorerFacts(
            name=name,
            direction=direction,
            unit=getattr(info, "unit", "") if info is not None else "",
            description=getattr(info, "description", "") if info is not None else "",
            enabled=enabled,
            n_values=int(finite.size),
            lo=float(finite.min()) if finite.size else None,
            hi=float(finite.max()) if finite.size else None,
            range=tuple(getattr(info, "range", (None, None))) if info is not None else (None, None),
            step=step,
            big_step=step * BIG_STEP_FACTOR,
            suggestion=suggestion,
            n_labels=n_labels,
        )

    def _start(self, thresholds: dict[str, Threshold]) -> None:
        self._evaluator = ThresholdEvaluator.from_cube(self._cube, self.prompt_tags, thresholds)
        self._baseline = ThresholdEvaluator.from_cube(self._cube, self.prompt_tags, dict(self._saved))
        self.saved_rates: PassRates = self._baseline.pass_rates()
        self._saved_passed = self._baseline.evaluate().passed
        self._differs: dict[tuple[str, str], bool] = {}
        now = self._evaluator.evaluate().passed
        for m, p in zip(*np.nonzero(now != self._saved_passed)):
            self._differs[(self.models[m], self.prompt_ids[p])] = bool(now[m, p])

    # -- reading --------------------------------------------------------------

    @property
    def evaluator(self) -> ThresholdEvaluator:
        return self._evaluator

    @property
    def saved(self) -> dict[str, Threshold]:
        return dict(self._saved)

    @property
    def thresholds(self) -> dict[str, Threshold]:
        return self._evaluator.thresholds

    def threshold(self, scorer: str) -> Threshold | None:
        return self._evaluator.thresholds.get(scorer)

    def saved_threshold(self, scorer: str) -> Threshold | None:
        return self._saved.get(scorer)

    def bounds(self, scorer: str, tag: str | None = None) -> tuple[float | None, float | None]:
        """(min, max) that a move in this scope starts from (a tag without override: the scorer's)."""
        current = self.threshold(scorer)
        if current is None:
            return None, None
        if tag is not None and tag in current.tags:
            chosen = current.tags[tag]
            return chosen.min, chosen.max
        return current.min, current.max

    def has_override(self, scorer: str, tag: str) -> bool:
        current = self.threshold(scorer)
        return current is not None and tag in current.tags

    def is_edited(self, scorer: str) -> bool:
        return self.threshold(scorer) != self._saved.get(scorer)

    def edits(self) -> dict[str, Threshold | None]:
        """Every scorer whose threshold differs from the saved one (None: removed)."""
        current = self.thresholds
        names = list(dict.fromkeys([*self._saved, *current]))
        return {n: current.get(n) for n in names if current.get(n) != self._saved.get(n)}

    def pass_rates(self) -> PassRates:
        """Share of prompts passing every threshold now, per model, overall and per tag."""
        return self._evaluator.pass_rates()

    def flips(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(now passing, now failing): (model, prompt) whose verdict differs from the saved one."""
        keys = sorted(self._differs, key=lambda k: (self._model_index[k[0]], self._prompt_index[k[1]]))
        passing = [k for k in keys if self._differs[k]]
        failing = [k for k in keys if not self._differs[k]]
        return passing, failing

    def values(self, scorer: str) -> np.ndarray:
        """Repeat-averaged ``values[model, prompt]`` of one scorer (NaN where missing)."""
        return self._slab(scorer)

    def failures(self, model: str, prompt_id: str, saved: bool = False) -> tuple[PromptFailure, ...]:
        """Why a prompt fails for a model now (or under the saved thresholds)."""
        evaluator = self._baseline if saved else self._evaluator
        return evaluator.failures(model, prompt_id)

    def scorer_passes(self, scorer: str) -> np.ndarray | None:
        """``passes[model, prompt]`` of this scorer's own threshold (None: no threshold)."""
        threshold = self.threshold(scorer)
        if threshold is None:
            return None
        lo, hi = self._evaluator.tags.bounds(threshold)
        values = self._slab(scorer)
        return (values >= lo) & (values <= hi)

    def scorer_pass_counts(self, scorer: str) -> ScorerPassCounts | None:
        passes = self.scorer_passes(scorer)
        if passes is None:
            return None
        counts = passes.sum(axis=1)
        return ScorerPassCounts({m: int(counts[i]) for i, m in enumerate(self.models)},
                                len(self.prompt_ids))

    def pass_agreement(self, scorer: str, saved: bool = False) -> PassAgreement | None:
        """How often this scorer's pass/fail (edited or saved threshold) matches people's labels.

        The figure ``workbench align`` gives once the threshold is saved: one item per clip with
        a majority human pass/fail label, judged with the bounds in force for its prompt (tag
        overrides included). None without a threshold. Cached per threshold: a few ms the first time.
        """
        threshold = self._saved.get(scorer) if saved else self.threshold(scorer)
        if threshold is None:
            return None
        key = (scorer, threshold.model_dump_json())
        if key not in self._agreements:
            self._agreements[key] = self._pass_agreement(scorer, threshold)
        return self._agreements[key]

    def _pass_agreement(self, scorer: str, threshold: Threshold) -> PassAgreement:
        labelled = self._labelled
        if labelled is None:
            return PassAgreement(None, 0)
        rows, human = labelled
        rows = rows.filter(pl.col("scorer") == scorer)
        if rows.is_empty():
            return PassAgreement(None, 0)
        passed = passed_column(rows, self.prompt_tags, {scorer: threshold})
        found = scorer_alignment(rows.with_columns(passed.alias("passed")), human, {scorer: threshold})
        if not found:
            return PassAgreement(None, 0)
        return PassAgreement(found[0].pass_agreement, found[0].n_pass_labels)

    def alignment(self) -> PeopleAgreement:
        """Which automated scorers agree with people (``workbench align``'s figures, saved thresholds).

        Slow on large tables (a rank correlation per scorer): call from a worker.
        """
        is_human = pl.col("scorer").str.starts_with("human.")
        automated, human = self.table.filter(~is_human), self.table.filter(is_human)
        directions = {name: getattr(info, "direction", "") for name, info in self._infos.items()}
        rows = scorer_alignment(automated, human, self._saved, directions) if human.height else []
        items = ["model", "prompt_id", "repeat"]
        rated = human.filter(pl.col("scorer") == HUMAN_RATING).select(items).unique().height
        labelled = human.filter(pl.col("scorer") == HUMAN_PASS).select(items).unique().height
        return PeopleAgreement({row.scorer: row for row in rows}, rated, labelled)

    # -- editing --------------------------------------------------------------

    def _track(self, change: ThresholdChange) -> ThresholdChange:
        for key in change.flipped:
            if key in self._differs:
                del self._differs[key]  # back to the saved verdict
            else:
                self._differs[key] = key in change.now_passing
        return change

    def _start_value(self, scorer: str, side: Side) -> float:
        """Where an unset bound appears: at the lenient edge of the data, so nothing flips yet."""
        facts = self.facts.get(scorer)
        if facts is None or facts.lo is None:
            lo, hi = facts.range if facts else (None, None)
            edge = lo if side == "min" else hi
            return float(edge) if edge is not None else 0.0
        if side == "min":
            return grid_edge(facts.lo, facts.step, down=True)
        return grid_edge(facts.hi, facts.step, down=False)

    def nudge(self, scorer: str, side: Side, steps: int, tag: str | None = None) -> ThresholdChange:
        """Move one bound by ``steps`` grid steps (a new bound starts at the edge of the data).

        The bound stays within the scorer's declared range and does not cross the other bound.
        """
        facts = self.facts[scorer]
        lo, hi = self.bounds(scorer, tag)
        current = lo if side == "min" else hi
        if current is None:
            value = self._start_value(scorer, side)
        else:
            value = on_grid(current, facts.step, steps)
        return self.set_bound(scorer, side, value, tag)

    def set_bound(self, scorer: str, side: Side, value: float, tag: str | None = None) -> ThresholdChange:
        """Set one bound (kept within the scorer's range and on its side of the other bound)."""
        facts = self.facts.get(scorer)
        if facts is not None:
            value = _clamp_to_range(value, facts.range)
        lo, hi = self.bounds(scorer, tag)
        if side == "min" and hi is not None:
            value = min(value, hi)
        if side == "max" and lo is not None:
            value = max(value, lo)
        if tag is not None and self.threshold(scorer) is None:
            raise ThresholdError(
                f"{scorer}: set a threshold for all prompts before overriding it for tag '{tag}'")
        if side == "min":
            return self._track(self._evaluator.move(scorer, min=value, tag=tag))
        return self._track(self._evaluator.move(scorer, max=value, tag=tag))

    def clear_bound(self, scorer: str, side: Side, tag: str | None = None) -> ThresholdChange | None:
        """Drop one bound; dropping the last one removes the threshold (or the tag's override).

        None when there was nothing to clear.
        """
        current = self.threshold(scorer)
        if current is None:
            return None
        if tag is not None and tag not in current.tags:
            return None
        lo, hi = self.bounds(scorer, tag)
        if (lo if side == "min" else hi) is None:
            return None
        other = hi if side == "min" else lo
        if other is None:
            return self._track(self._evaluator.remove(scorer, tag=tag))
        if side == "min":
            return self._track(self._evaluator.move(scorer, min=None, tag=tag))
        return self._track(self._evaluator.move(scorer, max=None, tag=tag))

    def apply_suggestion(self, scorer: str, tag: str | None = None) -> ThresholdChange | None:
        """Set the bound suggested by human pass/fail labels (None when there is no suggestion)."""
        facts = self.facts.get(scorer)
        if facts is None or facts.suggestion is None:
            return None
        suggestion = facts.suggestion
        lo, hi = self.bounds(scorer, tag)
        if suggestion.bound == "min" and hi is not None and suggestion.threshold > hi:
            raise ThresholdError(f"{scorer}: the suggested min {suggestion.threshold:g} is above the "
                                 f"max {hi:g}; clear or raise the max first")
        if suggestion.bound == "max" and lo is not None and suggestion.threshold < lo:
            raise ThresholdError(f"{scorer}: the suggested max {suggestion.threshold:g} is below the "
                                 f"min {lo:g}; clear or lower the min first")
        return self.set_bound(scorer, suggestion.bound, suggestion.threshold, tag)

    def apply_edits(self, edits: Mapping[str, Threshold | None]) -> None:
        """Replay edits (e.g. kept across a reload of the benchmark)."""
        for scorer, threshold in edits.items():
            self._track(self._evaluator.set_threshold(scorer, threshold))

    def revert(self, scorer: str | None = None) -> None:
        """Back to the saved thresholds: one scorer's, or all of them."""
        if scorer is None:
            self._start(dict(self._saved))
            return
        self._track(self._evaluator.set_threshold(scorer, self._saved.get(scorer)))

    def mark_saved(self, thresholds: Mapping[str, Threshold | None]) -> None:
        """Adopt what was just written as the saved state (later edits stay edits)."""
        for scorer, threshold in thresholds.items():
            if threshold is None:
                self._saved.pop(scorer, None)
            else:
                self._saved[scorer] = threshold
        self._start(self.thresholds)


# ----------------------------------------------------------------------------- saving


@dataclass(frozen=True)
class DiffLine:
    """One changed line of ``benchmark.toml``: removed (``-``) or added (``+``), with its line number
    in the old file (removed) or the new one (added)."""

    sign: Literal["-", "+"]
    number: int
    text: str

    def __str__(self) -> str:
        return f"{self.sign}{self.text}"


@dataclass(frozen=True)
class SavedThresholds:
    """What a save writes (:func:`plan_threshold_save`) or wrote (:func:`save_thresholds`)."""

    path: Path
    written: Mapping[str, Threshold | None]
    """The scorers written and their thresholds (None: removed)."""
    changes: tuple[str, ...]
    """One readable line per changed bound, e.g. ``temporal_flicker: min 0.9 -> 0.92``."""
    diff: tuple[str, ...]
    """The removed (``-``) and added (``+``) lines of benchmark.toml."""
    lines: tuple[DiffLine, ...] = ()
    """The same lines with their line numbers."""

    @property
    def empty(self) -> bool:
        return not self.written


ThresholdSavePlan = SavedThresholds
"""A save not written yet: what :func:`plan_threshold_save` returns."""


def _fmt(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def _bound_changes(label: str, old: Bounds | None, new: Bounds | None) -> list[str]:
    if old is None and new is None:
        return []
    if new is None:
        return [f"{label}: removed ({describe(old)})"]
    if old is None:
        return [f"{label}: new {describe(new)}"]
    lines = []
    for side in SIDES:
        before, after = getattr(old, side), getattr(new, side)
        if before != after:
            lines.append(f"{label}: {side} {_fmt(before)} -> {_fmt(after)}")
    return lines


def _base(threshold: Threshold | None) -> Bounds | None:
    return None if threshold is None else Bounds(min=threshold.min, max=threshold.max)


def describe_changes(old: Threshold | None, new: Threshold | None, scorer: str) -> list[str]:
    """Readable lines for every bound that differs between two thresholds of one scorer."""
    if new is None and old is not None:
        extra = f" and {len(old.tags)} tag override(s)" if old.tags else ""
        return [f"{scorer}: removed ({describe(old)}{extra})"]
    lines = _bound_changes(scorer, _base(old), _base(new))
    old_tags = old.tags if old else {}
    new_tags = new.tags if new else {}
    for tag in dict.fromkeys([*old_tags, *new_tags]):
        lines += _bound_changes(f"{scorer} [tag {tag}]", old_tags.get(tag), new_tags.get(tag))
    return lines


def _copy_for_saving(bench: Benchmark) -> Benchmark:
    return replace(
        bench,
        config=bench.config.model_copy(deep=True),
        document=tomlkit.parse(tomlkit.dumps(bench.document)),
    )


def _changed_lines(before: str, after: str) -> tuple[DiffLine, ...]:
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    old, new = before.splitlines(), after.splitlines()
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        lines += [DiffLine("-", i + 1, old[i]) for i in range(i1, i2)]
        lines += [DiffLine("+", j + 1, new[j]) for j in range(j1, j2)]
    return tuple(lines)


def _apply_thresholds(bench: Benchmark, thresholds: Mapping[str, Threshold | None]) -> tuple[
        Benchmark, dict[str, Threshold | None], list[str]]:
    """A copy of ``bench`` with these thresholds set, what differs, and readable change lines."""
    copy = _copy_for_saving(bench)
    changes: list[str] = []
    written: dict[str, Threshold | None] = {}
    for scorer, new in thresholds.items():
        if new is not None and not isinstance(new, Threshold):
            new = Threshold.model_validate(new)
        old = bench.config.thresholds.get(scorer)
        if new == old:
            continue
        written[scorer] = new
        changes += describe_changes(old, new, scorer)
        if new is None:
            copy.set_threshold(scorer, min=None, max=None)
            continue
        if old is None or _base(old) != _base(new):
            copy.set_threshold(scorer, min=new.min, max=new.max)
        old_tags = old.tags if old else {}
        for tag in dict.fromkeys([*old_tags, *new.tags]):
            wanted = new.tags.get(tag)
            if wanted == old_tags.get(tag):
                continue
            if wanted is None:
                copy.set_threshold(scorer, min=None, max=None, tag=tag)
            else:
                copy.set_threshold(scorer, min=wanted.min, max=wanted.max, tag=tag)
    return copy, written, changes


def _plan(bench: Benchmark, thresholds: Mapping[str, Threshold | None]) -> tuple[Benchmark, SavedThresholds]:
    before = tomlkit.dumps(bench.document)
    copy, written, changes = _apply_thresholds(bench, thresholds)
    lines = _changed_lines(before, tomlkit.dumps(copy.document))
    plan = SavedThresholds(path=copy.config_path, written=written, changes=tuple(changes),
                           diff=tuple(str(line) for line in lines), lines=lines)
    return copy, plan


def plan_threshold_save(bench: Benchmark, thresholds: Mapping[str, Threshold | None]) -> ThresholdSavePlan:
    """What :func:`save_thresholds` would write, without writing (``bench`` is unchanged).

    Raises :class:`~workbench.errors.InvalidInput` for a threshold the config does not accept.
    """
    return _plan(bench, thresholds)[1]


def save_thresholds(bench: Benchmark, thresholds: Mapping[str, Threshold | None]) -> SavedThresholds:
    """Write these scorers' thresholds (None removes one) to ``benchmark.toml``.

    Only bounds that differ from ``bench``'s are touched, so the file keeps its comments and
    layout. Raises :class:`~workbench.errors.FileConflict` when the file changed on disk since
    ``bench`` was loaded (nothing is written, ``bench`` is unchanged) and
    :class:`~workbench.errors.InvalidInput` for a threshold the config does not accept.
    """
    copy, plan = _plan(bench, thresholds)
    if plan.written:
        copy.save_config()
    return plan

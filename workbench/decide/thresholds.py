"""Pass/fail thresholds: which (model, prompt) pairs clear every bar, and pass rates.

Rules:

* Repeats are averaged first (see :mod:`workbench.decide.score_matrix`): a prompt's
  value for a scorer is the mean over its repeats of the values that exist.
* A threshold bounds one scorer (``min`` and/or ``max``, inclusive). A prompt whose
  tags match a per-tag override uses the override instead; when several of its tags
  have one, the strictest bounds apply (:meth:`Threshold.for_tags`).
* A prompt passes for a model when every thresholded scorer passes. A missing value
  for a thresholded scorer fails (reason ``"missing"``).
* The prompts are those in ``tags`` plus any other prompt in the scores table; a
  prompt with no scores for a model is missing for every thresholded scorer.
* With no thresholds at all, every prompt passes (there is nothing to fail).

:class:`ThresholdEvaluator` keeps a dense ``values[scorer, model, prompt]`` array and
a per-scorer pass matrix, so moving one threshold only recomputes that scorer's
slab and the all-pass test: cheap enough to call on every key press.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import ValidationError

from workbench.benchmark.config import Bounds, Threshold
from workbench.decide.score_matrix import (
    ScoreCube,
    build_cube,
    check_scores_frame,
    clean_scores,
    table_keys,
)
from workbench.errors import WorkbenchError

_ABSENT = np.iinfo(np.int32).max


class ThresholdError(WorkbenchError):
    """A threshold that cannot be applied (no bounds, min above max, not a number)."""


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marker for "leave this bound as it is" in :meth:`ThresholdEvaluator.move`."""


def as_threshold(scorer: str, value: Any) -> Threshold:
    """A :class:`Threshold` from a Threshold, Bounds or plain dict (ThresholdError if invalid)."""
    if isinstance(value, Threshold):
        return value
    try:
        if isinstance(value, Bounds):
            return Threshold(min=value.min, max=value.max)
        return Threshold.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ThresholdError(f"threshold for {scorer}: {first['msg']}") from None


class PromptTags:
    """The prompts' tags in array form, for vectorised per-tag bounds and rates."""

    def __init__(self, prompt_ids: Sequence[str], tags: Mapping[str, Sequence[str]]):
        self.prompt_ids = tuple(prompt_ids)
        per_prompt = [tuple(tags.get(p, ())) for p in self.prompt_ids]
        self.tag_names: tuple[str, ...] = tuple(sorted({t for ts in per_prompt for t in ts}))
        self.tag_index = {t: i for i, t in enumerate(self.tag_names)}
        n_prompts, n_tags = len(self.prompt_ids), len(self.tag_names)
        # position of each tag within a prompt's tag tuple (_ABSENT when it lacks it)
        self.position = np.full((n_prompts, n_tags), _ABSENT, dtype=np.int32)
        for p, ts in enumerate(per_prompt):
            for rank, tag in enumerate(ts):
                col = self.tag_index[tag]
                if self.position[p, col] == _ABSENT:
                    self.position[p, col] = rank
        self.member = (self.position != _ABSENT).T.astype(np.float64)  # [tag, prompt]
        self.sizes = self.member.sum(axis=1).astype(np.int64)
        self._rows = np.arange(n_prompts)

    def bounds(self, threshold: Threshold | None) -> tuple[np.ndarray, np.ndarray]:
        """Per-prompt inclusive (lo, hi) arrays; +-inf where a side is unbounded."""
        n = len(self.prompt_ids)
        if threshold is None:
            return np.full(n, -np.inf), np.full(n, np.inf)
        lo = np.full(n, -np.inf if threshold.min is None else threshold.min)
        hi = np.full(n, np.inf if threshold.max is None else threshold.max)
        overrides = [(t, b) for t, b in threshold.tags.items() if t in self.tag_index]
        if overrides:
            cols = [self.tag_index[t] for t, _ in overrides]
            member = self.position[:, cols] != _ABSENT  # [prompt, override]
            has = member.any(axis=1)
            o_lo = np.array([-np.inf if b.min is None else b.min for _, b in overrides])
            o_hi = np.array([np.inf if b.max is None else b.max for _, b in overrides])
            # several overrides on one prompt: the strictest (see Threshold.for_tags)
            strict_lo = np.where(member, o_lo, -np.inf).max(axis=1)
            strict_hi = np.where(member, o_hi, np.inf).min(axis=1)
            lo = np.where(has, strict_lo, lo)
            hi = np.where(has, strict_hi, hi)
        return lo, hi


@dataclass(frozen=True)
class PassRates:
    """Share of prompts that pass every threshold, per model, overall and per tag."""

    models: tuple[str, ...]
    n_prompts: int
    passed: Mapping[str, int]
    overall: Mapping[str, float | None]
    tags: tuple[str, ...]
    tag_sizes: Mapping[str, int]
    tag_passed: Mapping[str, Mapping[str, int]]
    by_tag: Mapping[str, Mapping[str, float | None]]

    def to_json(self) -> dict[str, Any]:
        return {
            "n_prompts": self.n_prompts,
            "models": {
                m: {
                    "passed": self.passed[m],
                    "rate": self.overall[m],
                    "tags": {
                        t: {"passed": self.tag_passed[m][t], "n": self.tag_sizes[t],
                            "rate": self.by_tag[m][t]}
                        for t in self.tags
                    },
                }
                for m in self.models
            },
        }


def _rate(passed: int, n: int) -> float | None:
    return passed / n if n else None


def _pass_rates(models: Sequence[str], tags: PromptTags, all_pass: np.ndarray) -> PassRates:
    n = all_pass.shape[1]
    counts = all_pass.sum(axis=1)
    per_tag = np.rint(all_pass.astype(np.float64) @ tags.member.T).astype(np.int64)
    sizes = {t: int(tags.sizes[i]) for i, t in enumerate(tags.tag_names)}
    tag_passed = {
        m: {t: int(per_tag[mi, ti]) for ti, t in enumerate(tags.tag_names)}
        for mi, m in enumerate(models)
    }
    return PassRates(
        models=tuple(models),
        n_prompts=n,
        passed={m: int(counts[i]) for i, m in enumerate(models)},
        overall={m: _rate(int(counts[i]), n) for i, m in enumerate(models)},
        tags=tags.tag_names,
        tag_sizes=sizes,
        tag_passed=tag_passed,
        by_tag={m: {t: _rate(tag_passed[m][t], sizes[t]) for t in tags.tag_names}
                for m in models},
    )


FailureReason = Literal["missing", "below min", "above max"]


@dataclass(frozen=True)
class PromptFailure:
    """Why one prompt failed one scorer's threshold."""

    scorer: str
    reason: FailureReason
    value: float | None = None
    bound: float | None = None
    detail: str | None = None

    def __str__(self) -> str:
        if self.reason == "missing":
            return f"{self.scorer} missing" + (f" ({self.detail})" if self.detail else "")
        value, bound = _distinct(self.value, self.bound)
        return f"{self.scorer} {value} {self.reason} {bound}"


def _distinct(value: float | None, bound: float | None) -> tuple[str, str]:
    """Both numbers to 4 significant digits, or to as many more as it takes to tell them apart
    (``0.98736 below min 0.9874``, never ``0.9874 below min 0.9874``)."""
    for digits in range(4, 13):
        a, b = f"{value:.{digits}g}", f"{bound:.{digits}g}"
        if a != b:
            return a, b
    return a, b


@dataclass(frozen=True)
class _Snapshot:
    values: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    scorer_index: Mapping[str, int]
    errors: Mapping[tuple[str, str, str], str]


def _failures(
    snap: _Snapshot, scorers: Sequence[str], model: str, m: int, prompt_id: str, p: int
) -> tuple[PromptFailure, ...]:
    found: list[PromptFailure] = []
    for name in scorers:
        s = snap.scorer_index[name]
        value = float(snap.values[s, m, p])
        lo, hi = float(snap.lo[s, p]), float(snap.hi[s, p])
        if math.isnan(value):
            found.append(PromptFailure(name, "missing",
                                       detail=snap.errors.get((model, prompt_id, name))))
        elif value < lo:
            found.append(PromptFailure(name, "below min", value, lo))
        elif value > hi:
            found.append(PromptFailure(name, "above max", value, hi))
    return tuple(found)


@dataclass(frozen=True)
class ThresholdReport:
    """Pass/fail of every (model, prompt) under one set of thresholds."""

    models: tuple[str, ...]
    prompt_ids: tuple[str, ...]
    scorers: tuple[str, ...]
    """The thresholded scorers, in the order the thresholds were given."""
    thresholds: Mapping[str, Threshold]
    passed: np.ndarray
    """``passed[model, prompt]`` (read-only bool array, axes as ``models``/``prompt_ids``)."""
    pass_rates: PassRates
    _snapshot: _Snapshot = field(repr=False, compare=False)

    def _indices(self, model: str, prompt_id: str) -> tuple[int, int]:
        try:
            return self.models.index(model), self.prompt_ids.index(prompt_id)
        except ValueError:
            raise KeyError(f"no model {model!r} or prompt {prompt_id!r} in this report") from None

    def prompt_passed(self, model: str, prompt_id: str) -> bool:
        m, p = self._indices(model, prompt_id)
        return bool(self.passed[m, p])

    def failures(self, model: str, prompt_id: str) -> tuple[PromptFailure, ...]:
        """Each failed threshold of one prompt for one model (empty when it passes)."""
        m, p = self._indices(model, prompt_id)
        return _failures(self._snapshot, self.scorers, model, m, prompt_id, p)

    def to_frame(self) -> pl.DataFrame:
        """One row per (model, prompt): ``passed`` and the list of ``failed`` scorers."""
        failed: list[list[str]] = [[] for _ in range(len(self.models) * len(self.prompt_ids))]
        n_p = len(self.prompt_ids)
        for name in self.scorers:
            s = self._snapshot.scorer_index[name]
            v = self._snapshot.values[s]
            ok = (v >= self._snapshot.lo[s]) & (v <= self._snapshot.hi[s])
            for flat in np.flatnonzero(~ok):
                failed[int(flat)].append(name)
        return pl.DataFrame(
            {
                "model": [m for m in self.models for _ in range(n_p)],
                "prompt_id": list(self.prompt_ids) * len(self.models),
                "passed": self.passed.ravel().tolist(),
                "failed": failed,
            },
            schema={"model": pl.Utf8, "prompt_id": pl.Utf8, "passed": pl.Boolean,
                    "failed": pl.List(pl.Utf8)},
        )


@dataclass(frozen=True)
class ThresholdChange:
    """The effect of one threshold move: verdicts that flipped and the new pass rates."""

    scorer: str
    tag: str | None
    threshold: Threshold | None
    """The scorer's whole threshold after the move (None when it was removed)."""
    flipped: tuple[tuple[str, str], ...]
    """(model, prompt_id) whose verdict changed, ordered by model then prompt."""
    now_passing: tuple[tuple[str, str], ...]
    now_failing: tuple[tuple[str, str], ...]
    pass_rates: PassRates


class ThresholdEvaluator:
    """Pass/fail for every prompt and model, re-evaluated cheaply when a threshold moves.

    ``models`` fixes the model axis (a listed model without scores fails every
    thresholded prompt as missing); by default it is every model in the table.
    """

    def __init__(
        self,
        scores: pl.DataFrame,
        tags: Mapping[str, Sequence[str]],
        thresholds: Mapping[str, Threshold],
        models: Sequence[str] | None = None,
    ):
        checked = {name: as_threshold(name, t) for name, t in thresholds.items()}
        keys = table_keys(scores, tags)
        chosen = tuple(models) if models is not None else keys.models
        scorers = list(dict.fromkeys([*checked, *keys.scorers]))
        self._setup(build_cube(scores, chosen, keys.prompt_ids, scorers), tags, checked)

    @classmethod
    def from_cube(
        cls, cube: ScoreCube, tags: Mapping[str, Sequence[str]],
        thresholds: Mapping[str, Threshold],
    ) -> "ThresholdEvaluator":
        """Build on per-prompt means already laid out (e.g. by the gate)."""
        evaluator = cls.__new__(cls)
        checked = {name: as_threshold(name, t) for name, t in thresholds.items()}
        evaluator._setup(cube, tags, checked)
        return evaluator

    def _setup(self, cube: ScoreCube, tags: Mapping[str, Sequence[str]],
               thresholds: dict[str, Threshold]) -> None:
        self._thresholds = thresholds
        self.models: tuple[str, ...] = cube.models
        self.prompt_ids: tuple[str, ...] = cube.prompt_ids
        self.tags = PromptTags(cube.prompt_ids, tags)
        self._errors = cube.errors
        self._scorers: list[str] = list(cube.scorers)
        self._scorer_index = {s: i for i, s in enumerate(self._scorers)}
        self._values = cube.values
        n_s, n_m, n_p = self._values.shape
        self._lo = np.full((n_s, n_p), -np.inf)
        self._hi = np.full((n_s, n_p), np.inf)
        self._pass = np.ones((n_s, n_m, n_p), dtype=bool)
        for name, threshold in self._thresholds.items():
            s = self._scorer_index.get(name)
            self._apply(self._add_scorer(name) if s is None else s, threshold)
        self._fail_count = (~self._pass).sum(axis=0, dtype=np.int32)
        self._all_pass = self._fail_count == 0

    # -- reading -----------------------------------------------------------------

    @property
    def thresholds(self) -> dict[str, Threshold]:
        """The thresholds now in force (a copy, fit to save back to ``benchmark.toml``)."""
        return dict(self._thresholds)

    def evaluate(self) -> ThresholdReport:
        passed = self._all_pass.copy()
        passed.setflags(write=False)
        return ThresholdReport(
            models=self.models,
            prompt_ids=self.prompt_ids,
            scorers=tuple(self._thresholds),
            thresholds=dict(self._thresholds),
            passed=passed,
            pass_rates=self.pass_rates(),
            _snapshot=self._snapshot(copy=True),
        )

    def pass_rates(self) -> PassRates:
        return _pass_rates(self.models, self.tags, self._all_pass)

    def scorer_passed(self, scorer: str) -> np.ndarray | None:
        """bool[model, prompt]: does each repeat-averaged value clear ``scorer``'s bounds (a
        missing value fails); None when no threshold names the scorer."""
        s = self._scorer_index.get(scorer)
        if s is None or scorer not in self._thresholds:
            return None
        return self._pass[s].copy()

    def prompt_passed(self, model: str, prompt_id: str) -> bool:
        m, p = self._indices(model, prompt_id)
        return bool(self._all_pass[m, p])

    def failures(self, model: str, prompt_id: str) -> tuple[PromptFailure, ...]:
        m, p = self._indices(model, prompt_id)
        return _failures(self._snapshot(copy=False), tuple(self._thresholds), model, m,
                         prompt_id, p)

    def value(self, model: str, prompt_id: str, scorer: str) -> float | None:
        """The repeat-averaged value of one cell (None when missing)."""
        m, p = self._indices(model, prompt_id)
        s = self._scorer_index.get(scorer)
        if s is None:
            return None
        v = float(self._values[s, m, p])
        return None if math.isnan(v) else v

    # -- moving ------------------------------------------------------------------

    def move(
        self,
        scorer: str,
        *,
        min: float | None = UNSET,  # noqa: A002 - mirrors the benchmark.toml keys
        max: float | None = UNSET,  # noqa: A002
        tag: str | None = None,
    ) -> ThresholdChange:
        """Set one bound or both (None removes that side; omitted keeps it).

        With ``tag``, the per-tag override is moved; a new override starts from the
        scorer's own bounds. A scorer without a threshold gets one.
        """
        current = self._thresholds.get(scorer)
        where = f"threshold for {scorer}" + (f" (tag '{tag}')" if tag else "")
        if tag is not None and current is None:
            raise ThresholdError(
                f"{where}: the scorer has no threshold of its own yet; set its min or max "
                "before a per-tag override"
            )
        if tag is not None and tag in current.tags:
            start = current.tags[tag]
            start_min, start_max = start.min, start.max
        else:
            start_min = current.min if current else None
            start_max = current.max if current else None
        new_min = start_min if min is UNSET else _bound(where, "min", min)
        new_max = start_max if max is UNSET else _bound(where, "max", max)
        if new_min is None and new_max is None:
            raise ThresholdError(
                f"{where}: needs 'min', 'max' or both; remove the threshold instead"
            )
        if new_min is not None and new_max is not None and new_min > new_max:
            raise ThresholdError(f"{where}: min ({new_min:g}) is greater than max ({new_max:g})")
        overrides = dict(current.tags) if current else {}
        if tag is None:
            threshold = Threshold(min=new_min, max=new_max, tags=overrides)
        else:
            overrides[tag] = Bounds(min=new_min, max=new_max)
            threshold = Threshold(min=current.min, max=current.max, tags=overrides)
        return self.set_threshold(scorer, threshold, tag=tag)

    def remove(self, scorer: str, tag: str | None = None) -> ThresholdChange:
        """Drop a scorer's threshold, or only its override for ``tag``."""
        current = self._thresholds.get(scorer)
        if current is None:
            return self.set_threshold(scorer, None, tag=tag)
        if tag is None:
            return self.set_threshold(scorer, None)
        overrides = {t: b for t, b in current.tags.items() if t != tag}
        threshold = Threshold(min=current.min, max=current.max, tags=overrides)
        return self.set_threshold(scorer, threshold, tag=tag)

    def set_threshold(
        self, scorer: str, threshold: Threshold | None, tag: str | None = None
    ) -> ThresholdChange:
        """Replace one scorer's whole threshold (None removes it) and report the change."""
        if threshold is not None:
            threshold = as_threshold(scorer, threshold)
        s = self._scorer_index.get(scorer)
        if s is None:
            s = self._add_scorer(scorer)
        old_all = self._all_pass
        old = self._pass[s].copy()
        if threshold is None:
            self._thresholds.pop(scorer, None)
        else:
            self._thresholds[scorer] = threshold
        self._apply(s, threshold)
        new = self._pass[s]
        self._fail_count += old.view(np.int8) - new.view(np.int8)
        self._all_pass = self._fail_count == 0
        changed = np.flatnonzero(old_all != self._all_pass)
        n_p = len(self.prompt_ids)
        flipped: list[tuple[str, str]] = []
        passing: list[tuple[str, str]] = []
        failing: list[tuple[str, str]] = []
        now = self._all_pass.ravel()
        for flat in changed.tolist():
            key = (self.models[flat // n_p], self.prompt_ids[flat % n_p])
            flipped.append(key)
            (passing if now[flat] else failing).append(key)
        return ThresholdChange(
            scorer=scorer,
            tag=tag,
            threshold=threshold,
            flipped=tuple(flipped),
            now_passing=tuple(passing),
            now_failing=tuple(failing),
            pass_rates=self.pass_rates(),
        )

    # -- internals ---------------------------------------------------------------

    def _apply(self, s: int, threshold: Threshold | None) -> None:
        if threshold is None:
            self._lo[s] = -np.inf
            self._hi[s] = np.inf
            self._pass[s] = True
            return
        lo, hi = self.tags.bounds(threshold)
        self._lo[s] = lo
        self._hi[s] = hi
        v = self._values[s]
        # NaN compares False, so a missing value fails
        np.logical_and(v >= lo, v <= hi, out=self._pass[s])

    def _add_scorer(self, scorer: str) -> int:
        n_s, n_m, n_p = self._values.shape
        self._values = np.concatenate([self._values, np.full((1, n_m, n_p), np.nan)])
        self._values.setflags(write=False)
        self._lo = np.concatenate([self._lo, np.full((1, n_p), -np.inf)])
        self._hi = np.concatenate([self._hi, np.full((1, n_p), np.inf)])
        self._pass = np.concatenate([self._pass, np.ones((1, n_m, n_p), dtype=bool)])
        self._scorers.append(scorer)
        self._scorer_index[scorer] = n_s
        return n_s

    def _indices(self, model: str, prompt_id: str) -> tuple[int, int]:
        try:
            return self.models.index(model), self.prompt_ids.index(prompt_id)
        except ValueError:
            raise KeyError(f"no model {model!r} or prompt {prompt_id!r} here") from None

    def _snapshot(self, copy: bool) -> _Snapshot:
        return _Snapshot(
            values=self._values,
            lo=self._lo.copy() if copy else self._lo,
            hi=self._hi.copy() if copy else self._hi,
            scorer_index=dict(self._scorer_index) if copy else self._scorer_index,
            errors=self._errors,
        )


def _bound(where: str, side: str, value: float | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ThresholdError(f"{where}: {side} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ThresholdError(f"{where}: {side} must be a finite number, got {value!r}")
    return number


def passed_column(
    scores: pl.DataFrame,
    tags: Mapping[str, Sequence[str]],
    thresholds: Mapping[str, Threshold],
) -> pl.Series:
    """Per row of the long table: does this value pass its own scorer's threshold?

    Uses the bounds in force for the row's prompt (per-tag overrides included).
    None where the scorer has no threshold; False where the value is missing.
    Rows are not averaged over repeats: each row is judged on its own value.
    """
    check_scores_frame(scores)
    if not thresholds or scores.height == 0:
        return pl.Series("passed", [None] * scores.height, dtype=pl.Boolean)
    checked = {name: as_threshold(name, t) for name, t in thresholds.items()}
    prompt_ids = table_keys(scores, tags).prompt_ids
    prompt_tags = PromptTags(prompt_ids, tags)
    pieces = []
    for name, threshold in checked.items():
        lo, hi = prompt_tags.bounds(threshold)
        pieces.append(pl.DataFrame(
            {"scorer": [name] * len(prompt_ids), "prompt_id": list(prompt_ids),
             "_lo": lo, "_hi": hi},
            schema={"scorer": pl.Utf8, "prompt_id": pl.Utf8, "_lo": pl.Float64,
                    "_hi": pl.Float64},
        ))
    bounds = pl.concat(pieces)
    rows = clean_scores(scores)
    joined = rows.join(bounds, on=["scorer", "prompt_id"], how="left", maintain_order="left")
    value = pl.col("value")
    inside = ((value >= pl.col("_lo")) & (value <= pl.col("_hi"))).fill_null(False)
    return joined.select(
        pl.when(pl.col("_lo").is_null())
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(inside)
        .alias("passed")
    ).to_series()

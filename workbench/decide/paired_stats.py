"""Paired comparison statistics: bootstrap intervals, sign test, wins/ties/losses.

Everything here works on per-prompt differences already oriented so that a
positive difference means the candidate is better (see :mod:`workbench.decide.gate`).

The bootstrap is the percentile bootstrap of the mean difference, resampling
prompts. One ``resamples x n`` index matrix is drawn for the ``n`` prompts of a
comparison (from a generator seeded with the gate seed and ``n``, so results do not
depend on what else is computed in the same call) and reused for every vector over
those prompts: each scorer, and each tag. It is turned into per-resample counts
and multiplied with all vectors at once, in row chunks to keep memory small.

A vector may have gaps (NaN: a prompt without a pair for that scorer, or outside
the tag). Its bootstrap mean is then the mean over the resampled prompts it has,
``sum(count * value) / sum(count)`` over those prompts. With no gaps this is the
ordinary bootstrap mean; for a tag it is the usual subpopulation (domain) estimate,
whose resampled size varies around the tag's size. Resamples that draw none of a
vector's prompts are left out of its interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TIE_ABSOLUTE = 1e-12
TIE_RELATIVE = 1e-9
"""Two per-prompt means are a tie when they differ by at most
``TIE_ABSOLUTE + TIE_RELATIVE * max(|a|, |b|)`` (rounding noise from averaging repeats)."""

_CHUNK_ELEMENTS = 500_000
_BLOCK_ELEMENTS = 4_000_000


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided exact sign test (binomial, p = 1/2) with ties already dropped.

    ``p = min(1, 2 * P(X <= min(wins, losses)))`` with ``X ~ Binomial(wins + losses, 1/2)``,
    computed in exact integers, so it holds for any n.
    """
    if wins < 0 or losses < 0:
        raise ValueError("wins and losses must be non-negative")
    n = wins + losses
    k = min(wins, losses)
    if n == 0 or 2 * k == n:
        return 1.0
    term = 1
    tail = 1
    for i in range(k):
        term = term * (n - i) // (i + 1)
        tail += term
    return min(1.0, (2 * tail) / (1 << n))


def count_outcomes(
    candidate: np.ndarray, incumbent: np.ndarray, better_sign: float
) -> tuple[int, int, int]:
    """(wins, ties, losses) of the candidate over paired per-prompt values."""
    diff = better_sign * (candidate - incumbent)
    scale = np.maximum(np.abs(candidate), np.abs(incumbent))
    tie = np.abs(diff) <= TIE_ABSOLUTE + TIE_RELATIVE * scale
    wins = int(np.count_nonzero(~tie & (diff > 0)))
    losses = int(np.count_nonzero(~tie & (diff < 0)))
    return wins, int(np.count_nonzero(tie)), losses


def _seed_sequence(seed: int, n: int, resamples: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([seed % (1 << 64), n, resamples])


class _CountDrawer:
    """Draws resample counts: ``rows x n`` index draws turned into per-prompt counts."""

    def __init__(self, n: int, rows: int, rng: np.random.Generator):
        self.n = n
        self.rng = rng
        self._dtype = np.uint16 if n <= np.iinfo(np.uint16).max else np.int64
        self._offsets = (np.arange(rows, dtype=np.int64) * n)[:, None]
        self._flat = np.empty((rows, n), dtype=np.int64)

    def draw_into(self, out: np.ndarray) -> None:
        """Fill ``out`` (at most ``rows`` rows, float32) with fresh counts."""
        rows, n = out.shape
        index = self.rng.integers(0, n, size=(rows, n), dtype=self._dtype)
        flat = self._flat[:rows]
        np.add(index, self._offsets[:rows], out=flat)
        out[...] = np.bincount(flat.ravel(), minlength=rows * n).reshape(rows, n)


def resample_counts(n: int, rows: int, rng: np.random.Generator) -> np.ndarray:
    """``rows x n`` float32 counts: how often each prompt is drawn in each resample."""
    out = np.empty((rows, n), dtype=np.float32)
    _CountDrawer(n, rows, rng).draw_into(out)
    return out


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


class BootstrapPlan:
    """Percentile bootstrap intervals of means over one set of ``n`` resampled prompts.

    Queue vectors of length ``n`` with :meth:`add` (NaN marks a prompt a vector lacks),
    then call :meth:`run` once: every vector shares the same resampled prompts.
    """

    def __init__(self, n: int, resamples: int, seed: int, confidence: float):
        if resamples < 1:
            raise ValueError("resamples must be at least 1")
        if not 0 < confidence < 1:
            raise ValueError("confidence must be between 0 and 1")
        self.n = n
        self.resamples = resamples
        self.seed = seed
        self.confidence = confidence
        self._vectors: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> int:
        """Queue one vector; returns its ticket for :meth:`run`'s result."""
        vec = np.asarray(values, dtype=np.float64)
        if vec.shape != (self.n,):
            raise ValueError(f"expected a vector of {self.n} values, got shape {vec.shape}")
        self._vectors.append(vec)
        return len(self._vectors) - 1

    def run(self) -> list[Interval | None]:
        """Intervals in ticket order (None for a vector with no values)."""
        results: list[Interval | None] = [None] * len(self._vectors)
        pending: list[int] = []
        for ticket, vec in enumerate(self._vectors):
            present = vec[~np.isnan(vec)]
            if present.size == 0:
                continue
            if np.all(present == present[0]):
                results[ticket] = Interval(float(present[0]), float(present[0]))
                continue
            pending.append(ticket)
        if not pending:
            return results
        means = self._resampled_means(pending)
        low, high = _percentile_interval(means, self.confidence)
        for i, ticket in enumerate(pending):
            if np.isfinite(low[i]) and np.isfinite(high[i]):
                results[ticket] = Interval(float(low[i]), float(high[i]))
        return results

    def _resampled_means(self, tickets: list[int]) -> np.ndarray:
        """``resamples x len(tickets)`` bootstrap means (NaN where a resample drew none)."""
        n, k = self.n, len(tickets)
        values = np.column_stack([self._vectors[t] for t in tickets])
        present = ~np.isnan(values)
        centre = np.nanmean(values, axis=0)
        centred = np.where(present, values - centre, 0.0).astype(np.float32)
        # denominators: one column per distinct gap pattern; complete vectors use n
        complete = present.all(axis=0)
        patterns: dict[bytes, int] = {}
        pattern_of = np.full(k, -1)
        pattern_cols: list[np.ndarray] = []
        for j in np.flatnonzero(~complete):
            key = np.packbits(present[:, j]).tobytes()
            if key not in patterns:
                patterns[key] = len(pattern_cols)
                pattern_cols.append(present[:, j].astype(np.float32))
            pattern_of[j] = patterns[key]
        weights = np.column_stack([centred, *pattern_cols]) if pattern_cols else centred
        sums = np.empty((self.resamples, weights.shape[1]), dtype=np.float64)
        rng = np.random.default_rng(_seed_sequence(self.seed, n, self.resamples))
        # counts are drawn in small pieces (cache-friendly) into a larger block, and
        # each block is multiplied in one call (few, large matrix products)
        piece = min(max(1, _CHUNK_ELEMENTS // n), self.resamples)
        block_rows = max(piece, (_BLOCK_ELEMENTS // n) // piece * piece)
        block = np.empty((min(block_rows, self.resamples), n), dtype=np.float32)
        drawer = _CountDrawer(n, piece, rng)
        for start in range(0, self.resamples, block_rows):
            rows = min(block_rows, self.resamples - start)
            for offset in range(0, rows, piece):
                drawer.draw_into(block[offset:offset + min(piece, rows - offset)])
            sums[start:start + rows] = block[:rows] @ weights
        counts = np.full((self.resamples, k), float(n))
        incomplete = np.flatnonzero(~complete)
        if incomplete.size:
            counts[:, incomplete] = sums[:, k + pattern_of[incomplete]]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums[:, :k] / counts
        means[counts == 0] = np.nan
        return means + centre


def _percentile_interval(means: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-column percentile interval (linear interpolation, as ``np.quantile``).

    NaN resamples are ignored; an all-NaN column gives NaN.
    """
    tail = (1.0 - confidence) / 2.0
    k = means.shape[1]
    low, high = np.empty(k), np.empty(k)
    gaps = np.isnan(means).any(axis=0)
    full = np.flatnonzero(~gaps)
    if full.size:
        rows = np.ascontiguousarray(means[:, full].T)
        count = rows.shape[1]
        ranks = [tail * (count - 1), (1.0 - tail) * (count - 1)]
        kth = sorted({int(np.floor(r)) for r in ranks} | {min(int(np.floor(r)) + 1, count - 1)
                                                         for r in ranks})
        rows.partition(kth, axis=1)
        for rank, out in zip(ranks, (low, high)):
            below = int(np.floor(rank))
            above = min(below + 1, count - 1)
            frac = rank - below
            out[full] = rows[:, below] + (rows[:, above] - rows[:, below]) * frac
    for j in np.flatnonzero(gaps):
        column = means[:, j]
        column = column[~np.isnan(column)]
        if column.size:
            low[j], high[j] = np.quantile(column, [tail, 1.0 - tail])
        else:
            low[j] = high[j] = np.nan
    return low, high


def bootstrap_ci(
    diffs: Sequence[float] | np.ndarray, resamples: int = 10_000, seed: int = 0,
    confidence: float = 0.95,
) -> Interval | None:
    """Percentile bootstrap interval of the mean of one vector (NaN values are skipped)."""
    vec = np.asarray(diffs, dtype=np.float64)
    vec = vec[~np.isnan(vec)]
    plan = BootstrapPlan(len(vec), resamples, seed, confidence)
    plan.add(vec)
    return plan.run()[0]

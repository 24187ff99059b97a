"""Suggest a scorer threshold from people's pass/fail labels.

For a scorer where higher is better the threshold is a ``min`` (pass if value >= t); where
lower is better a ``max`` (pass if value <= t). Every cut between two neighbouring distinct
values is tried; the one that agrees with the most labels wins, ties going to the most
lenient cut (the lowest ``min`` / the highest ``max``). The threshold is the shortest
decimal near the midpoint of its gap, so it reads well in benchmark.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import math

import numpy as np

MIN_LABELS = 3


@dataclass(frozen=True)
class Suggestion:
    threshold: float
    bound: Literal["min", "max"]
    agreement: float  # fraction of labelled items where the threshold matches people
    n: int  # labelled items behind the figure
    n_pass: int
    n_fail: int

    @property
    def informative(self) -> bool:
        """Whether the cut beats the trivial rules "everything passes" and "everything fails"."""
        return self.agreement * self.n > max(self.n_pass, self.n_fail)

    def describe(self) -> str:
        sign = ">=" if self.bound == "min" else "<="
        return f"{sign} {self.threshold:g} ({self.agreement:.0%} of {self.n})"


def nice_beyond(value: float, downward: bool, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits, away from the data (down or up)."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10.0 ** (digits - math.ceil(math.log10(abs(value))))
    rounded = (math.floor if downward else math.ceil)(value * scale) / scale
    if (downward and rounded <= value) or (not downward and rounded >= value):
        return rounded
    return value


def nice_between(lo: float, hi: float, include_lo: bool, include_hi: bool) -> float:
    """The shortest decimal strictly between ``lo`` and ``hi`` (near their midpoint).

    Only when the gap is too small for any such number is an included end returned.
    """
    mid = (lo + hi) / 2.0
    for digits in range(-6, 16):
        candidate = float(round(mid, digits))
        if lo < candidate < hi:
            return candidate
    if lo < mid < hi:
        return mid
    return hi if include_hi or not include_lo else lo


def suggest_threshold(
    values: np.ndarray | list[float], human_pass: np.ndarray | list[bool], direction: str,
) -> Suggestion | None:
    """The threshold that best reproduces ``human_pass`` from ``values``.

    None when the direction is not "higher"/"lower", with fewer than 3 labels, or when
    people gave only one kind of label (no boundary to learn).
    """
    if direction not in ("higher", "lower"):
        return None
    values = np.asarray(values, dtype=float)
    labels = np.asarray(human_pass, dtype=bool)
    if values.shape != labels.shape:
        raise ValueError("values and human_pass differ in length")
    keep = ~np.isnan(values)
    values, labels = values[keep], labels[keep]
    n = len(values)
    n_pass = int(labels.sum())
    n_fail = n - n_pass
    if n < MIN_LABELS or n_pass == 0 or n_fail == 0:
        return None
    passing = np.sort(values[labels])
    failing = np.sort(values[~labels])
    unique = np.unique(values)
    if direction == "higher":
        # cut at unique[i]: predicted pass <=> value >= unique[i]
        correct = (n_pass - np.searchsorted(passing, unique, "left")) + np.searchsorted(failing, unique, "left")
        best = int(np.flatnonzero(correct == correct.max())[0])  # lowest min
        if best == 0:
            threshold = nice_beyond(float(unique[0]), downward=True)
        else:
            threshold = nice_between(unique[best - 1], unique[best], include_lo=False, include_hi=True)
        bound: Literal["min", "max"] = "min"
    else:
        # cut at unique[i]: predicted pass <=> value <= unique[i]
        correct = np.searchsorted(passing, unique, "right") + (n_fail - np.searchsorted(failing, unique, "right"))
        best = int(np.flatnonzero(correct == correct.max())[-1])  # highest max
        if best == len(unique) - 1:
            threshold = nice_beyond(float(unique[-1]), downward=False)
        else:
            threshold = nice_between(unique[best], unique[best + 1], include_lo=True, include_hi=False)
        bound = "max"
    return Suggestion(threshold=threshold, bound=bound, agreement=float(correct[best]) / n, n=n,
                      n_pass=n_pass, n_fail=n_fail)

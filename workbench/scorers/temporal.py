"""Scorers on the change between consecutive frames (working-size luma, every frame).

All differences are in full-range levels (0..255): a limited-range (16..235)
video's differences are stretched by 255/219 first, so both kinds compare.

temporal_flicker follows VBench's temporal_flickering formula but on luma rather
than RGB (the one-pass budget reads RGB only on sampled frames): a change of hue
at constant brightness does not count as flicker here.
"""

from __future__ import annotations

import statistics
from collections import deque

import numpy as np

from workbench.media.decode import CHANGE_LEVEL, DecodeSummary, Frame
from workbench.scorers.base import ScoreResult, Scorer, ScorerError, ScorerInfo

# A pair is frozen if almost no pixel changed visibly and the mean change is tiny.
FROZEN_CHANGED_SHARE = 0.001
FROZEN_MAX_MAD = 1.0
# Hard cuts: see SceneCutsScorer.
CUT_MIN_MAD = 20.0
CUT_SURE_MAD = 40.0
CUT_RATIO = 3.0
CUT_NEXT_RATIO = 2.0
CUT_MIN_HISTOGRAM = 0.1
CUT_WINDOW = 10
# Added to the mean motion that normalises jerk, so a static clip's noise is not "jerky".
JERK_FLOOR = 0.5


def _need_pairs(count: int, needed: int = 1) -> None:
    if count < needed:
        raise ScorerError(f"needs at least {needed + 1} consecutive frames of the same size")


class TemporalFlickerScorer(Scorer):
    info = ScorerInfo(
        name="temporal_flicker",
        version="1",
        direction="higher",
        unit="",
        range=(0.0, 1.0),
        description="VBench temporal flickering on luma: mean of (255 - mean |frame difference|) / 255",
        inputs=(),
    )

    def start(self, context: object) -> None:
        self._total = 0.0
        self._pairs = 0

    def update(self, frame: Frame) -> None:
        mad = frame.mad
        if mad is not None:
            self._total += (255.0 - min(mad, 255.0)) / 255.0
            self._pairs += 1

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        _need_pairs(self._pairs)
        return ScoreResult(self._total / self._pairs)


class FrozenFramesScorer(Scorer):
    info = ScorerInfo(
        name="frozen_frames",
        version="1",
        direction="lower",
        unit="fraction",
        range=(0.0, 1.0),
        description="share of consecutive frame pairs that are (near-)identical",
        inputs=(),
    )

    def start(self, context: object) -> None:
        self._frozen = 0
        self._pairs = 0

    def update(self, frame: Frame) -> None:
        mad = frame.mad
        if mad is None:
            return
        self._pairs += 1
        if mad < FROZEN_MAX_MAD and (frame.changed_fraction or 0.0) < FROZEN_CHANGED_SHARE:
            self._frozen += 1

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        _need_pairs(self._pairs)
        return ScoreResult(self._frozen / self._pairs, f"{self._frozen} of {self._pairs} frame pairs frozen")


class MotionScorer(Scorer):
    """Motion is neither good nor bad in itself: thresholds per prompt tag decide."""

    info = ScorerInfo(
        name="motion",
        version="1",
        direction="none",
        unit="fraction",
        range=(0.0, 1.0),
        description=f"mean share of pixels changing by more than {CHANGE_LEVEL:g}/255 between frames",
        inputs=(),
    )

    def start(self, context: object) -> None:
        self._total = 0.0
        self._pairs = 0

    def update(self, frame: Frame) -> None:
        changed = frame.changed_fraction
        if changed is not None:
            self._total += changed
            self._pairs += 1

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        _need_pairs(self._pairs)
        return ScoreResult(self._total / self._pairs)


class MotionJerkScorer(Scorer):
    info = ScorerInfo(
        name="motion_jerk",
        version="1",
        direction="lower",
        unit="",
        range=(0.0, None),
        description="mean |second difference| of per-frame motion over mean motion (0 = smooth)",
        inputs=(),
    )

    def start(self, context: object) -> None:
        self._last: deque[float] = deque(maxlen=2)
        self._jerk_total = 0.0
        self._jerk_count = 0
        self._motion_total = 0.0
        self._pairs = 0

    def update(self, frame: Frame) -> None:
        mad = frame.mad
        if mad is None:
            self._last.clear()  # a size change breaks the chain
            return
        self._motion_total += mad
        self._pairs += 1
        if len(self._last) == 2:
            before, middle = self._last
            self._jerk_total += abs(mad - 2.0 * middle + before)
            self._jerk_count += 1
        self._last.append(mad)

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        if not self._jerk_count:
            raise ScorerError("needs at least 4 consecutive frames of the same size")
        mean_jerk = self._jerk_total / self._jerk_count
        mean_motion = self._motion_total / self._pairs
        return ScoreResult(mean_jerk / (mean_motion + JERK_FLOOR))


def histogram_distance(first: np.ndarray, second: np.ndarray) -> float:
    """Half the L1 distance between 32-bin luma histograms (0 = same, 1 = disjoint)."""
    bins = []
    for image in (first, second):
        counts = np.bincount((image >> 3).ravel(), minlength=32).astype(np.float64)
        bins.append(counts / counts.sum())
    return 0.5 * float(np.abs(bins[0] - bins[1]).sum())


class SceneCutsScorer(Scorer):
    """Counts hard cuts: an isolated spike in the frame difference.

    A pair is a cut when its mean difference is at least CUT_MIN_MAD levels,
    CUT_RATIO times the median of the preceding pairs and CUT_NEXT_RATIO times
    both neighbouring pairs (motion builds up and dies down; a cut does not),
    and either the luma histogram changed (CUT_MIN_HISTOGRAM) or the difference
    is very large (CUT_SURE_MAD). A one-frame flash makes two spikes in a row
    and so is not a cut.
    """

    info = ScorerInfo(
        name="scene_cuts",
        version="1",
        direction="lower",
        unit="cuts",
        range=(0.0, None),
        description="number of hard cuts (an isolated spike in frame difference)",
        inputs=(),
    )

    def start(self, context: object) -> None:
        self._window: deque[float] = deque(maxlen=CUT_WINDOW)
        self._pending: tuple[float, float, bool] | None = None  # (mad, time, content changed)
        self._cuts: list[float] = []
        self._pairs = 0

    def update(self, frame: Frame) -> None:
        mad = frame.mad
        if mad is None:
            self._settle(None)
            self._window.clear()
            return
        self._pairs += 1
        self._settle(mad)
        typical = statistics.median(self._window) if self._window else 0.0
        candidate = mad >= CUT_MIN_MAD and mad >= CUT_RATIO * typical
        changed = False
        if candidate:
            previous = frame.previous_luma
            changed = mad >= CUT_SURE_MAD or (
                previous is not None and histogram_distance(previous, frame.luma) >= CUT_MIN_HISTOGRAM
            )
        self._pending = (mad, frame.time, candidate and changed)

    def _settle(self, next_mad: float | None) -> None:
        if self._pending is None:
            return
        mad, time, candidate = self._pending
        self._pending = None
        if candidate:
            previous = self._window[-1] if self._window else None
            isolated_before = previous is None or mad >= CUT_NEXT_RATIO * previous
            ratio = CUT_NEXT_RATIO if self._window else CUT_RATIO
            isolated_after = next_mad is None or mad >= ratio * next_mad
            if isolated_before and isolated_after:
                self._cuts.append(time)
        self._window.append(mad)

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        self._settle(None)
        _need_pairs(self._pairs)
        detail = None
        if self._cuts:
            shown = ", ".join(f"{t:.2f}s" for t in self._cuts[:10])
            detail = f"cuts at {shown}" + (" ..." if len(self._cuts) > 10 else "")
        return ScoreResult(float(len(self._cuts)), detail)

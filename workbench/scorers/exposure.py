"""Exposure scorers on working-size luma: brightness, clipping and black frames.

Luma is normalised to the video's own range first: 16..235 for ordinary
("TV" range) video, 0..255 for full-range video, so one threshold fits both.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.media.decode import DecodeSummary, Frame
from workbench.scorers.base import ScoreResult, Scorer, ScorerError, ScorerInfo

# Normalised luma at or below this is crushed to black / at or above 1 - this is blown out.
CLIP_MARGIN = 4 / 255
# A pixel darker than this (normalised) is black; a frame with this share of black pixels is black.
BLACK_PIXEL = 0.10
BLACK_SHARE = 0.98


def _code_value(frame: Frame, normalised: float) -> float:
    return frame.black + normalised * (frame.white - frame.black)


class _FrameAverage(Scorer):
    """Averages one number per frame over all frames."""

    def start(self, context: object) -> None:
        self._total = 0.0
        self._count = 0

    def update(self, frame: Frame) -> None:
        self._total += self.measure(frame)
        self._count += 1

    def measure(self, frame: Frame) -> float:
        raise NotImplementedError

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        if not self._count:
            raise ScorerError("no frame decoded")
        return ScoreResult(self._total / self._count)


class BrightnessScorer(_FrameAverage):
    info = ScorerInfo(
        name="brightness",
        version="1",
        direction="none",
        unit="",
        range=(0.0, 1.0),
        description="mean luma, 0 = black level, 1 = white level",
        inputs=(),
    )

    def measure(self, frame: Frame) -> float:
        luma = frame.luma
        mean = float(luma.sum(dtype=np.uint64)) / luma.size
        value = (mean - frame.black) / (frame.white - frame.black)
        return min(1.0, max(0.0, value))


class ClippedShadowsScorer(_FrameAverage):
    info = ScorerInfo(
        name="clipped_shadows",
        version="1",
        direction="lower",
        unit="fraction",
        range=(0.0, 1.0),
        description="share of pixels crushed to black (luma within 4/255 of the black level)",
        inputs=(),
    )

    def measure(self, frame: Frame) -> float:
        limit = math.floor(_code_value(frame, CLIP_MARGIN))
        return np.count_nonzero(frame.luma <= limit) / frame.luma.size


class ClippedHighlightsScorer(_FrameAverage):
    info = ScorerInfo(
        name="clipped_highlights",
        version="1",
        direction="lower",
        unit="fraction",
        range=(0.0, 1.0),
        description="share of pixels blown out to white (luma within 4/255 of the white level)",
        inputs=(),
    )

    def measure(self, frame: Frame) -> float:
        limit = math.ceil(_code_value(frame, 1.0 - CLIP_MARGIN))
        return np.count_nonzero(frame.luma >= limit) / frame.luma.size


class BlackFramesScorer(_FrameAverage):
    info = ScorerInfo(
        name="black_frames",
        version="1",
        direction="lower",
        unit="fraction",
        range=(0.0, 1.0),
        description="share of frames that are black (98% of pixels below 10% luma)",
        inputs=(),
    )

    def measure(self, frame: Frame) -> float:
        limit = math.floor(_code_value(frame, BLACK_PIXEL))
        dark = np.count_nonzero(frame.luma <= limit)
        return 1.0 if dark >= BLACK_SHARE * frame.luma.size else 0.0

"""``sharpness``: variance of the Laplacian of full-resolution luma on sampled frames."""

from __future__ import annotations

import numpy as np

from workbench.media.decode import DecodeSummary, Frame
from workbench.scorers.base import ScoreResult, Scorer, ScorerError, ScorerInfo

# The Laplacian is evaluated on every third row (all columns): an unbiased
# estimate of the frame's variance at a third of the cost; a step of 3 visits
# every row phase of an 8-row block grid.
ROW_STEP = 3


def laplacian_variance(luma: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of a uint8 image (code values squared)."""
    height, width = luma.shape
    centre = luma[1:height - 1:ROW_STEP].astype(np.int16)
    above = luma[0:height - 2:ROW_STEP, 1:-1]
    below = luma[2:height:ROW_STEP, 1:-1]
    lap = 4 * centre[:, 1:-1] - centre[:, :-2] - centre[:, 2:] - above - below
    values = lap.astype(np.float32).ravel()
    mean = float(values.sum(dtype=np.float64)) / values.size
    return max(0.0, float(np.dot(values, values)) / values.size - mean * mean)


class SharpnessScorer(Scorer):
    info = ScorerInfo(
        name="sharpness",
        version="1",
        direction="higher",
        unit="levels^2",
        range=(0.0, None),
        description="variance of the Laplacian of full-resolution luma, mean over sampled frames",
        inputs=(),
    )

    def start(self, context: object) -> None:
        self._values: list[float] = []
        self._too_small: tuple[int, int] | None = None

    def sample(self, frame: Frame) -> None:
        luma = frame.full_luma
        if luma.shape[0] < 3 or luma.shape[1] < 3:
            self._too_small = (frame.width, frame.height)
            return
        self._values.append(laplacian_variance(luma) * frame.level_scale ** 2)

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        if not self._values:
            if self._too_small:
                width, height = self._too_small
                raise ScorerError(f"frames are too small ({width}x{height}) for a 3x3 Laplacian")
            raise ScorerError("no frame decoded")
        return ScoreResult(float(np.mean(self._values)), f"{len(self._values)} frames sampled")

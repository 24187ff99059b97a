"""``sharpness``: variance of the Laplacian of full-resolution luma on sampled frames."""

from __future__ import annotations

import numpy as np

from workbench.media.decode import Frame
from workbench.scorers.base import FullLumaMean, ScorerInfo

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


class SharpnessScorer(FullLumaMean):
    info = ScorerInfo(
        name="sharpness",
        version="1",
        direction="higher",
        unit="levels^2",
        range=(0.0, None),
        description="variance of the Laplacian of full-resolution luma, mean over sampled frames",
        inputs=(),
    )

    min_size = 3
    needs = "a 3x3 Laplacian"

    def measure(self, frame: Frame) -> float:
        return laplacian_variance(frame.full_luma) * frame.level_scale ** 2

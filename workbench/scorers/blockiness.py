"""``blockiness``: how much stronger luma steps are on the 8x8 coding grid than inside blocks."""

from __future__ import annotations

import numpy as np

from workbench.media.decode import Frame
from workbench.scorers.base import FullLumaMean, ScorerInfo

BLOCK = 8
# Added to both means (in full-range levels) so flat pictures do not divide by ~0.
REGULARISER = 1.0


def _boundary_and_interior(luma: np.ndarray, axis: int) -> tuple[float, float]:
    """Mean |step| between neighbours across block boundaries and inside blocks, along ``axis``.

    Every other line across the other axis is used: the grid is the same on all
    lines, so this halves the work without biasing either mean.
    """
    if axis == 1:
        lines = luma[::2]
        first, second = lines[:, :-1], lines[:, 1:]
    else:
        lines = luma[:, ::2]
        first, second = lines[:-1], lines[1:]
    steps = np.maximum(first, second) - np.minimum(first, second)
    per_position = steps.sum(axis=1 - axis, dtype=np.uint32).astype(np.float64)
    boundary = per_position[BLOCK - 1::BLOCK]
    interior_total = per_position.sum() - boundary.sum()
    interior_count = per_position.size - boundary.size
    per_line = steps.shape[1 - axis]
    return boundary.sum() / (boundary.size * per_line), interior_total / (interior_count * per_line)


def blockiness(luma: np.ndarray, level_scale: float = 1.0) -> float:
    """(boundary step + 1) / (interior step + 1) - 1, averaged over both directions.

    0 means no visible grid; 1 means steps on the grid are about twice those inside blocks.
    """
    h_boundary, h_interior = _boundary_and_interior(luma, axis=1)
    v_boundary, v_interior = _boundary_and_interior(luma, axis=0)
    boundary = (h_boundary + v_boundary) / 2 * level_scale
    interior = (h_interior + v_interior) / 2 * level_scale
    return (boundary + REGULARISER) / (interior + REGULARISER) - 1.0


class BlockinessScorer(FullLumaMean):
    info = ScorerInfo(
        name="blockiness",
        version="1",
        direction="lower",
        unit="ratio",
        range=(None, None),
        description="excess luma step on the 8x8 block grid over steps inside blocks (0 = none)",
        inputs=(),
    )

    min_size = 2 * BLOCK
    needs = "an 8x8 block grid"

    def measure(self, frame: Frame) -> float:
        return blockiness(frame.full_luma, frame.level_scale)

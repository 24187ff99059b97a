"""``colorfulness``: Hasler and Suesstrunk (2003) colourfulness metric M on sampled frames."""

from __future__ import annotations

import math

import numpy as np

from workbench.media.decode import DecodeSummary, Frame
from workbench.scorers.base import ScoreResult, Scorer, ScorerError, ScorerInfo

# Sample frames are converted to RGB at most this size on each side; M is a
# statistic of the whole picture and hardly changes with scale.
RGB_MAX_SIDE = 320


def colorfulness(rgb: np.ndarray) -> float:
    """M = sigma_rgyb + 0.3 * mu_rgyb for an ``H x W x 3`` uint8 RGB image."""
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    red, green, blue = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    rg = red - green
    yb = 0.5 * (red + green) - blue
    sigma = math.sqrt(float(rg.var()) + float(yb.var()))
    mu = math.sqrt(float(rg.mean()) ** 2 + float(yb.mean()) ** 2)
    return sigma + 0.3 * mu


def rgb_sample_size(width: int, height: int) -> tuple[int, int]:
    step = max(1, math.ceil(width / RGB_MAX_SIDE), math.ceil(height / RGB_MAX_SIDE))
    return max(1, -(-width // step)), max(1, -(-height // step))


class ColorfulnessScorer(Scorer):
    info = ScorerInfo(
        name="colorfulness",
        version="1",
        direction="higher",
        unit="M",
        range=(0.0, None),
        description="Hasler-Suesstrunk colourfulness M of sampled RGB frames (0 grey, ~100+ vivid)",
        inputs=(),
    )

    def start(self, context: object) -> None:
        self._values: list[float] = []
        self._failure: str | None = None

    def sample(self, frame: Frame) -> None:
        try:
            rgb = frame.rgb(*rgb_sample_size(frame.width, frame.height))
        except Exception as exc:  # noqa: BLE001 - a conversion failure skips the frame
            self._failure = f"cannot convert a frame to RGB: {exc}"
            return
        self._values.append(colorfulness(rgb))

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        if not self._values:
            raise ScorerError(self._failure or "no frame decoded")
        return ScoreResult(float(np.mean(self._values)), f"{len(self._values)} frames sampled")

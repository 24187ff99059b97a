"""``decodes``: does the file decode to at least one video frame?"""

from __future__ import annotations

from workbench.media.decode import DecodeSummary
from workbench.scorers.base import ScoreResult, Scorer, ScorerInfo


class DecodesScorer(Scorer):
    """1.0 if at least one video frame decodes, else 0.0; never an error."""

    info = ScorerInfo(
        name="decodes",
        version="1",
        direction="higher",
        unit="",
        range=(0.0, 1.0),
        description="1 if the file decodes to at least one video frame, else 0",
        inputs=(),
    )

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        if summary.frames == 0:
            return ScoreResult(0.0, summary.problem() or "no video frame decoded")
        return ScoreResult(1.0, summary.problem())

    def not_a_video(self, reason: str) -> ScoreResult:
        return ScoreResult(0.0, reason)

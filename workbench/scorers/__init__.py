"""Automated scorers: built-in CPU metrics, entry-point plugins and external programs.

``score_video`` scores one file in a single decode pass; ``score_videos`` (in
:mod:`workbench.scorers.batch`) scores many in parallel with a result cache.
"""

from workbench.scorers.base import ScoreResult, Scorer, ScorerError, ScorerInfo, ScoreValue, VideoScores
from workbench.scorers.registry import UnknownScorer, available_scorers, resolve_scorers
from workbench.scorers.scoring import score_video

__all__ = [
    "ScoreResult", "Scorer", "ScorerError", "ScorerInfo", "ScoreValue", "VideoScores",
    "UnknownScorer", "available_scorers", "resolve_scorers", "score_video",
]

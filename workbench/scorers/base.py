"""The scorer interface and the result types of scoring.

A frame scorer sees the video once, frame by frame::

    scorer.start(context)          # before the first frame
    scorer.update(frame)           # every decoded frame (working-size luma is cheap)
    scorer.sample(frame)           # a spread-out subset of frames (full-res luma, RGB)
    result = scorer.finish(summary)

A file scorer (``needs_frames = False``) gets the path instead and is called once
with :meth:`Scorer.score_file` after the decode pass; external programs and
model-based plugins usually take this form.

A scorer reports a problem with its input by raising :class:`ScorerError`; the
message becomes that score's ``error`` and the other scorers carry on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from workbench.media.decode import DecodeSummary, Frame
from workbench.media.probe import VideoInfo

Direction = Literal["higher", "lower", "none"]
# What a scorer reads besides the video: it decides what the score cache keys on.
ScorerInput = Literal["requested", "prompt_text"]


@dataclass(frozen=True)
class ScorerInfo:
    """What a scorer measures and how to read its value.

    ``inputs`` names what beyond the video's bytes the value depends on; by
    default both the requested parameters and the prompt text, which is the safe
    assumption for a plugin. ``fingerprint`` is any extra configuration that
    should invalidate cached values (e.g. an external program's argv).
    """

    name: str
    version: str
    direction: Direction
    unit: str
    range: tuple[float | None, float | None]
    description: str
    kind: Literal["built-in", "plugin", "external"] = "built-in"
    inputs: tuple[ScorerInput, ...] = ("requested", "prompt_text")
    fingerprint: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class ScoreResult:
    """What :meth:`Scorer.finish` returns: a value and an optional explanation."""

    value: float
    detail: str | None = None


class ScorerError(Exception):
    """This scorer cannot score this video; the message says why."""


@dataclass(frozen=True)
class VideoContext:
    """What a scorer may know about the video it is scoring."""

    path: Path
    info: VideoInfo
    requested: dict[str, Any] = field(default_factory=dict)
    prompt_text: str = ""


class Scorer:
    """Base class for scorers. Subclasses set ``info`` and override the hooks they need."""

    info: ClassVar[ScorerInfo]
    needs_frames: ClassVar[bool] = True

    def start(self, context: VideoContext) -> None:
        """Called once before the first frame; reset per-video state here."""

    def update(self, frame: Frame) -> None:
        """Called for every decoded frame, in order."""

    def sample(self, frame: Frame) -> None:
        """Called for the sampled subset of frames (after ``update`` for the same frame)."""

    def finish(self, summary: DecodeSummary) -> ScoreResult | float:
        """The score for the video; raise :class:`ScorerError` if there is none."""
        raise ScorerError("this scorer does not compute a value from frames")

    def score_file(self, context: VideoContext) -> ScoreResult | float:
        """For ``needs_frames = False`` scorers: score the file at ``context.path``."""
        raise ScorerError("this scorer does not score files")

    def not_a_video(self, reason: str) -> ScoreResult | float | None:
        """The score when the file is not a decodable video; None means "error: reason"."""
        return None


class FullLumaMean(Scorer):
    """A scorer whose value is the mean, over sampled frames, of one measure of full-resolution
    luma. Subclasses set ``min_size`` (rows and columns the measure needs), ``needs`` (what for,
    in the error message) and implement :meth:`measure`."""

    min_size: ClassVar[int]
    needs: ClassVar[str]

    def measure(self, frame: Frame) -> float:
        raise NotImplementedError

    def start(self, context: object) -> None:
        self._values: list[float] = []
        self._too_small: tuple[int, int] | None = None

    def sample(self, frame: Frame) -> None:
        luma = frame.full_luma
        if luma.shape[0] < self.min_size or luma.shape[1] < self.min_size:
            self._too_small = (frame.width, frame.height)
            return
        self._values.append(self.measure(frame))

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        if not self._values:
            if self._too_small:
                width, height = self._too_small
                raise ScorerError(f"frames are too small ({width}x{height}) for {self.needs}")
            raise ScorerError("no frame decoded")
        import numpy as np  # (the same mean as before this base class existed, to the last bit)

        return ScoreResult(float(np.mean(self._values)), f"{len(self._values)} frames sampled")


@dataclass(frozen=True)
class ScoreValue:
    """One scorer's outcome for one video: a value, or an error with its reason."""

    name: str
    version: str
    value: float | None
    error: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class VideoScores:
    """Every requested score for one video, its thumbnails and any whole-file error.

    ``warnings`` notes problems that did not prevent scoring (frames lost to a
    corrupt stretch, thumbnails that could not be written).
    """

    sha256: str
    scores: list[ScoreValue]
    thumbnails: list[Path] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def get(self, name: str) -> ScoreValue | None:
        for score in self.scores:
            if score.name == name:
                return score
        return None

    def value(self, name: str) -> float | None:
        score = self.get(name)
        return score.value if score else None

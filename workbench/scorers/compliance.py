"""``compliance``: the share of requested clip parameters the video actually meets.

The request comes from the prompt as a dict with optional keys ``duration``
(seconds), ``resolution`` ("WxH"), ``aspect_ratio`` ("W:H") and ``fps``. Other
keys and None values are ignored; with nothing requested the score is 1.0.
Resolution and aspect ratio are compared as displayed (non-square pixels applied).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from workbench.media.decode import DecodeSummary
from workbench.media.probe import VideoInfo
from workbench.scorers.base import ScoreResult, Scorer, ScorerError, ScorerInfo, VideoContext

DURATION_TOLERANCE_S = 0.5
DURATION_TOLERANCE_REL = 0.10
FPS_TOLERANCE_REL = 0.03
ASPECT_TOLERANCE_REL = 0.02

_RESOLUTION = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")
_ASPECT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Request:
    """Parsed requested parameters (None = not requested)."""

    duration: float | None = None
    resolution: tuple[int, int] | None = None
    aspect_ratio: tuple[float, float] | None = None
    fps: float | None = None

    @property
    def count(self) -> int:
        return sum(v is not None for v in (self.duration, self.resolution, self.aspect_ratio, self.fps))


def _positive_number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ScorerError(f"requested {key} {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ScorerError(f"requested {key} {value!r} is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise ScorerError(f"requested {key} {value!r} must be a positive number")
    return number


def parse_request(requested: dict[str, Any] | None) -> Request:
    """The known keys of ``requested``, checked; raises :class:`ScorerError` on bad values."""
    requested = requested or {}
    duration = fps = None
    resolution = aspect = None
    if requested.get("duration") is not None:
        duration = _positive_number("duration", requested["duration"])
    if requested.get("fps") is not None:
        fps = _positive_number("fps", requested["fps"])
    if requested.get("resolution") is not None:
        match = _RESOLUTION.match(str(requested["resolution"]))
        if not match or not int(match[1]) or not int(match[2]):
            raise ScorerError(f"requested resolution {requested['resolution']!r} should look like '1280x720'")
        resolution = (int(match[1]), int(match[2]))
    if requested.get("aspect_ratio") is not None:
        match = _ASPECT.match(str(requested["aspect_ratio"]))
        if not match or not float(match[1]) or not float(match[2]):
            raise ScorerError(f"requested aspect_ratio {requested['aspect_ratio']!r} should look like '16:9'")
        aspect = (float(match[1]), float(match[2]))
    return Request(duration, resolution, aspect, fps)


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def check_request(request: Request, info: VideoInfo, summary: DecodeSummary) -> tuple[int, list[str]]:
    """(checks met, one note per check) for a decoded video."""
    met = 0
    notes: list[str] = []
    width, height = info.display_width, info.height

    def note(ok: bool, text: str) -> None:
        nonlocal met
        met += ok
        notes.append(("ok: " if ok else "FAILED: ") + text)

    if request.duration is not None:
        measured = summary.measured_duration(info.fps) or info.duration
        tolerance = max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_REL * request.duration)
        if measured is None:
            note(False, f"duration unknown (requested {_num(request.duration)}s)")
        else:
            ok = abs(measured - request.duration) <= tolerance
            note(ok, f"duration {_num(measured)}s vs requested {_num(request.duration)}s +/- {_num(tolerance)}s")
    if request.fps is not None:
        measured_fps = summary.measured_fps(info.fps)
        if measured_fps is None:
            note(False, f"fps unknown (requested {_num(request.fps)})")
        else:
            ok = abs(measured_fps - request.fps) <= FPS_TOLERANCE_REL * request.fps
            note(ok, f"fps {_num(measured_fps)} vs requested {_num(request.fps)} +/- 3%")
    if request.resolution is not None:
        want_w, want_h = request.resolution
        ok = (width, height) == (want_w, want_h)
        note(ok, f"resolution {width}x{height} vs requested {want_w}x{want_h}")
    if request.aspect_ratio is not None:
        aw, ah = request.aspect_ratio
        wanted = aw / ah
        actual = width / height if height else 0.0
        ok = abs(actual - wanted) <= ASPECT_TOLERANCE_REL * wanted
        note(ok, f"aspect ratio {_num(actual)} ({width}x{height}) vs requested {_num(aw)}:{_num(ah)}")
    return met, notes


class ComplianceScorer(Scorer):
    info = ScorerInfo(
        name="compliance",
        version="1",
        direction="higher",
        unit="fraction",
        range=(0.0, 1.0),
        description="share of requested duration / fps / resolution / aspect ratio the video meets",
        inputs=("requested",),
    )

    def start(self, context: VideoContext) -> None:
        self._info = context.info
        self._problem: str | None = None
        try:
            self._request = parse_request(context.requested)
        except ScorerError as exc:
            self._request = Request()
            self._problem = str(exc)

    def finish(self, summary: DecodeSummary) -> ScoreResult:
        if self._problem:
            raise ScorerError(self._problem)
        if not self._request.count:
            return ScoreResult(1.0, "nothing requested")
        met, notes = check_request(self._request, self._info, summary)
        return ScoreResult(met / self._request.count, "; ".join(notes))

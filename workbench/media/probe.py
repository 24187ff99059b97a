"""What a video file says about itself before any frame is decoded."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

# Formats that store full-range (0..255) luma even when the frame does not say so.
_FULL_RANGE_PREFIXES = ("yuvj", "gray", "ya")


@dataclass(frozen=True)
class VideoInfo:
    """Container and stream facts, read without decoding.

    ``fps``, ``duration`` and ``frame_count`` are what the file claims and may be
    missing or wrong (webm files often carry no duration); the decode pass measures
    the real values.
    """

    width: int
    height: int
    codec: str
    pix_fmt: str
    fps: float | None
    duration: float | None
    frame_count: int | None
    sample_aspect: float
    has_audio: bool

    @property
    def display_width(self) -> int:
        """Width after applying the sample aspect ratio (non-square pixels)."""
        return max(1, round(self.width * self.sample_aspect))

    def estimated_frames(self) -> int | None:
        """The frame count the file claims, or duration x fps, or None."""
        if self.frame_count:
            return self.frame_count
        if self.duration and self.fps:
            return max(1, round(self.duration * self.fps))
        return None


def error_reason(exc: BaseException) -> str:
    """A short reason for a decoder or file error, without the file path FFmpeg appends."""
    if isinstance(exc, av.error.FFmpegError):
        text = exc.strerror or type(exc).__name__
        return str(text)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _fraction_to_float(value: Fraction | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ZeroDivisionError):
        return None
    return number if number > 0 else None


def stream_info(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> VideoInfo:
    """Facts about ``stream`` of an open ``container``."""
    ctx = stream.codec_context
    fps = _fraction_to_float(stream.average_rate) or _fraction_to_float(stream.guessed_rate)
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base) or None
    if duration is None and container.duration:
        duration = container.duration / av.time_base
    frame_count = stream.frames or None
    sar = _fraction_to_float(stream.sample_aspect_ratio) or 1.0
    pix_fmt = (stream.format.name if stream.format is not None else None) or ctx.pix_fmt or "unknown"
    return VideoInfo(
        width=int(stream.width or ctx.width or 0),
        height=int(stream.height or ctx.height or 0),
        codec=ctx.name or "unknown",
        pix_fmt=pix_fmt,
        fps=fps,
        duration=duration,
        frame_count=frame_count,
        sample_aspect=sar,
        has_audio=bool(container.streams.audio),
    )


def is_full_range(pix_fmt: str, color_range: int | None) -> bool:
    """True if luma uses 0..255 rather than the 16..235 'TV' range."""
    if color_range == 2:  # AVCOL_RANGE_JPEG
        return True
    return pix_fmt.startswith(_FULL_RANGE_PREFIXES)


def probe_video(path: Path) -> VideoInfo:
    """Facts about the first video stream of ``path``.

    Raises ``ValueError`` with a short reason if the file cannot be opened or has
    no video stream.
    """
    try:
        container = av.open(str(path))
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not a video"
        raise ValueError(f"cannot open: {error_reason(exc)}") from None
    with container:
        if not container.streams.video:
            raise ValueError("no video stream")
        return stream_info(container, container.streams.video[0])

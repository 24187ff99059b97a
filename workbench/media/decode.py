"""One tolerant decode pass over a video, handing out cheap luma views of each frame.

Each decoded frame becomes a :class:`Frame`: its luma (Y) plane is read straight
from the decoder's buffer where the pixel format allows, and reduced by an integer
stride to a small working copy (at most ``WORK_HEIGHT`` x ``WORK_WIDTH``). Full
resolution luma and RGB are computed only when a consumer asks for them, so the
cost of a pass is little more than the decode itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from workbench.media.probe import VideoInfo, error_reason, is_full_range, stream_info

WORK_HEIGHT = 360
WORK_WIDTH = 640
# After this many undecodable packets in a row we stop reading the file.
MAX_BAD_PACKETS_IN_ROW = 64
# Change of more than this many full-range levels marks a pixel as "changed".
CHANGE_LEVEL = 10.0

_U8 = ("u8", 0)
_CONVERT = ("convert", 0)
_MSB_ALIGNED_PREFIXES = ("p0", "p2", "p4")  # p010le etc keep the value in the high bits


class NotAVideo(Exception):
    """The file cannot be opened, has no video stream or yields no frame."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def working_stride(width: int, height: int) -> int:
    """The integer step that brings a frame to at most WORK_HEIGHT x WORK_WIDTH."""
    return max(1, math.ceil(height / WORK_HEIGHT), math.ceil(width / WORK_WIDTH))


_MODES: dict[str, tuple[str, int]] = {}


def luma_mode(fmt: av.VideoFormat) -> tuple[str, int]:
    """How to read luma from frames in ``fmt``: ("u8", 0), ("u16", shift) or ("convert", 0).

    Direct reads need a format whose plane 0 holds nothing but luma samples in
    native (little-endian) order; everything else (RGB, packed YUV, palettes,
    big-endian) goes through swscale.
    """
    cached = _MODES.get(fmt.name)
    if cached is not None:
        return cached
    mode = _CONVERT
    comps = fmt.components
    simple = not (fmt.is_rgb or fmt.is_bayer or fmt.has_palette or fmt.is_big_endian or fmt.is_bit_stream)
    if simple and comps and comps[0].is_luma and comps[0].plane == 0:
        if not any(c.plane == 0 for c in comps[1:]):
            bits = comps[0].bits
            if bits == 8:
                mode = _U8
            elif 8 < bits <= 16:
                shift = 8 if fmt.name.startswith(_MSB_ALIGNED_PREFIXES) else bits - 8
                mode = ("u16", shift)
    _MODES[fmt.name] = mode
    return mode


def _plane_view(frame: av.VideoFrame, dtype: type) -> np.ndarray:
    """The luma plane as a ``height x width`` array sharing the decoder's buffer."""
    plane = frame.planes[0]
    itemsize = np.dtype(dtype).itemsize
    row = plane.line_size // itemsize
    height, width = frame.height, frame.width
    data = np.frombuffer(plane, dtype=dtype)
    if data.size >= row * height:
        return data[: row * height].reshape(height, row)[:, :width]
    # the last line may stop at the picture's edge, without padding
    if row < width or data.size < (height - 1) * row + width:
        raise ValueError(f"luma plane holds {data.size} samples, too few for {width}x{height}")
    return np.lib.stride_tricks.as_strided(data, shape=(height, width), strides=(plane.line_size, itemsize),
                                           writeable=False)


class Frame:
    """One decoded frame, with luma at working size and lazily computed extras."""

    __slots__ = (
        "index", "time", "is_sample", "black", "white", "_av", "_mode", "_stride",
        "_luma", "_prev", "_diff", "_mad", "_changed", "_full", "_rgb", "_scalers",
    )

    def __init__(self, av_frame: av.VideoFrame, index: int, time: float, full_range: bool,
                 stride: int, prev_luma: np.ndarray | None, scalers: "Scalers | None" = None):
        self.index = index
        self.time = time
        self.is_sample = False
        self._av = av_frame
        self._scalers = scalers if scalers is not None else Scalers()
        self._mode = luma_mode(av_frame.format)
        self._stride = stride
        if self._mode[0] == "convert":
            full_range = True  # swscale's gray output is full range
        self.black, self.white = (0.0, 255.0) if full_range else (16.0, 235.0)
        self._luma = self._read_small_luma()
        self._prev = prev_luma if prev_luma is not None and prev_luma.shape == self._luma.shape else None
        self._diff: np.ndarray | None = None
        self._mad: float | None = None
        self._changed: float | None = None
        self._full: np.ndarray | None = None
        self._rgb: dict[tuple[int, int], np.ndarray] = {}

    # -- luma --------------------------------------------------------------------
    def _read_small_luma(self) -> np.ndarray:
        kind, shift = self._mode
        step = self._stride
        if kind == "u8":
            return np.ascontiguousarray(_plane_view(self._av, np.uint8)[::step, ::step])
        if kind == "u16":
            small = _plane_view(self._av, np.dtype("<u2"))[::step, ::step] >> shift
            return np.minimum(small, 255).astype(np.uint8)
        width = -(-self._av.width // step)
        height = -(-self._av.height // step)
        return self._scalers.convert(self._av, width, height, "gray")

    @property
    def luma(self) -> np.ndarray:
        """Luma at working size (uint8 code values, see ``black``/``white``)."""
        return self._luma

    @property
    def level_scale(self) -> float:
        """Multiply a code-value difference by this to get full-range (0..255) levels."""
        return 255.0 / (self.white - self.black)

    @property
    def full_luma(self) -> np.ndarray:
        """Luma at full resolution (uint8); may share the decoder's buffer, do not modify."""
        if self._full is None:
            kind, shift = self._mode
            if kind == "u8":
                self._full = _plane_view(self._av, np.uint8)
            elif kind == "u16":
                view = _plane_view(self._av, np.dtype("<u2")) >> shift
                self._full = np.minimum(view, 255).astype(np.uint8)
            else:
                self._full = self._scalers.convert(self._av, self._av.width, self._av.height, "gray")
        return self._full

    @property
    def width(self) -> int:
        return self._av.width

    @property
    def height(self) -> int:
        return self._av.height

    # -- change from the previous frame --------------------------------------------
    @property
    def has_previous(self) -> bool:
        return self._prev is not None

    @property
    def previous_luma(self) -> np.ndarray | None:
        """The previous frame's working-size luma (None for the first frame or after a size change)."""
        return self._prev

    @property
    def abs_diff(self) -> np.ndarray | None:
        """|luma - previous luma| at working size, or None for the first frame."""
        if self._diff is None and self._prev is not None:
            cur, prev = self._luma, self._prev
            self._diff = np.maximum(cur, prev) - np.minimum(cur, prev)
        return self._diff

    @property
    def mad(self) -> float | None:
        """Mean absolute luma difference from the previous frame, in full-range levels."""
        if self._mad is None:
            diff = self.abs_diff
            if diff is None:
                return None
            self._mad = float(diff.sum(dtype=np.uint64)) / diff.size * self.level_scale
        return self._mad

    @property
    def changed_fraction(self) -> float | None:
        """Fraction of pixels whose luma moved more than CHANGE_LEVEL full-range levels."""
        if self._changed is None:
            diff = self.abs_diff
            if diff is None:
                return None
            threshold = CHANGE_LEVEL / self.level_scale
            self._changed = np.count_nonzero(diff > threshold) / diff.size
        return self._changed

    # -- colour --------------------------------------------------------------------
    def rgb(self, width: int, height: int) -> np.ndarray:
        """The frame as ``height x width x 3`` uint8 RGB, scaled by swscale (area filter)."""
        key = (width, height)
        image = self._rgb.get(key)
        if image is None:
            image = self._scalers.convert(self._av, width, height, "rgb24")
            self._rgb[key] = image
        return image


class Scalers:
    """swscale contexts kept across frames, one per output size and format.

    Building a scaling context (and its threads) costs far more than using one,
    so a pass reuses them; each runs single-threaded next to the decoder.
    """

    def __init__(self) -> None:
        self._by_target: dict[tuple[int, int, str], VideoReformatter] = {}

    def convert(self, frame: av.VideoFrame, width: int, height: int, fmt: str) -> np.ndarray:
        key = (width, height, fmt)
        scaler = self._by_target.get(key)
        if scaler is None:
            scaler = self._by_target[key] = VideoReformatter()
        out = scaler.reformat(frame, width=width, height=height, format=fmt, interpolation="AREA", threads=1)
        return out.to_ndarray()


@dataclass
class DecodeSummary:
    """What the decode pass found: frame count, time span and why it stopped early."""

    frames: int = 0
    first_time: float | None = None
    last_time: float | None = None
    stopped: str | None = None
    bad_packets: int = 0
    last_error: str | None = None

    def measured_fps(self, nominal: float | None) -> float | None:
        if self.frames >= 2 and self.first_time is not None and self.last_time is not None:
            span = self.last_time - self.first_time
            if span > 0:
                return (self.frames - 1) / span
        return nominal

    def measured_duration(self, nominal_fps: float | None) -> float | None:
        """Time from the first frame's start to the last frame's end."""
        if self.frames == 0 or self.first_time is None or self.last_time is None:
            return None
        fps = self.measured_fps(nominal_fps)
        frame_time = 1.0 / fps if fps else 0.0
        return (self.last_time - self.first_time) + frame_time

    def problem(self) -> str | None:
        """A note if frames were lost to errors, else None."""
        if self.stopped:
            return f"decoding stopped after {self.frames} frames: {self.stopped}"
        if self.bad_packets:
            return f"{self.bad_packets} undecodable packets skipped (last: {self.last_error})"
        return None


class VideoReader:
    """An open video file; iterate :meth:`frames` once for the decode pass."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._container = av.open(str(self.path))
        except Exception as exc:  # noqa: BLE001 - every open failure means "not a video"
            raise NotAVideo(f"cannot open: {error_reason(exc)}") from None
        try:
            if not self._container.streams.video:
                raise NotAVideo("no video stream" + (" (audio only)" if self._container.streams.audio else ""))
            self._stream = self._container.streams.video[0]
            self.info: VideoInfo = stream_info(self._container, self._stream)
        except NotAVideo:
            self._container.close()
            raise
        except Exception as exc:  # noqa: BLE001
            self._container.close()
            raise NotAVideo(f"cannot read stream: {error_reason(exc)}") from None
        self.summary = DecodeSummary()
        self.full_range = False
        self._scalers = Scalers()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def frames(self, threads: int = 0) -> Iterator[Frame]:
        """Decode every frame once, skipping undecodable packets; never raises FFmpeg errors.

        ``threads`` is the decoder's thread count (0 = FFmpeg's choice for this machine).
        """
        stream = self._stream
        stream.thread_type = "AUTO"
        if threads > 0:
            stream.codec_context.thread_count = threads
        summary = self.summary
        fps = self.info.fps
        stride = working_stride(max(1, self.info.width), max(1, self.info.height))
        prev_luma: np.ndarray | None = None
        bad_in_row = 0
        packets = self._container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - demuxer failure ends the pass
                summary.stopped = f"cannot read the file further: {error_reason(exc)}"
                break
            try:
                decoded = packet.decode()
            except Exception as exc:  # noqa: BLE001 - a corrupt packet is skipped
                summary.bad_packets += 1
                summary.last_error = error_reason(exc)
                bad_in_row += 1
                if bad_in_row >= MAX_BAD_PACKETS_IN_ROW:
                    summary.stopped = f"{bad_in_row} undecodable packets in a row ({summary.last_error})"
                    break
                continue
            bad_in_row = 0
            for av_frame in decoded:
                frame = self._make_frame(av_frame, fps, stride, prev_luma)
                if frame is None:
                    continue
                prev_luma = frame.luma
                yield frame
        if summary.stopped:
            for av_frame in self._flush():
                frame = self._make_frame(av_frame, fps, stride, prev_luma)
                if frame is not None:
                    prev_luma = frame.luma
                    yield frame

    def _flush(self) -> list[av.VideoFrame]:
        try:
            return list(self._stream.codec_context.decode(None))
        except Exception:  # noqa: BLE001 - nothing more to get
            return []

    def _make_frame(self, av_frame: av.VideoFrame, fps: float | None, stride: int,
                    prev_luma: np.ndarray | None) -> Frame | None:
        summary = self.summary
        index = summary.frames
        if av_frame.width != self.info.width or av_frame.height != self.info.height:
            stride = working_stride(av_frame.width, av_frame.height)
        full_range = is_full_range(av_frame.format.name, av_frame.color_range)
        time = av_frame.time
        if time is None:
            time = index / fps if fps else float(index)
        try:
            frame = Frame(av_frame, index, float(time), full_range, stride, prev_luma, self._scalers)
        except Exception as exc:  # noqa: BLE001 - an unreadable frame counts as a bad packet
            summary.bad_packets += 1
            summary.last_error = f"unreadable frame: {error_reason(exc)}"
            return None
        self.full_range = full_range
        summary.frames += 1
        if summary.first_time is None or frame.time < summary.first_time:
            summary.first_time = frame.time
        if summary.last_time is None or frame.time > summary.last_time:
            summary.last_time = frame.time
        return frame


def open_video(path: Path) -> VideoReader:
    """Open ``path`` for one decode pass; raises :class:`NotAVideo` with a reason."""
    return VideoReader(path)

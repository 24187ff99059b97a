"""The built-in offline ``synthetic`` provider.

It renders a short procedural clip whose content follows the prompt's words
(see :mod:`workbench.providers.synthetic_scene`) and encodes it as H.264 in an
.mp4 with PyAV. The same prompt, seed and parameters always give a
byte-identical file. Its quality knobs (grain, blur, flicker, frozen and
dropped frames, jerky motion, blocking, exposure, failures, latency) let a
benchmark be tried end to end without a GPU or an API key, with models that
differ in ways the CPU scorers can see.

Example ``benchmark.toml`` entry::

    [models.incumbent]
    provider = "synthetic"
    noise = 3.0
    blur = 1.0
    flicker = 0.03
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Literal

import av
import numpy as np
from pydantic import Field, model_validator

from workbench.providers.base import (
    GenerationRequest,
    GenerationResult,
    LocalProvider,
    PermanentError,
    ProviderParams,
)
from workbench.providers.synthetic_scene import Look, SceneRenderer, read_prompt, stable_digest, stable_unit
from workbench.safe_files import atomic_write_bytes

MIN_SIDE = 16
_RESOLUTION = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
_ASPECT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:/xX]\s*(\d+(?:\.\d+)?)\s*$")
# Parameters that change neither the scene nor its faults (kept out of the look's seed).
_NOT_LOOK = {"latency", "failure_rate", "max_width", "max_height", "max_fps", "max_duration", "crf", "preset"}


class SyntheticParams(ProviderParams):
    """``[models.<id>]`` keys of the synthetic provider. Every fault defaults to off."""

    # Output format defaults (a request's own duration / resolution / fps win, up to the caps).
    width: int = Field(default=320, ge=MIN_SIDE, le=7680, description="default width in pixels")
    height: int = Field(default=180, ge=MIN_SIDE, le=4320, description="default height in pixels")
    fps: int = Field(default=24, ge=1, le=240, description="default frames per second")
    duration: float = Field(default=2.0, gt=0, le=600, description="default clip length, seconds")
    max_width: int = Field(default=1920, ge=MIN_SIDE, le=7680)
    max_height: int = Field(default=1080, ge=MIN_SIDE, le=4320)
    max_fps: int = Field(default=60, ge=1, le=240)
    max_duration: float = Field(default=20.0, gt=0, le=600)
    max_objects: int = Field(default=24, ge=0, le=200)

    # Quality knobs.
    noise: float = Field(default=0.0, ge=0, le=100, description="grain standard deviation, 8-bit levels")
    blur: float = Field(default=0.0, ge=0, le=20, description="Gaussian blur sigma, pixels")
    flicker: float = Field(default=0.0, ge=0, le=1, description="per-frame brightness jitter (0.05 = +-5 %)")
    frozen_ratio: float = Field(default=0.0, ge=0, le=1, description="fraction of frames repeating the previous one")
    drop_ratio: float = Field(default=0.0, ge=0, le=1, description="fraction of frames followed by a jump in time")
    motion_speed: float = Field(default=1.0, ge=0, le=20, description="multiplier on all motion")
    motion_jerk: float = Field(default=0.0, ge=0, le=10, description="random acceleration in trajectories")
    blockiness: float = Field(default=0.0, ge=0, le=1, description="blend toward 8x8 block means")
    exposure: float = Field(default=0.0, ge=-4, le=4, description="exposure offset, EV stops")
    variation: float = Field(default=0.3, ge=0, le=1, description="+- fraction each fault varies per clip")

    # Behaviour.
    failure_rate: float = Field(default=0.0, ge=0, le=1, description="fraction of (prompt, seed) that fail")
    latency: float = Field(default=0.0, ge=0, le=3600, description="simulated seconds per clip")
    crf: int = Field(default=18, ge=0, le=51, description="x264 constant rate factor")
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = "superfast"

    @model_validator(mode="before")
    @classmethod
    def _resolution_shorthand(cls, data: Any) -> Any:
        """Accept ``resolution = "WxH"`` as a shorthand for width and height."""
        if not isinstance(data, dict) or "resolution" not in data:
            return data
        data = dict(data)
        value = data.pop("resolution")
        if "width" in data or "height" in data:
            raise ValueError("give either 'resolution' or 'width'/'height', not both")
        match = _RESOLUTION.match(value) if isinstance(value, str) else None
        if not match:
            raise ValueError(f"resolution {value!r} is not of the form WIDTHxHEIGHT, e.g. \"320x180\"")
        data["width"], data["height"] = int(match.group(1)), int(match.group(2))
        return data

    @model_validator(mode="after")
    def _within_caps(self) -> "SyntheticParams":
        if self.width > self.max_width or self.height > self.max_height:
            raise ValueError(
                f"default size {self.width}x{self.height} exceeds max_width x max_height "
                f"{self.max_width}x{self.max_height}")
        if self.fps > self.max_fps:
            raise ValueError(f"default fps {self.fps} exceeds max_fps {self.max_fps}")
        if self.duration > self.max_duration:
            raise ValueError(f"default duration {self.duration} exceeds max_duration {self.max_duration}")
        return self

    def look(self) -> Look:
        return Look(
            noise=self.noise, blur=self.blur, flicker=self.flicker,
            frozen_ratio=self.frozen_ratio, drop_ratio=self.drop_ratio,
            motion_speed=self.motion_speed, motion_jerk=self.motion_jerk,
            blockiness=self.blockiness, exposure=self.exposure, variation=self.variation,
        )

    def look_fingerprint(self) -> str:
        values = {k: v for k, v in self.model_dump().items() if k not in _NOT_LOOK}
        return json.dumps(values, sort_keys=True)


@dataclass(frozen=True)
class ClipFormat:
    """The size, rate and length a clip is actually rendered at, and why it differs from the request."""

    width: int
    height: int
    fps: int
    frames: int
    adjustments: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.frames / self.fps


def _even(value: int, cap: int) -> int:
    """``value`` made even: rounded up, or down when up would pass ``cap``."""
    if value % 2 == 0:
        return value
    return value + 1 if value + 1 <= cap else value - 1


def clip_format(request: GenerationRequest, params: SyntheticParams) -> ClipFormat:
    """Resolve the request's duration / resolution / aspect ratio / fps against the model's defaults and caps.

    Raises :class:`PermanentError` for values no clip can have (``0x0``, a
    negative duration); values beyond the caps are clamped and the clamp is
    reported in ``adjustments``.
    """
    notes: list[str] = []
    width, height = params.width, params.height
    if request.resolution:
        match = _RESOLUTION.match(request.resolution)
        if not match:
            raise PermanentError(
                f"synthetic: resolution {request.resolution!r} is not of the form WIDTHxHEIGHT, e.g. \"1280x720\"")
        width, height = int(match.group(1)), int(match.group(2))
        if width < MIN_SIDE or height < MIN_SIDE:
            raise PermanentError(
                f"synthetic: resolution {request.resolution!r} is too small (each side must be at least {MIN_SIDE})")
        if request.aspect_ratio:
            notes.append(f"aspect ratio {request.aspect_ratio} ignored: resolution {request.resolution} given")
    elif request.aspect_ratio:
        match = _ASPECT.match(request.aspect_ratio)
        ratio = float(match.group(1)) / float(match.group(2)) if match and float(match.group(2)) else 0.0
        if not match or not 0.05 <= ratio <= 20:
            raise PermanentError(
                f"synthetic: aspect ratio {request.aspect_ratio!r} is not of the form W:H, e.g. \"16:9\"")
        area = params.width * params.height  # keep the model's default pixel count
        width = max(MIN_SIDE, int(round(math.sqrt(area * ratio))))
        height = max(MIN_SIDE, int(round(math.sqrt(area / ratio))))

    if width > params.max_width or height > params.max_height:
        scale = min(params.max_width / width, params.max_height / height)
        capped = (max(MIN_SIDE, int(width * scale)), max(MIN_SIDE, int(height * scale)))
        notes.append(f"size {width}x{height} reduced to {capped[0]}x{capped[1]} "
                     f"(max {params.max_width}x{params.max_height})")
        width, height = capped
    if width % 2 or height % 2:
        even = (_even(width, params.max_width), _even(height, params.max_height))
        notes.append(f"size {width}x{height} rounded to {even[0]}x{even[1]} (H.264 4:2:0 needs even sizes)")
        width, height = even

    fps = params.fps
    if request.fps is not None:
        if not request.fps >= 0.5:
            raise PermanentError(f"synthetic: fps {request.fps} must be a positive whole number")
        fps = int(round(request.fps))
        if fps != request.fps:
            notes.append(f"fps {request.fps} rounded to {fps} (whole frames per second only)")
        if fps > params.max_fps:
            notes.append(f"fps {fps} reduced to {params.max_fps} (max_fps)")
            fps = params.max_fps

    duration = params.duration
    if request.duration is not None:
        if not request.duration > 0 or not math.isfinite(request.duration):
            raise PermanentError(f"synthetic: duration {request.duration} must be a positive number of seconds")
        duration = float(request.duration)
        if duration > params.max_duration:
            notes.append(f"duration {duration:g} s reduced to {params.max_duration:g} s (max_duration)")
            duration = params.max_duration
    frames = max(1, int(round(duration * fps)))
    if abs(frames / fps - duration) > 1e-9:
        notes.append(f"duration {duration:g} s rounded to {frames} frames = {frames / fps:.4g} s at {fps} fps")
    return ClipFormat(width, height, fps, frames, notes)


def _h264_encoder() -> str:
    """libx264 when PyAV has it, else whatever H.264 encoder FFmpeg picks."""
    for name in ("libx264", "h264"):
        try:
            av.codec.Codec(name, "w")
        except Exception:  # noqa: BLE001 - PyAV raises several types for "unknown codec"
            continue
        return name
    raise PermanentError("synthetic: this PyAV build has no H.264 encoder")


def encode_mp4(frames: Any, fmt: ClipFormat, crf: int, preset: str) -> tuple[bytes, str]:
    """Encode an iterable of ``H x W x 3`` uint8 frames to H.264/yuv420p .mp4 bytes.

    Single-threaded so the output is byte-for-byte reproducible.
    """
    codec = _h264_encoder()
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=Fraction(fmt.fps, 1))
        stream.width, stream.height = fmt.width, fmt.height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        encoder_name = stream.codec_context.codec.name
        if encoder_name == "libx264":
            stream.options = {"preset": preset, "crf": str(crf), "threads": "1"}
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue(), encoder_name


class SyntheticProvider(LocalProvider):
    """Renders prompt-driven procedural clips offline; see the module docstring."""

    name: ClassVar[str] = "synthetic"
    Params: ClassVar[type[ProviderParams]] = SyntheticParams

    def __init__(self, model_id: str, params: ProviderParams):
        if not isinstance(params, SyntheticParams):
            params = SyntheticParams.model_validate(params.model_dump())
        super().__init__(model_id, params)
        self.params: SyntheticParams = params

    def fails(self, request: GenerationRequest) -> bool:
        """Whether this (prompt, seed) is one of the deterministic failures."""
        rate = self.params.failure_rate
        if rate <= 0:
            return False
        return rate >= 1 or stable_unit("failure", request.prompt, request.negative_prompt or "",
                                        request.seed) < rate

    async def generate(self, request: GenerationRequest, output: Path) -> GenerationResult:
        fmt = clip_format(request, self.params)
        if self.params.latency > 0:
            await asyncio.sleep(self.params.latency)
        if self.fails(request):
            raise PermanentError(
                f"synthetic failure for prompt {request.prompt_id!r} seed {request.seed} "
                f"(failure_rate {self.params.failure_rate:g})")
        info = await asyncio.to_thread(render_clip, request, self.params, fmt, Path(output))
        job_hash = stable_digest("job", request.prompt, request.negative_prompt or "", request.seed,
                                 self.params.model_dump_json()).hex()[:12]
        return GenerationResult(job_id=f"synthetic-{job_hash}", cost=None, info=info)


def render_clip(request: GenerationRequest, params: SyntheticParams, fmt: ClipFormat,
                output: Path) -> dict[str, Any]:
    """Render and encode one clip to ``output`` (blocking; run it in a thread). Returns its info."""
    spec = read_prompt(request.prompt, request.negative_prompt, params.max_objects)
    scene_key = stable_digest("scene", spec.text_key, request.seed).hex()
    look_key = stable_digest("look", scene_key, params.look_fingerprint()).hex()
    look = params.look().for_clip(spec, look_key)
    renderer = SceneRenderer(spec, look, fmt.width, fmt.height, fmt.fps, fmt.frames, scene_key, look_key)
    data, encoder = encode_mp4(renderer.frames_rgb(), fmt, params.crf, params.preset)
    atomic_write_bytes(output, data)
    return {
        "width": fmt.width,
        "height": fmt.height,
        "fps": fmt.fps,
        "frames": fmt.frames,
        "duration": fmt.duration,
        "requested": {
            "duration": request.duration,
            "resolution": request.resolution,
            "aspect_ratio": request.aspect_ratio,
            "fps": request.fps,
        },
        "adjustments": list(fmt.adjustments),
        "encoder": encoder,
        "scene": spec.describe(),
        "faults": look.describe(),
        "frozen_frames": int(np.count_nonzero(renderer.frozen)),
    }

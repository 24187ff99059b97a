"""Small clips with known properties, encoded with PyAV, for the scorer tests.

The helpers live here so every scorer test module can import them; the tests
at the bottom check that the encoder writes what it is asked to.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterable

import av
import numpy as np

WIDTH, HEIGHT, FPS = 160, 90, 25


def smooth_texture(height: int, width: int, seed: int = 0, scale: int = 6) -> np.ndarray:
    """Blobby greyscale texture (uint8) with edges at several scales."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // scale + 3, width // scale + 3)).astype(np.float32)
    big = np.kron(small, np.ones((scale, scale), np.float32))
    # a light box blur keeps the blobs but softens the square edges a little
    blurred = (big[:-2, :-2] + big[1:-1, 1:-1] + big[2:, 2:] + big[:-2, 2:] + big[2:, :-2]) / 5
    return blurred[:height, :width].clip(0, 255).astype(np.uint8)


def fine_texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Per-pixel noise plus blobs: plenty of detail for sharpness tests."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(-60, 61, (height, width))
    return (smooth_texture(height, width, seed).astype(np.int32) + noise).clip(0, 255).astype(np.uint8)


def box_blur(image: np.ndarray, radius: int = 2) -> np.ndarray:
    """Separable box blur of a 2-D uint8 image (edges clamped)."""
    img = image.astype(np.float32)
    for axis in (0, 1):
        padded = np.pad(img, [(radius, radius) if a == axis else (0, 0) for a in range(2)], mode="edge")
        total = np.zeros_like(img)
        for offset in range(2 * radius + 1):
            total += np.take(padded, range(offset, offset + img.shape[axis]), axis=axis)
        img = total / (2 * radius + 1)
    return img.round().astype(np.uint8)


def gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[:, :, None], 3, axis=2)


def panning(texture: np.ndarray, shifts: Iterable[int], width: int = WIDTH) -> list[np.ndarray]:
    """Frames that show ``texture`` panned horizontally by the cumulative ``shifts``."""
    frames, x = [], 0
    for step in shifts:
        x += step
        frames.append(texture[:, x:x + width])
    return frames


def encode_clip(path: Path, frames: Iterable[np.ndarray], *, fps: int = FPS, codec: str = "libx264",
                pix_fmt: str = "yuv420p", lossless: bool = True, options: dict | None = None) -> Path:
    """Encode greyscale (H x W) or RGB (H x W x 3) uint8 frames; returns ``path``."""
    path = Path(path)
    frames = list(frames)
    height, width = frames[0].shape[:2]
    opts = dict(options or {})
    if codec == "libx264" and lossless:
        opts.setdefault("qp", "0")
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps), options=opts)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for image in frames:
            rgb = gray_to_rgb(image) if image.ndim == 2 else image
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def encode_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An audio-only file (AAC in MP4) with a sine tone."""
    rate = 44100
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        for start in range(0, samples.shape[1], 1024):
            chunk = np.ascontiguousarray(samples[:, start:start + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def moving_clip(path: Path, seconds: float = 1.0, seed: int = 0, **kwargs) -> Path:
    """A smoothly panning texture, 2 px a frame."""
    count = int(seconds * FPS)
    texture = smooth_texture(HEIGHT, WIDTH + 2 * count + 2, seed)
    return encode_clip(path, panning(texture, [2] * count), **kwargs)


# -- checks of the helpers themselves ------------------------------------------------


def test_encode_clip_writes_requested_stream(tmp_path):
    path = moving_clip(tmp_path / "clip.mp4", seconds=1.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (WIDTH, HEIGHT)
        assert stream.average_rate == FPS
        assert sum(1 for _ in container.decode(stream)) == FPS


def test_lossless_encode_keeps_pixels(tmp_path):
    texture = smooth_texture(HEIGHT, WIDTH, seed=3)
    path = encode_clip(tmp_path / "still.mp4", [texture] * 3)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        luma = frame.to_ndarray()[:HEIGHT]  # planar yuv420p: the first rows are Y
    expected = np.round(16 + texture.astype(np.float32) * 219 / 255)
    assert np.abs(luma.astype(np.float32) - expected).max() <= 2


def test_audio_only_file_has_no_video(tmp_path):
    path = encode_audio_only(tmp_path / "tone.m4a")
    with av.open(str(path)) as container:
        assert not container.streams.video
        assert container.streams.audio

"""Read and write small PNG images with PyAV's PNG codec (no extra dependency)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from workbench.safe_files import atomic_write_bytes


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes for an ``H x W x 3`` uint8 RGB array."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 array, got shape {rgb.shape}")
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    codec = av.CodecContext.create("png", "w")
    codec.width = rgb.shape[1]
    codec.height = rgb.shape[0]
    codec.pix_fmt = "rgb24"
    packets = list(codec.encode(frame)) + list(codec.encode(None))
    return b"".join(bytes(p) for p in packets)


def write_png(path: Path, rgb: np.ndarray) -> None:
    atomic_write_bytes(Path(path), encode_png(rgb))


def read_png(path: Path) -> np.ndarray:
    """An ``H x W x 3`` uint8 RGB array from a PNG file."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="rgb24")
    raise ValueError(f"{path}: no image in file")

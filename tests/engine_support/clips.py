"""A small real H.264 clip, encoded with PyAV once per process."""

from __future__ import annotations

import functools
import io

import av
import numpy as np


@functools.lru_cache(maxsize=None)
def sample_mp4_bytes(frames: int = 6, width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        ys, xs = np.mgrid[0:height, 0:width]
        for i in range(frames):
            rgb = np.stack([(xs * 4 + i * 20) % 256, (ys * 5) % 256, np.full_like(xs, 90 + i * 10)],
                           axis=-1).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()

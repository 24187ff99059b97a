"""A tiny real mp4 (encoded once per process with PyAV) for fakes to serve."""

from __future__ import annotations

import functools
import io

import numpy as np


@functools.lru_cache(maxsize=1)
def tiny_mp4(frames: int = 12, width: int = 64, height: int = 48, fps: int = 12) -> bytes:
    """An H.264 (or MPEG-4 part 2 when libx264 is missing) clip with moving content."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        try:
            stream = container.add_stream("libx264", rate=fps)
            stream.options = {"preset": "ultrafast"}
        except Exception:  # a PyAV build without x264
            stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        ys, xs = np.mgrid[0:height, 0:width]
        for i in range(frames):
            rgb = np.zeros((height, width, 3), dtype=np.uint8)
            rgb[..., 0] = (xs * 4 + i * 16) % 256
            rgb[..., 1] = (ys * 5) % 256
            rgb[..., 2] = 128
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()

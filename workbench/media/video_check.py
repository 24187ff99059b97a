"""Does a file hold a playable video? Open it with PyAV and decode the first frame."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av


def video_problem(path: Path) -> str | None:
    """``None`` when ``path`` decodes, else a one-line reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"no file was written ({exc.strerror or exc})"
    if size == 0:
        return "the file is empty"
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "the file has no video stream"
            stream = container.streams.video[0]
            for _frame in container.decode(stream):
                return None
            return "the video stream has no decodable frame"
    except av.FFmpegError as exc:
        return f"not a readable video ({type(exc).__name__}: {exc})"
    except (OSError, ValueError, IndexError) as exc:
        return f"not a readable video ({type(exc).__name__}: {exc})"


async def check_video(path: Path) -> str | None:
    """:func:`video_problem` in a worker thread."""
    return await asyncio.to_thread(video_problem, path)

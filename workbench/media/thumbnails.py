"""Evenly spaced thumbnails, picked during the decode pass with bounded memory.

Frames are offered one by one. The picker keeps small RGB copies of every
``stride``-th frame; when it holds too many it drops every other one and doubles
the stride, so memory stays bounded whatever the length, and the frame count
need not be known up front (a good guess only saves conversions). At the end
it picks ``count`` candidates at the centres of ``count`` equal segments.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from workbench.media.decode import Frame
from workbench.media.png import write_png

DEFAULT_COUNT = 6
DEFAULT_MAX_SIZE = 160
_THUMB_NAME = re.compile(r"^(\d{2,})\.png$")


def thumbnails_dir_for(video: Path) -> Path:
    """The conventional folder for a video's thumbnails: ``<stem>.thumbs`` beside it."""
    video = Path(video)
    return video.parent / f"{video.stem}.thumbs"


def thumbnail_paths(directory: Path, count: int) -> list[Path]:
    """``00.png`` .. for ``count`` thumbnails in ``directory``."""
    return [Path(directory) / f"{i:02d}.png" for i in range(count)]


def thumbnail_size(width: int, height: int, sample_aspect: float = 1.0,
                   max_size: int = DEFAULT_MAX_SIZE) -> tuple[int, int]:
    """Display-shaped size fitting in ``max_size`` x ``max_size`` (never enlarged)."""
    display_width = max(1.0, width * (sample_aspect or 1.0))
    height = max(1, height)
    scale = min(1.0, max_size / display_width, max_size / height)
    return max(1, round(display_width * scale)), max(1, round(height * scale))


class ThumbnailPicker:
    """Collects candidate thumbnails from a frame stream."""

    def __init__(self, count: int, size: tuple[int, int], estimated_frames: int | None = None):
        self.count = max(0, count)
        self.size = size
        self._capacity = max(4 * self.count, 2)
        self._stride = 1
        if estimated_frames and self.count:
            self._stride = max(1, estimated_frames // (3 * self.count))
        self._candidates: list[np.ndarray] = []
        self.failure: str | None = None

    def offer(self, frame: Frame) -> None:
        if not self.count or self.failure or frame.index % self._stride:
            return
        try:
            self._candidates.append(frame.rgb(*self.size).copy())
        except Exception as exc:  # noqa: BLE001 - a conversion failure ends thumbnails only
            self.failure = f"cannot convert a frame to RGB: {exc}"
            return
        if len(self._candidates) >= self._capacity:
            self._candidates = self._candidates[::2]
            self._stride *= 2

    def pick(self) -> list[np.ndarray]:
        """Up to ``count`` images, evenly spread over the video."""
        found = self._candidates
        if len(found) <= self.count:
            return list(found)
        return [found[int((j + 0.5) * len(found) / self.count)] for j in range(self.count)]


def write_thumbnails(directory: Path, images: list[np.ndarray]) -> list[Path]:
    """Save ``images`` as 00.png, 01.png ... and remove older numbered PNGs beyond them."""
    directory = Path(directory)
    paths = thumbnail_paths(directory, len(images))
    for path, image in zip(paths, images):
        write_png(path, image)
    if directory.is_dir():
        keep = {p.name for p in paths}
        for old in directory.iterdir():
            if _THUMB_NAME.match(old.name) and old.name not in keep:
                old.unlink(missing_ok=True)
    return paths

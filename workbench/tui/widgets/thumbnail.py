"""A PNG thumbnail drawn with half-cell blocks: two pixel rows per terminal row.

Works in any truecolor terminal and over SSH, needs no graphics protocol, and
renders the same in tests.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from workbench.media.png import read_png

UPPER_HALF = "\u2580"


@lru_cache(maxsize=256)
def _strips(path: str, mtime: float, width: int, height: int) -> tuple[Strip, ...] | None:
    """The image at ``path`` resized (nearest neighbour) to ``width`` x ``height`` cells."""
    try:
        image = read_png(Path(path))
    except Exception:  # noqa: BLE001 - a broken or missing thumbnail shows as a placeholder
        return None
    rows = np.linspace(0, image.shape[0] - 1, height * 2).round().astype(int)
    cols = np.linspace(0, image.shape[1] - 1, width).round().astype(int)
    pixels = image[rows][:, cols]
    strips = []
    for y in range(height):
        top, bottom = pixels[2 * y], pixels[2 * y + 1]
        strips.append(Strip([
            Segment(UPPER_HALF, Style.from_color(_colour(top[x]), _colour(bottom[x])))
            for x in range(width)
        ], width))
    return tuple(strips)


class Thumbnail(Widget):
    """Shows one PNG scaled to the widget's size; a dim placeholder when there is none."""

    DEFAULT_CSS = """
    Thumbnail {
        width: 24;
        height: 7;
    }
    """

    path: reactive[Path | None] = reactive(None, layout=False)

    def __init__(self, path: Path | None = None, *, label: str = "", name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.label = label
        self.set_reactive(Thumbnail.path, path)

    def _image(self) -> tuple[Strip, ...] | None:
        path = self.path
        size = self.content_size
        if path is None or size.width <= 0 or size.height <= 0:
            return None
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        return _strips(str(path), mtime, size.width, size.height)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return 24

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        strips = self._image()
        if strips is None or y >= len(strips):
            text = (self.label or "no thumbnail") if y == self.content_size.height // 2 else ""
            return Strip([Segment(text[:width].center(width), Style(dim=True))], width)
        return strips[y]


@lru_cache(maxsize=4096)
def _rgb(r: int, g: int, b: int):
    from rich.color import Color

    return Color.from_rgb(r, g, b)


def _colour(pixel: np.ndarray):
    return _rgb(int(pixel[0]), int(pixel[1]), int(pixel[2]))

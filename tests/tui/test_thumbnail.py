"""The half-cell thumbnail: two pixel rows per terminal row, a placeholder when there is no image."""

from __future__ import annotations

import numpy as np
from textual.app import App, ComposeResult

from workbench.media.png import write_png
from workbench.tui.widgets.thumbnail import UPPER_HALF, Thumbnail


class _One(App[None]):
    def __init__(self, widget: Thumbnail):
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def test_draws_top_and_bottom_pixels(tmp_path):
    image = np.zeros((8, 8, 3), np.uint8)
    image[:4] = (255, 0, 0)  # red top half
    image[4:] = (0, 0, 255)  # blue bottom half
    path = tmp_path / "t.png"
    write_png(path, image)
    widget = Thumbnail(path)
    widget.styles.width = 4
    widget.styles.height = 2
    async with _One(widget).run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        first = widget.render_line(0)
        last = widget.render_line(1)
    [segment, *_] = list(first)
    assert segment.text == UPPER_HALF
    assert segment.style.color.triplet == (255, 0, 0) and segment.style.bgcolor.triplet == (255, 0, 0)
    bottom = list(last)[0]
    assert bottom.style.color.triplet == (0, 0, 255) and bottom.style.bgcolor.triplet == (0, 0, 255)


async def test_missing_or_broken_file_shows_placeholder(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    for path in (tmp_path / "missing.png", broken, None):
        widget = Thumbnail(path, label="not scored yet")
        widget.styles.width = 20
        widget.styles.height = 3
        async with _One(widget).run_test(size=(30, 5)) as pilot:
            await pilot.pause()
            text = "".join(s.text for s in widget.render_line(1))
        assert "not scored yet" in text

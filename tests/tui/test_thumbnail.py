"""Thumbnails: the half-cell renderer, and how single frames get Kitty graphics or Sixel where the
terminal has them (asked once, before the app starts)."""

from __future__ import annotations

import os
import pty
import threading

import numpy as np
import pytest
from textual.app import App, ComposeResult

from workbench.errors import WorkbenchError
from workbench.media.png import write_png
from workbench.tui.widgets import thumbnail as thumbnail_module
from workbench.tui.widgets.thumbnail import (
    UPPER_HALF, FrameThumbnail, Thumbnail, graphics_mode, parse_terminal_answer, prepare_graphics,
    query_terminal, use_graphics,
)


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


# ----------------------------------------------------------------------------- graphics choice

DA_PLAIN = "\x1b[?62;22c"  # a VT220-like terminal: no Sixel
DA_SIXEL = "\x1b[?62;4;22c"
KITTY_OK = "\x1b_Gi=31;OK\x1b\\"


def test_terminal_answers_decide_the_mode():
    assert parse_terminal_answer("") is None
    assert parse_terminal_answer(KITTY_OK) is None  # still waiting for the attributes
    assert parse_terminal_answer(DA_PLAIN) == "halfcell"
    assert parse_terminal_answer(DA_SIXEL) == "sixel"
    assert parse_terminal_answer(KITTY_OK + DA_PLAIN) == "kitty"
    assert parse_terminal_answer(KITTY_OK + DA_SIXEL) == "sixel"
    assert parse_terminal_answer("\x1b_Gi=31;ENOTSUPPORTED:no\x1b\\" + DA_PLAIN) == "halfcell"
    assert parse_terminal_answer("\x1b[?1;2;40c") == "halfcell"  # 40 is not 4


def _fake_terminal(answer: str | None):
    """A pseudo-terminal whose far end answers the queries like a terminal would (or never)."""
    master, slave = pty.openpty()
    asked = []

    def respond():
        data = b""
        while not data.endswith(b"\x1b[c"):
            data += os.read(master, 1024)
        asked.append(data.decode())
        if answer is not None:
            os.write(master, answer.encode())

    thread = threading.Thread(target=respond, daemon=True)
    thread.start()
    return master, slave, thread, asked


@pytest.mark.parametrize("answer, expected", [
    (DA_SIXEL, "sixel"), (KITTY_OK + DA_PLAIN, "kitty"), (DA_PLAIN, "halfcell"), (None, "halfcell"),
])
def test_query_terminal_over_a_pty(answer, expected):
    master, slave, thread, asked = _fake_terminal(answer)
    try:
        assert query_terminal(slave, slave, timeout=0.2) == expected
        thread.join(1)
        assert asked and asked[0].startswith("\x1b_Gi=31,") and asked[0].endswith("\x1b[c")
    finally:
        os.close(master)
        os.close(slave)


def test_query_terminal_on_something_that_is_not_a_terminal(tmp_path):
    read_end, write_end = os.pipe()
    try:
        assert query_terminal(read_end, write_end, timeout=0.05) == "halfcell"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_prepare_graphics_without_a_terminal_or_when_told_is_halfcell():
    assert prepare_graphics({"WORKBENCH_IMAGES": "halfcell"}) == "halfcell"
    assert prepare_graphics({}) == "halfcell"  # pytest's stdout is not a terminal
    assert prepare_graphics({"WORKBENCH_IMAGES": "sixel"}) == "halfcell"
    assert graphics_mode() == "halfcell"
    with pytest.raises(WorkbenchError, match="WORKBENCH_IMAGES='blocks': expected one of auto, halfcell"):
        prepare_graphics({"WORKBENCH_IMAGES": "blocks"})


@pytest.fixture
def restore_graphics():
    saved = dict(thumbnail_module._state)
    yield
    thumbnail_module._state.clear()
    thumbnail_module._state.update(saved)


async def test_frame_thumbnail_is_halfcell_by_default(tmp_path):
    image = np.full((18, 32, 3), 200, np.uint8)
    path = tmp_path / "f.png"
    write_png(path, image)
    frame = FrameThumbnail(None, label="making thumbnails…")
    frame.styles.width, frame.styles.height = 16, 4

    class _Host(App[None]):
        def compose(self) -> ComposeResult:
            yield frame

    async with _Host().run_test(size=(30, 6)) as pilot:
        await pilot.pause()
        inner = frame.query_one(Thumbnail)
        assert not frame.uses_graphics
        assert "making thumbnail" in "".join(s.text for s in inner.render_line(2))
        frame.path = path
        await pilot.pause()
        assert inner.path == path
        assert list(inner.render_line(0))[0].style.bgcolor.triplet == (200, 200, 200)


async def test_frame_thumbnail_uses_the_prepared_graphics_widget(tmp_path, restore_graphics):
    # imported the way prepare_graphics does, so that the import never asks a real terminal
    SixelImage = thumbnail_module._load_textual_image("sixel")
    assert SixelImage is not None and SixelImage.__name__ == "Image"

    image = np.zeros((36, 64, 3), np.uint8)
    image[:, :32] = (255, 255, 0)
    path = tmp_path / "f.png"
    write_png(path, image)
    use_graphics("sixel", SixelImage)
    frame = FrameThumbnail(path)
    frame.styles.width, frame.styles.height = 16, 4
    grid_thumb = FrameThumbnail(path, graphics=False)  # a scrolling grid asks for half-cell

    class _Host(App[None]):
        def compose(self) -> ComposeResult:
            yield frame
            yield grid_thumb

    async with _Host().run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        assert frame.uses_graphics and not grid_thumb.uses_graphics
        [picture] = frame.query(SixelImage)
        assert picture.image == str(path) and picture.display
        frame.path = None
        await pilot.pause()
        assert not picture.display and frame.query_one(".frame-label").display
        assert grid_thumb.query_one(Thumbnail).path == path

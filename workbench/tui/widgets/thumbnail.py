"""Frame thumbnails: half-cell blocks everywhere, Kitty graphics or Sixel where the terminal has them.

:class:`Thumbnail` draws a PNG with half-cell blocks (two pixel rows per terminal row):
any truecolor terminal, over SSH, inside tmux, and the same in tests. Grids that scroll
use it always.

:class:`FrameThumbnail` is for a single frame shown on its own (the prompt detail view):
it uses textual-image's Kitty graphics (TGP) or Sixel widget when :func:`prepare_graphics`
found that the terminal draws them, half-cell otherwise. The terminal can only be asked
before the app starts (afterwards Textual owns stdin), so ``run_app`` calls
:func:`prepare_graphics` first; without that call (tests, a pipe) everything is half-cell.
``WORKBENCH_IMAGES=halfcell`` skips the question; ``auto`` (the default) asks.
"""

from __future__ import annotations

import os
import re
import select
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from workbench.errors import WorkbenchError

UPPER_HALF = "\u2580"

GraphicsMode = Literal["halfcell", "kitty", "sixel"]
ENV_VAR = "WORKBENCH_IMAGES"
ENV_CHOICES = ("auto", "halfcell", "kitty", "sixel")
#: how long to wait for the terminal's answer; every terminal answers the attribute query at once
QUERY_TIMEOUT = 0.1

# A Kitty graphics query for a 1x1 image (nothing is stored or drawn), then the primary device
# attributes query, which every terminal answers: its answer ends the wait, and if a graphics
# answer came first the terminal has Kitty graphics. Attribute 4 in the answer means Sixel.
_KITTY_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
_DEVICE_ATTRIBUTES = "\x1b[c"
_DA_ANSWER = re.compile(r"\x1b\[\?([0-9;]*)c")
_KITTY_ANSWER = re.compile(r"\x1b_Gi=31;([^\x1b]*)\x1b\\")

_state: dict[str, Any] = {"mode": "halfcell", "classes": None}


# ----------------------------------------------------------------------------- choosing


def graphics_mode() -> GraphicsMode:
    """What single thumbnails are drawn with in this process."""
    return _state["mode"]


def parse_terminal_answer(answer: str) -> GraphicsMode | None:
    """The mode a terminal's answer to the two queries allows; None until its attributes arrive.

    Sixel wins over Kitty graphics when a terminal claims both (some that claim Kitty
    graphics cannot draw its placeholders, and Kitty itself has no Sixel).
    """
    attributes = _DA_ANSWER.search(answer)
    if attributes is None:
        return None
    if "4" in attributes.group(1).split(";"):
        return "sixel"
    kitty = _KITTY_ANSWER.search(answer[:attributes.start()])
    if kitty is not None and kitty.group(1) == "OK":
        return "kitty"
    return "halfcell"


def query_terminal(fd_in: int, fd_out: int, timeout: float = QUERY_TIMEOUT) -> GraphicsMode:
    """Ask the terminal on ``fd_out``/``fd_in`` which images it draws; half-cell when it does not say.

    Both questions go out at once and the wait ends with the attribute answer, so a
    terminal that ignores the graphics question costs one round trip, not a timeout.
    """
    import termios
    import tty

    try:
        saved = termios.tcgetattr(fd_in)
    except termios.error:
        return "halfcell"
    try:
        tty.setcbreak(fd_in, termios.TCSANOW)
        attrs = termios.tcgetattr(fd_in)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(fd_in, termios.TCSANOW, attrs)
        os.write(fd_out, (_KITTY_QUERY + _DEVICE_ATTRIBUTES).encode("ascii"))
        answer = b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "halfcell"
            ready, _, _ = select.select([fd_in], [], [], left)
            if not ready:
                return "halfcell"
            chunk = os.read(fd_in, 1024)
            if not chunk:
                return "halfcell"
            answer += chunk
            mode = parse_terminal_answer(answer.decode("latin-1"))
            if mode is not None:
                return mode
    except OSError:
        return "halfcell"
    finally:
        termios.tcsetattr(fd_in, termios.TCSANOW, saved)


def _load_textual_image(mode: GraphicsMode) -> type[Widget] | None:
    """Import textual-image's widget for ``mode`` without letting it ask the terminal again.

    It asks at import time (twice, each with a 0.1 s timeout when unanswered); we have
    the answer already, so the import sees a stdout that is not a terminal. The cell size
    (pixels per cell) is read first, from the real terminal, and kept by textual-image.
    """
    real = sys.__stdout__
    try:
        from textual_image._terminal import get_cell_size

        get_cell_size()
        sys.__stdout__ = _NotATerminal(real)
        try:
            from textual_image.widget import SixelImage, TGPImage
        finally:
            sys.__stdout__ = real
    except Exception:  # noqa: BLE001 - no graphics is never worse than half-cell
        return None
    return SixelImage if mode == "sixel" else TGPImage


class _NotATerminal:
    """A stream that says it is not a terminal (and otherwise is the one it wraps)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def prepare_graphics(environ: dict[str, str] | None = None) -> GraphicsMode:
    """Decide, before the app starts, how single thumbnails are drawn; returns the mode.

    ``WORKBENCH_IMAGES``: ``auto`` (default) asks the terminal, ``halfcell`` never does;
    ``kitty`` and ``sixel`` force a protocol. Only a terminal on both stdin and stdout is
    asked. Raises WorkbenchError for any other value.
    """
    env = os.environ if environ is None else environ
    wanted = (env.get(ENV_VAR) or "auto").strip().lower()
    if wanted not in ENV_CHOICES:
        raise WorkbenchError(f"{ENV_VAR}={env.get(ENV_VAR)!r}: expected one of {', '.join(ENV_CHOICES)}")
    _state.update(mode="halfcell", classes=None)
    if wanted == "halfcell":
        return "halfcell"
    stdin, stdout = sys.__stdin__, sys.__stdout__
    if stdin is None or stdout is None or not stdin.isatty() or not stdout.isatty():
        return "halfcell"
    if wanted == "auto":
        if env.get("TERM", "") in ("dumb", "linux", ""):
            return "halfcell"
        stdout.flush()
        mode = query_terminal(stdin.fileno(), stdout.fileno())
    else:
        mode = wanted  # type: ignore[assignment]
    if mode == "halfcell":
        return "halfcell"
    widget = _load_textual_image(mode)
    if widget is None:
        return "halfcell"
    _state.update(mode=mode, classes=widget)
    return mode


def use_graphics(mode: GraphicsMode, widget: type[Widget] | None) -> None:
    """Set the mode directly (tests, or a caller that asked the terminal itself)."""
    _state.update(mode=mode if widget is not None else "halfcell", classes=widget)


# ----------------------------------------------------------------------------- half-cell


@lru_cache(maxsize=512)
def _pixels(path: str, mtime: float):
    """The decoded PNG (an RGB array), or None for a broken or missing file."""
    from workbench.media.png import read_png

    try:
        return read_png(Path(path))
    except Exception:  # noqa: BLE001 - a broken or missing thumbnail shows as a placeholder
        return None


def warm_thumbnails(paths) -> None:
    """Decode these PNGs now (call it from a worker), so drawing them later costs no decoding
    on the UI thread."""
    for path in paths:
        try:
            _pixels(str(path), Path(path).stat().st_mtime)
        except OSError:
            continue


@lru_cache(maxsize=256)
def _strips(path: str, mtime: float, width: int, height: int) -> tuple[Strip, ...] | None:
    """The image at ``path`` resized (nearest neighbour) to ``width`` x ``height`` cells."""
    import numpy as np

    image = _pixels(path, mtime)
    if image is None:
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
    """Shows one PNG scaled to the widget's size in half-cell blocks; a dim label when there is none."""

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
        key = (path, size.width, size.height)
        cached = getattr(self, "_drawn", None)
        if cached is not None and cached[0] == key:  # one stat per change, not one per line
            return cached[1]
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        strips = _strips(str(path), mtime, size.width, size.height)
        self._drawn = (key, strips)
        return strips

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


def _colour(pixel) -> Any:
    return _rgb(int(pixel[0]), int(pixel[1]), int(pixel[2]))


# ----------------------------------------------------------------------------- one frame


class FrameThumbnail(Widget):
    """One frame on its own: Kitty graphics or Sixel when prepared, else a half-cell :class:`Thumbnail`.

    Set :attr:`path` to change the frame and :attr:`label` for the text shown without one.
    """

    DEFAULT_CSS = """
    FrameThumbnail {
        width: 24;
        height: 7;
    }
    FrameThumbnail > Thumbnail {
        width: 1fr;
        height: 1fr;
    }
    FrameThumbnail > .frame-image {
        width: auto;
        height: auto;
    }
    FrameThumbnail > .frame-label {
        width: 1fr;
        height: 1fr;
        content-align: center middle;
        color: $text-muted;
    }
    """

    path: reactive[Path | None] = reactive(None, layout=False, init=False)
    label: reactive[str] = reactive("", layout=False, init=False)

    def __init__(self, path: Path | None = None, *, label: str = "", graphics: bool = True,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._graphics: type[Widget] | None = _state["classes"] if graphics else None
        self.set_reactive(FrameThumbnail.path, path)
        self.set_reactive(FrameThumbnail.label, label)

    @property
    def uses_graphics(self) -> bool:
        return self._graphics is not None

    def compose(self) -> ComposeResult:
        if self._graphics is None:
            yield Thumbnail(self.path, label=self.label)
            return
        image = self._graphics(str(self.path) if self.path else None, classes="frame-image")
        image.display = self.path is not None
        yield image
        placeholder = Static(self.label or "no thumbnail", classes="frame-label", markup=False)
        placeholder.display = self.path is None
        yield placeholder

    def watch_path(self, path: Path | None) -> None:
        if self._graphics is None:
            thumb = self.query_one(Thumbnail)
            thumb.path = path
            thumb.refresh()
            return
        image = self.query_one(".frame-image")
        image.image = str(path) if path is not None else None  # type: ignore[attr-defined]
        image.display = path is not None
        self.query_one(".frame-label").display = path is None

    def watch_label(self, label: str) -> None:
        if self._graphics is None:
            thumb = self.query_one(Thumbnail)
            thumb.label = label
            thumb.refresh()
        else:
            self.query_one(".frame-label", Static).update(label or "no thumbnail")

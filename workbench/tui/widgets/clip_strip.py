"""One model's clip for one prompt: model, run, scores with verdicts, and a strip of frame thumbnails."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Static

from workbench.clip_views import ClipScore, ClipView, GridRow, pick_thumbnails
from workbench.tables.table_output import FAIL_MARK, PASS_MARK, format_value
from workbench.tui.widgets.score_grid import Palette
from workbench.tui.widgets.thumbnail import Thumbnail

MAX_THUMBNAILS = 6
THUMB_WIDTH = 16
THUMB_GAP = 1
NOT_SCORED = "not scored yet: workbench score"


def score_text(score: ClipScore, palette: Palette, highlighted: bool) -> Text:
    """``name value ✓`` for one score of a clip; the highlighted column stands out."""
    text = Text(f"{score.scorer} ", style="bold" if highlighted else "dim")
    if score.value is None:
        text.append("error" if score.error else "-", style=palette.failed if score.error else "")
    else:
        text.append(format_value(score.value), style=palette.failed if score.passed is False else "")
    if score.passed is True:
        text.append(f" {PASS_MARK}", style=palette.passed)
    elif score.passed is False:
        text.append(f" {FAIL_MARK}", style=palette.failed)
    if highlighted:
        text.stylize("reverse")
    return text


def pack(items: Sequence[Text], width: int, gap: int = 2) -> Text:
    """Items on as few lines of ``width`` cells as possible; an item never breaks across lines."""
    lines: list[Text] = []
    line = Text()
    for item in items:
        if line.cell_len and width > 0 and line.cell_len + gap + item.cell_len > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append(" " * gap)
        line.append_text(item)
    if line.cell_len:
        lines.append(line)
    return Text("\n").join(lines)


def clip_scores(view: ClipView, palette: Palette, highlighted: str | None, width: int) -> Text:
    """The clip's scores that have a verdict or an error, and the highlighted one, packed into
    ``width`` cells (every score when none of them has a threshold). The grid has the rest."""
    if view.video is None:
        return Text("")  # the problem line says why there is nothing to score
    if not view.scores:
        return Text("no scores yet", style="dim")
    chosen = [s for s in view.scores.values()
              if s.passed is not None or s.error or s.scorer == highlighted]
    if not any(s.passed is not None or s.error for s in chosen):
        chosen = list(view.scores.values())
    return pack([score_text(s, palette, s.scorer == highlighted) for s in chosen], width)


def _shape(text: Text | None) -> list[int] | None:
    return None if text is None else [len(line) for line in text.plain.split("\n")]


def _update(static: Static, content: Text) -> None:
    """Update only when the text changed, and skip the layout pass when its shape did not."""
    before: Text | None = getattr(static, "_shown_text", None)
    if before == content:
        return
    static._shown_text = content  # type: ignore[attr-defined]
    static.update(content, layout=_shape(before) != _shape(content))


def _set_display(widget, show: bool) -> None:
    if widget.display != show:
        widget.display = show


class ClipStrip(Horizontal):
    """Shows one :class:`ClipView`; :meth:`show` swaps the clip without remounting anything.

    Thumbnails on the left (as many as fit in about half the width, up to six), the
    model, run, verdict and every score of the clip on the right.
    """

    DEFAULT_CSS = f"""
    ClipStrip {{
        height: auto;
        padding: 0 1 0 0;
        margin-bottom: 1;
    }}
    ClipStrip > .clip-thumbs {{
        width: auto;
        height: 4;
    }}
    ClipStrip Thumbnail {{
        width: {THUMB_WIDTH};
        height: 4;
        margin-right: {THUMB_GAP};
    }}
    ClipStrip .clip-placeholder {{
        height: 4;
        content-align: center middle;
        color: $text-muted;
        background: $boost;
        margin-right: {THUMB_GAP};
    }}
    ClipStrip > .clip-text {{
        width: 1fr;
        height: auto;
    }}
    ClipStrip .clip-title, ClipStrip .clip-scores, ClipStrip .clip-problem {{
        height: auto;
    }}
    ClipStrip .clip-problem {{
        color: $error;
    }}
    """

    def __init__(self, model: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.view: ClipView | None = None
        self.current = False
        self._capacity = 3
        self._highlighted: str | None = None
        self._palette: Palette | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="clip-thumbs"):
            for index in range(MAX_THUMBNAILS):
                yield Thumbnail(None, label="no thumbnail", classes=f"thumb-{index}")
            yield Static(NOT_SCORED, classes="clip-placeholder", markup=False)
        with Vertical(classes="clip-text"):
            yield Static("", classes="clip-title", markup=False)
            yield Static("", classes="clip-scores", markup=False)
            yield Static("", classes="clip-problem", markup=False)

    @property
    def thumbnails(self) -> list[Thumbnail]:
        return list(self.query(Thumbnail))

    def shown_thumbnails(self) -> list[Thumbnail]:
        return [t for t in self.thumbnails if t.display and t.path is not None]

    def show(self, view: ClipView | None, row: GridRow | None, *, highlighted: str | None,
             repeats: int, current: bool, palette: Palette) -> None:
        self.view = view
        self.current = current
        title = Text("▶ " if current else "  ", style=palette.accent)
        title.append(self.model, style=f"bold {palette.accent}" if current else "bold")
        if view is not None:
            title.append(f"  run {view.run_id or '?'}", style="dim")
            if repeats > 1:
                title.append(f"  repeat {view.repeat + 1}/{repeats}", style="dim")
        if row is not None and row.passes_all is not None and row.state != "not scored":
            if row.passes_all:
                title.append(f"  {PASS_MARK} passes every threshold", style=palette.passed)
            else:
                title.append(f"  {FAIL_MARK} fails: " + "; ".join(row.failures), style=palette.failed)
        _update(self.query_one(".clip-title", Static), title)
        self._highlighted, self._palette = highlighted, palette
        _update(self.query_one(".clip-problem", Static), Text(self._problem(view, highlighted)))
        self._place_thumbnails()
        self._show_scores()

    def _text_width(self) -> int:
        """Cells left for the text beside the thumbnails (border and padding taken off)."""
        thumbs = self._capacity * (THUMB_WIDTH + THUMB_GAP)
        return max(20, self.size.width - 1 - thumbs) if self.size.width else 0

    def _show_scores(self) -> None:
        view, palette = self.view, self._palette
        scores = self.query_one(".clip-scores", Static)
        if view is None or palette is None:
            _update(scores, Text("no clip", style="dim"))
            return
        _update(scores, clip_scores(view, palette, self._highlighted, self._text_width()))

    @staticmethod
    def _problem(view: ClipView | None, highlighted: str | None) -> str:
        if view is None:
            return ""
        lines = []
        if view.video is None and view.error:
            lines.append(f"no video: {view.error}" if not view.error.startswith("no video") else view.error)
        elif highlighted in view.scores and view.scores[highlighted].error:
            lines.append(f"{highlighted}: {view.scores[highlighted].error}")
        if view.note:
            lines.append(view.note)
        return "\n".join(lines)

    def _place_thumbnails(self) -> None:
        view = self.view
        paths: Sequence = pick_thumbnails(view.thumbnails, self._capacity) if view is not None else []
        for index, thumb in enumerate(self.thumbnails):
            path = paths[index] if index < len(paths) else None
            if thumb.path != path:
                thumb.path = path
            _set_display(thumb, path is not None)
        placeholder = self.query_one(".clip-placeholder", Static)
        _set_display(placeholder, not paths)
        if not paths:
            placeholder.styles.width = max(THUMB_WIDTH, self._capacity * (THUMB_WIDTH + THUMB_GAP) - THUMB_GAP)
            _update(placeholder, Text("no video" if view is not None and view.video is None else NOT_SCORED))

    def on_resize(self, event: Resize) -> None:
        capacity = thumbnail_capacity(event.size.width)
        if capacity != self._capacity:
            self._capacity = capacity
            self._place_thumbnails()
        self._show_scores()


def thumbnail_capacity(width: int) -> int:
    """How many thumbnails fit in a bit under half of a strip ``width`` cells wide (1 to 6)."""
    return max(1, min(MAX_THUMBNAILS, (width * 9 // 20 + THUMB_GAP) // (THUMB_WIDTH + THUMB_GAP)))

"""Widgets that show one clip: its frames, scores, how it was made and what people said.

:class:`ModelColumn` is one model's clip in the prompt detail view (title, your rating, a strip
of frames, verdict, scores against their bounds, generation metadata); :class:`BlindSide` is
one anonymous side of a blind A/B comparison; :class:`ThumbStrip` is the strip of frames both
use. Each takes plain data from :mod:`workbench.clip_details` and never reads a file itself
(the frames' PNGs are drawn by the thumbnail widgets).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.widgets import Static

from workbench.clip_details import ClipDetail, ModelDetail, ScoreLine
from workbench.clip_views import pick_thumbnails
from workbench.judging_queue import Clip
from workbench.tables.table_output import FAIL_MARK, PASS_MARK
from workbench.tui.widgets.thumbnail import FrameThumbnail

THUMBS = 6  # frames per clip in the detail view: two rows of three
THUMB_COLUMNS = 3


def _identity(content: Content | str) -> tuple:
    if isinstance(content, str):
        return (content, ())
    return (content.plain, tuple(content.spans))


def _lines(content: Content | str | None) -> list[int] | None:
    if content is None:
        return None
    plain = content if isinstance(content, str) else content.plain
    return [len(line) for line in plain.split("\n")]


def show_text(static: Static, content: Content | str) -> None:
    """Update ``static`` only when its text or styles changed, and ask for a layout pass only
    when the shape of the text (its line lengths) changed: a screen that redraws often stays cheap."""
    before = getattr(static, "_shown_content", None)
    if before is not None and _identity(before) == _identity(content):
        return
    static._shown_content = content  # type: ignore[attr-defined]
    static.update(content, layout=_lines(before) != _lines(content))


def set_display(widget, show: bool) -> None:
    """Show or hide ``widget`` without touching it when nothing changes."""
    if widget.display != show:
        widget.display = show


def _thumb_height(width: int, aspect: float) -> int:
    """Rows for a half-cell thumbnail ``width`` cells wide (a cell is two square pixels tall)."""
    return max(2, min(10, round(width * aspect / 2)))


class ThumbStrip(Vertical):
    """Up to six frames of one clip in rows of three, sized to keep the clip's shape; a note
    instead when there are none (yet). ``limit`` caps the frames (three on a short terminal)."""

    DEFAULT_CSS = """
    ThumbStrip {
        height: auto;
    }
    ThumbStrip > .frames {
        grid-size: 3;
        grid-gutter: 1 1;
        height: 9;
    }
    ThumbStrip FrameThumbnail {
        width: 1fr;
        height: 1fr;
    }
    ThumbStrip > .no-frames {
        height: 3;
        content-align: center middle;
        color: $text-muted;
        background: $boost;
    }
    """

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.aspect = 9 / 16
        self.limit = THUMBS
        self._paths: tuple[Path, ...] = ()
        self._note = ""
        self._rows = 2

    def compose(self) -> ComposeResult:
        with Grid(classes="frames"):
            for _ in range(THUMBS):
                yield FrameThumbnail(None, classes="frame")
        yield Static("", classes="no-frames", markup=False)

    def show(self, paths: tuple[Path, ...], note: str, aspect: float | None = None) -> None:
        """Show ``paths`` (spread evenly over the places), or ``note`` when there are none."""
        if aspect:
            self.aspect = aspect
        self._paths, self._note = tuple(paths), note
        chosen = pick_thumbnails(self._paths, self.limit)
        for index, frame in enumerate(self.query(FrameThumbnail)):
            path = chosen[index] if index < len(chosen) else None
            if frame.path != path:
                frame.path = path
            set_display(frame, path is not None)
        set_display(self.query_one(".frames"), bool(chosen))
        placeholder = self.query_one(".no-frames", Static)
        set_display(placeholder, not chosen)
        show_text(placeholder, note)
        self._rows = 1 if len(chosen) <= THUMB_COLUMNS else 2
        self._size_rows(self.size.width)

    def set_limit(self, limit: int) -> None:
        if limit != self.limit:
            self.limit = limit
            self.show(self._paths, self._note)

    def shown_paths(self) -> list[Path]:
        """The frames on screen, in order."""
        return [f.path for f in self.query(FrameThumbnail) if f.display and f.path is not None]

    def _size_rows(self, width: int) -> None:
        if width <= 0:
            return
        cell = max(4, (width - (THUMB_COLUMNS - 1)) // THUMB_COLUMNS)
        height = _thumb_height(cell, self.aspect)
        total = self._rows * height + (self._rows - 1)
        if (height, total) == getattr(self, "_sized", None):
            return
        self._sized = (height, total)
        grid = self.query_one(".frames", Grid)
        grid.styles.grid_rows = str(height)
        grid.styles.height = total

    def on_resize(self, event: Resize) -> None:
        self._size_rows(event.size.width)


def _mark(passed: bool | None) -> Content:
    if passed is True:
        return Content.styled(PASS_MARK, "$success")
    if passed is False:
        return Content.styled(FAIL_MARK, "$error bold")
    return Content(" ")


def scores_content(lines: tuple[ScoreLine, ...], width: int) -> Content:
    """``name  value  bound  ✓`` a line per scorer, failures in the error colour, fitted to ``width``."""
    if not lines:
        return Content.styled("no scores yet", "$text-muted")
    values = [line.value_text() for line in lines]
    value_w = max(len(v) for v in values)
    bound_w = max(len(line.bound) for line in lines)
    name_w = max(len(line.scorer) for line in lines)
    room = max(6, width - value_w - bound_w - 4) if width else name_w  # three gaps and the mark
    name_w = min(name_w, room)
    out = []
    for line, value in zip(lines, values):
        name = line.scorer if len(line.scorer) <= name_w else line.scorer[:name_w - 1] + "…"
        style = "$error" if line.passed is False or line.error else ""
        out.append(Content.assemble(
            (name.ljust(name_w), "$text-muted" if line.passed is None else ""),
            " ", (value.rjust(value_w), style),
            " ", (line.bound.ljust(bound_w), "$text-muted"),
            " ", _mark(line.passed),
        ))
    return Content("\n").join(out)


def meta_content(clip: ClipDetail) -> Content:
    """The generation metadata as ``label  value`` lines; errors stand out."""
    generation = clip.generation
    if generation is None:
        run = clip.view.run_id or "?"
        return Content.styled(f"run {run}: no journal record for this clip", "$text-muted")
    out = []
    rows = generation.lines()
    label_w = max(len(label) for label, _ in rows)
    for label, value in rows:
        bad = label == "error" or label.startswith("retry")
        out.append(Content.assemble((label.ljust(label_w), "$text-muted"), " ",
                                    (value, "$error" if bad else "")))
    return Content("\n").join(out)


def judged_content(clip: ClipDetail | None, rater: str | None) -> Content:
    """``you: 4/5 pass "comment"`` and what everyone said."""
    if clip is None:
        return Content("")
    said = clip.judgments
    mine = said.mine
    if mine is None:
        first = Content.styled(f"{rater or 'you'}: not rated yet", "$text-muted")
    else:
        parts = [f"{rater or 'you'}:"]
        if mine.score is not None:
            parts.append(f"{mine.score}/5")
        if mine.passed is not None:
            parts.append("pass" if mine.passed else "fail")
        if mine.comment:
            parts.append(f"“{mine.comment}”")
        first = Content.styled(" ".join(parts), "$accent")
    if said.raters == 0:
        return Content("\n").join([first, Content.styled("0 raters so far", "$text-muted")])
    others = f"{said.raters} rater{'s' if said.raters != 1 else ''}"
    if said.mean_score is not None:
        others += f": mean {said.mean_score:.1f}"
    if said.passes or said.fails:
        others += f", {said.passes} pass {said.fails} fail"
    return Content("\n").join([first, Content.styled(others, "$text-muted")])


class ModelColumn(Vertical):
    """One model's clip of the prompt: title, your rating, thumbnails, scores, generation."""

    DEFAULT_CSS = """
    ModelColumn {
        width: 36;
        height: auto;
        padding: 0 1;
        border: round $panel-lighten-2;
    }
    ModelColumn.-selected {
        border: round $accent;
    }
    ModelColumn > Static {
        height: auto;
    }
    ModelColumn > .col-judged {
        height: 2;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ModelColumn > .col-thumbs, ModelColumn > .col-verdict, ModelColumn > .col-scores {
        margin-bottom: 1;
    }
    """

    @dataclass
    class Picked(Message):
        """The column was clicked: its clip should become the selected one."""

        column: "ModelColumn"

    def __init__(self, model: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="model-column")
        self.model = model
        self.clip: ClipDetail | None = None
        self._scores: tuple[ScoreLine, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", classes="col-title", markup=False)
        yield Static("", classes="col-judged", markup=False)
        yield ThumbStrip(classes="col-thumbs")
        yield Static("", classes="col-verdict", markup=False)
        yield Static("", classes="col-scores", markup=False)
        yield Static("", classes="col-meta", markup=False)

    def show(self, model: ModelDetail, clip: ClipDetail | None, *, selected: bool,
             thumbs: tuple[Path, ...], thumb_note: str, rater: str | None) -> None:
        self.model = model.model
        self.clip = clip
        self.set_class(selected, "-selected")
        title = Content.assemble(("▶ " if selected else "  ", "$accent"),
                                 (model.model, "bold $accent" if selected else "bold"))
        show_text(self.query_one(".col-title", Static), title)
        show_text(self.query_one(".col-judged", Static), judged_content(clip, rater))
        strip = self.query_one(ThumbStrip)
        if clip is None:
            strip.show((), "no clip for this repeat", None)
            verdict = Content.styled("no clip for this repeat", "$text-muted")
        else:
            produced = clip.generation.produced if clip.generation else {}
            aspect = None
            if produced.get("width") and produced.get("height"):
                aspect = produced["height"] / produced["width"]
            strip.show(thumbs, "no video" if clip.view.video is None else thumb_note, aspect)
            verdict = self._verdict(clip)
        show_text(self.query_one(".col-verdict", Static), verdict)
        self._scores = clip.scores if clip is not None else ()
        self._show_scores()
        meta = meta_content(clip) if clip is not None else Content("")
        show_text(self.query_one(".col-meta", Static), meta)

    @staticmethod
    def _verdict(clip: ClipDetail) -> Content:
        view = clip.view
        if view.video is None:  # the generation lines below say why
            return Content.styled(f"no video ({view.status})", "$error")
        if not view.scored:
            return Content.styled("not scored yet: workbench score", "$warning")
        passes = clip.passes_all
        text = Content("")
        if passes is True:
            text = Content.styled(f"{PASS_MARK} passes every threshold", "$success")
        elif passes is False:
            count = len(clip.failures)
            text = Content.styled(f"{FAIL_MARK} fails {count} threshold{'s' if count != 1 else ''}",
                                  "$error bold")
        if view.note:
            text = Content("\n").join([text, Content.styled(view.note, "$warning")]) if text else \
                Content.styled(view.note, "$warning")
        return text

    def _show_scores(self) -> None:
        scores = self.query_one(".col-scores", Static)
        clip = self.clip
        if clip is None or clip.view.video is None:
            show_text(scores, "")
            return
        show_text(scores, scores_content(self._scores, scores.content_size.width or self.size.width - 2))

    def on_resize(self, event: Resize) -> None:
        self._show_scores()

    def on_click(self) -> None:
        self.post_message(self.Picked(self))


class BlindSide(Vertical):
    """One side of a blind comparison: a letter, the frames and, once judged, who it was."""

    DEFAULT_CSS = """
    BlindSide {
        width: 1fr;
        height: 1fr;
        padding: 0 1;
    }
    BlindSide > .side-title, BlindSide > .side-reveal {
        width: 1fr;
        height: auto;
        text-align: center;
    }
    BlindSide > .side-thumbs {
        margin-bottom: 1;
    }
    BlindSide > .side-reveal {
        color: $text-muted;
    }
    """

    def __init__(self, letter: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="blind-side")
        self.letter = letter
        self.clip: Clip | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.letter, classes="side-title", markup=False)
        yield ThumbStrip(classes="side-thumbs")
        yield Static("", classes="side-reveal", markup=False)

    def show(self, clip: Clip, thumbs: tuple[Path, ...], thumb_note: str, reveal: str | None) -> None:
        self.clip = clip
        title = Content.styled(self.letter, "bold $accent")
        if reveal is not None:
            title = title + Content.styled(f"  ·  {clip.model}", "bold")
        show_text(self.query_one(".side-title", Static), title)
        self.query_one(ThumbStrip).show(thumbs, thumb_note)
        show_text(self.query_one(".side-reveal", Static), reveal or "")

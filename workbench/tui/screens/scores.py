"""Scores: the per-prompt score table, and the clips behind the highlighted row.

The grid has one row per (prompt, model) and one column per enabled scorer (plus the
human ones when there are judgments), verdicts coloured where a threshold applies. Below
it, the highlighted prompt: its text, tags and notes, and every model's clip as a strip of
frame thumbnails with its run and scores. ``o`` sorts by the highlighted column, ``f``
filters by tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from workbench.benchmark.folder import Benchmark
from workbench.clip_views import (
    KEY_COLUMNS, PROMPT_COLUMN, VERDICT_COLUMN, GridRow, ScoreBoard, load_board, sort_rows,
)
from workbench.errors import WorkbenchError
from workbench.tui.widgets.clip_strip import ClipStrip
from workbench.tui.screens.choice import ChoiceScreen
from workbench.tui.widgets.score_grid import Palette, ScoreGrid

ALL_TAGS = "\x00all"


def no_scores_hint(root: object) -> str:
    return (f"no scores yet: press r to go to Runs, or run `workbench run {root}` "
            f"then `workbench score {root}`")


class ScoresScreen(Screen):
    HELP_TITLE = "Scores"
    CSS_PATH = "scores.tcss"
    BINDINGS = [
        Binding("o", "sort", "Sort"),
        Binding("f", "pick_tag", "Tag filter"),
        Binding("x", "clear_tag", "All tags"),
        Binding("n", "next_repeat", "Next repeat"),
    ]

    @dataclass
    class BoardLoaded(Message):
        board: ScoreBoard
        version: int

    @dataclass
    class BoardFailed(Message):
        error: WorkbenchError
        version: int

    def __init__(self) -> None:
        super().__init__()
        self.board: ScoreBoard | None = None
        self.tag: str | None = None
        self.sort_column: str | None = None
        self.sort_descending = False
        self.repeat = 0
        self._rows: dict[str, GridRow] = {}
        self._prompt_id: str | None = None
        self._column_shown: str | None = None
        self._column_prompt: str | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="scores-status", markup=False)
        yield Static("loading the benchmark…", id="scores-empty", classes="empty-state", markup=False)
        yield ScoreGrid(id="score-grid")
        with Vertical(id="scores-detail"):
            yield Static("", id="detail-prompt", markup=False)
            yield Static("", id="detail-column", markup=False)
            yield VerticalScroll(id="detail-clips")
        yield Footer()

    def on_mount(self) -> None:
        self._show_empty("loading the benchmark…")
        self.watch(self.app, "bench_version", self._refresh, init=True)
        self.watch(self.app, "theme", self._recolour, init=False)

    def _recolour(self, _theme: str) -> None:
        """Pass/fail colours come from the theme: redraw the cells when it changes."""
        if self.board is not None and not self.board.is_empty:
            self._fill_grid()

    def on_resize(self) -> None:
        self.set_class(self.size.height < 32, "-compact")

    def _refresh(self, version: int) -> None:
        bench = self.app.bench
        if bench is None:
            if self.board is None:
                self._show_empty("loading the benchmark…")
            return
        if self.board is None:
            self._show_empty("loading scores…")
        self._load(bench, version)

    @property
    def grid(self) -> ScoreGrid:
        return self.query_one(ScoreGrid)

    def _show_empty(self, text: str) -> None:
        empty = self.query_one("#scores-empty", Static)
        empty.update(text)
        empty.display = True
        self.grid.display = False
        self.query_one("#scores-detail").display = False
        self.query_one("#scores-status", Static).update("")

    def _show_grid(self) -> None:
        self.query_one("#scores-empty").display = False
        self.grid.display = True
        self.query_one("#scores-detail").display = True

    # ------------------------------------------------------------------ loading
    @work(thread=True, exclusive=True, exit_on_error=False, group="scores-board")
    def _load(self, bench: Benchmark, version: int) -> None:
        try:
            board = load_board(bench)
        except WorkbenchError as error:
            self.post_message(self.BoardFailed(error, version))
            return
        self.post_message(self.BoardLoaded(board, version))

    @on(BoardLoaded)
    async def _board_loaded(self, message: BoardLoaded) -> None:
        if message.version != self.app.bench_version:
            return  # a newer load is on its way
        board = message.board
        models_before = self.board.models if self.board is not None else None
        self.board = board
        for warning in board.warnings:
            self.notify(warning, title="scores", severity="warning", timeout=8)
        if board.is_empty:
            self._show_empty(no_scores_hint(self.app.root))
            return
        if self.tag is not None and self.tag not in dict(board.tags()):
            self.notify(f"no prompt with scores is tagged {self.tag!r} any more; showing all prompts")
            self.tag = None
        if self.sort_column is not None and self.sort_column not in (*KEY_COLUMNS, *board.scorers):
            self.sort_column, self.sort_descending = None, False
        if board.models != models_before:
            clips = self.query_one("#detail-clips", VerticalScroll)
            await clips.remove_children()
            await clips.mount_all(ClipStrip(model, id=f"clip-{index}") for index, model in enumerate(board.models))
        self._show_grid()
        self._prompt_id = self._column_prompt = None
        self._fill_grid()
        if not self.grid.has_focus:
            self.grid.focus()

    @on(BoardFailed)
    def _board_failed(self, message: BoardFailed) -> None:
        self.app.show_error(message.error, title="cannot read the scores")
        if self.board is None or self.board.is_empty:
            self._show_empty(f"cannot read the scores:\n{message.error}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "scores-board" and event.state == WorkerState.ERROR:
            self.app.show_error(event.worker.error, title="cannot read the scores")

    # ------------------------------------------------------------------ grid
    def visible_rows(self) -> list[GridRow]:
        if self.board is None:
            return []
        rows = self.board.rows_with_tag(self.tag)
        return sort_rows(rows, self.sort_column, self.sort_descending)

    def _fill_grid(self) -> None:
        assert self.board is not None
        rows = self.visible_rows()
        self._rows = {row.key: row for row in rows}
        grouped = self.sort_column in (None, PROMPT_COLUMN)
        self.grid.show(rows, self.board.scorers, group_prompts=grouped)
        self._update_status()
        self._update_detail()

    def _update_status(self) -> None:
        board = self.board
        if board is None:
            return
        rows = list(self._rows.values())
        prompts = len({r.prompt_id for r in rows})
        text = Text()
        text.append(f"{prompts} prompt{'s' if prompts != 1 else ''} × {len(board.models)} "
                    f"model{'s' if len(board.models) != 1 else ''}", style="bold")
        text.append(f" · {len(board.scorers)} scorers")
        text.append(" · tag: ")
        text.append(self.tag or "all", style="bold reverse" if self.tag else "bold")
        text.append(" (f)", style="dim")
        text.append(" · sort: ")
        if self.sort_column is None:
            text.append("benchmark order", style="bold")
        else:
            arrow = "↓" if self.sort_descending else "↑"
            text.append(f"{self.sort_column} {arrow}", style="bold")
        text.append(" (o)", style="dim")
        unscored = sum(1 for r in rows if r.state == "not scored")
        if unscored:
            text.append(f" · {unscored} not scored yet: workbench score {self.app.root}",
                        style=Palette(self.app.get_css_variables()).warning)
        self.query_one("#scores-status", Static).update(text)

    @on(DataTable.CellHighlighted, "#score-grid")
    def _cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._update_detail()

    # ------------------------------------------------------------------ detail
    def _update_detail(self) -> None:
        board = self.board
        if board is None or board.is_empty:
            return
        row_key, column = self.grid.cursor_keys()
        row = self._rows.get(row_key) if row_key is not None else None
        if row is None:
            return
        palette = Palette(self.app.get_css_variables())
        if row.prompt_id != self._prompt_id:
            self._prompt_id = row.prompt_id
            self.query_one("#detail-prompt", Static).update(self._prompt_text(row.prompt_id))
        scorer = column if column in board.scorers else None
        if column != self._column_shown or row.prompt_id != self._column_prompt:
            self._column_shown, self._column_prompt = column, row.prompt_id
            self.query_one("#detail-column", Static).update(self._column_text(column, row.prompt_id))
        clips = dict(board.clips_for(row.prompt_id))
        current_strip = None
        for strip in self.query(ClipStrip):
            views = clips.get(strip.model)
            if strip.display != (views is not None):
                strip.display = views is not None
            if not views:
                continue
            view = views[min(self.repeat, len(views) - 1)]
            strip.show(view, board.row(row.prompt_id, strip.model), highlighted=scorer, repeats=len(views),
                       current=strip.model == row.model, palette=palette)
            if strip.model == row.model:
                current_strip = strip
        if current_strip is not None:
            self.call_after_refresh(self._show_strip, current_strip)

    def _show_strip(self, strip: ClipStrip) -> None:
        """Scroll the clips so the highlighted model's strip is in view (after the layout settled)."""
        clips_view = self.query_one("#detail-clips", VerticalScroll)
        if strip.is_attached and not clips_view.content_region.contains_region(strip.region):
            clips_view.scroll_to_widget(strip, animate=False, top=True)

    def _prompt_text(self, prompt_id: str) -> Text:
        assert self.board is not None
        prompt = self.board.prompts[prompt_id]
        text = Text(prompt.id, style="bold")
        if prompt.tags:
            text.append("  tags: ", style="dim")
            text.append(", ".join(prompt.tags))
        text.append("\n")
        text.append(prompt.text)
        if prompt.notes:
            text.append("\nnotes: ", style="dim")
            text.append(prompt.notes, style="italic")
        return text

    def _column_text(self, column: str | None, prompt_id: str) -> Text:
        assert self.board is not None
        if column == VERDICT_COLUMN:
            return Text("verdict: does the clip clear every threshold in benchmark.toml "
                        "(repeats averaged)", style="dim")
        note = self.board.notes.get(column) if column else None
        if note is None:
            return Text("move to a scorer column to see what it measures", style="dim")
        text = Text(note.name, style="bold")
        text.append(f": {note.description}")
        extras = [e for e in (note.better(), note.unit) if e]
        threshold = self.board.threshold_text(note.name, prompt_id)
        if threshold:
            extras.append(f"threshold {threshold}")
        if extras:
            text.append("  (" + "; ".join(extras) + ")", style="dim")
        return text

    # ------------------------------------------------------------------ actions
    def action_sort(self) -> None:
        """Sort by the highlighted column: ascending, then descending, then benchmark order."""
        if self.board is None or self.board.is_empty:
            return
        _row, column = self.grid.cursor_keys()
        if column is None:
            return
        if column != self.sort_column:
            self.sort_column, self.sort_descending = column, column == PROMPT_COLUMN
        elif not self.sort_descending and column != PROMPT_COLUMN:
            self.sort_descending = True
        else:
            self.sort_column, self.sort_descending = None, False
        self._fill_grid()

    def action_pick_tag(self) -> None:
        if self.board is None or self.board.is_empty:
            return
        tags = self.board.tags()
        if not tags:
            self.notify("no prompt has tags")
            return
        options = [(ALL_TAGS, "all prompts")]
        options += [(tag, f"{tag}  ({count} prompt{'s' if count != 1 else ''})") for tag, count in tags]
        self.app.push_screen(ChoiceScreen("Show prompts tagged", options, self.tag or ALL_TAGS),
                             self._tag_chosen)

    def _tag_chosen(self, choice: str | None) -> None:
        if choice is None:
            return
        self.set_tag(None if choice == ALL_TAGS else choice)

    def set_tag(self, tag: str | None) -> None:
        """Show only prompts with ``tag`` (None: every prompt)."""
        if self.board is None or tag == self.tag:
            return
        if tag is not None and tag not in dict(self.board.tags()):
            self.notify(f"no prompt with scores is tagged {tag!r}", severity="warning")
            return
        self.tag = tag
        self._fill_grid()

    def action_clear_tag(self) -> None:
        self.set_tag(None)

    def action_next_repeat(self) -> None:
        if self.board is None or self._prompt_id is None:
            return
        most = max((len(v) for _m, v in self.board.clips_for(self._prompt_id)), default=1)
        if most <= 1:
            self.notify("this prompt has one repeat per model")
            return
        self.repeat = (self.repeat + 1) % most
        self._update_detail()

    def palette_commands(self) -> list[tuple[str, str, object]]:
        return [
            ("Sort scores by the highlighted column", "ascending, descending, benchmark order (o)",
             self.action_sort),
            ("Filter scores by tag", "show only prompts with one tag (f)", self.action_pick_tag),
            ("Show every tag", "clear the tag filter (x)", self.action_clear_tag),
            ("Next repeat", "show the next repeat's clips in the detail pane (n)", self.action_next_repeat),
        ]

"""A virtual score table: draws only the rows and columns in view, from a columnar results grid.

Rows are prompts (an index array into :class:`workbench.results_grid.ResultsGrid`); columns are
grouped scorer-major under a two-line header (the scorer over its models). The prompt id column
stays on the left while the rest scrolls sideways. Nothing is laid out per cell: each visible line
is built on demand in :meth:`ScoreTable.render_line`, so 2,000 prompts x 60 columns cost the same
to draw as twenty.

Keys move a cell cursor (arrows, page up/down, home/end; ctrl+home/end for the first and last
column); a click selects a cell, a click on the header asks to sort by that column, a double
click or enter selects the row's prompt.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.results_grid import (
    CELL_EMPTY, CELL_ERROR, CELL_FAIL, CELL_PARTIAL, CELL_PASS, PROMPT_COLUMN, ResultSort, ResultsGrid,
)

HEADER_HEIGHT = 2
MAX_PROMPT_WIDTH = 26
MIN_CELL_WIDTH = 7
SEPARATOR = "│"

_STATE_CLASS = {
    CELL_PASS: "score-table--pass",
    CELL_FAIL: "score-table--fail",
    CELL_PARTIAL: "score-table--partial",
    CELL_ERROR: "score-table--fail",
    CELL_EMPTY: "score-table--muted",
}


def _fit(text: str, width: int, align: str = "right") -> str:
    """``text`` cut (with …) or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if len(text) > width:
        return text[: width - 1] + "…"
    if align == "center":
        return text.center(width)
    return text.rjust(width) if align == "right" else text.ljust(width)


class ScoreTable(ScrollView, can_focus=True):
    """The results table. :meth:`show` gives it a grid and the rows to show, in order."""

    DEFAULT_CSS = """
    ScoreTable {
        height: 1fr;
        background: $surface;
    }
    ScoreTable > .score-table--header {
        text-style: bold;
        background: $panel;
        color: $text;
    }
    ScoreTable > .score-table--sorted {
        text-style: bold underline;
        color: $accent;
    }
    ScoreTable > .score-table--prompt {
        text-style: bold;
    }
    ScoreTable > .score-table--separator {
        color: $panel-lighten-2;
    }
    ScoreTable > .score-table--pass {
        color: $success;
    }
    ScoreTable > .score-table--fail {
        color: $error;
    }
    ScoreTable > .score-table--partial {
        color: $warning;
    }
    ScoreTable > .score-table--muted {
        color: $text-muted;
    }
    ScoreTable > .score-table--cursor-row {
        background: $boost;
    }
    ScoreTable > .score-table--cursor {
        background: $accent 40%;
        text-style: bold;
    }
    ScoreTable:focus > .score-table--cursor {
        background: $accent;
        color: $text;
    }
    """
    COMPONENT_CLASSES = {
        "score-table--header", "score-table--sorted", "score-table--prompt", "score-table--separator",
        "score-table--pass", "score-table--fail", "score-table--partial", "score-table--muted",
        "score-table--cursor-row", "score-table--cursor",
    }
    BINDINGS = [
        Binding("up", "cursor(0, -1)", "Up", show=False),
        Binding("down", "cursor(0, 1)", "Down", show=False),
        Binding("left", "cursor(-1, 0)", "Left", show=False),
        Binding("right", "cursor(1, 0)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge_row(-1)", "First prompt", show=False),
        Binding("end", "edge_row(1)", "Last prompt", show=False),
        Binding("ctrl+home", "edge_column(-1)", "First column", show=False),
        Binding("ctrl+end", "edge_column(1)", "Last column", show=False),
        Binding("enter", "select", "Detail", show=False),
    ]

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another cell (``prompt_id`` None when no row is shown)."""
        table: "ScoreTable"
        prompt_id: str | None
        column: int
        row_changed: bool

    @dataclass
    class PromptSelected(Message):
        """Enter or a double click on a row."""
        table: "ScoreTable"
        prompt_id: str

    @dataclass
    class HeaderClicked(Message):
        """A click on a column's header (:data:`PROMPT_COLUMN` for the prompt column)."""
        table: "ScoreTable"
        column: int

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.grid: ResultsGrid | None = None
        self.rows: np.ndarray = np.zeros(0, dtype=np.int64)
        self.sort = ResultSort()
        self.cursor_row = 0  # index into ``rows``
        self.cursor_column = PROMPT_COLUMN  # PROMPT_COLUMN or a data column index
        self.empty_message = ""
        self.cells_drawn = 0  # data cells formatted so far (for tests and benches: only visible ones are)
        self._prompt_width = 8
        self._starts: list[int] = []  # data column start, in body coordinates
        self._widths: list[int] = []  # data column content width
        self._group_spans: list[tuple[int, int, str]] = []  # (start, end, label) per group
        self._group_starts: set[int] = set()
        self._body_width = 0

    # ------------------------------------------------------------ data
    def show(self, grid: ResultsGrid, rows: np.ndarray, sort: ResultSort | None = None,
             empty_message: str = "") -> None:
        """Show ``rows`` of ``grid`` in this order; the cursor stays on its prompt and column when it can."""
        keep_prompt = self.cursor_prompt_id
        keep_column = self._column_key(self.cursor_column)
        if grid is not self.grid:
            self.grid = grid
            self._layout(grid)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.sort = sort or ResultSort()
        self.empty_message = empty_message
        self.virtual_size = Size(self._prompt_width + self._body_width, len(self.rows) + HEADER_HEIGHT)
        column = self._column_from_key(keep_column)
        row = self.row_of_prompt(keep_prompt)
        self.move_cursor(row if row is not None else min(self.cursor_row, max(len(self.rows) - 1, 0)),
                         column, force_message=True)
        self.refresh()

    def _column_key(self, column: int) -> tuple[str, str] | None:
        if self.grid is None or column == PROMPT_COLUMN or column >= self.grid.n_columns:
            return None
        col = self.grid.columns[column]
        return (col.group, col.model)

    def _column_from_key(self, key: tuple[str, str] | None) -> int:
        if key is None or self.grid is None:
            return PROMPT_COLUMN
        found = self.grid.column_index(*key)
        return PROMPT_COLUMN if found is None else found

    def row_of_prompt(self, prompt_id: str | None) -> int | None:
        """The position of a prompt among the rows shown (None when it is filtered out)."""
        if prompt_id is None or self.grid is None:
            return None
        index = self.grid.row_of(prompt_id)
        if index is None:
            return None
        found = np.flatnonzero(self.rows == index)
        return int(found[0]) if found.size else None

    def _layout(self, grid: ResultsGrid) -> None:
        longest = max((len(p) for p in grid.prompt_ids), default=6)
        self._prompt_width = min(max(longest, len("prompt")), MAX_PROMPT_WIDTH) + 2
        widths = {m: max(len(m), MIN_CELL_WIDTH) for m in grid.models}
        self._starts, self._widths, self._group_spans = [], [], []
        x = 0
        n_models = len(grid.models)
        for g, group in enumerate(grid.groups):
            start = x
            cols = grid.columns[g * n_models:(g + 1) * n_models]
            content = sum(1 + widths[c.model] for c in cols) - 1
            extra = max(0, len(group) + 2 - content)  # a long scorer name widens its last column
            for i, col in enumerate(cols):
                width = widths[col.model] + (extra if i == len(cols) - 1 else 0)
                self._starts.append(x + 1)  # x holds the group's separator or a space
                self._widths.append(width)
                x += 1 + width
            self._group_spans.append((start, x, group))
        self._group_starts = {start for start, _end, _label in self._group_spans}
        self._body_width = x + 1  # a closing separator

    # ------------------------------------------------------------ reading
    @property
    def cursor_prompt_id(self) -> str | None:
        if self.grid is None or not len(self.rows) or self.cursor_row >= len(self.rows):
            return None
        return self.grid.prompt_ids[int(self.rows[self.cursor_row])]

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def body_height(self) -> int:
        return max(self.scrollable_content_region.height - HEADER_HEIGHT, 1)

    def column_at(self, x: int) -> int | None:
        """The column under content x (:data:`PROMPT_COLUMN`, a data column, or None)."""
        if x < self._prompt_width:
            return PROMPT_COLUMN
        body_x = x - self._prompt_width + round(self.scroll_x)
        index = bisect_right(self._starts, body_x) - 1
        if index < 0 or body_x >= self._starts[index] + self._widths[index]:
            return None
        return index

    def line_text(self, y: int) -> str:
        """The plain text of one line as drawn (y in widget content rows)."""
        return self.render_line(y).text

    # ------------------------------------------------------------ cursor
    def move_cursor(self, row: int | None = None, column: int | None = None, *,
                    force_message: bool = False) -> None:
        """Put the cursor on (row, column), scroll it into view, say so when it moved."""
        old_row, old_column, old_prompt = self.cursor_row, self.cursor_column, self.cursor_prompt_id
        n_columns = self.grid.n_columns if self.grid is not None else 0
        if row is not None:
            self.cursor_row = max(0, min(row, len(self.rows) - 1)) if len(self.rows) else 0
        if column is not None:
            self.cursor_column = max(PROMPT_COLUMN, min(column, n_columns - 1))
        self._scroll_to_cursor()
        prompt = self.cursor_prompt_id
        if force_message or (old_row, old_column, old_prompt) != (self.cursor_row, self.cursor_column, prompt):
            self.refresh()
            self.post_message(self.CursorMoved(self, prompt, self.cursor_column, prompt != old_prompt))

    def _scroll_to_cursor(self) -> None:
        if not self.size.height:
            return
        x, y = self.scroll_x, self.scroll_y
        body = self.body_height
        if self.cursor_row < y:
            y = self.cursor_row
        elif self.cursor_row >= y + body:
            y = self.cursor_row - body + 1
        if self.cursor_column == PROMPT_COLUMN:
            x = 0
        elif self._starts:
            start = self._starts[self.cursor_column] - 1
            end = self._starts[self.cursor_column] + self._widths[self.cursor_column]
            if self.cursor_column == len(self._starts) - 1:
                end += 1  # the closing separator
            room = self.scrollable_content_region.width - self._prompt_width
            if start < x:
                x = start
            elif end > x + room:
                # scroll by whole columns: the first one in view is never cut
                leads = [begin - 1 for begin in self._starts]
                index = bisect_left(leads, end - room)
                x = min(leads[index] if index < len(leads) else end - room, start)
        if (x, y) != (self.scroll_x, self.scroll_y):
            self.scroll_to(x, y, animate=False, force=True)

    def on_resize(self, _event: events.Resize) -> None:
        self._scroll_to_cursor()

    def action_cursor(self, dx: int, dy: int) -> None:
        self.move_cursor(self.cursor_row + dy, self.cursor_column + dx)

    def action_page(self, direction: int) -> None:
        step = self.body_height * direction
        self.scroll_to(y=self.scroll_y + step, animate=False, force=True)
        self.move_cursor(self.cursor_row + step)

    def action_edge_row(self, direction: int) -> None:
        self.move_cursor(0 if direction < 0 else len(self.rows) - 1)

    def action_edge_column(self, direction: int) -> None:
        n_columns = self.grid.n_columns if self.grid is not None else 0
        self.move_cursor(column=PROMPT_COLUMN if direction < 0 else n_columns - 1)

    def action_select(self) -> None:
        prompt = self.cursor_prompt_id
        if prompt is not None:
            self.post_message(self.PromptSelected(self, prompt))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or self.grid is None:
            return
        column = self.column_at(offset.x)
        if offset.y < HEADER_HEIGHT:
            if column is not None:
                self.post_message(self.HeaderClicked(self, column))
            return
        row = round(self.scroll_y) + offset.y - HEADER_HEIGHT
        if row >= len(self.rows):
            return
        self.move_cursor(row, column if column is not None else self.cursor_column)
        if event.chain >= 2:
            self.action_select()

    # ------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if self.grid is None:
            return Strip.blank(width, base)
        scroll_x, scroll_y = round(self.scroll_x), round(self.scroll_y)
        room = max(width - self._prompt_width, 0)
        if y < HEADER_HEIGHT:
            return self._header_line(y, scroll_x, room, base)
        position = scroll_y + y - HEADER_HEIGHT
        if position >= len(self.rows):
            if position == 0 and self.empty_message:
                muted = base + self.get_component_rich_style("score-table--muted")
                return Strip([Segment(_fit(" " + self.empty_message, width, "left"), muted)], width)
            return Strip.blank(width, base)
        return self._row_line(position, scroll_x, room, base)

    def _visible_columns(self, scroll_x: int, room: int) -> range:
        first = max(bisect_right(self._starts, scroll_x) - 1, 0)
        last = bisect_right(self._starts, scroll_x + room)
        return range(first, min(last, len(self._starts)))

    def _body(self, segments: list[Segment], scroll_x: int, room: int, fill: Style) -> Strip:
        """Body segments (starting at body x 0) cut to the visible window."""
        strip = Strip(segments)
        return strip.crop(scroll_x, scroll_x + room).extend_cell_length(room, fill)

    def _header_line(self, y: int, scroll_x: int, room: int, base: Style) -> Strip:
        grid = self.grid
        assert grid is not None
        header = base + self.get_component_rich_style("score-table--header")
        sorted_style = header + self.get_component_rich_style("score-table--sorted")
        separator = header + self.get_component_rich_style("score-table--separator", partial=True)
        sort_column = self.sort.column
        arrow = "↓" if self.sort.descending else "↑"
        if y == 0:
            fixed = Strip([Segment(" " * self._prompt_width, header)], self._prompt_width)
        else:
            label = "prompt" + (f" {arrow}" if sort_column == PROMPT_COLUMN else "")
            style = sorted_style if sort_column == PROMPT_COLUMN else header
            fixed = Strip([Segment(_fit(" " + label, self._prompt_width, "left"), style)], self._prompt_width)
        segments: list[Segment] = []
        x = 0
        if y == 0:
            # each scorer's name is centred on the part of its group in view, so it stays readable
            for start, end, label in self._group_spans:
                segments.append(Segment(" " * (start - x) + SEPARATOR, separator))
                left = min(max(start + 1, scroll_x), end)
                right = max(min(end, scroll_x + room), left)
                segments.append(Segment(" " * (left - start - 1), header))
                shown = label if right - left >= min(len(label), 5) else ""  # no stub like "v…"
                segments.append(Segment(_fit(shown, right - left, "center"), header))
                segments.append(Segment(" " * (end - right), header))
                x = end
            segments.append(Segment(SEPARATOR, separator))
        else:
            visible = self._visible_columns(scroll_x, room)
            x = self._starts[visible.start] - 1 if len(visible) else 0
            segments.append(Segment(" " * x, header))
            for c in visible:
                start, width = self._starts[c], self._widths[c]
                lead = SEPARATOR if start - 1 in self._group_starts else " "
                segments.append(Segment(lead, separator if lead == SEPARATOR else header))
                if start - 1 < scroll_x:  # cut by the left edge: left blank rather than half drawn
                    segments.append(Segment(" " * width, header))
                    continue
                name = grid.columns[c].model
                if c == sort_column:  # the arrow always shows; a long name gives way
                    name = (name if len(name) + 2 <= width else _fit(name, width - 2, "left")) + f" {arrow}"
                segments.append(Segment(_fit(name, width), sorted_style if c == sort_column else header))
                x = start + width
            if len(visible) and visible.stop == len(self._starts):
                segments.append(Segment(SEPARATOR, separator))
        return Strip.join([fixed, self._body(segments, scroll_x, room, header)])

    def _row_line(self, position: int, scroll_x: int, room: int, base: Style) -> Strip:
        grid = self.grid
        assert grid is not None
        row = int(self.rows[position])
        on_cursor_row = position == self.cursor_row
        row_style = base + self.get_component_rich_style("score-table--cursor-row") if on_cursor_row else base
        cursor = row_style + self.get_component_rich_style("score-table--cursor")
        prompt_style = row_style + self.get_component_rich_style("score-table--prompt")
        if on_cursor_row and self.cursor_column == PROMPT_COLUMN:
            prompt_style = cursor
        text = _fit(" " + grid.prompt_ids[row], self._prompt_width - 1, "left") + " "
        fixed = Strip([Segment(text, prompt_style)], self._prompt_width)
        separator = row_style + self.get_component_rich_style("score-table--separator", partial=True)
        visible = self._visible_columns(scroll_x, room)
        x = self._starts[visible.start] - 1 if len(visible) else 0
        segments: list[Segment] = [Segment(" " * x, row_style)]
        group_starts = self._group_starts
        states = grid.states
        for c in visible:
            start, width = self._starts[c], self._widths[c]
            lead = SEPARATOR if start - 1 in group_starts else " "
            segments.append(Segment(lead, separator if lead == SEPARATOR else row_style))
            if start - 1 < scroll_x:  # cut by the left edge: left blank rather than half drawn
                segments.append(Segment(" " * width, row_style))
                continue
            state_class = _STATE_CLASS.get(int(states[c, row]))
            style = row_style + self.get_component_rich_style(state_class, partial=True) if state_class else row_style
            if on_cursor_row and c == self.cursor_column:
                style = cursor
            segments.append(Segment(_fit(grid.cell_text(c, row), width), style))
            self.cells_drawn += 1
        if len(visible) and visible.stop == len(self._starts):
            segments.append(Segment(SEPARATOR, separator))
        return Strip.join([fixed, self._body(segments, scroll_x, room, row_style)])

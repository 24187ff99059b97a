"""The score grid: one row per (prompt, model), one column per scorer, verdicts in colour.

A :class:`~textual.widgets.DataTable` with keyed rows and columns. :meth:`ScoreGrid.show`
diffs against what is on screen: cells that changed are updated in place, and rows are
only rebuilt when the set or order of rows (or the columns) changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from workbench.clip_views import (
    MODEL_COLUMN, PROMPT_COLUMN, VERDICT_COLUMN, Cell, GridRow,
)
from workbench.tables.table_output import FAIL_MARK, PASS_MARK, format_value, split_header

MAX_PROMPT_WIDTH = 28


class Palette:
    """The theme's pass/fail colours as plain rich styles (cells are rich Text)."""

    def __init__(self, variables: dict[str, str]) -> None:
        self.passed = variables.get("success", "green")
        self.failed = variables.get("error", "red")
        self.warning = variables.get("warning", "yellow")
        self.accent = variables.get("accent", "cyan")
        self.muted = "dim"


def cell_text(cell: Cell, palette: Palette) -> Text:
    """``0.931 ✓`` / ``0.812 ✗`` / ``0.874 2/3`` / ``error`` / ``-``, verdicts coloured."""
    if cell.value is None:
        if cell.errors:
            return Text("error", style=palette.failed)
        if cell.judged:
            return Text(f"- {FAIL_MARK}", style=palette.failed)
        return Text("-", style=palette.muted)
    text = Text(format_value(cell.value))
    verdict = cell.verdict
    if verdict == "pass":
        text.append(f" {PASS_MARK}", style=palette.passed)
    elif verdict == "fail":
        text.append(f" {FAIL_MARK}", style=palette.failed)
        text.stylize(palette.failed, 0, len(text))
    elif verdict == "partial":
        text.append(f" {cell.passed}/{cell.judged}", style=palette.warning)
    if cell.errors:
        text.append("!", style=palette.failed)
    return text


def verdict_text(row: GridRow, palette: Palette) -> Text:
    """Does the clip clear every threshold: ✓ / ✗, or why there is nothing to judge."""
    if row.state == "not scored":
        return Text("unscored", style=palette.muted)
    if row.state == "no video":
        return Text("no video", style=palette.failed)
    if row.passes_all is None:
        return Text("")
    if row.passes_all:
        return Text(f"{PASS_MARK} pass", style=palette.passed)
    return Text(f"{FAIL_MARK} fail", style=palette.failed)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def row_cells(row: GridRow, scorers: Sequence[str], show_prompt: bool, palette: Palette) -> list[Text]:
    prompt = Text(_short(row.prompt_id, MAX_PROMPT_WIDTH) if show_prompt else "", style="bold")
    cells = [prompt, Text(row.model), verdict_text(row, palette)]
    cells.extend(cell_text(row.cell(s), palette) for s in scorers)
    return cells


def column_label(name: str) -> Text:
    """A scorer name over two lines (the grid's header is two rows high)."""
    top, bottom = split_header(name)
    return Text(f"{top}\n{bottom}" if bottom else f"\n{top}")


class ScoreGrid(DataTable):
    """Keyed rows ``prompt\\x1fmodel``; keyed columns prompt, model, verdict, then scorers."""

    DEFAULT_CSS = """
    ScoreGrid {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="cell", fixed_columns=2, zebra_stripes=True,
                         header_height=2, show_row_labels=False)
        self._scorers: tuple[str, ...] = ()
        self._order: list[str] = []
        self._shown: dict[str, list[Text]] = {}

    @property
    def scorers(self) -> tuple[str, ...]:
        return self._scorers

    @property
    def row_keys(self) -> list[str]:
        """The keys of the rows on screen, top to bottom."""
        return list(self._order)

    def cursor_keys(self) -> tuple[str | None, str | None]:
        """(row key, column key) under the cursor."""
        if not self.row_count:
            return None, None
        try:
            row, column = self.coordinate_to_cell_key(self.cursor_coordinate)
        except CellDoesNotExist:
            return None, None
        return row.value, column.value

    def cell_plain(self, row_key: str, column: str) -> str:
        """The text of one cell as shown (for tests and the status line)."""
        return self.get_cell(row_key, column).plain

    def show(self, rows: Sequence[GridRow], scorers: Sequence[str], *, group_prompts: bool) -> None:
        """Put ``rows`` on screen in this order, keeping the cursor on the same row and column."""
        palette = Palette(self.app.get_css_variables())
        scorers = tuple(scorers)
        wanted: dict[str, list[Text]] = {}
        previous = None
        for row in rows:
            show_prompt = not group_prompts or row.prompt_id != previous
            previous = row.prompt_id
            wanted[row.key] = row_cells(row, scorers, show_prompt, palette)
        order = list(wanted)
        if scorers == self._scorers and order == self._order and self.columns:
            self._update_changed(wanted)
            return
        row_key, column_key = self.cursor_keys()
        cursor_row = self.cursor_coordinate.row
        if scorers != self._scorers or not self.columns:
            self.clear(columns=True)
            self.add_column(Text("\nprompt"), key=PROMPT_COLUMN)
            self.add_column(Text("\nmodel"), key=MODEL_COLUMN)
            self.add_column(Text("\nverdict"), key=VERDICT_COLUMN)
            for name in scorers:
                self.add_column(column_label(name), key=name)
            self._scorers = scorers
        else:
            self.clear(columns=False)
        for key, cells in wanted.items():
            self.add_row(*cells, key=key)
        self._order = order
        self._shown = wanted
        self._restore_cursor(row_key, column_key, cursor_row)

    def _update_changed(self, wanted: dict[str, list[Text]]) -> None:
        columns = [PROMPT_COLUMN, MODEL_COLUMN, VERDICT_COLUMN, *self._scorers]
        for key, cells in wanted.items():
            before = self._shown.get(key)
            for index, (column, cell) in enumerate(zip(columns, cells)):
                if before is None or before[index] != cell:
                    self.update_cell(key, column, cell, update_width=True)
        self._shown = wanted

    def _restore_cursor(self, row_key: str | None, column_key: str | None, fallback_row: int) -> None:
        if not self.row_count:
            return
        try:
            row = self.get_row_index(row_key) if row_key is not None else min(fallback_row, self.row_count - 1)
        except RowDoesNotExist:
            row = min(fallback_row, self.row_count - 1)
        column = 0
        if column_key is not None:
            try:
                column = self.get_column_index(column_key)
            except Exception:  # noqa: BLE001 - a column that went away: start at the left
                column = 0
        self.move_cursor(row=row, column=column, animate=False)

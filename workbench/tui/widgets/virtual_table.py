"""A keyed, row-cursor table that draws only the lines in view.

Rows are plain tuples of strings (with an optional style name per cell), so showing 2,000
rows, or replacing them all after a filter, costs a list assignment rather than a widget
per cell; each visible line is built in :meth:`VirtualTable.render_line`. One column may be
flexible: it takes the width the others leave. The header stays on top while rows scroll.

Keys: up/down, page up/down, home/end move the cursor; enter (or a double click) selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

#: cell styles a row may name (each a component class ``virtual-table--<name>``)
CELL_STYLES = ("pass", "fail", "warn", "muted", "accent")


def fit(text: str, width: int, align: str = "left") -> str:
    """``text`` on one line, cut with … or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    flat = " ".join(text.split()) if ("\n" in text or "  " in text or "\t" in text) else text
    if len(flat) > width:
        return flat[: width - 1] + "…"
    if align == "center":
        return flat.center(width)
    return flat.rjust(width) if align == "right" else flat.ljust(width)


@dataclass(frozen=True)
class Column:
    """One column: ``width`` cells of content, or (None) whatever the others leave."""

    key: str
    label: str
    width: int | None = None
    min_width: int = 12
    align: str = "left"  # left | center | right


@dataclass(frozen=True)
class Row:
    """One row: its key, a text per column, and optionally a style name per cell."""

    key: str
    cells: tuple[str, ...]
    styles: tuple[str | None, ...] = ()


class VirtualTable(ScrollView, can_focus=True):
    """Call :meth:`show` with columns and rows; read :attr:`cursor_key`; listen for
    :class:`Highlighted` and :class:`Selected`."""

    DEFAULT_CSS = """
    VirtualTable {
        height: 1fr;
        background: $surface;
    }
    VirtualTable > .virtual-table--header {
        text-style: bold;
        background: $panel;
        color: $text;
    }
    VirtualTable > .virtual-table--odd {
        background: $surface-lighten-1 40%;
    }
    VirtualTable > .virtual-table--cursor {
        background: $block-cursor-blurred-background;
    }
    VirtualTable:focus > .virtual-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    VirtualTable > .virtual-table--pass {
        color: $success;
    }
    VirtualTable > .virtual-table--fail {
        color: $error;
    }
    VirtualTable > .virtual-table--warn {
        color: $warning;
    }
    VirtualTable > .virtual-table--muted {
        color: $text-muted;
    }
    VirtualTable > .virtual-table--accent {
        color: $accent;
    }
    """
    COMPONENT_CLASSES = {
        "virtual-table--header", "virtual-table--odd", "virtual-table--cursor",
        *(f"virtual-table--{name}" for name in CELL_STYLES),
    }
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another row (key None: the table is empty)."""
        table: VirtualTable
        key: str | None

        @property
        def control(self) -> VirtualTable:
            return self.table

    @dataclass
    class Selected(Message):
        """Enter or a double click on a row."""
        table: VirtualTable
        key: str

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns: tuple[Column, ...] = ()
        self.rows: list[Row] = []
        self.cursor_row = 0
        self.empty_message = ""
        self._index: dict[str, int] = {}
        self._widths: list[int] = []
        self._last_key: str | None = None
        self.lines_drawn = 0  # row lines built so far (benches check only visible ones are)

    # ------------------------------------------------------------ data
    def show(self, columns: Sequence[Column], rows: Sequence[Row], *, keep: str | None = None,
             empty_message: str = "") -> None:
        """Show these rows; the cursor goes to ``keep`` (else stays on its row's key, else
        on the same position)."""
        wanted = keep if keep is not None else self.cursor_key
        self.columns = tuple(columns)
        self.rows = list(rows)
        self._index = {row.key: i for i, row in enumerate(self.rows)}
        self.empty_message = empty_message
        self._layout()
        position = self._index.get(wanted) if wanted is not None else None
        self.move_cursor(position if position is not None else self.cursor_row)
        self.refresh()

    def update_rows(self, rows: Sequence[Row]) -> None:
        """Replace rows in place by key (rows not shown are ignored); redraws what changed."""
        changed = False
        for row in rows:
            position = self._index.get(row.key)
            if position is not None and self.rows[position] != row:
                self.rows[position] = row
                changed = True
        if changed:
            self.refresh()

    @property
    def keys(self) -> list[str]:
        return [row.key for row in self.rows]

    def row(self, key: str) -> Row:
        return self.rows[self._index[key]]

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_key(self) -> str | None:
        if not self.rows:
            return None
        return self.rows[min(self.cursor_row, len(self.rows) - 1)].key

    # ------------------------------------------------------------ layout
    def _room(self) -> int:
        return self.scrollable_content_region.width or self.size.width

    def arrange_columns(self, room: int) -> None:
        """Called before every layout with the cells a line has: a subclass may set
        :attr:`columns` to fit them (narrower caps on a small terminal)."""

    def _layout(self) -> None:
        """Column content widths: fixed ones as given, the flexible one gets the rest."""
        self.arrange_columns(self._room())
        fixed = sum(c.width or 0 for c in self.columns) + 2 * len(self.columns)
        widths = []
        for column in self.columns:
            if column.width is None:
                widths.append(max(column.min_width, self._room() - fixed))
            else:
                widths.append(column.width)
        self._widths = widths
        total = sum(widths) + 2 * len(widths)
        self.virtual_size = Size(total, len(self.rows) + 1)

    def on_resize(self) -> None:
        self._layout()
        self._scroll_to_cursor()
        self.refresh()

    @property
    def content_width(self) -> int:
        """Cells a full line takes (more than the widget's width: it scrolls sideways)."""
        return sum(self._widths) + 2 * len(self._widths)

    # ------------------------------------------------------------ cursor
    @property
    def body_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row ``row`` (clamped), scroll it into view, say so if the key changed."""
        self.cursor_row = max(0, min(row, len(self.rows) - 1)) if self.rows else 0
        self._scroll_to_cursor()
        self.refresh()
        key = self.cursor_key
        if key != self._last_key:
            self._last_key = key
            self.post_message(self.Highlighted(self, key))

    def move_to_key(self, key: str) -> bool:
        position = self._index.get(key)
        if position is None:
            return False
        self.move_cursor(position)
        return True

    def _scroll_to_cursor(self) -> None:
        if not self.size.height:
            return
        y = self.scroll_y
        if self.cursor_row < y:
            y = self.cursor_row
        elif self.cursor_row >= y + self.body_height:
            y = self.cursor_row - self.body_height + 1
        if y != self.scroll_y:
            self.scroll_to(y=y, animate=False, force=True)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        step = self.body_height * direction
        self.scroll_to(y=self.scroll_y + step, animate=False, force=True)
        self.move_cursor(self.cursor_row + step)

    def action_edge(self, direction: int) -> None:
        self.move_cursor(0 if direction < 0 else len(self.rows) - 1)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        position = round(self.scroll_y) + offset.y - 1
        if position >= len(self.rows):
            return
        self.focus()
        self.move_cursor(position)
        if event.chain >= 2:
            self.action_select()

    # ------------------------------------------------------------ drawing
    def line_text(self, y: int) -> str:
        """The plain text of one line as drawn (y in widget rows; 0 is the header)."""
        return self.render_line(y).text

    def render_line(self, y: int) -> Strip:
        width = self._room()
        base = self.rich_style
        scroll_x, scroll_y = round(self.scroll_x), round(self.scroll_y)
        if y == 0:
            style = base + self.get_component_rich_style("virtual-table--header", partial=True)
            cells = [fit(c.label, w, c.align) for c, w in zip(self.columns, self._widths)]
            return self._strip(cells, (), style, scroll_x, width)
        position = scroll_y + y - 1
        if position >= len(self.rows):
            if position == 0 and self.empty_message:
                muted = base + self.get_component_rich_style("virtual-table--muted", partial=True)
                return Strip([Segment(fit(" " + self.empty_message, width), muted)], width)
            return Strip.blank(width, base)
        row = self.rows[position]
        self.lines_drawn += 1
        style = base
        if position % 2:
            style += self.get_component_rich_style("virtual-table--odd", partial=True)
        if position == self.cursor_row:
            style += self.get_component_rich_style("virtual-table--cursor", partial=True)
        cells = [fit(text, w, c.align) for text, c, w in zip(row.cells, self.columns, self._widths)]
        return self._strip(cells, row.styles, style, scroll_x, width)

    def _strip(self, cells: list[str], styles: Sequence[str | None], style: Style, scroll_x: int,
               width: int) -> Strip:
        segments: list[Segment] = []
        for index, text in enumerate(cells):
            name = styles[index] if index < len(styles) else None
            cell_style = style
            if name in CELL_STYLES:
                cell_style = style + self.get_component_rich_style(f"virtual-table--{name}", partial=True)
            segments.append(Segment(f" {text} ", cell_style))
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width, style)

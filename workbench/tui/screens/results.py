"""Results: the per-prompt score table, one row a prompt, the models side by side under each scorer.

Cells are coloured pass or fail against the thresholds. Filters: a tag, words in the prompt's id
or text, failing prompts only (some model fails), prompts the models disagree on. Any column
sorts (``o`` on the cursor's column; again to reverse). The table draws only what is in view
(:class:`~workbench.tui.widgets.score_table.ScoreTable`) from arrays built once per load in a
thread (:func:`workbench.results_grid.build_results_grid`); enter opens the prompt's detail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker, WorkerState

from workbench.benchmark.folder import Benchmark
from workbench.errors import WorkbenchError
from workbench.results_grid import (
    PROMPT_COLUMN, VERDICT_GROUP, ResultFilter, ResultSort, ResultsGrid, build_results_grid,
)
from workbench.tui.screens.choice import ChoiceScreen
from workbench.tui.widgets.score_table import ScoreTable
from workbench.tui.widgets.screen_tabs import ScreenTabs

ALL_TAGS = "\x00all"
NO_PROMPTS = "no prompts yet: press 1 for Prompts to add some"
NO_RUNS = "no results yet: press 2 for Runs to launch a run (or `workbench run`), then score it"
NO_SCORES = "no scores yet: press 2 for Runs, or run `workbench score` to score the clips made so far"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class ResultsScreen(Screen):
    HELP_TITLE = "Results"
    CSS_PATH = "results.tcss"
    AUTO_FOCUS = "#results-table"
    BINDINGS = [
        Binding("enter", "open_detail", "Detail"),
        Binding("slash,f", "search", "Find", key_display="/"),
        Binding("t", "pick_tag", "Tag filter"),
        Binding("x", "toggle_failing", "Failing only"),
        Binding("d", "toggle_disagree", "Disagree"),
        Binding("o", "sort", "Sort"),
        Binding("escape", "escape", "Clear filters"),
    ]

    @dataclass
    class GridLoaded(Message):
        grid: ResultsGrid
        version: int

    @dataclass
    class GridFailed(Message):
        error: WorkbenchError
        version: int

    def __init__(self) -> None:
        super().__init__()
        self.grid: ResultsGrid | None = None
        self.filters = ResultFilter()
        self.sort = ResultSort()
        self.shown = 0  # prompts the filters keep
        self._requested: int | None = None  # the bench_version whose results are being read

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        # start reading the results at once: the widgets mount while the worker reads the files
        if self.app.bench is not None:
            self._load(self.app.bench, self.app.bench_version)
        yield Header()
        yield ScreenTabs("results")
        yield Static("", id="results-status")
        yield Input(placeholder="find prompts by id or text (enter: back to the table)", id="results-search")
        yield Static("loading the benchmark…", id="results-empty", classes="empty-state", markup=False)
        yield ScoreTable(id="results-table")
        yield Static("", id="results-cell", markup=False)
        yield Static("", id="results-prompt", markup=False)
        yield Footer()

    @property
    def table(self) -> ScoreTable:
        return self.query_one(ScoreTable)

    @property
    def search(self) -> Input:
        return self.query_one("#results-search", Input)

    @property
    def _searching(self) -> bool:
        return self.search.display and self.search.has_focus

    def on_mount(self) -> None:
        if self.grid is None:  # (a quick worker may have delivered the results already)
            self._show_empty("loading the benchmark…" if self.app.bench is None else "loading results…")
        self.watch(self.app, "bench_version", self._refresh, init=False)
        if self.app.bench is not None and self._requested != self.app.bench_version:
            self._refresh(self.app.bench_version)

    def on_screen_resume(self) -> None:
        """Back on Results: follow the prompt highlighted elsewhere (Prompts, Detail) if it is shown."""
        wanted = self.app.current_prompt_id
        if self.grid is None or wanted is None or wanted == self.table.cursor_prompt_id:
            return
        row = self.table.row_of_prompt(wanted)
        if row is not None:
            self.table.move_cursor(row)

    def _refresh(self, version: int) -> None:
        bench = self.app.bench
        if bench is None:
            if self.grid is None:
                self._show_empty("loading the benchmark…")
            return
        if self.grid is None:
            self._show_empty("loading results…")
        self._load(bench, version)

    def _load(self, bench: Benchmark, version: int) -> None:
        self._requested = version
        grid = self.app.take_prefetched_results(bench)
        if grid is not None:  # the app read it ahead while another screen was shown
            self.post_message(self.GridLoaded(grid, version))
            return
        self._read_results(bench, version)

    def _show_empty(self, text: str) -> None:
        empty = self.query_one("#results-empty", Static)
        empty.update(text)
        empty.display = True
        self.table.display = False
        for selector in ("#results-cell", "#results-prompt", "#results-status"):
            self.query_one(selector, Static).display = False

    def _show_table(self) -> None:
        self.query_one("#results-empty").display = False
        self.table.display = True
        for selector in ("#results-cell", "#results-prompt", "#results-status"):
            self.query_one(selector, Static).display = True

    # ------------------------------------------------------------ loading
    @work(thread=True, exclusive=True, exit_on_error=False, group="results-grid")
    def _read_results(self, bench: Benchmark, version: int) -> None:
        try:
            grid = build_results_grid(bench)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.GridFailed(error, version))
            return
        self.post_message(self.GridLoaded(grid, version))

    @on(GridLoaded)
    def _grid_loaded(self, message: GridLoaded) -> None:
        if message.version != self.app.bench_version:
            return  # a newer load is on its way
        grid = message.grid
        self.grid = grid
        for warning in grid.warnings:
            self.notify(warning, title="results", severity="warning", timeout=8)
        if not grid.n_rows:
            self._show_empty(NO_PROMPTS)
            return
        if not grid.has_scores:
            self._show_empty(NO_SCORES if grid.has_runs else NO_RUNS)
            return
        if self.filters.tag is not None and self.filters.tag not in dict(grid.tags()):
            self.notify(f"no prompt is tagged {self.filters.tag!r} any more; showing every tag")
            self.filters = replace(self.filters, tag=None)
        if self.sort.column is not None and self.sort.column >= grid.n_columns:
            self.sort = ResultSort()
        self._show_table()
        self._apply()
        if not self._searching:
            self.table.focus()

    @on(GridFailed)
    def _grid_failed(self, message: GridFailed) -> None:
        self.app.show_error(message.error, title="cannot read the results")
        if self.grid is None or not self.grid.has_scores:
            self._show_empty(f"cannot read the results:\n{message.error}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "results-grid" and event.state == WorkerState.ERROR:
            self.app.show_error(event.worker.error, title="cannot read the results")

    # ------------------------------------------------------------ the view
    def _apply(self) -> None:
        """Filter and sort the grid's rows and show them (instant: array operations)."""
        grid = self.grid
        if grid is None or not grid.has_scores:
            return
        rows = grid.rows(self.filters, self.sort)
        self.shown = len(rows)
        empty = ""
        if not len(rows):
            empty = "no prompt matches these filters: escape clears them"
        self.table.show(grid, rows, self.sort, empty_message=empty)
        self._update_status()

    def _update_status(self) -> None:
        grid = self.grid
        if grid is None:
            return
        text = Text()
        text.append(f"{self.shown} of {_plural(grid.n_rows, 'prompt')}", style="bold")
        scorers = len([g for g in grid.groups if g != VERDICT_GROUP])
        text.append(f" · {_plural(len(grid.models), 'model')} × {_plural(scorers, 'scorer')}")
        parts = self.filters.describe()
        if parts:
            text.append(" · ")
            text.append(", ".join(parts), style="bold reverse")
        if self.sort.column is not None:
            text.append(" · sort: ")
            text.append(self._sort_label(), style="bold")
        if not grid.has_thresholds:
            text.append(" · no thresholds in benchmark.toml", style="italic")
        self.query_one("#results-status", Static).update(text)

    def _sort_label(self) -> str:
        if self.sort.column is None or self.grid is None:
            return "benchmark order"
        arrow = "↓" if self.sort.descending else "↑"
        if self.sort.column == PROMPT_COLUMN:
            return f"prompt {arrow}"
        return f"{self.grid.columns[self.sort.column].label} {arrow}"

    @on(ScoreTable.CursorMoved)
    def _cursor_moved(self, event: ScoreTable.CursorMoved) -> None:
        grid = self.grid
        if grid is None:
            return
        if event.prompt_id is not None and self.is_active:  # not when a reload behind another screen moves it
            self.app.current_prompt_id = event.prompt_id
        cell = self.query_one("#results-cell", Static)
        prompt = self.query_one("#results-prompt", Static)
        row = grid.row_of(event.prompt_id) if event.prompt_id is not None else None
        if row is None:
            cell.update("")
            prompt.update("")
            return
        if event.column == PROMPT_COLUMN:
            cell.update(Text(f"{event.prompt_id} · o sorts by prompt id · enter opens its detail", style="dim"))
        else:
            cell.update(grid.describe_cell(event.column, row))
        if event.row_changed or not str(prompt.render()):
            tags = grid.prompt_tags[row]
            line = Text()
            if tags:
                line.append(f"[{', '.join(tags)}] ", style="dim")
            line.append(" ".join(grid.prompt_texts[row].split()))
            prompt.update(line)

    @on(ScoreTable.PromptSelected)
    def _prompt_selected(self, event: ScoreTable.PromptSelected) -> None:
        self.app.open_detail(event.prompt_id)

    @on(ScoreTable.HeaderClicked)
    def _header_clicked(self, event: ScoreTable.HeaderClicked) -> None:
        self.table.move_cursor(column=event.column)
        self.sort_by(event.column)

    # ------------------------------------------------------------ filters
    @on(Input.Changed, "#results-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.set_filters(replace(self.filters, text=event.value))

    @on(Input.Submitted, "#results-search")
    def _search_submitted(self, _event: Input.Submitted) -> None:
        self._leave_search()

    def _leave_search(self) -> None:
        if not self.search.value.strip():
            self.search.display = False
        self.table.focus()

    def set_filters(self, filters: ResultFilter) -> None:
        """Show only the prompts ``filters`` keep (the cursor stays on its prompt when it is kept)."""
        if filters == self.filters:
            return
        self.filters = filters
        if self.search.value != filters.text:
            self.search.value = filters.text
        self.search.display = bool(filters.text) or self._searching
        self._apply()

    def sort_by(self, column: int) -> None:
        """Sort by ``column``: ascending, again descending, a third time back to benchmark order."""
        if self.grid is None or not self.grid.has_scores:
            return
        self.sort = self.sort.next_for(column)
        self._apply()

    def action_search(self) -> None:
        if self.grid is None or not self.grid.has_scores:
            return
        self.search.display = True
        self.search.focus()

    def action_pick_tag(self) -> None:
        if self.grid is None or not self.grid.has_scores:
            return
        tags = self.grid.tags()
        if not tags:
            self.notify("no prompt has tags")
            return
        options = [(ALL_TAGS, "every tag")]
        options += [(tag, f"{tag}  ({_plural(count, 'prompt')})") for tag, count in tags]
        self.app.push_screen(ChoiceScreen("Show prompts tagged", options, self.filters.tag or ALL_TAGS),
                             self._tag_chosen)

    def _tag_chosen(self, choice: str | None) -> None:
        if choice is not None:
            self.set_filters(replace(self.filters, tag=None if choice == ALL_TAGS else choice))

    def action_toggle_failing(self) -> None:
        if self.grid is None or not self.grid.has_scores:
            return
        if not self.grid.has_thresholds and not self.filters.failing:
            self.notify("no thresholds in benchmark.toml, so nothing fails: set some on Thresholds (5)")
        self.set_filters(replace(self.filters, failing=not self.filters.failing))

    def action_toggle_disagree(self) -> None:
        if self.grid is None or not self.grid.has_scores:
            return
        if len(self.grid.models) < 2 and not self.filters.disagree:
            self.notify("one model only: nothing to disagree on")
        elif not self.grid.has_thresholds and not self.filters.disagree:
            self.notify("no thresholds in benchmark.toml: models cannot disagree on pass or fail")
        self.set_filters(replace(self.filters, disagree=not self.filters.disagree))

    def action_clear_filters(self) -> None:
        self.set_filters(ResultFilter())

    def action_escape(self) -> None:
        """In the find box: back to the table. In the table: clear every filter."""
        if self._searching:
            self._leave_search()
            return
        self.action_clear_filters()

    def action_sort(self) -> None:
        self.sort_by(self.table.cursor_column)

    def action_open_detail(self) -> None:
        prompt = self.table.cursor_prompt_id
        if prompt is None:
            self.notify("no prompt highlighted", severity="warning")
            return
        self.app.open_detail(prompt)

    def palette_commands(self) -> list[tuple[str, str, object]]:
        return [
            ("Find prompts in results", "filter by words in the id or text (/ or f)", self.action_search),
            ("Filter results by tag", "show only prompts with one tag (t)", self.action_pick_tag),
            ("Failing prompts only", "prompts some model fails; again to show all (x)", self.action_toggle_failing),
            ("Prompts the models disagree on", "one model passes, another fails; again to show all (d)",
             self.action_toggle_disagree),
            ("Sort results by the cursor's column", "ascending, descending, benchmark order (o)",
             self.action_sort),
            ("Clear result filters", "show every prompt (escape)", self.action_clear_filters),
            ("Open the highlighted prompt's detail", "clips, scores and ratings side by side (enter)",
             self.action_open_detail),
        ]

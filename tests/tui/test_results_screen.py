"""The Results screen: one row a prompt against the score table, the virtual table's cursor and
scrolling, filters, sorting, the detail, empty states and small terminals."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

from workbench.benchmark.folder import Benchmark
from workbench.results_grid import PROMPT_COLUMN, VERDICT_GROUP, ResultFilter, ResultSort, build_results_grid
from workbench.tables.score_table import load_table
from workbench.tables.table_output import format_value
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.choice import ChoiceScreen
from workbench.tui.screens.results import NO_RUNS, NO_SCORES, ResultsScreen
from workbench.tui.widgets.score_table import HEADER_HEIGHT

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from big_benchmark import write_big_benchmark  # noqa: E402

SIZE = (120, 40)
PROMPTS = ("hands-1", "smoke-1", "text-1")
MODELS = ("old", "new")
SCORERS = ("decodes", "sharpness", "temporal_flicker", "frozen_frames")


async def ready(app: WorkbenchApp, pilot) -> ResultsScreen:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ResultsScreen)
    return screen


def status(screen: ResultsScreen) -> str:
    return str(screen.query_one("#results-status").render())


def shown_ids(screen: ResultsScreen) -> list[str]:
    return [screen.grid.prompt_ids[i] for i in screen.table.rows]


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """400 prompts x 3 models x 9 scorers (read-only for the tests that use it)."""
    return write_big_benchmark(tmp_path_factory.mktemp("results") / "big", prompts=400, models=3,
                               scorers=9, tags=5, seed=2)


async def test_one_row_a_prompt_with_the_table_means_side_by_side(scored_bench):
    table = load_table(Benchmark.load(scored_bench))
    means = {(p, m, s): v for p, m, s, v in
             table.group_by("prompt_id", "model", "scorer").agg(pl.col("value").mean()).iter_rows()}
    app = WorkbenchApp(scored_bench, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        table_widget = screen.table
        assert shown_ids(screen) == list(PROMPTS)
        assert "3 of 3 prompts" in status(screen) and "2 models × 4 scorers" in status(screen)
        header_top, header_models = table_widget.line_text(0), table_widget.line_text(1)
        for name in (VERDICT_GROUP, *SCORERS):
            assert name in header_top
        assert header_models.replace("│", " ").split()[:5] == ["prompt", "old", "new", "old", "new"]
        grid = screen.grid
        for y, prompt in enumerate(PROMPTS, start=HEADER_HEIGHT):
            line = table_widget.line_text(y)
            assert line.split()[0] == prompt
            for model in MODELS:  # the visible scorer cells carry the table's means
                for scorer in ("decodes", "sharpness"):
                    shown = grid.cell_text(grid.column_index(scorer, model), y - HEADER_HEIGHT)
                    assert shown.split(" ")[0] == format_value(means[(prompt, model, scorer)])
                    assert shown in line
        # the flicker threshold (min 0.9) decides the colours: a cell's mark follows its value
        flicker = grid.column_index("temporal_flicker", "old")
        for row, prompt in enumerate(PROMPTS):
            mark = "✓" if means[(prompt, "old", "temporal_flicker")] >= 0.9 else "✗"
            assert grid.cell_text(flicker, row).endswith(mark)
        assert app.current_prompt_id == "hands-1"


async def test_arrows_pages_and_ends_move_the_cell_cursor_and_the_current_prompt(big):
    app = WorkbenchApp(big, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        table = screen.table
        assert app.focused is table and table.cursor_column == PROMPT_COLUMN
        await pilot.press("down", "down", "right")
        assert (table.cursor_row, table.cursor_column) == (2, 0)
        assert app.current_prompt_id == "p00002"
        await pilot.press("pagedown")
        assert table.cursor_row == 2 + table.body_height and table.scroll_y > 0
        assert app.current_prompt_id == f"p{table.cursor_row:05d}"
        await pilot.press("end")
        assert table.cursor_row == 399 and app.current_prompt_id == "p00399"
        last_line = table.line_text(table.scrollable_content_region.height - 1)
        assert last_line.split()[0] == "p00399"  # scrolled into view
        await pilot.press("pageup", "home")
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("ctrl+end")
        assert table.cursor_column == screen.grid.n_columns - 1 and table.scroll_x > 0
        line = table.line_text(HEADER_HEIGHT)
        assert line.split()[0] == "p00000"  # the prompt column stays on the left
        assert table.line_text(0).split("│")[-2].strip() == screen.grid.groups[-1]
        assert "temporal_flicker · weak" in str(screen.query_one("#results-cell").render())
        await pilot.press("ctrl+home")
        assert table.cursor_column == PROMPT_COLUMN and table.scroll_x == 0


async def test_only_visible_cells_are_drawn(big):
    app = WorkbenchApp(big, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        table = screen.table
        visible_rows = table.scrollable_content_region.height - HEADER_HEIGHT
        visible_columns = len(table._visible_columns(0, table.scrollable_content_region.width))
        assert visible_columns < screen.grid.n_columns
        before = table.cells_drawn
        table.refresh()
        await pilot.pause()
        drawn = table.cells_drawn - before
        assert 0 < drawn <= visible_rows * visible_columns
        assert screen.grid.n_rows * screen.grid.n_columns > 20 * drawn


async def test_filters_tag_text_failing_and_disagree_with_counts(big):
    grid = build_results_grid(Benchmark.load(big))
    app = WorkbenchApp(big, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("x")
        failing = grid.rows(ResultFilter(failing=True))
        assert screen.table.rows.tolist() == failing.tolist()
        assert f"{len(failing)} of 400 prompts" in status(screen) and "failing" in status(screen)
        await pilot.press("d")
        both = grid.rows(ResultFilter(failing=True, disagree=True))
        assert screen.table.rows.tolist() == both.tolist() and 0 < len(both) <= len(failing)
        await pilot.press("x")  # failing off, disagree on
        assert screen.filters == ResultFilter(disagree=True)
        await pilot.press("escape")
        assert screen.filters == ResultFilter() and screen.table.row_count == 400
        # tag, from the picker
        await pilot.press("t")
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        tag, count = grid.tags()[1]
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert screen.filters.tag == tag and screen.table.row_count == count
        assert f"{count} of 400 prompts" in status(screen)
        # text: typed into the find box, filtering as you type
        await pilot.press("slash", "0", "0", "1")
        assert screen.search.has_focus and screen.filters.text == "001"
        expected = grid.rows(ResultFilter(tag=tag, text="001"))
        assert screen.table.rows.tolist() == expected.tolist()
        await pilot.press("enter")  # back to the table, the filter stays
        assert app.focused is screen.table and screen.filters.text == "001"
        await pilot.press("escape")
        assert screen.filters == ResultFilter() and not screen.search.display
        # nothing matches: the table says how to get out
        await pilot.press("f", *"zzzz", "escape", "d")
        assert screen.table.row_count == 0
        assert "no prompt matches" in screen.table.line_text(HEADER_HEIGHT)
        assert "0 of 400 prompts" in status(screen)


async def test_sort_by_the_cursor_column_then_reverse_then_benchmark_order(big):
    grid = build_results_grid(Benchmark.load(big))
    column = grid.column_index("sharpness", "candidate")
    app = WorkbenchApp(big, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("down", "down", "down")
        prompt = app.current_prompt_id
        screen.table.move_cursor(column=column)
        await pilot.press("o")
        assert screen.table.rows.tolist() == grid.sort_order(ResultSort(column)).tolist()
        assert "sort: sharpness/candidate ↑" in status(screen)
        table = screen.table
        x = table._prompt_width + table._starts[column] - round(table.scroll_x)
        assert table.line_text(1)[x:x + table._widths[column]].endswith(" ↑")
        assert screen.table.cursor_prompt_id == prompt  # the cursor stays on its prompt
        await pilot.press("o")
        assert screen.table.rows.tolist() == grid.sort_order(ResultSort(column, True)).tolist()
        await pilot.press("o")
        assert screen.table.rows.tolist() == list(range(400)) and "sort:" not in status(screen)
        # a filter keeps the sort
        await pilot.press("o", "x")
        assert screen.table.rows.tolist() == grid.rows(ResultFilter(failing=True), ResultSort(column)).tolist()
        # the prompt column sorts by id
        await pilot.press("escape", "ctrl+home", "o", "o")
        assert shown_ids(screen)[:3] == ["p00399", "p00398", "p00397"]


async def test_mouse_selects_a_cell_sorts_from_the_header_and_opens_the_detail(scored_bench):
    app = WorkbenchApp(scored_bench, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        table = screen.table
        x = table._prompt_width + table._starts[3] + 1 - round(table.scroll_x)  # decodes / new
        await pilot.click(table, offset=(x, HEADER_HEIGHT + 1))
        assert (table.cursor_row, table.cursor_column) == (1, 3)
        assert app.current_prompt_id == "smoke-1"
        await pilot.click(table, offset=(x, 1))  # the header: sort by that column
        assert screen.sort == ResultSort(3)
        await pilot.double_click(table, offset=(2, HEADER_HEIGHT + 2))
        await pilot.pause()
        detail = app.screen
        assert type(detail).__name__ == "PromptDetailScreen"
        assert detail.prompt_id == table.cursor_prompt_id == app.current_prompt_id


async def test_enter_opens_the_detail_of_the_highlighted_prompt(scored_bench):
    app = WorkbenchApp(scored_bench, start="results")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "PromptDetailScreen" and app.screen.prompt_id == "text-1"


async def test_coming_back_follows_the_prompt_highlighted_elsewhere(big):
    app = WorkbenchApp(big, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        app.switch_mode("runs")
        await pilot.pause()
        app.current_prompt_id = "p00321"  # e.g. highlighted on Prompts or in Detail
        app.switch_mode("results")
        await pilot.pause()
        assert screen.table.cursor_prompt_id == "p00321"
        top = round(screen.table.scroll_y)
        assert top <= screen.table.cursor_row < top + screen.table.body_height


async def test_reload_keeps_the_cursor_and_shows_new_thresholds(scored_bench):
    app = WorkbenchApp(scored_bench, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        flicker = screen.grid.column_index("temporal_flicker", "new")
        await pilot.press("down")
        screen.table.move_cursor(column=flicker)
        config = scored_bench / "benchmark.toml"
        config.write_text(config.read_text().replace("min = 0.9  # keep", "min = 0.9999  # keep"))
        app.load_benchmark()
        await ready(app, pilot)
        assert screen.table.cursor_prompt_id == "smoke-1" and screen.table.cursor_column == flicker
        assert screen.grid.thresholds["temporal_flicker"].min == 0.9999
        assert all(screen.grid.cell_text(flicker, r).endswith("✗") for r in range(3))
        assert "min 0.9999" in str(screen.query_one("#results-cell").render())


async def test_empty_states_point_to_runs(fresh_bench, scored_bench):
    app = WorkbenchApp(fresh_bench, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert str(screen.query_one("#results-empty").render()) == NO_RUNS
        assert not screen.table.display
        await pilot.press("x", "o", "t", "slash")  # nothing to act on: no error
        assert screen.filters == ResultFilter()
    for scores in (scored_bench / "runs").glob("*/scores.jsonl"):
        scores.unlink()
    app = WorkbenchApp(scored_bench, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert str(screen.query_one("#results-empty").render()) == NO_SCORES


async def test_palette_commands_and_help_cover_every_key(scored_bench):
    app = WorkbenchApp(scored_bench, start="results")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        commands = screen.palette_commands()
        keys = {b.key for b in screen.BINDINGS}
        assert {"enter", "slash,f", "t", "x", "d", "o", "escape"} == keys
        assert all(b.description for b in screen.BINDINGS)
        assert not any(ch.isdigit() for k in keys for ch in k)
        by_name = {name: callback for name, _help, callback in commands}
        by_name["Failing prompts only"]()
        assert screen.filters.failing
        by_name["Clear result filters"]()
        assert screen.filters == ResultFilter()
        assert len(commands) == 7


async def test_small_terminal(big):
    app = WorkbenchApp(big, start="results")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        table = screen.table
        assert table.size.height >= 8 and table.display
        await pilot.press("right", "right", "right", "right", "right", "pagedown", "x", "o", "d")
        assert table.line_text(HEADER_HEIGHT).startswith(" p0")
        assert "of 400 prompts" in status(screen)
        cell = str(screen.query_one("#results-cell").render())
        assert cell.startswith(f"{table.cursor_prompt_id} · decodes")
        assert screen.query_one("#results-prompt").region.bottom <= 23  # above the footer

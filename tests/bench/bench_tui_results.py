"""Speed of the Results screen on 2,000 prompts x 5 models x 12 scorers.

Run: ``python tests/bench/bench_tui_results.py`` from the project root (a few seconds).

Writes a large benchmark with ``big_benchmark.write_big_benchmark`` in a temporary folder, then,
headless through ``App.run_test``:

* opening Results: from the mode switch to the table painted with data, with the score files
  read in the screen's worker (cold), and again with the data already loaded (switching back);
  also from app start (benchmark.toml and prompts.jsonl read too);
* a page down, a sort and a filter, each to the repainted table;
* a baseline in the same run: a Textual DataTable holding the same cells (one row a prompt,
  60 columns), from mount to painted, and its sort.

Prints medians in milliseconds against the target (open <= 500 ms) and the ratios.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the `workbench` command does

import asyncio  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from big_benchmark import write_big_benchmark  # noqa: E402
from pilot_timing import ms, press, until  # noqa: E402
from workbench.tables.score_table import forget_read_tables  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from workbench.benchmark.folder import Benchmark  # noqa: E402
from workbench.results_grid import build_results_grid  # noqa: E402
from workbench.tui.app import WorkbenchApp  # noqa: E402
from workbench.tui.widgets.score_table import ScoreTable  # noqa: E402

SIZE = (160, 50)
OPEN_TARGET_MS = 500.0
RUNS = 5


def painted(app: WorkbenchApp, after: int = 0):
    """True once the Results table has drawn data cells (more than ``after`` since its last show)."""
    def check() -> bool:
        tables = app.screen.query(ScoreTable)
        return bool(tables) and tables.first().grid is not None and tables.first().cells_drawn > after
    return check


async def settle(app: WorkbenchApp, pilot) -> None:
    """Wait for the benchmark, the first screen's workers, and the process to go idle."""
    await until(lambda: app.bench is not None)
    await app.workers.wait_for_complete()
    await pilot.pause()
    for _ in range(100):
        before = time.process_time()
        await asyncio.sleep(0.2)
        if time.process_time() - before < 0.01:
            return


async def open_results(root: Path) -> dict[str, float]:
    """First opens in a new app each time: with the table the app read ahead while another
    screen was shown (``ahead``), and with that taken away so the screen reads the score files
    in its worker (``cold``); warm opens (switching back to Results with its data loaded).
    Medians in seconds."""
    cold, warm, cold_cpu, other, ahead = [], [], [], [], []
    for _ in range(RUNS):
        app = WorkbenchApp(root, start="runs")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert app.prefetched_results is not None
            start = time.perf_counter()
            app.switch_mode("results")
            await until(painted(app))
            ahead.append(time.perf_counter() - start)
        app = WorkbenchApp(root, start="runs")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.prefetched_results = None  # as if the user pressed 3 before the read-ahead finished:
            forget_read_tables()  # the screen reads every file itself
            start, start_cpu = time.perf_counter(), time.process_time()
            app.switch_mode("results")
            await until(painted(app))
            cold.append(time.perf_counter() - start)
            cold_cpu.append(time.process_time() - start_cpu)
            await app.workers.wait_for_complete()
            app.switch_mode("runs")
            await pilot.pause()
            start = time.perf_counter()
            app.switch_mode("results")
            await pilot.pause()  # the screen is back and its frame composed (lines come from cache)
            await until(lambda: type(app.screen).__name__ == "ResultsScreen" and app.screen.table.size.height)
            warm.append(time.perf_counter() - start)
            start = time.perf_counter()  # the same switch to another screen, for reference
            app.switch_mode("runs")
            await pilot.pause()
            await until(lambda: type(app.screen).__name__ == "RunsScreen")
            other.append(time.perf_counter() - start)
    return {"cold": statistics.median(cold), "warm": statistics.median(warm), "cold_max": max(cold),
            "ahead": statistics.median(ahead),
            "cold_cpu": statistics.median(cold_cpu), "other": statistics.median(other)}


async def start_to_results(root: Path) -> float:
    """From app start (reading every file) to the Results table painted, median in seconds."""
    times = []
    for _ in range(3):
        forget_read_tables()  # each start reads every file, as a new process would
        start = time.perf_counter()
        app = WorkbenchApp(root, start="results")
        async with app.run_test(size=SIZE):
            await until(painted(app))
            times.append(time.perf_counter() - start)
    return statistics.median(times)


async def interactions(root: Path) -> dict[str, float]:
    """Page down, sort, filters: key press to the repainted table, medians in seconds."""
    app = WorkbenchApp(root, start="results")
    found: dict[str, list[float]] = {"page": [], "sort": [], "filter": [], "text": []}
    async with app.run_test(size=SIZE) as pilot:
        await until(painted(app))
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        table = screen.table

        async def timed(name: str, key: str) -> None:
            before = table.cells_drawn
            shown_before = table.sort, screen.filters, table.scroll_y
            start = time.perf_counter()
            press(app, key)
            await until(lambda: (table.sort, screen.filters, table.scroll_y) != shown_before
                        and table.cells_drawn > before)
            found[name].append(time.perf_counter() - start)
            await pilot.pause()

        await pilot.press(*["right"] * 7)
        for _ in range(RUNS):
            await timed("page", "pagedown")
        await pilot.press("home")
        for _ in range(RUNS):
            await timed("sort", "o")
        for _ in range(RUNS):
            await timed("filter", "x")
        await pilot.press("f")
        for digit in "001":
            await timed("text", digit)  # typing in the find box filters as you type
        await pilot.press("escape", "escape")
        assert table.row_count == len(screen.grid.prompt_ids)
    return {k: statistics.median(v) for k, v in found.items()}


class CountingTable(DataTable):
    lines_drawn = 0

    def render_line(self, y: int):
        CountingTable.lines_drawn += 1
        return super().render_line(y)


class DataTableApp(App[None]):
    """The baseline: every cell of the same grid in a DataTable."""

    def __init__(self, header: list[str], rows: list[list[str]]) -> None:
        super().__init__()
        self.header, self.rows = header, rows

    def compose(self) -> ComposeResult:
        yield CountingTable(cursor_type="cell", fixed_columns=1)

    def on_mount(self) -> None:
        table = self.query_one(CountingTable)
        table.add_columns(*self.header)
        table.add_rows(self.rows)


async def datatable_baseline(root: Path) -> dict[str, float]:
    grid = build_results_grid(Benchmark.load(root))
    header = ["prompt"] + [c.label for c in grid.columns]
    start_cells = time.perf_counter()
    rows = [[grid.prompt_ids[r]] + [grid.cell_text(c, r) for c in range(grid.n_columns)]
            for r in range(grid.n_rows)]
    format_s = time.perf_counter() - start_cells
    CountingTable.lines_drawn = 0
    start = time.perf_counter()
    app = DataTableApp(header, rows)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: CountingTable.lines_drawn > 0)
        opened = time.perf_counter() - start
        table = app.query_one(CountingTable)
        keys = list(table.columns)
        before = CountingTable.lines_drawn
        start = time.perf_counter()
        table.sort(keys[8])
        await pilot.pause()
        await until(lambda: CountingTable.lines_drawn > before)
        sorted_s = time.perf_counter() - start
    return {"open": opened + format_s, "format": format_s, "sort": sorted_s,
            "cells": grid.n_rows * (grid.n_columns + 1)}


def core_figures(root: Path) -> dict[str, float]:
    loads, builds = [], []
    for _ in range(3):
        start = time.perf_counter()
        bench = Benchmark.load(root)
        loads.append(time.perf_counter() - start)
        forget_read_tables()
        start = time.perf_counter()
        build_results_grid(bench)
        builds.append(time.perf_counter() - start)
    return {"load": statistics.median(loads), "grid": statistics.median(builds)}


def main() -> None:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = write_big_benchmark(Path(tmp) / "big")
        core = core_figures(root)
        opened = asyncio.run(open_results(root))
        from_start = asyncio.run(start_to_results(root))
        moves = asyncio.run(interactions(root))
        baseline = asyncio.run(datatable_baseline(root))
    print("Results screen: 2000 prompts x 5 models x 12 scorers (+ the verdict columns), "
          f"{SIZE[0]}x{SIZE[1]} terminal, medians of {RUNS}; load average {load:.1f} on "
          f"{os.cpu_count()} cores at the start (figures are wall time unless said)")
    print(f"  core: Benchmark.load {ms(core['load']):7.1f} ms; build_results_grid (reads every "
          f"scores.jsonl) {ms(core['grid']):7.1f} ms")
    verdict = "ok" if ms(opened['cold']) <= OPEN_TARGET_MS else "OVER TARGET"
    print(f"  open Results, score files read on the way {ms(opened['cold']):7.1f} ms  "
          f"(target <= {OPEN_TARGET_MS:.0f} ms: {verdict}; slowest {ms(opened['cold_max']):.0f} ms; "
          f"process CPU {ms(opened['cold_cpu']):.0f} ms, all threads)")
    print(f"  open Results, table read ahead by the app {ms(opened['ahead']):6.1f} ms  (the usual case: "
          "the app reads it while another screen is shown)")
    print(f"  open Results, data already loaded        {ms(opened['warm']):7.1f} ms  (switching back to the "
          f"Runs screen the same way: {ms(opened['other']):.1f} ms)")
    print(f"  app start to Results painted             {ms(from_start):7.1f} ms")
    print(f"  key press to repainted table: page down {ms(moves['page']):5.1f} ms; sort "
          f"{ms(moves['sort']):5.1f} ms; failing filter {ms(moves['filter']):5.1f} ms; typing in the "
          f"find box {ms(moves['text']):5.1f} ms")
    print(f"  baseline DataTable with the same {baseline['cells']:,} cells: open "
          f"{ms(baseline['open']):7.1f} ms (formatting {ms(baseline['format']):.0f} ms), "
          f"sort {ms(baseline['sort']):7.1f} ms")
    print(f"  ratios: DataTable open / Results open (cold) {baseline['open'] / opened['cold']:5.1f}x, "
          f"(warm) {baseline['open'] / opened['warm']:5.1f}x; "
          f"DataTable sort / Results sort {baseline['sort'] / moves['sort']:5.1f}x")


if __name__ == "__main__":
    main()

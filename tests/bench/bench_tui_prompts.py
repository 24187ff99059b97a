"""Speed of the Prompts screen on 2,000 prompts x 5 models (latest result per model).

Run: ``python tests/bench/bench_tui_prompts.py`` from the project root (about half a minute).

Writes a large benchmark with ``big_benchmark.write_big_benchmark`` in a temporary folder, then:

* the load worker's job: reading the latest result of every prompt x model (``latest_results``);
* headless through ``App.run_test``: app start to the list painted with its model columns;
* a search keystroke, a backspace (back to all 2,000 rows), a mark and a cursor move, each from
  the key to the repainted list;
* baselines in the same run: the same keys on a 20-prompt benchmark (same models), and a Textual
  DataTable filled with the same 2,000 rows (what rebuilding the list on each keystroke costs
  with a widget that lays out every cell).

Prints medians in milliseconds and the ratios.
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
from workbench.latest_results import latest_results  # noqa: E402
from workbench.tui.app import WorkbenchApp  # noqa: E402
from workbench.tui.screens.prompt_rows import prompt_row  # noqa: E402

SIZE = (120, 40)
RUNS = 5


def load_worker(root: Path) -> float:
    times = []
    bench = Benchmark.load(root)
    for _ in range(3):
        forget_read_tables()  # every file read each time
        start = time.perf_counter()
        results = latest_results(bench)
        times.append(time.perf_counter() - start)
    assert len(results.results) >= 0.98 * len(bench.prompts) * len(results.models)
    return statistics.median(times)


async def start_to_list(root: Path) -> float:
    """App start (reading every file) to the list painted with its model columns."""
    times = []
    for _ in range(3):
        forget_read_tables()  # each start reads every file, as a new process would
        start = time.perf_counter()
        app = WorkbenchApp(root, start="prompts")
        async with app.run_test(size=SIZE):
            def ready() -> bool:
                screen = app.screen
                return (type(screen).__name__ == "PromptsScreen" and screen.results is not None
                        and screen.table.lines_drawn > 0 and len(screen.table.columns) > 4)
            await until(ready)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


async def keys(root: Path) -> dict[str, float]:
    """Key press to the repainted list, medians in seconds."""
    app = WorkbenchApp(root, start="prompts")
    found: dict[str, list[float]] = {"search": [], "clear": [], "mark": [], "down": []}
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.bench is not None)
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        screen = app.screen
        table = screen.table

        async def timed(name: str, key: str, changed) -> None:
            before = table.lines_drawn
            start = time.perf_counter()
            press(app, key)
            await until(lambda: changed() and table.lines_drawn > before)
            found[name].append(time.perf_counter() - start)
            await pilot.pause()

        for _ in range(RUNS):
            await pilot.press("slash")
            shown = table.row_count
            await timed("search", "7", lambda: table.row_count != shown)
            shown = table.row_count
            await timed("clear", "backspace", lambda: table.row_count != shown)
            await pilot.press("escape")
            marked = len(screen.marked)
            await timed("mark", "space", lambda: len(screen.marked) != marked)
            row = table.cursor_row
            await timed("down", "down", lambda: table.cursor_row != row)
    return {name: statistics.median(values) for name, values in found.items()}


class TableApp(App):
    def __init__(self, rows: list[tuple[str, ...]], labels: list[str]) -> None:
        super().__init__()
        self.rows, self.labels = rows, labels

    def compose(self) -> ComposeResult:
        yield DataTable()


async def datatable_baseline(root: Path) -> float:
    """Filling a DataTable with the same 2,000 rows, to painted, median in seconds."""
    bench = Benchmark.load(root)
    results = latest_results(bench)
    rows = [prompt_row(p, results, set()).cells for p in bench.prompts]
    labels = [" ", "id", "tags", "text", *results.models]
    times = []
    for _ in range(3):
        app = TableApp(rows, labels)
        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one(DataTable)
            start = time.perf_counter()
            table.add_columns(*labels)
            table.add_rows(rows)
            await pilot.pause()
            await until(lambda: table.virtual_size.height > len(rows))
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def small_copy(big: Path, target: Path, prompts: int = 20) -> Path:
    """The same benchmark with only its first ``prompts`` prompts (same models and run)."""
    target.mkdir()
    (target / "benchmark.toml").write_bytes((big / "benchmark.toml").read_bytes())
    lines = (big / "prompts.jsonl").read_text().splitlines(keepends=True)[:prompts]
    (target / "prompts.jsonl").write_text("".join(lines))
    (target / "runs").symlink_to(big / "runs")
    return target


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = write_big_benchmark(Path(tmp) / "big", prompts=2000, models=5, scorers=12)
        small = small_copy(big, Path(tmp) / "small")
        print("Prompts screen, 2,000 prompts x 5 models (baseline: 20 prompts, same models)")
        worker = load_worker(big)
        print(f"  latest result per prompt x model (load worker): {ms(worker):7.1f} ms")
        start_big, start_small = asyncio.run(start_to_list(big)), asyncio.run(start_to_list(small))
        print(f"  app start to the list painted:   {ms(start_big):7.1f} ms   "
              f"(20 prompts: {ms(start_small):6.1f} ms, ratio {start_big / start_small:4.2f})")
        big_keys, small_keys = asyncio.run(keys(big)), asyncio.run(keys(small))
        for name, label in (("search", "search keystroke"), ("clear", "backspace to all rows"),
                            ("mark", "mark a prompt"), ("down", "cursor down")):
            ratio = big_keys[name] / small_keys[name]
            print(f"  {label:<32} {ms(big_keys[name]):7.1f} ms   "
                  f"(20 prompts: {ms(small_keys[name]):6.1f} ms, ratio {ratio:4.2f})")
        table = asyncio.run(datatable_baseline(big))
        print(f"  baseline: a DataTable with the same 2,000 rows: {ms(table):7.1f} ms "
              f"({table / big_keys['clear']:.0f}x the backspace above)")


if __name__ == "__main__":
    main()

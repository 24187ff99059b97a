"""A threshold key press on the Thresholds screen to the new pass rates on screen, at 2,000 prompts.

Run: ``python tests/bench/bench_tui_thresholds.py [--presses N] [--prompts N]`` from the project root.

Writes a real benchmark folder (2,000 prompts x 5 models x 12 scorers, one scored run: see
``big_benchmark.py``), opens the app headless at 120x40 on the Thresholds screen and presses
the arrow keys on ``sharpness``. Each press is timed from ``pilot.press`` to the first frame the
app paints whose pass-rate line shows the numbers an independent session (the same moves made
in the core) says they should be. The gate re-runs in a worker after every move meanwhile, as
it does for a person holding a key. Prints the median and 90th percentile against the 100 ms
target, and the ratio to the core move alone (``TuningSession.nudge``) measured in the same run.
"""

from __future__ import annotations

import os

# As the `workbench` command does: one BLAS thread unless the user says otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from big_benchmark import write_big_benchmark  # noqa: E402

from workbench.benchmark.folder import Benchmark  # noqa: E402
from workbench.threshold_tuning import TuningSession  # noqa: E402

TARGET_MS = 100.0
SCORER = "sharpness"
SIZE = (120, 40)


def expected_line(session: TuningSession) -> list[str]:
    """``model passed/n`` for every model, as the screen's pass-rate line writes them."""
    rates = session.pass_rates()
    return [f"{model} {rates.passed[model]}/{rates.n_prompts}" for model in session.models]


def pattern(presses: int) -> list[int]:
    """Up for a while, then down, and so on: every press moves the bound, none runs off the data."""
    run = 15
    return [1 if (i // run) % 2 == 0 else -1 for i in range(presses)]


def core_moves(bench: Benchmark, moves: list[int]) -> list[float]:
    """Milliseconds per ``TuningSession.nudge`` (with the pass rates read back), the baseline."""
    session = TuningSession.load(bench)
    side = "min"
    times = []
    for steps in moves * 4:
        started = time.perf_counter()
        session.nudge(SCORER, side, steps)
        session.pass_rates()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def screen_presses(root: Path, moves: list[int], gate: bool = True) -> tuple[list[float], int, float, float]:
    """Per press: ms from pilot.press to the first painted frame with the right pass rates.

    Also returns how many presses changed the numbers, the time to open the screen with
    the scores read, and the time of one gate evaluation. ``gate=False`` turns the live gate
    off (to see what its worker costs the key presses)."""
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.thresholds import ThresholdsScreen

    from workbench.tables.score_table import forget_read_tables

    oracle = TuningSession.load(Benchmark.load(root))
    forget_read_tables()  # the screen's open reads every file, as in a new process
    app = WorkbenchApp(root, start="thresholds")
    waiting: dict = {"want": None, "painted": None}
    latencies: list[float] = []
    changed = 0
    opened = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        original_display = app._display

        def display(screen, renderable) -> None:  # noqa: ANN001 - the app's own signature
            if waiting["want"] is not None and waiting["painted"] is None:
                shown = str(screen.query_one("#thr-overall").render()) if screen.is_current else ""
                if all(part in shown for part in waiting["want"]):
                    waiting["painted"] = time.perf_counter()
            original_display(screen, renderable)

        app._display = display
        for _ in range(600):
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            if isinstance(screen, ThresholdsScreen) and screen.session is not None and not screen.gate_pending():
                break
        else:
            raise SystemExit("the Thresholds screen never finished loading")
        open_s = time.perf_counter() - opened
        started = time.perf_counter()
        screen.gate.evaluate(screen.session.thresholds)
        gate_ms = (time.perf_counter() - started) * 1000
        if not gate:
            screen.gate = None
        while screen.selected != SCORER:
            await pilot.press("down")
        for steps in moves:
            before = expected_line(oracle)
            oracle.nudge(SCORER, "min", steps)
            want = expected_line(oracle)
            changed += want != before
            waiting.update(want=want, painted=None)
            started = time.perf_counter()
            await pilot.press("right" if steps > 0 else "left")
            deadline = started + 5.0
            while waiting["painted"] is None:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"the pass rates never showed {want}: "
                                     f"{screen.query_one('#thr-overall').render()}")
                await asyncio.sleep(0.0005)
            latencies.append((waiting["painted"] - started) * 1000)
            waiting["want"] = None
        if screen.session.threshold(SCORER) != oracle.threshold(SCORER):
            raise SystemExit("the screen and the core disagree about the threshold")
        await app.workers.wait_for_complete()
    return latencies, changed, open_s, gate_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--prompts", type=int, default=2000)
    args = parser.parse_args()
    moves = pattern(args.presses)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_big_benchmark(Path(tmp) / "big", prompts=args.prompts, models=5, scorers=12)
        core = core_moves(Benchmark.load(root), moves)
        latencies, changed, open_s, gate_ms = asyncio.run(screen_presses(root, moves))
        quiet, _, _, _ = asyncio.run(screen_presses(root, moves, gate=False))
    core_ms = statistics.median(core)
    median = statistics.median(latencies)
    p90 = statistics.quantiles(latencies, n=10)[-1]
    print(f"benchmark: {args.prompts} prompts x 5 models x 12 scorers; scorer {SCORER}; "
          f"{len(latencies)} presses ({changed} changed the pass rates)")
    print(f"screen open with scores read and the gate evaluated: {open_s:.2f} s; one gate evaluation "
          f"(worker): {gate_ms:.0f} ms")
    print(f"core move alone (nudge + pass rates): median {core_ms:.3f} ms")
    print(f"key press to updated pass rates painted: median {median:.1f} ms, p90 {p90:.1f} ms, "
          f"max {max(latencies):.1f} ms (target <= {TARGET_MS:.0f} ms: "
          f"{'met' if median <= TARGET_MS else 'MISSED'})")
    print(f"same presses with the live gate off: median {statistics.median(quiet):.1f} ms, "
          f"p90 {statistics.quantiles(quiet, n=10)[-1]:.1f} ms")
    print(f"ratio screen / core move: {median / core_ms:.0f}x")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()

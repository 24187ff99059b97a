"""``workbench score BENCH [--run RUN]...``: score what is not scored yet."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from workbench.benchmark.folder import Benchmark
from workbench.run_scoring import ScoringProgress, score_runs


def register(subparsers: argparse._SubParsersAction) -> None:
    score = subparsers.add_parser("score", help="score every clip that is not scored yet")
    score.add_argument("bench", type=Path, metavar="BENCH")
    score.add_argument("--run", dest="runs", action="append", default=[], metavar="RUN",
                       help="only this run (repeatable; default: every run)")
    score.add_argument("--workers", type=int, help="scoring processes (default: one per core)")
    score.set_defaults(func=run_score)


class _Bar:
    """One progress line, redrawn in place on a terminal, printed every 10% otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last_tenth = -1

    def __call__(self, progress: ScoringProgress) -> None:
        fraction = progress.done / max(progress.total, 1)
        elapsed = time.monotonic() - self.started
        if self.tty:
            filled = int(fraction * 30)
            line = (f"\rscoring [{'#' * filled}{'.' * (30 - filled)}] {progress.done}/{progress.total}"
                    f"  {elapsed:5.1f}s  {progress.clip[0]}/{progress.clip[1]}")
            self.stream.write(line[:119].ljust(119))
            if progress.done == progress.total:
                self.stream.write("\n")
            self.stream.flush()
        elif int(fraction * 10) > self.last_tenth:
            self.last_tenth = int(fraction * 10)
            print(f"scoring {progress.done}/{progress.total} ({elapsed:.1f}s)", file=self.stream)


def run_score(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        print("workbench: error: --workers must be at least 1", file=sys.stderr)
        return 2
    bench = Benchmark.load(args.bench)
    started = time.monotonic()
    report = score_runs(bench, args.runs or None, workers=args.workers, on_progress=_Bar())
    if not report.runs:
        print(f"no runs yet: run `workbench run {bench.root}` first", file=sys.stderr)
        return 0
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"scored {report.scored} clips in {time.monotonic() - started:.1f}s "
          f"({report.up_to_date} already scored, {report.not_generated} without a video, "
          f"{report.errors} score errors) across {len(report.runs)} run(s)")
    print(f"see the table: workbench table {bench.root}")
    return 0

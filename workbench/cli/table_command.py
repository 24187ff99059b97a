"""``workbench table BENCH``: the per-prompt score table (automated scorers and human judgments)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import polars as pl

from workbench.benchmark.folder import Benchmark
from workbench.tables.score_table import load_table, scorer_order, wide_table
from workbench.tables.table_output import csv_text, json_text, markdown_text, terminal_text

DEFAULT_WIDTH = 120


def register(subparsers: argparse._SubParsersAction) -> None:
    table = subparsers.add_parser("table", help="print the score table, one row per prompt and model")
    table.add_argument("bench", type=Path, metavar="BENCH")
    table.add_argument("--run", dest="runs", action="append", default=[], metavar="RUN",
                       help="only these runs (repeatable; default: the newest run with scores for each clip)")
    table.add_argument("--tag", help="only prompts with this tag")
    table.add_argument("--format", choices=("text", "csv", "json", "markdown"), default="text",
                       help="text and markdown: wide, per prompt; csv and json: one row per clip and scorer")
    table.add_argument("--no-human", action="store_true", help="leave out human ratings and preferences")
    table.add_argument("--width", type=int, help="text width (default: the terminal's, or 120)")
    table.set_defaults(func=run_table)


def no_scores_message(bench: Path) -> str:
    return f"no scores yet: run `workbench run {bench}` then `workbench score {bench}`"


def _width(requested: int | None) -> int:
    if requested:
        return max(requested, 40)
    if sys.stdout.isatty():
        return max(shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns, 40)
    return DEFAULT_WIDTH


def print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"workbench: warning: {warning}", file=sys.stderr)


def run_table(args: argparse.Namespace) -> int:
    bench = Benchmark.load(args.bench)
    warnings: list[str] = []
    frame = load_table(bench, runs=args.runs or None, tag=args.tag, include_human=not args.no_human,
                       warnings=warnings)
    print_warnings(warnings)
    if frame.is_empty():
        # Nothing to show is a state, not an error: machine formats still get a valid, empty document.
        if args.format == "csv":
            sys.stdout.write(csv_text(frame))
        elif args.format == "json":
            print("[]")
        print(f"workbench: {no_scores_message(args.bench)}", file=sys.stderr)
        return 0
    if args.format == "csv":
        sys.stdout.write(csv_text(frame))
    elif args.format == "json":
        print(json_text(frame))
    else:
        scorers = scorer_order(bench, frame.get_column("scorer").unique().to_list())
        wide = wide_table(frame, scorers)
        if args.format == "markdown":
            sys.stdout.write(markdown_text(wide, scorers))
        else:
            sys.stdout.write(terminal_text(wide, scorers, _width(args.width)))
        _summary(frame)
    return 0


def _summary(frame: pl.DataFrame) -> None:
    runs = sorted(r for r in frame.get_column("run").unique().to_list() if r is not None)
    prompts = frame.get_column("prompt_id").n_unique()
    models = frame.get_column("model").n_unique()
    print(f"{prompts} prompt{'s' if prompts != 1 else ''} x {models} model{'s' if models != 1 else ''}"
          f" from run{'s' if len(runs) != 1 else ''} {', '.join(runs) or '(none)'}", file=sys.stderr)

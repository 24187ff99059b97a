"""``workbench open BENCH``: the interactive terminal workbench."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.errors import NotFound

SCREENS = ("prompts", "runs", "results", "thresholds", "gate")


def register(subparsers: argparse._SubParsersAction) -> None:
    tui = subparsers.add_parser("open", help="open the interactive workbench in the terminal")
    tui.add_argument("bench", type=Path, metavar="BENCH", nargs="?", default=Path("."),
                     help="the benchmark folder (default: this one)")
    tui.add_argument("--screen", choices=SCREENS, default="results", help="screen to start on")
    tui.set_defaults(func=run_open)


def run_open(args: argparse.Namespace) -> int:
    if not (args.bench / "benchmark.toml").is_file():
        raise NotFound(f"{args.bench}: no benchmark.toml here (create one with: workbench init {args.bench})")
    from workbench.tui.app import run_app  # textual only loads for the TUI

    run_app(args.bench, start=args.screen)
    return 0

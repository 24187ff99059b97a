"""``workbench init`` and ``workbench validate``."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.benchmark.curation import init_benchmark
from workbench.benchmark.folder import Benchmark


def register(subparsers: argparse._SubParsersAction) -> None:
    init = subparsers.add_parser("init", help="create a new benchmark folder")
    init.add_argument("bench", type=Path, metavar="BENCH")
    init.add_argument("--name", help="benchmark name (default: the folder name)")
    init.set_defaults(func=run_init)

    validate = subparsers.add_parser("validate", help="check a benchmark's files; exit 2 on problems")
    validate.add_argument("bench", type=Path, metavar="BENCH")
    validate.set_defaults(func=run_validate)


def run_init(args: argparse.Namespace) -> int:
    root = init_benchmark(args.bench, args.name)
    print(f"created {root}: edit benchmark.toml, then add prompts with "
          f"'workbench prompts {root} add \"...\"'")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    bench = Benchmark.load(args.bench)
    tags = bench.tags()
    print(f"{bench.root}: ok: {len(bench.prompts)} prompts, {len(bench.config.models)} models, "
          f"{len(tags)} tags, {len(bench.config.scorers)} scorers")
    return 0

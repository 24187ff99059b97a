"""``workbench`` command: parses arguments and dispatches to one module per command group.

Every command module exposes ``register(subparsers)``, which adds its parsers and
sets ``func`` (called with the parsed args, returning an exit code).
Errors caused by input become one clear message and exit code 2, never a traceback.
"""

from __future__ import annotations

import os

# numpy's BLAS threads only contend with our own worker processes on small arrays
# (the gate's bootstrap runs ~2x faster single-threaded); a user's setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from workbench import __version__
from workbench.errors import CannotAccess, InvalidInput, WorkbenchError

COMMAND_MODULES = (
    "workbench.cli.benchmark_commands",
    "workbench.cli.prompt_commands",
    "workbench.cli.run_command",
    "workbench.cli.score_command",
    "workbench.cli.table_command",
    "workbench.cli.judgment_commands",
    "workbench.cli.gate_command",
    "workbench.cli.open_command",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with usage, as argparse does, but name the command
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


#: the module that registers each command, so a command only imports what it needs (the
#: TUI starts faster without the engine and polars, which its own workers load later).
MODULE_OF_COMMAND = {
    "init": "workbench.cli.benchmark_commands",
    "validate": "workbench.cli.benchmark_commands",
    "prompts": "workbench.cli.prompt_commands",
    "run": "workbench.cli.run_command",
    "score": "workbench.cli.score_command",
    "table": "workbench.cli.table_command",
    "rate": "workbench.cli.judgment_commands",
    "prefer": "workbench.cli.judgment_commands",
    "align": "workbench.cli.judgment_commands",
    "gate": "workbench.cli.gate_command",
    "open": "workbench.cli.open_command",
}


def build_parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="workbench",
        description="Choose a text-to-video model on evidence: your prompts, your scorers, your bar.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def report_error(error: WorkbenchError) -> None:
    if isinstance(error, InvalidInput):
        count = len(error.problems)
        print(f"workbench: {count} problem{'s' if count != 1 else ''} found:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
    else:
        print(f"workbench: error: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if not argv:  # bare `workbench` inside a benchmark folder opens the workbench
        argv = ["open", "."] if Path("benchmark.toml").is_file() else ["--help"]
    module = MODULE_OF_COMMAND.get(argv[0])
    parser = build_parser((module,) if module else COMMAND_MODULES)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkbenchError as error:
        report_error(error)
        return 2
    except OSError as error:  # a file the system would not let us read or write
        report_error(CannotAccess(error))
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

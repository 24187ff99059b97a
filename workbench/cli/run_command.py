"""``workbench run BENCH``: generate every model x prompt x repeat clip.

Shows the plan and its estimated cost, asks before spending money (on a
terminal, unless --yes), then runs with a live progress bar per model. An
interrupted run is resumed by running the same command again; clips already
made are never made (or paid for) twice.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from workbench.benchmark.folder import Benchmark
from workbench.engine import RunEvent, RunPlan, RunSummary, plan_run, run_benchmark
from workbench.engine import events as ev
from workbench.engine.cost import check_estimate, format_money

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _int_between(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range ({low} to {high})")
        return value
    return parse


def _money(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of money") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run", help="generate the clips of every model x prompt x repeat (resumes an interrupted run)",
        description="Generate every model x prompt x repeat clip. Clips already made (the video "
                    "cache) cost nothing; an interrupted run resumes where it stopped.")
    run.add_argument("bench", type=Path, metavar="BENCH")
    run.add_argument("--model", dest="models", action="append", metavar="ID",
                     help="run only this model (repeatable; default: every model)")
    run.add_argument("--repeats", type=_int_between(1, 100), metavar="K",
                     help="clips per prompt and model (default: [run].repeats)")
    run.add_argument("--concurrency", type=_int_between(1, 1024), metavar="N",
                     help="jobs at once across all models (default: [run].concurrency)")
    run.add_argument("--budget", type=_money, metavar="X",
                     help="refuse a run estimated over X and stop submitting once X is spent")
    run.add_argument("--retry-uncertain", action="store_true",
                     help="submit again the jobs whose earlier submit may have reached the provider "
                          "without a job id coming back (check the provider's dashboard first: "
                          "this can pay twice)")
    run.add_argument("--dry-run", action="store_true", help="show the plan and cost; generate nothing")
    run.add_argument("--yes", "-y", action="store_true", help="do not ask before spending money")
    run.set_defaults(func=run_run)


# ----------------------------------------------------------------- the plan
def print_plan(plan: RunPlan, bench: Benchmark, budget: float | None, out: TextIO) -> None:
    prompts = len({j.prompt_id for j in plan.jobs})
    repeats = f"{plan.repeats} repeat{'s' if plan.repeats != 1 else ''}"
    head = (f"{bench.config.name}: {len(plan.models)} model{'s' if len(plan.models) != 1 else ''} x "
            f"{prompts} prompt{'s' if prompts != 1 else ''} x {repeats} = {plan.total_jobs} jobs")
    if plan.resume_run_id:
        head += f" (resuming run {plan.resume_run_id})"
    print(head, file=out)
    width = max(5, *(len(m.model) for m in plan.per_model))
    pwidth = max(8, *(len(m.provider) for m in plan.per_model))
    print(f"  {'model':<{width}}  {'provider':<{pwidth}}  {'jobs':>5}  {'done':>5}  {'cached':>6}  "
          f"{'in flight':>9}  {'to make':>7}  {'est. cost':>10}", file=out)
    for m in plan.per_model:
        cost = format_money(m.estimated_cost) if m.priced or m.estimated_cost else "-"
        print(f"  {m.model:<{width}}  {m.provider:<{pwidth}}  {m.jobs:>5}  {m.done:>5}  {m.cached:>6}  "
              f"{m.in_flight:>9}  {m.to_generate:>7}  {cost:>10}", file=out)
    failed_before = sum(m.failed_before for m in plan.per_model)
    line = f"  estimated cost: {format_money(plan.estimated_cost)}"
    if budget is not None:
        line += f" (budget {format_money(budget)})"
    unpriced = [m.model for m in plan.per_model if not m.priced and m.to_generate]
    if unpriced:
        line += f"; no price set for {', '.join(unpriced)}"
    print(line, file=out)
    uncertain = sum(m.uncertain for m in plan.per_model)
    if uncertain:
        print(f"  {uncertain} job(s) were being submitted when a run stopped (or the connection "
              "dropped); the provider may have them, so they are recorded as failed rather than paid "
              "for twice. Check the provider's dashboard; --retry-uncertain submits them again",
              file=out)
    retrying = sum(m.retrying_uncertain for m in plan.per_model)
    if retrying:
        print(f"  {retrying} job(s) whose earlier submit is in doubt will be submitted again "
              "(--retry-uncertain)", file=out)
    if failed_before:
        print(f"  {failed_before} job(s) failed earlier in this run and stay failed; "
              "a new run retries them once this one is finished", file=out)


def confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


# ------------------------------------------------------------- progress
class Progress:
    """Per-model bars on a terminal (ANSI, redrawn in place); plain lines otherwise."""

    BAR = 28

    def __init__(self, stream: TextIO, tty: bool):
        self.stream = stream
        self.tty = tty
        self.drawn = 0
        self.last_draw = 0.0
        self.run_id: str | None = None
        self.latest: RunEvent | None = None

    def __call__(self, event: RunEvent) -> None:
        self.run_id = event.run_id
        self.latest = event
        note = self._note(event)
        if not self.tty:
            if note:
                print(note, file=self.stream, flush=True)
            return
        final = event.kind in (ev.RUN_FINISHED, ev.RUN_INTERRUPTED)
        now = time.monotonic()
        if note and event.kind in (ev.JOB_FAILED, ev.JOB_SKIPPED):
            self._draw([note])
        elif final or now - self.last_draw >= 0.1:
            self._draw([])

    def _note(self, event: RunEvent) -> str | None:
        if event.model is None:
            return None
        done = sum(p.done for p in event.progress)
        total = sum(p.total for p in event.progress)
        where = f"[{done:>{len(str(total))}}/{total}] {event.model}/{event.prompt_id} r{event.repeat}"
        if event.kind == ev.JOB_SUCCEEDED:
            return f"{where}: done"
        if event.kind == ev.JOB_CACHED:
            return f"{where}: cached"
        if event.kind == ev.JOB_FAILED:
            return f"{where}: FAILED: {event.message}"
        if event.kind == ev.JOB_SKIPPED:
            return f"{where}: skipped ({event.message})"
        return None

    def _lines(self) -> list[str]:
        if self.latest is None:
            return []
        width = max(len(p.model) for p in self.latest.progress) if self.latest.progress else 5
        lines = []
        for p in self.latest.progress:
            filled = int(self.BAR * p.done / p.total) if p.total else self.BAR
            bar = "#" * filled + "." * (self.BAR - filled)
            lines.append(f"{p.model:<{width}} [{bar}] {p.done:>4}/{p.total:<4} "
                         f"{', '.join(p.notable_counts())}")
        return lines

    def _draw(self, notes: list[str]) -> None:
        out = []
        if self.drawn:
            out.append(f"\x1b[{self.drawn}F")  # back to the first bar line
        for note in notes:
            out.append(f"\x1b[2K{note}\n")
        lines = self._lines()
        for line in lines:
            out.append(f"\x1b[2K{line}\n")
        self.drawn = len(lines)
        self.stream.write("".join(out))
        self.stream.flush()
        self.last_draw = time.monotonic()


# ------------------------------------------------------------------ summary
def print_summary(summary: RunSummary, out: TextIO) -> None:
    print(summary.headline(), file=out)
    if summary.failures:
        print("failed jobs:", file=out)
        for failure in summary.failures[:20]:
            first = failure.error.splitlines()[0] if failure.error else "failed"
            print(f"  {failure.model}/{failure.prompt_id} r{failure.repeat}: {first}", file=out)
        if len(summary.failures) > 20:
            print(f"  ... and {len(summary.failures) - 20} more (see {summary.run_dir}/journal.jsonl)",
                  file=out)
    if summary.run_dir is not None:
        print(f"videos: {summary.run_dir / 'videos'}", file=out)


# ---------------------------------------------------------------------- run
def run_run(args: argparse.Namespace) -> int:
    bench = Benchmark.load(args.bench)
    budget = args.budget if args.budget is not None else bench.config.run.budget
    plan = plan_run(bench, args.models, args.repeats, retry_uncertain=args.retry_uncertain)
    print_plan(plan, bench, budget, sys.stdout)
    check_estimate(plan.estimated_cost, budget, str(bench.root))
    if args.dry_run:
        print("dry run: nothing generated")
        return 0
    if plan.estimated_cost > 0 and not args.yes and sys.stdin.isatty():
        if not confirm(f"Spend up to {format_money(plan.estimated_cost)}?"):
            print("nothing run")
            return 1
    sys.stdout.flush()
    progress = Progress(sys.stderr, sys.stderr.isatty())
    terminated = False

    async def main() -> RunSummary:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_term() -> None:
            nonlocal terminated
            terminated = True
            task.cancel()

        try:
            loop.add_signal_handler(signal.SIGTERM, on_term)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        try:
            return await run_benchmark(bench, models=args.models, repeats=args.repeats,
                                       concurrency=args.concurrency, budget=args.budget,
                                       on_event=progress, retry_uncertain=args.retry_uncertain)
        finally:
            try:
                loop.remove_signal_handler(signal.SIGTERM)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    try:
        summary = asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        where = f"run {progress.run_id}" if progress.run_id else "the run"
        print(f"\nworkbench: interrupted; {where} is saved. Run 'workbench run {args.bench}' "
              "again to resume it (jobs already submitted are polled, not paid for again).",
              file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    print_summary(summary, sys.stdout)
    return 0 if summary.ok else 1

"""``workbench rate``, ``workbench prefer`` and ``workbench align``: human judgments and scorer alignment."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import polars as pl

from workbench.benchmark.folder import Benchmark
from workbench.cli.table_command import no_scores_message, print_warnings
from workbench.decide.gate_inputs import scorer_directions
from workbench.judgments.alignment import AlignmentRow, pass_label_pairs, scorer_alignment
from workbench.judgments.ratings import Side, default_rater, record_preference, record_rating
from workbench.judgments.threshold_suggestion import Suggestion, suggest_threshold
from workbench.tables.score_table import load_table


def register(subparsers: argparse._SubParsersAction) -> None:
    rate = subparsers.add_parser("rate", help="record your rating of one clip (1-5 score and/or pass/fail)")
    rate.add_argument("bench", type=Path, metavar="BENCH")
    rate.add_argument("prompt_id", metavar="PROMPT_ID")
    rate.add_argument("model", metavar="MODEL")
    rate.add_argument("--repeat", type=int, default=0, help="which repeat (default 0)")
    rate.add_argument("--run", help="the run whose clip you watched")
    rate.add_argument("--score", type=int, choices=range(1, 6), metavar="1-5", help="1 (bad) to 5 (great)")
    verdict = rate.add_mutually_exclusive_group()
    verdict.add_argument("--pass", dest="passed", action="store_const", const=True, help="the clip is acceptable")
    verdict.add_argument("--fail", dest="passed", action="store_const", const=False, help="the clip is not")
    rate.add_argument("--comment", default="")
    rate.add_argument("--rater", help="your name (default: $WORKBENCH_RATER or your login name)")
    rate.set_defaults(func=run_rate)

    prefer = subparsers.add_parser("prefer", help="record which of two models' clips of a prompt is better")
    prefer.add_argument("bench", type=Path, metavar="BENCH")
    prefer.add_argument("prompt_id", metavar="PROMPT_ID")
    prefer.add_argument("left", metavar="LEFT_MODEL")
    prefer.add_argument("right", metavar="RIGHT_MODEL")
    prefer.add_argument("--choice", required=True, choices=("left", "right", "tie"))
    prefer.add_argument("--repeat", type=int, help="repeat of both clips (default 0)")
    prefer.add_argument("--left-repeat", type=int)
    prefer.add_argument("--right-repeat", type=int)
    prefer.add_argument("--run", help="run of both clips")
    prefer.add_argument("--left-run")
    prefer.add_argument("--right-run")
    prefer.add_argument("--comment", default="")
    prefer.add_argument("--rater", help="your name (default: $WORKBENCH_RATER or your login name)")
    prefer.set_defaults(func=run_prefer)

    align = subparsers.add_parser("align", help="how well each scorer agrees with human judgments")
    align.add_argument("bench", type=Path, metavar="BENCH")
    align.add_argument("--run", dest="runs", action="append", default=[], metavar="RUN",
                       help="only these runs (repeatable; default: the newest run with scores for each clip)")
    align.add_argument("--format", choices=("text", "json"), default="text")
    align.set_defaults(func=run_align)


def _error(message: str) -> int:
    print(f"workbench: error: {message}", file=sys.stderr)
    return 2


# ----------------------------------------------------------------------------- rate / prefer


def run_rate(args: argparse.Namespace) -> int:
    if args.score is None and args.passed is None:
        return _error("give --score 1-5, --pass or --fail (or a score and a verdict)")
    if args.repeat < 0:
        return _error("--repeat must be 0 or more")
    bench = Benchmark.load(args.bench)
    rating = record_rating(
        bench, args.prompt_id, args.model, rater=default_rater(args.rater), repeat=args.repeat,
        run=args.run, score=args.score, passed=args.passed, comment=args.comment,
    )
    parts = []
    if rating.score is not None:
        parts.append(f"score {rating.score}")
    if rating.passed is not None:
        parts.append("pass" if rating.passed else "fail")
    run = f" ({rating.run})" if rating.run else ""
    print(f"rated {rating.prompt_id} / {rating.model} r{rating.repeat}{run}: "
          f"{', '.join(parts)} by {rating.rater}")
    return 0


def run_prefer(args: argparse.Namespace) -> int:
    repeats = [args.left_repeat, args.right_repeat, args.repeat]
    if any(r is not None and r < 0 for r in repeats):
        return _error("repeats must be 0 or more")
    base_repeat = args.repeat if args.repeat is not None else 0
    left = Side(model=args.left, run=args.left_run or args.run,
                repeat=args.left_repeat if args.left_repeat is not None else base_repeat)
    right = Side(model=args.right, run=args.right_run or args.run,
                 repeat=args.right_repeat if args.right_repeat is not None else base_repeat)
    if (left.model, left.repeat, left.run) == (right.model, right.repeat, right.run):
        return _error("left and right are the same clip; name two models or two repeats")
    bench = Benchmark.load(args.bench)
    pref = record_preference(bench, args.prompt_id, left, right, args.choice,
                             rater=default_rater(args.rater), comment=args.comment)
    winner = pref.winner
    outcome = f"{winner.model} r{winner.repeat} preferred" if winner else "tie"
    print(f"recorded {pref.prompt_id}: {left.model} r{left.repeat} vs {right.model} r{right.repeat}: "
          f"{outcome} by {pref.rater}")
    return 0


# ----------------------------------------------------------------------------- align


def _suggestions(
    scores: pl.DataFrame, human: pl.DataFrame, scorers: list[str], directions: dict[str, str] | None,
) -> dict[str, Suggestion | None]:
    out: dict[str, Suggestion | None] = {}
    for scorer in scorers:
        direction = (directions or {}).get(scorer)
        if direction not in ("higher", "lower"):
            out[scorer] = None
            continue
        values, labels = pass_label_pairs(scores, human, scorer)
        out[scorer] = suggest_threshold(values, labels, direction)
    return out


def _fmt(value: float | None, spec: str = "+.2f") -> str:
    return "-" if value is None else format(value, spec)


def _text(rows: list[AlignmentRow], suggestions: dict[str, Suggestion | None]) -> str:
    header = ["scorer", "n", "spearman", "kendall", "pass agree", "threshold", "suggested"]
    body = []
    for row in rows:
        agree = "-" if row.pass_agreement is None else f"{row.pass_agreement:.0%} of {row.n_pass_labels}"
        suggestion = suggestions.get(row.scorer)
        body.append([row.scorer, str(row.n_rated), _fmt(row.spearman), _fmt(row.kendall), agree,
                     row.threshold_used or "-",
                     suggestion.describe() if suggestion and suggestion.informative else "-"])
    widths = [max(len(header[i]), *(len(r[i]) for r in body)) for i in range(len(header))]
    right = {1, 2, 3}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                         for i, c in enumerate(cells)).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in body)]
    notes = []
    for row in rows:
        parts = [row.note] if row.note else []
        suggestion = suggestions.get(row.scorer)
        if suggestion is not None and not suggestion.informative:
            parts.append("no threshold does better than passing (or failing) every clip")
        if parts:
            notes.append(f"  {row.scorer}: {'; '.join(parts)}")
    if notes:
        lines += ["", "notes:", *notes]
    lines += ["", "n: clips with a human rating; spearman/kendall: rank agreement with the mean rating "
                  "(-1..+1); pass agree: scorer verdict = majority of raters"]
    return "\n".join(lines) + "\n"


def run_align(args: argparse.Namespace) -> int:
    bench = Benchmark.load(args.bench)
    warnings: list[str] = []
    frame = load_table(bench, runs=args.runs or None, include_human=True, warnings=warnings)
    print_warnings(warnings)
    is_human = pl.col("scorer").str.starts_with("human.")
    scores = frame.filter(~is_human)
    human = frame.filter(is_human)
    if scores.is_empty():
        if args.format == "json":
            print("[]")
        print(f"workbench: {no_scores_message(args.bench)}", file=sys.stderr)
        return 0
    directions = scorer_directions(bench)
    rows = scorer_alignment(scores, human, bench.config.thresholds, directions)
    suggestions = _suggestions(scores, human, [r.scorer for r in rows], directions)
    if args.format == "json":
        records = []
        for row in rows:
            record = asdict(row)
            record["direction"] = (directions or {}).get(row.scorer)
            suggestion = suggestions.get(row.scorer)
            record["suggested"] = {**asdict(suggestion), "informative": suggestion.informative} \
                if suggestion else None
            records.append(record)
        print(json.dumps(records, indent=1))
    else:
        sys.stdout.write(_text(rows, suggestions))
    if human.is_empty():
        print(f"workbench: no human judgments yet: rate clips with "
              f"`workbench rate {args.bench} PROMPT_ID MODEL --score 1-5 --pass|--fail`", file=sys.stderr)
    return 0

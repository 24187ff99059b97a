"""``workbench gate BENCH``: the release gate, fit for a CI pipeline, and decision records.

Exit codes: 0 ship, 1 hold or inconclusive (a benchmark without scores is
inconclusive, with a reason saying so), 2 bad input (no ``[gate]`` section and no
models named, an unknown model or run, an override without a note or a record).
With an override the exit code follows the overriding decision.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from workbench.benchmark.folder import Benchmark
from workbench.cli.table_command import print_warnings
from workbench.decide.gate_inputs import GateInputs, evaluate_inputs, gather_gate_inputs
from workbench.decide.gate_result import GateResult
from workbench.decide.records import (
    DECISIONS, build_record, decider_name, final_decision, gate_report,
    plan_contact_sheet, utc_now, write_record,
)
from workbench.decide.verdict_text import (
    ci_range, format_number, format_percent, signed, wins_ties_losses,
)

WIDTH = 100
EXIT_SHIP = 0
EXIT_NOT_SHIP = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    gate = subparsers.add_parser(
        "gate", help="may the candidate replace the incumbent? (exit 0 ship, 1 hold/inconclusive)",
        description="Run the paired release gate. Exit code 0 means ship, 1 hold or inconclusive, "
                    "2 bad input, so a CI pipeline can use it as a release gate. Without a [gate] "
                    "section, --candidate and --incumbent are required and every enabled scorer "
                    "that has a better direction must improve (superiority, margin 0).")
    gate.add_argument("bench", type=Path, metavar="BENCH")
    gate.add_argument("--candidate", metavar="MODEL", help="the model under review (default: [gate])")
    gate.add_argument("--incumbent", metavar="MODEL", help="the model it would replace (default: [gate])")
    gate.add_argument("--run", dest="runs", action="append", default=[], metavar="RUN",
                      help="only these runs (repeatable; default: the newest run with scores per clip)")
    gate.add_argument("--record", action="store_true",
                      help="write a decision record to BENCH/decisions/ (markdown, json, contact sheet)")
    gate.add_argument("--note", help="why: kept in the decision record (required with --override)")
    gate.add_argument("--override", choices=DECISIONS,
                      help="decide against the gate's verdict (needs --record and --note)")
    gate.add_argument("--decider", metavar="NAME",
                      help="who decides (default: $WORKBENCH_RATER or your login name)")
    gate.add_argument("--format", choices=("text", "json"), default="text")
    gate.set_defaults(func=run_gate)


def _usage_error(args: argparse.Namespace) -> str | None:
    if not args.record:
        for option, value in (("--override", args.override), ("--note", args.note),
                              ("--decider", args.decider)):
            if value is not None:
                return f"{option} only applies to a decision record; add --record"
    if args.override and not (args.note and args.note.strip()):
        return f"--override {args.override} needs --note TEXT saying why the gate is overruled"
    return None


def run_gate(args: argparse.Namespace) -> int:
    problem = _usage_error(args)
    if problem:
        print(f"workbench: error: {problem}", file=sys.stderr)
        return 2
    bench = Benchmark.load(args.bench)
    inputs = gather_gate_inputs(bench, candidate=args.candidate, incumbent=args.incumbent,
                                runs=args.runs or None)
    print_warnings(inputs.warnings)
    result = evaluate_inputs(inputs)
    decision, _ = final_decision(result.verdict, args.override, args.note)

    record: dict[str, Any] | None = None
    if args.record:
        sheet = plan_contact_sheet(inputs)
        record = build_record(inputs, result, sheet, decider=decider_name(args.decider),
                              decided_at=utc_now(), note=args.note, override=args.override)
        files = write_record(bench.decisions_dir, record, sheet)

    if args.format == "json":
        payload = record if record is not None else {"decision": decision,
                                                     **gate_report(inputs, result)}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(render_gate_text(result, inputs))
        if record is not None:
            if record["overridden"]:
                print(f"\nDECISION: {decision.upper()} (override of the gate's "
                      f"{result.verdict}) by {record['decided_by']}")
            print(f"\nrecorded: {files.markdown}")
            extra = [str(p) for p in (files.json, files.contact_sheet) if p is not None]
            print("          " + "\n          ".join(extra))
    return EXIT_SHIP if decision == "ship" else EXIT_NOT_SHIP


# ----------------------------------------------------------------------------- text output


def _columns(header: list[str], rows: list[list[str]], right: set[int], indent: str = "") -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return (indent + "  ".join(parts)).rstrip()

    return [line(header)] + [line(r) for r in rows]


def _scorer_table(result: GateResult) -> list[str]:
    if not result.scorers:
        return []
    confidence = format_number(result.scorers[0].confidence * 100)
    rows = [[s.scorer, s.direction, format_number(s.incumbent_mean), format_number(s.candidate_mean),
             signed(s.mean_diff), ci_range(s), wins_ties_losses(s), format_number(s.sign_p), str(s.n)]
            for s in result.scorers]
    header = ["scorer", "better", "incumbent", "candidate", "difference", f"{confidence}% CI",
              "W/T/L", "sign p", "n"]
    return ["", *_columns(header, rows, right={2, 3, 4, 7, 8}),
            "difference > 0: the candidate is better (W/T/L: candidate wins/ties/losses per prompt)"]


def _tag_lines(result: GateResult) -> list[str]:
    regressed = {(c.scorer, c.tag) for c in result.checks if c.rule == "tag" and c.outcome == "fail"}
    checked = {c.scorer for c in result.checks if c.rule == "tag"}
    lines: list[str] = []
    for overall in result.scorers:
        per_tag = [s for s in result.tags if s.scorer == overall.scorer]
        if not per_tag:
            continue
        rows = []
        for s in sorted(per_tag, key=lambda s: s.tag or ""):
            if (s.scorer, s.tag) in regressed:
                status = "REGRESSES"
            elif s.n < 2:
                status = "not checked (1 prompt)"
            else:
                status = "ok" if s.scorer in checked else ""
            rows.append([s.tag or "", str(s.n), signed(s.mean_diff), ci_range(s), wins_ties_losses(s), status])
        lines += ["", f"per tag, {overall.scorer}:"]
        lines += _columns(["tag", "n", "difference", "CI", "W/T/L", "check"], rows,
                          right={1, 2}, indent="  ")
    return lines


def render_gate_text(result: GateResult, inputs: GateInputs) -> str:
    """Verdict headline, reasons, per-scorer table and per-tag lines; fits 100 columns."""
    lines = [f"{result.verdict.upper()}: {result.candidate} vs {result.incumbent} "
             f"({result.n_prompts} paired prompts of {result.n_benchmark_prompts})"]
    if not inputs.gate_from_config:
        lines.append("(no [gate] section: default rules, every enabled scorer with a direction "
                     "must improve)")
    for reason in result.reasons:
        lines.append(textwrap.fill(reason, WIDTH, initial_indent="  - ", subsequent_indent="    ",
                                   break_on_hyphens=False))
    lines += _scorer_table(result)
    lines += _tag_lines(result)
    if result.pass_rates is not None:
        rates = result.pass_rates
        lines += ["", "threshold pass rate: " + ", ".join(
            f"{m} {format_percent(rates.overall[m])} ({rates.passed[m]}/{rates.n_prompts})"
            for m in (result.incumbent, result.candidate))]
    return "\n".join(lines)


"""Decision records: why the team shipped (or held) a model, kept in ``BENCH/decisions/``.

A record is ``<date>-<candidate>-vs-<incumbent>.md`` (for people, reads well on
GitHub), a ``.json`` twin (the same facts for programs) and a ``.png`` contact sheet
of the prompts where the two models differ most. It holds the verdict and its
reasons, any human override with its note, who decided and when, the runs used, the
hashes of ``benchmark.toml`` and ``prompts.jsonl``, the scorer versions, the gate
rules and thresholds in force, the statistics, the pass rates and the workbench
version: enough for a reader months later to see exactly why.

Records are never overwritten: a second record the same day gets ``-2``, ``-3`` ...
Each file name is claimed with ``O_CREAT | O_EXCL`` (so two writers cannot take the
same one), then its content is written atomically over the empty claim.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.benchmark.folder import CONFIG_FILE, PROMPTS_FILE
from workbench.decide.contact_sheet import (
    DEFAULT_PER_CLIP, DEFAULT_ROWS, PromptDifference, SheetRow, rank_differences,
    write_contact_sheet,
)
from workbench.decide.gate_inputs import GateInputs
from workbench.decide.gate_result import GateResult, Verdict
from workbench.decide.score_matrix import table_keys
from workbench.decide.verdict_text import format_number, format_percent
from workbench.people import person_name
from workbench.errors import WorkbenchError
from workbench.safe_files import atomic_write_text

RECORD_FORMAT = "workbench-decision/1"
DECISIONS = ("ship", "hold")
PROMPT_TEXT_CHARS = 70


class DecisionError(WorkbenchError):
    """A decision that cannot be recorded as asked (override without a note, ...)."""


# ----------------------------------------------------------------------------- who, when, what


def decider_name(explicit: str | None = None) -> str:
    """--decider, else $WORKBENCH_RATER, else the login name."""
    return person_name(explicit, flag="--decider", doing="deciding")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def final_decision(verdict: Verdict, override: str | None, note: str | None) -> tuple[str, bool]:
    """(decision, overridden). An override must go against the verdict and carry a note."""
    if override is None:
        return verdict, False
    if override not in DECISIONS:
        raise DecisionError(f"an override is 'ship' or 'hold', not {override!r}")
    if override == verdict:
        raise DecisionError(f"the gate's verdict is already {verdict}; there is nothing to override")
    if not (note and note.strip()):
        raise DecisionError(f"deciding {override} against the gate's verdict ({verdict}) needs a note "
                            "that says why")
    return override, True


# ----------------------------------------------------------------------------- the facts


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class SheetPlan:
    """The contact sheet's rows, in order, with what the record says about each."""

    differences: tuple[PromptDifference, ...]
    rows: tuple[SheetRow, ...]


def plan_contact_sheet(inputs: GateInputs, top: int = DEFAULT_ROWS) -> SheetPlan:
    """The ``top`` prompts where the models differ most, with their clips' thumbnails."""
    prompt_ids = table_keys(inputs.scores, inputs.tags).prompt_ids if inputs.has_scores else ()
    ranked = rank_differences(inputs.scores, prompt_ids, inputs.primary, inputs.directions,
                              inputs.incumbent, inputs.candidate)[:max(0, top)]
    rows = tuple(
        SheetRow(prompt_id=d.prompt_id,
                 incumbent=inputs.thumbnails(inputs.incumbent, d.prompt_id),
                 candidate=inputs.thumbnails(inputs.candidate, d.prompt_id),
                 lean=d.lean)
        for d in ranked
    )
    return SheetPlan(differences=tuple(ranked), rows=rows)


def gate_report(inputs: GateInputs, result: GateResult) -> dict[str, Any]:
    """The gate's verdict, statistics and the context behind them (JSON-safe)."""
    stats = result.to_json()
    bench = inputs.bench
    return {
        "benchmark": bench.config.name,
        "candidate": result.candidate,
        "incumbent": result.incumbent,
        "verdict": result.verdict,
        "reasons": stats["reasons"],
        "n_prompts": stats["n_prompts"],
        "n_benchmark_prompts": stats["n_benchmark_prompts"],
        "inputs": {
            "benchmark_toml_sha256": bench.config_hash(),
            "prompts_jsonl_sha256": bench.prompts_hash(),
            "runs": inputs.runs_used(),
            "runs_requested": list(inputs.runs_requested),
            "scorer_versions": inputs.scorer_versions(),
            "workbench_version": __version__,
        },
        "rules": {
            "source": "benchmark.toml [gate]" if inputs.gate_from_config
            else "defaults (benchmark.toml has no [gate] section)",
            "directions": {s: inputs.directions.get(s) for s in inputs.primary},
            **stats["config"],
        },
        "statistics": {
            "difference": stats["difference"],
            "scorers": stats["scorers"],
            "tags": stats["tags"],
        },
        "pass_rates": stats["pass_rates"],
        "checks": stats["checks"],
        "warnings": list(inputs.warnings),
    }


def build_record(
    inputs: GateInputs, result: GateResult, sheet: SheetPlan, *, decider: str,
    decided_at: datetime, note: str | None = None, override: str | None = None,
) -> dict[str, Any]:
    """Everything a decision record holds, as a JSON-safe dict (files are named on writing)."""
    decision, overridden = final_decision(result.verdict, override, note)
    root = inputs.bench.root
    prompts = {p.id: p.text for p in inputs.bench.prompts}
    rows = []
    for number, (diff, row) in enumerate(zip(sheet.differences, sheet.rows), start=1):
        rows.append({
            "row": number,
            "prompt_id": diff.prompt_id,
            "prompt_text": prompts.get(diff.prompt_id, ""),
            "standardized_difference": diff.size,
            "candidate_better": diff.lean > 0 if diff.lean else None,
            "differences": dict(diff.differences),
            "thumbnails": {
                "incumbent": [_relative(p, root) for p in row.incumbent],
                "candidate": [_relative(p, root) for p in row.candidate],
            },
        })
    return {
        "format": RECORD_FORMAT,
        "decision": decision,
        "verdict": result.verdict,
        "overridden": overridden,
        "note": (note or "").strip(),
        "decided_by": decider,
        "decided_at": iso_utc(decided_at),
        **gate_report(inputs, result),
        "contact_sheet": {
            "file": None,
            "thumbnails_per_clip": DEFAULT_PER_CLIP,
            "ranking": "sum over primary scorers of |difference| / standard deviation of that "
                       "scorer's differences across prompts",
            "rows": rows,
        },
        "files": {},
    }


# ----------------------------------------------------------------------------- markdown


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _signed(value: float | None) -> str:
    text = format_number(value)
    return f"+{text}" if value is not None and value > 0 and text != "0" else text


def _ci(stats: Mapping[str, Any]) -> str:
    return f"{format_number(stats['ci_low'])} to {format_number(stats['ci_high'])}"


def _wtl(stats: Mapping[str, Any]) -> str:
    return f"{stats['wins']} / {stats['ties']} / {stats['losses']}"


def _p(value: float | None) -> str:
    return format_number(value) if value is not None else "n/a"


def _title(record: Mapping[str, Any]) -> str:
    cand, inc = f"`{record['candidate']}`", f"`{record['incumbent']}`"
    decision = record["decision"]
    override = " (override)" if record["overridden"] else ""
    if decision == "ship":
        return f"# Ship{override}: {cand} replaces {inc}"
    if decision == "hold":
        return f"# Hold{override}: keep {inc}, do not ship {cand}"
    return f"# Inconclusive: {cand} vs {inc}"


def _summary(record: Mapping[str, Any]) -> list[str]:
    when = record["decided_at"].replace("T", " at ").replace("Z", " UTC")
    if record["overridden"]:
        decided = (f"**Decision: {record['decision']}**, overriding the gate's verdict "
                   f"**{record['verdict']}**.")
    else:
        decided = f"**Decision: {record['decision']}**, the gate's verdict."
    lines = [
        decided,
        f"Decided by **{record['decided_by']}** on {when}. Benchmark **{record['benchmark']}**: "
        f"{record['n_prompts']} of {record['n_benchmark_prompts']} prompts have scores from both "
        "models on every primary scorer.",
        "",
    ]
    if record["note"]:
        lines += [f"> {line}" if line else ">" for line in record["note"].splitlines()] + [""]
    label = "Why the gate said " + record["verdict"]
    lines += [f"**{label}:**", ""]
    lines += [f"- {reason}" for reason in record["reasons"]] or ["- (no reasons given)"]
    return lines + [""]


def _scorer_section(record: Mapping[str, Any]) -> list[str]:
    scorers = record["statistics"]["scorers"]
    lines = ["## Primary scorers", ""]
    if not scorers:
        return lines + ["No primary scorer has scores from both models.", ""]
    gate = record["rules"]["gate"]
    margins = {name: rule for name, rule in gate.get("scorers", {}).items()}
    outcome = {c["scorer"]: c["outcome"] for c in record["checks"] if c["rule"] == "margin"}
    rows = []
    for s in scorers:
        own = margins.get(s["scorer"], {})
        rule = own.get("rule") or gate["rule"]
        margin = own.get("margin") if own.get("margin") is not None else gate["margin"]
        rows.append([
            f"`{s['scorer']}`", s["direction"], format_number(s["incumbent_mean"]),
            format_number(s["candidate_mean"]), _signed(s["mean_diff"]), _ci(s), _wtl(s),
            _p(s["sign_test_p"]), s["n"], f"{rule}, margin {format_number(margin)}",
            outcome.get(s["scorer"], "not checked"),
        ])
    confidence = format_number(scorers[0]["confidence"] * 100)
    lines += _table(
        ["Scorer", "Better", "Incumbent", "Candidate", "Difference", f"{confidence}% CI",
         "Wins / ties / losses", "Sign test p", "Prompts", "Rule", "Result"],
        rows, right=(2, 3, 4, 7, 8))
    note = record["statistics"]["difference"]
    lines += ["", f"Means are per prompt (repeats averaged). {note[:1].upper()}{note[1:]}.", ""]
    return lines


def _tag_section(record: Mapping[str, Any]) -> list[str]:
    by_tag = record["statistics"]["tags"]
    if not by_tag:
        return []
    regressed = {(c["scorer"], c["tag"]) for c in record["checks"]
                 if c["rule"] == "tag" and c["outcome"] == "fail"}
    checked = {c["scorer"] for c in record["checks"] if c["rule"] == "tag"}
    scorers = [s["scorer"] for s in record["statistics"]["scorers"]]
    rows = []
    for scorer in scorers:
        for tag, per_scorer in by_tag.items():
            if scorer not in per_scorer:
                continue
            s = per_scorer[scorer]
            if (scorer, tag) in regressed:
                status = "**regresses**"
            elif s["n"] < 2:
                status = "not checked (1 prompt)"
            elif scorer in checked:
                status = "ok"
            else:
                status = "not checked"
            rows.append([f"`{scorer}`", tag, s["n"], _signed(s["mean_diff"]), _ci(s), _wtl(s),
                         _p(s["sign_test_p"]), status])
    return ["## Tags (primary scorers)", ""] + _table(
        ["Scorer", "Tag", "Prompts", "Difference", "CI", "Wins / ties / losses", "Sign test p",
         "Tag check"], rows, right=(2, 3, 6)) + [""]


def _pass_rate_section(record: Mapping[str, Any]) -> list[str]:
    rates = record["pass_rates"]
    if not rates:
        return []
    inc, cand = record["incumbent"], record["candidate"]
    models = rates["models"]

    def cell(model: str, tag: str | None) -> str:
        data = models[model] if tag is None else models[model]["tags"][tag]
        n = rates["n_prompts"] if tag is None else data["n"]
        return f"{format_percent(data['rate'])} ({data['passed']}/{n})"

    rows = [["all prompts", cell(inc, None), cell(cand, None)]]
    tags = sorted(models[inc]["tags"]) if inc in models else []
    rows += [[tag, cell(inc, tag), cell(cand, tag)] for tag in tags]
    return (["## Threshold pass rates", "",
             "Share of prompts whose clip passes every threshold.", ""]
            + _table(["Prompts", f"`{inc}` (incumbent)", f"`{cand}` (candidate)"], rows,
                     right=(1, 2)) + [""])


def _sheet_section(record: Mapping[str, Any]) -> list[str]:
    sheet = record["contact_sheet"]
    lines = ["## Where the models differ most", ""]
    if not sheet["file"]:
        return lines + ["No contact sheet: no prompt has scores from both models on a primary "
                        "scorer.", ""]
    inc, cand = record["incumbent"], record["candidate"]
    lines += [
        f"![Contact sheet: {inc} on the left, {cand} on the right]({sheet['file']})", "",
        f"One row per prompt, in the order below: `{inc}` (incumbent, blue bar) on the left, "
        f"`{cand}` (candidate, orange bar) on the right, {sheet['thumbnails_per_clip']} "
        "thumbnails from start to end of each clip. The strip at the left of a row is green "
        "where the prompt's standardized differences favour the candidate and red where they "
        "favour the incumbent; a grey tile with a cross has no thumbnail (the clip failed or is "
        "not scored).", "",
    ]
    scorers = list(sheet["rows"][0]["differences"]) if sheet["rows"] else []
    rows = []
    for row in sheet["rows"]:
        text = row["prompt_text"]
        if len(text) > PROMPT_TEXT_CHARS:
            text = text[:PROMPT_TEXT_CHARS - 1].rstrip() + "…"
        better = {True: cand, False: inc, None: "neither"}[row["candidate_better"]]
        rows.append([row["row"], f"`{row['prompt_id']}`: {text}",
                     *(_signed(row["differences"].get(s)) for s in scorers),
                     format_number(row["standardized_difference"]), better])
    lines += _table(["Row", "Prompt", *(f"`{s}` difference" for s in scorers),
                     "Standardized size", "Favours"], rows,
                    right=tuple(range(2, 3 + len(scorers))))
    return lines + ["", f"Ranking: {sheet['ranking']}.", ""]


def _inputs_section(record: Mapping[str, Any]) -> list[str]:
    inputs = record["inputs"]

    def runs(role: str) -> str:
        return ", ".join(f"`{r}`" for r in inputs["runs"].get(role, [])) or "none"

    rows = [
        [f"`{CONFIG_FILE}` sha256", f"`{inputs['benchmark_toml_sha256']}`"],
        [f"`{PROMPTS_FILE}` sha256", f"`{inputs['prompts_jsonl_sha256']}`"],
        [f"Runs of `{record['incumbent']}` (incumbent)", runs("incumbent")],
        [f"Runs of `{record['candidate']}` (candidate)", runs("candidate")],
        ["Runs asked for", ", ".join(f"`{r}`" for r in inputs["runs_requested"])
         or "all (newest run per clip)"],
        ["Scorer versions", ", ".join(f"`{v}`" for v in inputs["scorer_versions"]) or "none"],
        ["workbench version", f"`{inputs['workbench_version']}`"],
        ["Decided at (UTC)", f"`{record['decided_at']}`"],
    ]
    return ["## Inputs", ""] + _table(["What", "Value"], rows) + [""]


def _rules_section(record: Mapping[str, Any]) -> list[str]:
    rules = record["rules"]
    gate = rules["gate"]
    per = gate.get("scorers", {})
    rows = []
    for scorer in gate["primary"]:
        own = per.get(scorer, {})
        margin = own.get("margin") if own.get("margin") is not None else gate["margin"]
        allowance = own.get("tag_allowance")
        if allowance is None:
            allowance = gate["tag_allowance"] if gate["tag_allowance"] is not None else margin
        rows.append([f"`{scorer}`", rules["directions"].get(scorer) or "unknown",
                     own.get("rule") or gate["rule"], format_number(margin),
                     format_number(allowance)])
    lines = [f"## Gate rules ({rules['source']})", ""]
    lines += _table(["Primary scorer", "Better", "Rule", "Margin", "Tag allowance"], rows,
                    right=(3, 4))
    must = "must not fall" if gate["pass_rate_must_not_fall"] else "is not checked"
    lines += ["", f"At least {gate['min_prompts']} paired prompts; "
              f"{format_number(gate['confidence'] * 100)}% confidence from {gate['resamples']} "
              f"bootstrap resamples of prompts (seed {gate['seed']}); the candidate's threshold "
              f"pass rate {must}.", ""]
    thresholds = rules["thresholds"]
    lines += ["## Thresholds", ""]
    if not thresholds:
        return lines + ["None set.", ""]
    rows = []
    for scorer, t in thresholds.items():
        overrides = "; ".join(
            f"{tag}: " + ", ".join(f"{k} {format_number(v)}" for k, v in b.items() if v is not None)
            for tag, b in (t.get("tags") or {}).items()) or "none"
        rows.append([f"`{scorer}`", format_number(t.get("min")) if t.get("min") is not None else "",
                     format_number(t.get("max")) if t.get("max") is not None else "", overrides])
    return lines + _table(["Scorer", "Min", "Max", "Per-tag overrides"], rows, right=(1, 2)) + [""]


def _checks_section(record: Mapping[str, Any]) -> list[str]:
    lines = ["## Every check", ""]
    for c in record["checks"]:
        where = ", ".join(x for x in (c["rule"].replace("_", " "), c["scorer"],
                                      f"tag {c['tag']}" if c["tag"] else None) if x)
        lines.append(f"- **{c['outcome']}** ({where}): {c['message']}")
    if not record["checks"]:
        lines.append("- none")
    return lines + [""]


def record_markdown(record: Mapping[str, Any]) -> str:
    """The record for people: a short summary first, then the tables."""
    lines = [_title(record), ""] + _summary(record)
    lines += _scorer_section(record) + _tag_section(record) + _pass_rate_section(record)
    lines += _sheet_section(record) + _inputs_section(record) + _rules_section(record)
    lines += _checks_section(record)
    if record["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in record["warnings"]] + [""]
    files = record["files"]
    if files.get("json"):
        lines += [f"The same facts for programs: [{files['json']}]({files['json']}).", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# ----------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class RecordFiles:
    markdown: Path
    json: Path
    contact_sheet: Path | None


def record_stem(record: Mapping[str, Any]) -> str:
    """``<UTC date>-<candidate>-vs-<incumbent>`` (model ids are slugs, safe in file names)."""
    return f"{record['decided_at'][:10]}-{record['candidate']}-vs-{record['incumbent']}"


def _claim(path: Path) -> bool:
    """Create ``path`` empty if it does not exist; False if it does."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def _claim_names(directory: Path, base: str, with_sheet: bool) -> tuple[str, list[Path]]:
    """The first free stem (``base``, ``base-2``, ...) with every file of it claimed."""
    suffixes = [".md", ".json"] + ([".png"] if with_sheet else [])
    number = 1
    while True:
        stem = base if number == 1 else f"{base}-{number}"
        claimed: list[Path] = []
        for suffix in suffixes:
            path = directory / f"{stem}{suffix}"
            if not _claim(path):
                break
            claimed.append(path)
        else:
            return stem, claimed
        for path in claimed:  # a stray file of this stem exists: give the rest back
            path.unlink(missing_ok=True)
        number += 1


def write_record(decisions_dir: Path, record: dict[str, Any], sheet: SheetPlan) -> RecordFiles:
    """Write the .md, .json and (when there are rows) .png; never replaces an earlier record."""
    decisions_dir = Path(decisions_dir)
    with_sheet = bool(sheet.rows)
    try:
        decisions_dir.mkdir(parents=True, exist_ok=True)
        stem, claimed = _claim_names(decisions_dir, record_stem(record), with_sheet)
    except OSError as exc:
        raise DecisionError(f"{decisions_dir}: cannot write the decision record "
                            f"({exc.strerror or exc})") from None
    md_path, json_path = decisions_dir / f"{stem}.md", decisions_dir / f"{stem}.json"
    png_path = decisions_dir / f"{stem}.png" if with_sheet else None
    record["files"] = {"markdown": md_path.name, "json": json_path.name,
                       "contact_sheet": png_path.name if png_path else None}
    record["contact_sheet"]["file"] = png_path.name if png_path else None
    try:
        if png_path is not None:
            write_contact_sheet(png_path, sheet.rows, DEFAULT_PER_CLIP)
        atomic_write_text(json_path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        atomic_write_text(md_path, record_markdown(record))
    except BaseException as exc:
        for path in claimed:
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise DecisionError(f"{decisions_dir}: cannot write the decision record "
                                f"({exc.strerror or exc})") from None
        raise
    return RecordFiles(markdown=md_path, json=json_path, contact_sheet=png_path)

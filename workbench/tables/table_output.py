"""Score tables as text: CSV and JSON (long format), Markdown and terminal text (wide, per prompt)."""

from __future__ import annotations

import json
import math
from typing import Any

import polars as pl

CSV_COLUMNS = ["prompt_id", "model", "repeat", "scorer", "value", "passed", "error"]
JSON_COLUMNS = ["run", "model", "prompt_id", "repeat", "scorer", "version", "value", "passed", "error"]
PASS_MARK = "✓"
FAIL_MARK = "✗"
MAX_PROMPT_WIDTH = 32


def csv_text(df: pl.DataFrame) -> str:
    """Long format, exactly :data:`CSV_COLUMNS`; empty fields where a value or verdict is missing."""
    frame = df.select([c for c in CSV_COLUMNS if c in df.columns])
    if "passed" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("passed"))
    return frame.select(CSV_COLUMNS).write_csv(null_value="")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(df: pl.DataFrame) -> str:
    """A JSON list of long-format records."""
    columns = [c for c in JSON_COLUMNS if c in df.columns]
    records = [{k: _clean(v) for k, v in row.items()} for row in df.select(columns).iter_rows(named=True)]
    return json.dumps(records, ensure_ascii=False, indent=1)


def format_value(value: float | None) -> str:
    """Rounded to what a reader can compare at a glance: about three significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value) and magnitude >= 10:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1 or magnitude == 0:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_cell(value: float | None, passed: int | None, judged: int | None, errors: int | None) -> str:
    """A value with its verdict: ``0.931 ✓``, ``0.812 ✗``, ``0.874 2/3`` (2 of 3 repeats pass)."""
    errors = errors or 0
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "error" if errors else "-"
    text = format_value(value)
    if judged:
        if passed == judged:
            text += f" {PASS_MARK}"
        elif not passed:
            text += f" {FAIL_MARK}"
        else:
            text += f" {passed}/{judged}"
    if errors:
        text += "!"
    return text


def _grid(
    wide: pl.DataFrame, scorers: list[str], max_prompt: int | None,
) -> tuple[list[str], list[list[str]], dict[str, bool]]:
    show_repeats = "repeats" in wide.columns and wide.get_column("repeats").max() not in (None, 1)
    header = ["prompt", "model"] + (["n"] if show_repeats else []) + scorers
    body: list[list[str]] = []
    flags = {"verdicts": False, "errors": False}
    previous_prompt = None
    for row in wide.iter_rows(named=True):
        prompt = row["prompt_id"]
        shown = "" if prompt == previous_prompt else prompt
        if max_prompt and len(shown) > max_prompt:
            shown = shown[: max_prompt - 1] + "…"
        previous_prompt = prompt
        cells = [shown, row["model"]] + ([str(row["repeats"])] if show_repeats else [])
        for scorer in scorers:
            cells.append(format_cell(row.get(scorer), row.get(f"{scorer}:passed"),
                                     row.get(f"{scorer}:judged"), row.get(f"{scorer}:errors")))
            flags["errors"] |= bool(row.get(f"{scorer}:errors"))
            flags["verdicts"] |= bool(row.get(f"{scorer}:judged")) and row.get(scorer) is not None
        body.append(cells)
    return header, body, flags


def _legend(flags: dict[str, bool]) -> str:
    parts = []
    if flags["verdicts"]:
        parts.append(f"{PASS_MARK} pass, {FAIL_MARK} fail, k/n: k of n repeats pass (thresholds from benchmark.toml)")
    if flags["errors"]:
        parts.append("!: the scorer failed on some repeat")
    return "; ".join(parts)


def markdown_text(wide: pl.DataFrame, scorers: list[str]) -> str:
    """A Markdown pipe table, one row per (prompt, model)."""
    header, body, flags = _grid(wide, scorers, None)
    key_columns = len(header) - len(scorers)

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    align = ["---"] * key_columns + ["---:"] * len(scorers)
    lines = [line(header), "|" + "|".join(align) + "|"] + [line(r) for r in body]
    legend = _legend(flags)
    return "\n".join(lines) + ("\n\n" + legend if legend else "") + "\n"


def split_header(name: str) -> tuple[str, str]:
    """A scorer name over two lines, broken after a '_' or '.' so the longer line is shortest."""
    best = (name, "")
    for i, char in enumerate(name[:-1]):
        if char in "_.":
            top, bottom = name[: i + 1], name[i + 1:]
            if max(len(top), len(bottom)) < max(len(best[0]), len(best[1])):
                best = (top, bottom)
    return best


def terminal_text(wide: pl.DataFrame, scorers: list[str], width: int = 120) -> str:
    """Aligned columns with scorer names over two lines; scorers that do not fit in ``width``
    continue in further blocks, each repeating the prompt and model columns."""
    header, body, flags = _grid(wide, scorers, MAX_PROMPT_WIDTH)
    key_count = len(header) - len(scorers)
    top = [""] * key_count + [split_header(s)[0] for s in scorers]
    bottom = header[:key_count] + [split_header(s)[1] for s in scorers]
    widths = [max(len(top[i]), len(bottom[i]), *(len(r[i]) for r in body)) for i in range(len(header))]
    key_width = sum(widths[:key_count]) + 2 * key_count
    blocks: list[list[int]] = [[]]
    used = key_width
    for i in range(key_count, len(header)):
        need = widths[i] + 2
        if blocks[-1] and used + need > width:
            blocks.append([])
            used = key_width
        blocks[-1].append(i)
        used += need
    out: list[str] = []
    for block in blocks:
        columns = list(range(key_count)) + block

        def line(cells: list[str]) -> str:
            parts = []
            for i in columns:
                cell = cells[i]
                parts.append(cell.ljust(widths[i]) if i < key_count else cell.rjust(widths[i]))
            return "  ".join(parts).rstrip()

        if out:
            out.append("")
        if any(top[i] for i in block) and any(bottom[i] for i in block):
            out.append(line(top))
            out.append(line(bottom))
        else:
            out.append(line(header))
        out.append("  ".join("-" * widths[i] for i in columns))
        out.extend(line(r) for r in body)
    legend = _legend(flags)
    if legend:
        out.extend(["", legend])
    return "\n".join(out) + "\n"

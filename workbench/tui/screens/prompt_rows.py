"""What the Prompts list shows: its columns and one row per prompt (mark, id, tags, text, and
a short mark per model for the latest result), and the same results in words for the detail."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from workbench.benchmark.prompts import Prompt
from workbench.latest_results import LatestResult, LatestResults
from workbench.tables.table_output import FAIL_MARK, PASS_MARK
from workbench.tui.widgets.virtual_table import Column, Row

MARK = "●"
NOT_RUN = "-"
MIN_TEXT_WIDTH = 16

#: outcome of a model's latest clip -> (what its column shows, the cell style)
RESULT_LABELS: dict[str, tuple[str, str | None]] = {
    "pass": (PASS_MARK, "pass"), "fail": (FAIL_MARK, "fail"), "scored": ("•", None),
    "unscored": ("?", "warn"), "failed": ("failed", "fail"), "skipped": ("skip", "warn"),
    "pending": ("wait", "warn"),
}
#: the same in words, for the detail pane
RESULT_WORDS = {
    "pass": "passes the thresholds", "fail": "fails", "scored": "scored (no threshold applies)",
    "unscored": "not scored yet", "failed": "generation failed", "skipped": "skipped",
    "pending": "still with the provider",
}
#: per width class of the screen: caps on the id, tags and model-name columns
WIDTH_CAPS = {"-narrow": (16, 10, 5), "-medium": (26, 20, 9), "-wide": (32, 26, 12)}


def param_summary(prompt: Prompt) -> str:
    """The generation params a prompt sets, compactly: ``seed 7 · 4s · 1280x720``."""
    parts: list[str] = []
    if prompt.seed is not None:
        parts.append(f"seed {prompt.seed}")
    if prompt.duration is not None:
        parts.append(f"{prompt.duration:g}s")
    if prompt.resolution:
        parts.append(prompt.resolution)
    if prompt.aspect_ratio:
        parts.append(prompt.aspect_ratio)
    if prompt.fps is not None:
        parts.append(f"{prompt.fps}fps")
    if prompt.negative_prompt:
        parts.append("neg")
    return " · ".join(parts)


def result_label(results: LatestResults | None, prompt_id: str, model: str) -> tuple[str, str | None]:
    """What one model's column shows for one prompt, and its style (``-``: never run)."""
    outcome = results.outcome(prompt_id, model) if results is not None else None
    if outcome is None:
        return NOT_RUN, "muted"
    return RESULT_LABELS[outcome]


def describe_result(result: LatestResult | None) -> list[str | tuple[str, str]]:
    """One model's latest result in words, as Content parts (``$success``-style colours)."""
    if result is None:
        return [("- not run", "$text-muted")]
    label, style = RESULT_LABELS[result.outcome]
    words = f"{label} {RESULT_WORDS[result.outcome]}"
    colour = {"pass": "$success", "fail": "$error", "warn": "$warning"}.get(style or "")
    out: list[str | tuple[str, str]] = [(words, colour) if colour else words]
    if result.reason:
        out.append(f": {result.reason}")
    if result.run_id:
        out.append((f"  (run {result.run_id})", "$text-muted"))
    return out


def prompt_columns(prompts: Sequence[Prompt], results: LatestResults | None,
                   width_class: str) -> list[Column]:
    """Mark, id, tags, text (the flexible one), then one short column per model."""
    id_cap, tags_cap, model_cap = WIDTH_CAPS[width_class]
    columns = [
        Column("mark", " ", 1),
        Column("id", "id", min(max([2, *(len(p.id) for p in prompts)]), id_cap)),
        Column("tags", "tags", min(max([4, *(len(", ".join(p.tags)) for p in prompts)]), tags_cap)),
        Column("text", "text", None, MIN_TEXT_WIDTH),
    ]
    for model in results.models if results is not None else ():
        labels = {result_label(results, p.id, model)[0] for p in prompts}
        width = max([min(len(model), model_cap), *map(len, labels)])
        columns.append(Column(f"model:{model}", model, width, align="center"))
    return columns


def prompt_row(prompt: Prompt, results: LatestResults | None, marked: Collection[str]) -> Row:
    cells = [MARK if prompt.id in marked else "", prompt.id, ", ".join(prompt.tags), prompt.text]
    styles: list[str | None] = ["accent", None, "muted", None]
    for model in results.models if results is not None else ():
        label, style = result_label(results, prompt.id, model)
        cells.append(label)
        styles.append(style)
    return Row(prompt.id, tuple(cells), tuple(styles))

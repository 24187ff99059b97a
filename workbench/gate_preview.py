"""The release gate re-run under thresholds being edited, for a live verdict while tuning.

:func:`prepare_gate_preview` resolves the benchmark's ``[gate]`` once over an already loaded
scores table; :meth:`GatePreview.evaluate` then runs the real gate
(:func:`workbench.decide.gate.evaluate_gate`, bootstrap included) with whatever thresholds
are given. Thresholds only enter the gate through its pass-rate rule, but the whole gate
runs, so the verdict is exactly what ``workbench gate`` would say once they are saved.
The evaluation takes a fraction of a second on thousands of prompts: call it from a worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from workbench.benchmark.config import GateConfig, Threshold
from workbench.benchmark.folder import Benchmark
from workbench.decide.gate import evaluate_gate
from workbench.decide.gate_inputs import resolve_gate, scorer_directions
from workbench.decide.gate_result import GateResult
from workbench.errors import WorkbenchError


class GatePreviewUnavailable(WorkbenchError):
    """The benchmark has no gate to preview (no ``[gate]``, or its scorers cannot be listed)."""


@dataclass(frozen=True)
class GatePreview:
    """The gate rules in force and the scores they judge; thresholds come with each call."""

    scores: pl.DataFrame = field(repr=False)
    tags: Mapping[str, tuple[str, ...]] = field(repr=False)
    gate: GateConfig
    directions: Mapping[str, str] = field(repr=False)

    @property
    def candidate(self) -> str:
        return self.gate.candidate

    @property
    def incumbent(self) -> str:
        return self.gate.incumbent

    def evaluate(self, thresholds: Mapping[str, Threshold]) -> GateResult:
        """The gate's verdict with these thresholds (raises GateConfigError for a broken gate)."""
        return evaluate_gate(self.scores, self.tags, self.gate, thresholds, self.directions)


def prepare_gate_preview(bench: Benchmark, scores: pl.DataFrame) -> GatePreview:
    """The gate of ``bench`` over ``scores`` (the table of
    :func:`workbench.tables.score_table.load_table`, human rows included, as the gate reads it).

    Raises :class:`GatePreviewUnavailable` without a ``[gate]`` section, and the errors of
    :func:`workbench.decide.gate_inputs.resolve_gate` for a gate naming unknown models.
    """
    if bench.config.gate is None:
        raise GatePreviewUnavailable(
            f"{bench.config_path.name} has no [gate] section (incumbent, candidate, primary), "
            "so there is no verdict to follow")
    try:
        directions = scorer_directions(bench)
    except WorkbenchError as error:
        raise GatePreviewUnavailable(f"the scorers' directions are unknown: {error}") from error
    scored = scores.get_column("model").unique().to_list() if scores.height else []
    gate, _ = resolve_gate(bench, directions, None, None, scored)
    return GatePreview(scores=scores, tags=bench.prompt_tags(), gate=gate, directions=directions)

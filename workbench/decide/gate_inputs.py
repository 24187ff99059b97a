"""Everything the release gate reads from a benchmark folder, gathered in one place.

The scores table (automated scorers and human judgments), the prompts' tags, each
scorer's direction, the gate rules (``[gate]``, or defaults when the models are named
on the command line), the runs behind each model's scores, and where each clip's
thumbnails live (for the decision record's contact sheet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from workbench.benchmark.config import GateConfig, Threshold
from workbench.benchmark.folder import Benchmark
from workbench.engine.runs import RunRecord, load_run
from workbench.decide.gate import evaluate_gate
from workbench.decide.gate_result import GateResult
from workbench.errors import NotFound, WorkbenchError
from workbench.judgments.human_scores import HUMAN_SCORER_NAMES
from workbench.media.thumbnails import thumbnails_dir_for
from workbench.scorers.registry import available_scorers
from workbench.tables.score_table import load_table

HUMAN_DIRECTION = "higher"
"""human.rating, human.pass and human.preference: more is better."""


class GateInputError(WorkbenchError):
    """The gate cannot be run as asked (no gate rules, unknown model)."""


@dataclass(frozen=True)
class GateInputs:
    """What :func:`workbench.decide.gate.evaluate_gate` needs, plus the context of a record."""

    bench: Benchmark
    scores: pl.DataFrame
    """Long table: run, model, prompt_id, repeat, scorer, version, value, error, passed."""
    tags: Mapping[str, tuple[str, ...]]
    directions: Mapping[str, str]
    gate: GateConfig
    gate_from_config: bool
    """False when ``[gate]`` is absent and default rules were built from the models given."""
    thresholds: Mapping[str, Threshold]
    candidate: str
    incumbent: str
    runs_requested: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)
    _runs: dict[str, RunRecord] = field(default_factory=dict, repr=False, compare=False)

    @property
    def primary(self) -> list[str]:
        return list(dict.fromkeys(self.gate.primary))

    @property
    def has_scores(self) -> bool:
        return self.scores.height > 0

    def runs_used(self) -> dict[str, list[str]]:
        """Run ids behind each model's scores: ``{"incumbent": [...], "candidate": [...]}``."""
        used = {}
        for role, model in (("incumbent", self.incumbent), ("candidate", self.candidate)):
            runs = (self.scores.filter(pl.col("model") == model).get_column("run")
                    .drop_nulls().unique().sort().to_list())
            used[role] = runs
        return used

    def scorer_versions(self) -> list[str]:
        """``name@version`` of every scorer with scores for either model (sorted)."""
        rows = (self.scores.filter(pl.col("model").is_in([self.incumbent, self.candidate]))
                .select("scorer", "version").unique().sort("scorer", "version"))
        return [f"{name}@{version or '?'}" for name, version in rows.iter_rows()]

    def thumbnails(self, model: str, prompt_id: str) -> list[Path]:
        """The thumbnails of one clip of ``model`` for ``prompt_id`` (lowest repeat that has any).

        The clip is the one the scores table uses (same run). Empty when the clip
        was never made, failed, or is not scored yet (thumbnails come with scoring).
        """
        clips = (self.scores.filter((pl.col("model") == model) & (pl.col("prompt_id") == prompt_id)
                                    & pl.col("run").is_not_null())
                 .select("run", "repeat").unique().sort("repeat", "run").iter_rows())
        for run_id, repeat in clips:
            record = self._run(run_id)
            job = record.job(model, prompt_id, repeat) if record is not None else None
            if job is None or job.video is None:
                continue
            folder = thumbnails_dir_for(job.video)
            found = sorted(p for p in folder.glob("*.png") if p.stem.isdigit()) if folder.is_dir() else []
            if found:
                return found
        return []

    def _run(self, run_id: str) -> RunRecord | None:
        if run_id not in self._runs:
            try:
                self._runs[run_id] = load_run(self.bench, run_id)
            except NotFound:
                return None
        return self._runs[run_id]


def scorer_directions(bench: Benchmark) -> dict[str, str]:
    """Direction of every known scorer (built-in, plugin, external) and the human ones."""
    directions = {name: info.direction
                  for name, info in available_scorers(bench.config.scoring.external).items()}
    for name in HUMAN_SCORER_NAMES:
        directions[name] = HUMAN_DIRECTION
    return directions


def default_primary(bench: Benchmark, directions: Mapping[str, str]) -> list[str]:
    """Without ``[gate]``: every enabled scorer whose direction says which way is better."""
    return [s for s in bench.config.scorers if directions.get(s) in ("higher", "lower")]


def _check_model(bench: Benchmark, known_scored: Sequence[str], model: str, option: str) -> None:
    if model in bench.config.models or model in known_scored:
        return
    listed = ", ".join(sorted(set(bench.config.models) | set(known_scored))) or "none"
    raise GateInputError(f"{option} {model}: unknown model in {bench.config_path} (models: {listed})")


def resolve_gate(
    bench: Benchmark, directions: Mapping[str, str], candidate: str | None,
    incumbent: str | None, scored_models: Sequence[str] = (),
) -> tuple[GateConfig, bool]:
    """The gate rules in force, and whether they come from ``[gate]``.

    Raises :class:`GateInputError` when there is no ``[gate]`` and a model is not named,
    for a model id the benchmark does not know, and when both sides are the same model.
    """
    configured = bench.config.gate
    if configured is None and (candidate is None or incumbent is None):
        missing = " and ".join(f"--{n}" for n, v in (("candidate", candidate), ("incumbent", incumbent))
                               if v is None)
        raise GateInputError(
            f"{bench.config_path}: no [gate] section; add one (incumbent, candidate, primary) or "
            f"pass {missing}"
        )
    for model, option in ((candidate, "--candidate"), (incumbent, "--incumbent")):
        if model is not None:
            _check_model(bench, scored_models, model, option)
    cand = candidate or configured.candidate
    inc = incumbent or configured.incumbent
    if cand == inc:
        raise GateInputError(f"the candidate and the incumbent are the same model ('{cand}'); "
                             "compare two different models")
    if configured is not None:
        return configured.model_copy(update={"candidate": cand, "incumbent": inc}), True
    primary = default_primary(bench, directions)
    if not primary:
        raise GateInputError(
            f"{bench.config_path}: no [gate] section and no enabled scorer says which way is better "
            "(higher or lower), so there is nothing to compare; add a [gate] section with 'primary'"
        )
    return GateConfig(incumbent=inc, candidate=cand, primary=primary), False


def gather_gate_inputs(
    bench: Benchmark, *, candidate: str | None = None, incumbent: str | None = None,
    runs: Sequence[str] | None = None,
) -> GateInputs:
    """Load the scores (of ``runs``, default: the newest run per clip) and resolve the gate.

    Unknown runs raise :class:`~workbench.errors.NotFound`; see :func:`resolve_gate` for
    the other input errors.
    """
    warnings: list[str] = []
    scores = load_table(bench, runs=list(runs) if runs else None, warnings=warnings)
    directions = scorer_directions(bench)
    scored_models = scores.get_column("model").unique().to_list() if scores.height else []
    gate, from_config = resolve_gate(bench, directions, candidate, incumbent, scored_models)
    return GateInputs(
        bench=bench,
        scores=scores,
        tags=bench.prompt_tags(),
        directions=directions,
        gate=gate,
        gate_from_config=from_config,
        thresholds=dict(bench.config.thresholds),
        candidate=gate.candidate,
        incumbent=gate.incumbent,
        runs_requested=tuple(runs or ()),
        warnings=warnings,
    )


def no_scores_reason(bench: Benchmark) -> str:
    return (f"there are no scores yet: run `workbench run {bench.root}` then "
            f"`workbench score {bench.root}`")


def evaluate_inputs(inputs: GateInputs) -> GateResult:
    """Run the gate on gathered inputs; with no scores at all the first reason says so."""
    result = evaluate_gate(inputs.scores, inputs.tags, inputs.gate, inputs.thresholds,
                           inputs.directions)
    if not inputs.has_scores:
        result = replace(result, reasons=(no_scores_reason(inputs.bench), *result.reasons))
    return result

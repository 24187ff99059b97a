"""Which interrupted runs would resume if their models and repeats were started again."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workbench.benchmark.folder import Benchmark
from workbench.engine.plan import plan_run
from workbench.engine.runs import RunInfo
from workbench.errors import WorkbenchError


def resumable_runs(root: Path, runs: Sequence[RunInfo]) -> set[str]:
    """The interrupted runs that starting their models and repeats again would resume
    (the engine resumes the newest unfinished run with the same plan and prompts)."""
    interrupted = [info for info in runs if info.status == "interrupted"]
    if not interrupted:
        return set()
    try:
        bench = Benchmark.load(root)
    except WorkbenchError:
        return set()
    found: set[str] = set()
    tried: set[tuple[tuple[str, ...], int]] = set()
    for info in interrupted:
        plan_of = (tuple(sorted(info.models)), info.repeats)
        if plan_of in tried:
            continue
        tried.add(plan_of)
        try:
            plan = plan_run(bench, info.models, info.repeats)
        except WorkbenchError:
            continue  # a model is gone from benchmark.toml, say: not resumable as it was
        if plan.resume_run_id:
            found.add(plan.resume_run_id)
    return found

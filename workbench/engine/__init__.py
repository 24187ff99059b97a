"""The run engine: plan, run, resume and read back benchmark runs.

Entry points::

    plan = plan_run(bench, models, repeats)        # jobs, cache hits, estimated cost
    summary = await run_benchmark(bench, ...)      # or run_benchmark_sync(bench, ...)
    list_runs(bench), load_run(bench, run_id), latest_job_records(bench)
"""

from __future__ import annotations

from workbench.engine.backoff import RetryPolicy
from workbench.engine.cost import BudgetExceeded
from workbench.engine.events import ModelProgress, RunEvent
from workbench.engine.plan import ModelPlan, RunPlan, plan_run
from workbench.engine.run_lock import RunInProgress
from workbench.engine.runner import JobFailure, RunSummary, run_benchmark, run_benchmark_sync
from workbench.engine.runs import (
    JobRecord, RunInfo, RunRecord, latest_job_records, list_runs, load_run,
)

__all__ = [
    "BudgetExceeded", "JobFailure", "JobRecord", "ModelPlan", "ModelProgress", "RetryPolicy",
    "RunEvent", "RunInProgress", "RunInfo", "RunPlan", "RunRecord", "RunSummary",
    "latest_job_records", "list_runs", "load_run", "plan_run", "run_benchmark",
    "run_benchmark_sync",
]

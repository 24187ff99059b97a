"""Running a benchmark: every model x prompt x repeat job, concurrently and durably.

* Concurrency: a global limit plus each model's ``max_concurrency``; each
  model's ``requests_per_minute`` spaces its provider calls.
* Retries: transient errors back off (exponential, full jitter, Retry-After
  honoured); permanent errors fail the job at once; a provider bug fails the
  job, never the run.
* Durability: every state change is one fsynced journal event. A hosted job
  is journaled just before and right after it is submitted, so an interrupted
  run resumes by polling it and nothing is ever submitted twice (see
  :mod:`workbench.engine.session`).
* Cache: clips are content-addressed; a job whose clip is cached makes no
  provider call. Clips reach the run folder by hardlink.
* Budget: a run estimated over budget is refused; submitting stops once the
  money committed reaches the budget (the rest are skipped: budget).
"""

from __future__ import annotations

import asyncio
import os
import secrets as token_source
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.benchmark.folder import Benchmark
from workbench.engine import events as ev
from workbench.engine.backoff import RetryPolicy
from workbench.engine.cost import Budget, check_estimate, format_money
from workbench.engine.events import RunEvent
from workbench.engine.journal import JOURNAL_FILE, Journal
from workbench.engine.manifest import (
    MANIFEST_FILE, now_iso, public_model_config, read_manifest, write_manifest,
)
from workbench.engine.plan import RunPlan, model_setups, plan_run
from workbench.engine.redaction import Scrubber
from workbench.engine.run_lock import RunLock
from workbench.engine.session import UNCERTAIN_SUBMIT, RunSession, describe_error
from workbench.engine.video_cache import VideoCache, remove_link_temps
from workbench.errors import WorkbenchError
from workbench.providers.base import Provider
from workbench.secrets import redact

__all__ = ["JobFailure", "RunStorageError", "RunSummary", "UNCERTAIN_SUBMIT", "new_run_id",
           "run_benchmark", "run_benchmark_sync"]


class RunStorageError(WorkbenchError):
    """The run folder or cache could not be written (disk full, permissions)."""


@dataclass(frozen=True)
class JobFailure:
    model: str
    prompt_id: str
    repeat: int
    error: str


@dataclass(frozen=True)
class RunSummary:
    """How a run (or one session of a resumed run) ended."""

    run_id: str | None
    run_dir: Path | None
    status: str  # finished | interrupted | failed | dry-run
    resumed: bool
    total: int
    succeeded: int
    cached: int  # served from the video cache this session (included in succeeded)
    failed: int
    skipped: int
    pending: int
    provider_calls: int  # generate / submit / poll / download calls this session
    cost: float  # money committed this session
    estimated_cost: float
    elapsed_s: float
    failures: tuple[JobFailure, ...]
    plan: RunPlan

    @property
    def ok(self) -> bool:
        return self.status in ("finished", "dry-run") and self.failed == 0 and self.skipped == 0 \
            and self.pending == 0

    def headline(self) -> str:
        """One sentence on how the run ended, for any front end."""
        parts = [f"{self.succeeded} succeeded"]
        if self.cached:
            parts[0] += f" ({self.cached} from the cache)"
        parts.append(f"{self.failed} failed")
        if self.skipped:
            parts.append(f"{self.skipped} skipped (budget)")
        if self.pending:
            parts.append(f"{self.pending} not run")
        verb = "resumed and " if self.resumed else ""
        calls = f"{self.provider_calls} provider call{'s' if self.provider_calls != 1 else ''}"
        return (f"run {self.run_id} {verb}{self.status} in {self.elapsed_s:.1f} s: {', '.join(parts)}; "
                f"{calls}; spent {format_money(self.cost)}")


def new_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{token_source.token_hex(2)}"


# ------------------------------------------------------------------ the run
def _manifest(
    bench: Benchmark, plan: RunPlan, run_id: str, created: str, status: str, sessions: int,
    scrubber: Scrubber, concurrency: int, budget: float | None, counts: dict[str, int] | None,
    cost: float, ended: str | None,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": status,
        "created": created,
        "ended": ended,
        "benchmark": bench.config.name,
        "benchmark_sha256": bench.config_hash(),
        "prompts_sha256": bench.prompts_hash(),
        "models": list(plan.models),
        "model_configs": {m: public_model_config(bench.config.models[m], scrubber) for m in plan.models},
        "prompt_ids": [p.id for p in bench.prompts],
        "repeats": plan.repeats,
        "concurrency": concurrency,
        "budget": budget,
        "jobs": counts or {"total": len(plan.jobs)},
        "cost": round(cost, 6),
        "estimated_cost": round(plan.estimated_cost, 6),
        "sessions": sessions,
        "workbench_version": __version__,
    }


def _check_environment(bench: Benchmark, plan: RunPlan, providers: dict[str, Provider]) -> None:
    """Refuse to start when a model with work to do lacks an environment variable it needs."""
    missing: list[str] = []
    for model in plan.per_model:
        if model.to_generate + model.in_flight == 0:
            continue
        for name in providers[model.model].required_env():
            if not os.environ.get(name, "").strip():
                missing.append(f"{name} (models.{model.model}, provider {model.provider})")
    if missing:
        raise WorkbenchError(
            f"{bench.config_path}: environment variable{'s' if len(missing) > 1 else ''} not set: "
            f"{'; '.join(missing)}. Export the key before running (it is never written to a file), "
            "or leave the model out with --model.")


def _make_providers(bench: Benchmark, plan: RunPlan) -> dict[str, Provider]:
    setups = model_setups(bench, list(plan.models))
    providers: dict[str, Provider] = {}
    for model_id, setup in setups.items():
        try:
            provider = setup.provider_cls(model_id, setup.params)
        except WorkbenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - report which model could not start
            raise WorkbenchError(f"{bench.config_path}: models.{model_id}: provider "
                                 f"{setup.config.provider!r} could not start: "
                                 f"{redact(describe_error(exc))}") from None
        bind = getattr(provider, "bind_benchmark", None)
        if callable(bind):
            bind(bench.root)
        providers[model_id] = provider
    return providers


async def run_benchmark(
    bench: Benchmark,
    *,
    models: Iterable[str] | None = None,
    repeats: int | None = None,
    concurrency: int | None = None,
    budget: float | None = None,
    dry_run: bool = False,
    on_event: Callable[[RunEvent], None] | None = None,
    retry: RetryPolicy | None = None,
    retry_uncertain: bool = False,
) -> RunSummary:
    """Run (or resume) a benchmark's jobs; see the module docstring.

    ``budget`` (default ``[run].budget``) caps what this invocation may commit.
    ``retry`` sets attempts and backoff times for every provider call.
    ``retry_uncertain`` submits again the clips whose earlier submit may have
    reached the provider without a job id coming back (by default they are
    recorded as failed, never paid for twice; see :func:`plan_run`).
    """
    clock = time.monotonic()
    models = list(models) if models is not None else None
    concurrency = concurrency if concurrency is not None else bench.config.run.concurrency
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise WorkbenchError(f"concurrency must be a whole number of at least 1, not {concurrency!r}")
    limit = budget if budget is not None else bench.config.run.budget
    if limit is not None and limit < 0:
        raise WorkbenchError(f"budget must not be negative, not {limit!r}")
    retry = retry or RetryPolicy()

    plan = plan_run(bench, models, repeats, retry_uncertain=retry_uncertain)
    check_estimate(plan.estimated_cost, limit, str(bench.root))
    if dry_run:
        return _summary(plan, None, None, "dry-run", {"total": len(plan.jobs), "succeeded": 0,
                        "cached": 0, "failed": 0, "skipped": 0, "pending": len(plan.jobs)},
                        0, 0.0, clock, ())

    lock = RunLock(bench.cache_dir)
    lock.acquire()
    providers: dict[str, Provider] = {}
    journal: Journal | None = None
    session: RunSession | None = None
    try:
        plan = plan_run(bench, models, repeats, retry_uncertain=retry_uncertain)  # again, now that no other run can change things
        check_estimate(plan.estimated_cost, limit, str(bench.root))
        providers = _make_providers(bench, plan)
        _check_environment(bench, plan, providers)
        scrubber = Scrubber(providers.values())
        resumed = plan.resume_run_id is not None
        run_id = plan.resume_run_id or new_run_id()
        run_dir = bench.runs_dir / run_id
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            VideoCache(bench.cache_dir).remove_temp_files()
            remove_link_temps(run_dir / "videos")
            journal = Journal(run_dir / JOURNAL_FILE)
        except OSError as exc:
            raise RunStorageError(f"{run_dir}: cannot write the run folder ({exc})") from None
        previous_manifest = read_manifest(run_dir) or {}
        created = str(previous_manifest.get("created") or now_iso())
        sessions = int(previous_manifest.get("sessions") or 0) + 1
        spent_before = sum(s.charged or 0.0 for s in plan.previous.values()) if resumed else 0.0
        session = RunSession(bench, plan, run_id, run_dir, providers, concurrency, Budget(limit),
                             retry, on_event, scrubber, journal)

        def manifest(status: str, ended: str | None) -> dict[str, Any]:
            return _manifest(bench, plan, run_id, created, status, sessions, scrubber, concurrency,
                             limit, session.counts(),
                             spent_before + session.possibly_charged + session.budget.spent, ended)

        try:
            write_manifest(run_dir, manifest("running", None), scrubber)
            journal.append(scrubber.record({"event": "run_started", "time": now_iso(), "session": sessions,
                                           "pid": os.getpid(), "resumed": resumed,
                                           "jobs": len(plan.jobs)}))
        except OSError as exc:
            raise RunStorageError(f"{run_dir}: cannot write the run folder ({exc})") from None
        session.emit(ev.RUN_STARTED)
        tasks = [asyncio.ensure_future(session.run_job(job)) for job in plan.jobs]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            _cancel_once(tasks)  # a job finishing a submit on the wire must not be cancelled twice
            await asyncio.gather(*tasks, return_exceptions=True)
            _close_quietly(session, manifest, "interrupted", "run_interrupted")
            session.emit(ev.RUN_INTERRUPTED)
            raise
        except BaseException as exc:
            _cancel_once(tasks)
            await asyncio.gather(*tasks, return_exceptions=True)
            if isinstance(exc, KeyboardInterrupt):
                _close_quietly(session, manifest, "interrupted", "run_interrupted")
                raise
            _close_quietly(session, manifest, "failed", "run_failed", session.error_text(exc))
            if isinstance(exc, OSError):
                raise RunStorageError(f"{run_dir}: run stopped: {session.error_text(exc)}") from exc
            raise
        counts = session.counts()
        status = "finished" if counts["pending"] == 0 else "interrupted"
        try:
            journal.append(scrubber.record({"event": "run_finished", "time": now_iso(), "jobs": counts,
                                            "cost": round(session.budget.spent, 6)}))
        except OSError as exc:
            raise RunStorageError(f"{journal.path}: cannot record the end of the run "
                                  f"({session.error_text(exc)})") from None
        try:
            write_manifest(run_dir, manifest(status, now_iso()), scrubber)
        except OSError as exc:
            raise RunStorageError(f"{run_dir / MANIFEST_FILE}: cannot write the run's manifest "
                                  f"({session.error_text(exc)})") from None
        session.emit(ev.RUN_FINISHED)
        failures = tuple(
            JobFailure(j.model, j.prompt_id, j.repeat, session.errors.get(j.id, ""))
            for j in plan.jobs if session.status[j.id] == "failed"
        )
        return _summary(plan, run_id, run_dir, status, counts, session.calls, session.budget.spent,
                        clock, failures, resumed=resumed, cached_now=session.cached_now)
    finally:
        for provider in providers.values():
            try:
                await provider.aclose()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        if session is not None:
            session.close()
        if journal is not None:
            journal.close()
        lock.release()


def _cancel_once(tasks: list[asyncio.Future[Any]]) -> None:
    for task in tasks:
        if not task.done() and not (isinstance(task, asyncio.Task) and task.cancelling()):
            task.cancel()


def _close_quietly(
    session: RunSession, manifest: Callable[[str, str | None], dict[str, Any]], status: str,
    event: str, error: str | None = None,
) -> None:
    """Journal and record how a run stopped; never raises (the run is already ending)."""
    record: dict[str, Any] = {"event": event, "time": now_iso(), "jobs": session.counts()}
    if error:
        record["error"] = error
    try:
        session.journal.append(session.scrubber.record(record))
    except OSError:
        pass
    try:
        write_manifest(session.run_dir, manifest(status, now_iso()), session.scrubber)
    except OSError:
        pass


def _summary(
    plan: RunPlan, run_id: str | None, run_dir: Path | None, status: str, counts: dict[str, int],
    calls: int, cost: float, clock: float, failures: tuple[JobFailure, ...], *,
    resumed: bool = False, cached_now: int = 0,
) -> RunSummary:
    return RunSummary(
        run_id=run_id, run_dir=run_dir, status=status, resumed=resumed,
        total=counts["total"], succeeded=counts["succeeded"], cached=cached_now,
        failed=counts["failed"], skipped=counts["skipped"], pending=counts["pending"],
        provider_calls=calls, cost=cost, estimated_cost=plan.estimated_cost,
        elapsed_s=time.monotonic() - clock, failures=failures, plan=plan,
    )


def run_benchmark_sync(bench: Benchmark, **options: Any) -> RunSummary:
    """:func:`run_benchmark` for callers without an event loop."""
    return asyncio.run(run_benchmark(bench, **options))

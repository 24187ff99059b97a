"""One session of a run: drives every job to an end state.

Each job is a small state machine, and each state change is one fsynced
journal event:

* local:  (generate) -> ``succeeded`` | ``failed`` | ``skipped``
* hosted: (rate-limit wait) -> ``submitting`` -> (submit) -> ``submitted`` -> (poll...)
  -> (download) -> ``succeeded`` | ``failed``; a submit attempt that fails without
  reaching the provider is followed by ``unsubmitted`` before its backoff wait, so
  ``submitting`` always means "a request may be on the wire". A poll or download
  failure leaves the job open (``resumable``) so a later session polls it again
  instead of paying twice.

Blocking work (journal writes, decoding checks, moving clips into the cache)
runs on the session's I/O threads; a finished clip is checked, committed,
linked into the run folder and journaled in one hop.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from workbench.benchmark.folder import Benchmark
from workbench.engine import events as ev
from workbench.engine.backoff import (
    CancelledInFlight, CancelledWithResult, RetriesExhausted, RetryPolicy, SubmitOutcomeUnknown,
    call_finishing_on_cancel, call_with_retries,
)
from workbench.engine.cost import Budget
from workbench.engine.events import ModelProgress, RunEvent
from workbench.engine.jobs import JobId, PlannedJob
from workbench.engine.journal import Journal
from workbench.engine.manifest import now_iso
from workbench.engine.plan import ADOPT, CACHED, DONE, FAILED_BEFORE, UNCERTAIN, OpenSubmission, RunPlan
from workbench.engine.rate_limit import RateLimiter
from workbench.engine.redaction import Scrubber
from workbench.engine.video_cache import VideoCache
from workbench.media.video_check import video_problem
from workbench.errors import WorkbenchError
from workbench.secrets import redact
from workbench.providers.base import (
    JobStatus, LocalProvider, PermanentError, PollResult, Provider, ProviderError, RemoteProvider,
    Submission,
)

T = TypeVar("T")

#: Seconds a hosted job may take from first poll to finish when the model sets no ``timeout_total``.
DEFAULT_POLL_DEADLINE = 3600.0
#: Seconds a stopped run still waits for a submit already on the wire (so its job id is journaled).
SUBMIT_GRACE = 30.0
#: Threads for journal writes, decoding checks and file moves (mostly waiting on fsync).
IO_THREADS = 8
#: Longest error text kept for a job.
ERROR_CHARS = 2000
#: How to submit an uncertain job anyway (the ``workbench run`` option).
RETRY_UNCERTAIN_HINT = "to submit it anyway, run again with --retry-uncertain"
#: Why a job whose submit was cut off by a crash is not submitted again.
UNCERTAIN_SUBMIT = (
    "the run stopped while this job was being submitted, so the provider may have it; it is not "
    f"submitted again (that could pay twice). Check the provider's dashboard; {RETRY_UNCERTAIN_HINT}"
)


def uncertain_elsewhere(run_id: str) -> str:
    """Why a job is not submitted: another run's submit of the same clip is in doubt."""
    return (f"run {run_id} submitted this clip and may have reached the provider without getting "
            "its job id back, so it is not submitted again (that could pay twice). Check the "
            f"provider's dashboard; {RETRY_UNCERTAIN_HINT}")


class JobFailed(Exception):
    """Ends one job as failed; carries what the journal records."""

    def __init__(self, error: str, phase: str, *, resumable: bool = False, permanent: bool = False,
                 uncertain: bool = False):
        super().__init__(error)
        self.error = error
        self.phase = phase
        self.resumable = resumable
        self.permanent = permanent
        self.uncertain = uncertain  # the submit may have reached the provider (no job id)


class JobSkipped(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _error_text(error: BaseException) -> str:
    if isinstance(error, RetriesExhausted):
        return f"{_error_text(error.last)} (gave up after {error.attempts} attempts)"
    if isinstance(error, (ProviderError, WorkbenchError, SubmitOutcomeUnknown)):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def describe_error(error: BaseException | str, scrub: Callable[[str], str] = redact) -> str:
    """The message recorded for a job error; unexpected exceptions keep their type name.

    The first line is the summary; a program's output, if any, follows on later lines.
    Secrets are scrubbed (``scrub``; by default every secret read so far) *before* the
    text is cut to :data:`ERROR_CHARS`, so a key straddling the cut cannot leak in part.
    """
    text = scrub(error if isinstance(error, str) else _error_text(error))
    first, _, rest = text.strip().partition("\n")
    return (" ".join(first.split()) + ("\n" + rest if rest else ""))[:ERROR_CHARS]


class RunSession:
    """The state shared by the jobs of one invocation of a run."""

    def __init__(
        self, bench: Benchmark, plan: RunPlan, run_id: str, run_dir: Path,
        providers: dict[str, Provider], concurrency: int, budget: Budget, retry: RetryPolicy,
        on_event: Callable[[RunEvent], None] | None, scrubber: Scrubber, journal: Journal,
    ):
        self.bench = bench
        self.plan = plan
        self.run_id = run_id
        self.run_dir = run_dir
        self.providers = providers
        self.budget = budget
        self.retry = retry
        self.on_event = on_event
        self.scrubber = scrubber
        self.journal = journal
        self.cache = VideoCache(bench.cache_dir)
        self.cache.dir.mkdir(parents=True, exist_ok=True)
        self.io = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="workbench-io")
        self._temp_names = itertools.count()
        self.global_slots = asyncio.Semaphore(concurrency)
        self.model_slots: dict[str, asyncio.Semaphore | None] = {}
        self.limiters: dict[str, RateLimiter | None] = {}
        for model_id in plan.models:
            config = bench.config.models[model_id]
            self.model_slots[model_id] = (
                asyncio.Semaphore(config.max_concurrency) if config.max_concurrency else None)
            self.limiters[model_id] = (
                RateLimiter(config.requests_per_minute) if config.requests_per_minute else None)
        self.calls = 0
        self.possibly_charged = 0.0  # jobs that may have been paid for in an earlier session
        self.cached_now = 0
        self.cached_before = 0  # jobs served from the cache in earlier sessions of this run
        self.status: dict[JobId, str] = {}
        self.errors: dict[JobId, str] = {}
        self.work_started: dict[JobId, float] = {}  # when a job got its slots
        self.attempts: dict[JobId, int] = {}  # provider attempts (generate or submit) per job
        self.made: set[str] = set()  # cache keys committed by this session
        self.making: dict[str, asyncio.Future[bool]] = {}  # cache key -> being made by a job now
        self.progress: dict[str, dict[str, int]] = {
            m: {"total": 0, "succeeded": 0, "cached": 0, "failed": 0, "skipped": 0, "running": 0}
            for m in plan.models
        }
        for job in plan.jobs:
            counts = self.progress[job.model]
            counts["total"] += 1
            action = plan.actions[job.id]
            if action == DONE:
                self.status[job.id] = "succeeded"
                counts["succeeded"] += 1
                previous = plan.previous.get(job.id)
                self.cached_before += bool(previous and previous.cached)
            elif action == FAILED_BEFORE:
                self.status[job.id] = "failed"
                previous = plan.previous.get(job.id)
                self.errors[job.id] = previous.error if previous and previous.error else "failed"
                counts["failed"] += 1
            else:
                self.status[job.id] = "pending"

    def close(self) -> None:
        self.io.shutdown(wait=True)

    # ------------------------------------------------------------ plumbing
    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking ``fn`` on the I/O threads; a cancel waits for it (files stay consistent)."""
        future = asyncio.get_running_loop().run_in_executor(self.io, fn, *args)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            raise

    def job_event(self, kind: str, job: PlannedJob, **fields: Any) -> dict[str, Any]:
        event: dict[str, Any] = {
            "event": kind, "time": now_iso(), "model": job.model, "prompt_id": job.prompt_id,
            "repeat": job.repeat, "seed": job.seed, "key": job.key,
        }
        if kind == "succeeded":
            # what the clip was asked to be, so it is judged against that even after a prompt edit
            event["requested"] = job.request.requested_params()
        event.update(fields)
        return self.scrubber.record(event)  # free text and provider state only: ids stay intact

    async def record(self, kind: str, job: PlannedJob, **fields: Any) -> None:
        """Journal one job event (secrets scrubbed), durably."""
        await self.in_thread(self.journal.append, self.job_event(kind, job, **fields))

    def emit(self, kind: str, job: PlannedJob | None = None, message: str | None = None,
             attempt: int | None = None) -> None:
        if self.on_event is None:
            return
        snapshot = tuple(
            ModelProgress(model=m, total=c["total"], succeeded=c["succeeded"], cached=c["cached"],
                          failed=c["failed"], skipped=c["skipped"], running=c["running"])
            for m, c in self.progress.items()
        )
        event = RunEvent(kind=kind, run_id=self.run_id,
                         model=job.model if job else None, prompt_id=job.prompt_id if job else None,
                         repeat=job.repeat if job else None, message=message, progress=snapshot,
                         attempt=attempt, elapsed_s=self._latency(job) if job else None)
        try:
            self.on_event(event)
        except Exception as exc:  # noqa: BLE001 - a broken progress display must not stop a run
            warnings.warn(f"progress callback failed: {type(exc).__name__}: {exc}", stacklevel=2)

    def error_text(self, error: BaseException | str) -> str:
        """An error as recorded: secrets scrubbed first, then cut to length."""
        return describe_error(error, self.scrubber.text)

    def temp_path(self, job: PlannedJob) -> Path:
        """A hidden path in the cache folder for a clip being made (ends in .mp4 for tools)."""
        return self.cache.dir / f".{job.key[:16]}.{os.getpid()}.{next(self._temp_names)}.mp4"

    def _latency(self, job: PlannedJob) -> float | None:
        started = self.work_started.get(job.id)
        return None if started is None else round(time.monotonic() - started, 4)

    def _limiter(self, job: PlannedJob) -> Callable[[], Any] | None:
        limiter = self.limiters[job.model]
        return limiter.acquire if limiter is not None else None

    def _count_call(self, _attempt: int = 0) -> None:
        self.calls += 1

    def _spend(self, job: PlannedJob) -> None:
        if not self.budget.can_spend(job.estimated_cost):
            raise JobSkipped("budget")
        self.budget.spend(job.estimated_cost)

    # --------------------------------------------------------- blocking work
    def _finish_clip(self, temp: Path, job: PlannedJob, event: dict[str, Any]) -> str | None:
        """Check the clip decodes, move it into the cache and the run, journal it. Blocking."""
        problem = video_problem(temp)
        if problem is not None:
            return problem
        self.cache.commit(temp, job.key)
        self.cache.place(job.key, self.run_dir / job.video_name)
        self.journal.append(event)
        return None

    def _place_cached(self, job: PlannedJob, event: dict[str, Any]) -> bool:
        try:
            self.cache.place(job.key, self.run_dir / job.video_name)
        except FileNotFoundError:
            return False  # the cache lost the clip since the plan was made
        self.journal.append(event)
        return True

    def _ensure_placed(self, job: PlannedJob) -> None:
        dest = self.run_dir / job.video_name
        if not dest.is_file() and self.cache.has(job.key):
            self.cache.place(job.key, dest)

    # ---------------------------------------------------------------- jobs
    async def run_job(self, job: PlannedJob) -> None:
        """Drive one job to an end state; never raises except when the run is cancelled."""
        action = self.plan.actions[job.id]
        counts = self.progress[job.model]
        if action in (DONE, FAILED_BEFORE):
            if action == DONE:
                await self.in_thread(self._ensure_placed, job)
            return
        if action == UNCERTAIN:
            before = self.plan.previous.get(job.id)
            if before is not None and before.key == job.key and before.status == "submitting":
                # This job's own submit, cut off in an earlier session of this run: count it.
                self.possibly_charged += job.estimated_cost
                charged, error = job.estimated_cost, UNCERTAIN_SUBMIT
            else:  # another run's submit of this clip is in doubt; any charge belongs to it
                charged = 0.0
                error = uncertain_elsewhere(self.plan.uncertain_from.get(job.id) or "an earlier run")
            await self._fail(job, JobFailed(error, "submit", uncertain=True), charged=charged)
            return
        try:
            outcome = await self._run(job, action, counts)
        except asyncio.CancelledError:
            raise
        except JobSkipped as skip:
            self.status[job.id] = "skipped"
            counts["skipped"] += 1
            await self.record("skipped", job, reason=skip.reason)
            self.emit(ev.JOB_SKIPPED, job, skip.reason)
            return
        except JobFailed as failure:
            await self._fail(job, failure)
            return
        except Exception as error:  # noqa: BLE001 - an engine or provider bug fails this job only
            await self._fail(job, JobFailed(self.error_text(error), "engine"))
            return
        self.status[job.id] = "succeeded"
        counts["succeeded"] += 1
        if outcome == "cached":
            counts["cached"] += 1
            self.cached_now += 1
            self.emit(ev.JOB_CACHED, job)
        else:
            self.emit(ev.JOB_SUCCEEDED, job)

    async def _fail(self, job: PlannedJob, failure: JobFailed, charged: float | None = None) -> None:
        error = self.error_text(failure.error)
        self.status[job.id] = "failed"
        self.errors[job.id] = error
        self.progress[job.model]["failed"] += 1
        extra: dict[str, Any] = {"charged": charged} if charged is not None else {}
        if failure.uncertain:
            extra["uncertain"] = True
        if job.id in self.attempts:
            extra["attempts"] = self.attempts[job.id]
        await self.record("failed", job, error=error, phase=failure.phase,
                          resumable=failure.resumable, permanent=failure.permanent,
                          latency_s=self._latency(job), **extra)
        self.emit(ev.JOB_FAILED, job, error)

    async def _serve_cached(self, job: PlannedJob) -> bool:
        event = self.job_event("succeeded", job, video=job.video_name, cached=True, charged=0.0)
        return await self.in_thread(self._place_cached, job, event)

    async def _run(self, job: PlannedJob, action: str, counts: dict[str, int]) -> str:
        # Another job of this run is making the very same clip: wait for it, then share it.
        while job.key in self.making:
            await asyncio.shield(self.making[job.key])
        if (job.key in self.made or action == CACHED) and await self._serve_cached(job):
            return "cached"
        adopt = self.plan.open_submissions.get(job.id) if action == ADOPT else None
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.making[job.key] = done
        try:
            model_slot = self.model_slots[job.model]
            if model_slot is not None:
                async with model_slot:
                    return await self._with_global_slot(job, adopt, counts)
            return await self._with_global_slot(job, adopt, counts)
        finally:
            del self.making[job.key]
            done.set_result(True)

    async def _with_global_slot(
        self, job: PlannedJob, adopt: OpenSubmission | None, counts: dict[str, int]
    ) -> str:
        async with self.global_slots:
            provider = self.providers[job.model]
            self.work_started[job.id] = time.monotonic()
            counts["running"] += 1
            self.emit(ev.JOB_STARTED, job, attempt=1)
            try:
                if isinstance(provider, RemoteProvider):
                    return await self._remote(job, provider, adopt)
                if isinstance(provider, LocalProvider):
                    return await self._local(job, provider)
                raise JobFailed(f"provider {type(provider).__name__} is neither local nor remote",
                                "engine")
            finally:
                counts["running"] -= 1

    # --------------------------------------------------------------- local
    async def _local(self, job: PlannedJob, provider: LocalProvider) -> str:
        self._spend(job)
        attempts = 0

        def count(attempt: int) -> None:
            nonlocal attempts
            attempts = self.attempts[job.id] = attempt
            self.calls += 1
            if attempt > 1:
                self.emit(ev.JOB_RETRYING, job, f"attempt {attempt} of {self.retry.max_attempts}",
                          attempt=attempt)

        temp = self.temp_path(job)
        committed = False
        try:
            try:
                result = await call_with_retries(
                    lambda: provider.generate(job.request, temp), self.retry,
                    before_attempt=self._limiter(job), on_attempt=count)
            except BaseException as exc:
                self.budget.refund(job.estimated_cost)
                if isinstance(exc, RetriesExhausted):
                    raise JobFailed(self.error_text(exc), "generate") from None
                if isinstance(exc, (asyncio.CancelledError, JobFailed)) or not isinstance(exc, Exception):
                    raise
                raise JobFailed(self.error_text(exc), "generate",
                                permanent=isinstance(exc, PermanentError)) from None
            charged = job.estimated_cost
            cost = getattr(result, "cost", None)
            if isinstance(cost, (int, float)) and not isinstance(cost, bool):
                charged = float(cost)
            fields: dict[str, Any] = {
                "video": job.video_name, "cached": False, "charged": charged, "attempts": attempts,
                "latency_s": self._latency(job),
            }
            if getattr(result, "job_id", None):
                fields["job_id"] = str(result.job_id)
            info = getattr(result, "info", None)
            if isinstance(info, dict) and info:
                fields["info"] = info
            problem = await self.in_thread(self._finish_clip, temp, job, self.job_event("succeeded", job, **fields))
            if problem is not None:
                self.budget.refund(job.estimated_cost)
                raise JobFailed(f"the clip the provider wrote does not decode: {problem}", "verify")
            committed = True
            self.made.add(job.key)
            self.budget.refund(job.estimated_cost)
            self.budget.spend(charged)
        finally:
            if not committed:
                temp.unlink(missing_ok=True)
        return "made"

    # -------------------------------------------------------------- remote
    async def _remote(self, job: PlannedJob, provider: RemoteProvider, adopt: OpenSubmission | None) -> str:
        attempts = 0
        permanent_before = 0
        if adopt is None:
            self._spend(job)

            def count(attempt: int) -> None:
                nonlocal attempts
                attempts = self.attempts[job.id] = attempt
                self.calls += 1
                if attempt > 1:
                    self.emit(ev.JOB_RETRYING, job, f"attempt {attempt} of {self.retry.max_attempts}",
                              attempt=attempt)

            async def sending(_attempt: int) -> None:
                # After the rate limiter, right before the request goes out: from here until
                # "submitted" (or "unsubmitted"), the provider may have the job. See journal.py.
                await self.record("submitting", job)

            async def unsent(_attempt: int) -> None:
                # The attempt failed without reaching the provider: say so before backing off,
                # so a kill during the wait does not leave the job looking in doubt.
                await self.record("unsubmitted", job)

            try:
                submission = await call_finishing_on_cancel(
                    lambda: provider.submit(job.request), self.retry, grace=SUBMIT_GRACE,
                    before_attempt=self._limiter(job), on_attempt=count,
                    before_send=sending, after_unsent=unsent)
            except CancelledWithResult as stopped:
                await self._record_submitted(job, stopped.result, stopped.attempts)
                raise
            except CancelledInFlight:
                raise  # left as "submitting": the next session reports it, never resubmits it
            except asyncio.CancelledError:
                self.budget.refund(job.estimated_cost)
                await self._unsubmitted(job)
                raise
            except RetriesExhausted as exc:
                self.budget.refund(job.estimated_cost)
                raise JobFailed(self.error_text(exc), "submit") from None
            except SubmitOutcomeUnknown as exc:  # the money may be spent: no refund, no resubmit
                raise JobFailed(self.error_text(exc), "submit", uncertain=True) from None
            except Exception as exc:  # noqa: BLE001 - PermanentError or a provider bug
                self.budget.refund(job.estimated_cost)
                raise JobFailed(self.error_text(exc), "submit",
                                permanent=isinstance(exc, PermanentError)) from None
            await self._record_submitted(job, submission, attempts)
            self.emit(ev.JOB_SUBMITTED, job)
            first_wait = provider.poll_interval
        else:
            submission = Submission(job_id=adopt.job_id, state=dict(adopt.state))
            permanent_before = adopt.permanent_failures
            if adopt.run_id != self.run_id or adopt.job != job.id:
                await self.record("submitted", job, job_id=adopt.job_id, state=adopt.state,
                                  charged=0.0, adopted_from=adopt.run_id, adopted_job=list(adopt.job))
            first_wait = 0.0

        def after_submit(error: BaseException, phase: str) -> JobFailed:
            """Poll and download failures leave the job open: a later run polls it again."""
            permanent = isinstance(error, PermanentError) or phase == "verify"
            resumable = not (permanent and permanent_before >= 1)
            note = "; the job stays open: the next run polls it again" if resumable else ""
            return JobFailed(self.error_text(error) + note, phase, resumable=resumable, permanent=permanent)

        result, state = await self._poll(job, provider, submission, first_wait, after_submit)
        finished = Submission(job_id=submission.job_id, state=state)
        event = self.job_event("succeeded", job, video=job.video_name, cached=False,
                               job_id=submission.job_id, attempts=attempts)
        await self._download(job, provider, finished, result, after_submit, event)
        self.made.add(job.key)
        return "made"

    async def _unsubmitted(self, job: PlannedJob) -> None:
        """Journal that a stopped run never sent this job (so resuming submits it)."""
        try:
            await self.record("unsubmitted", job)
        except OSError:
            pass

    async def _record_submitted(self, job: PlannedJob, submission: Any, attempts: int) -> None:
        if not isinstance(submission, Submission):
            raise JobFailed(f"submit returned {type(submission).__name__}, not a Submission", "submit")
        await self.record("submitted", job, job_id=str(submission.job_id),
                          state=dict(submission.state or {}), charged=job.estimated_cost,
                          attempts=attempts)

    async def _poll(
        self, job: PlannedJob, provider: RemoteProvider, submission: Submission, first_wait: float,
        after_submit: Callable[[BaseException, str], JobFailed],
    ) -> tuple[PollResult, dict[str, Any]]:
        timeout_total = getattr(provider.params, "timeout_total", None)
        deadline_s = (float(timeout_total) if isinstance(timeout_total, (int, float)) and timeout_total > 0
                      else DEFAULT_POLL_DEADLINE)
        deadline = time.monotonic() + deadline_s
        state = dict(submission.state)
        wait = first_wait
        while True:
            if wait > 0:
                await asyncio.sleep(wait)
            current = Submission(job_id=submission.job_id, state=state)
            try:
                result = await call_with_retries(
                    lambda: provider.poll(current), self.retry,
                    before_attempt=self._limiter(job), on_attempt=self._count_call)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the job may still be alive at the provider
                raise after_submit(exc, "poll") from None
            if not isinstance(result, PollResult):
                raise after_submit(PermanentError(
                    f"poll returned {type(result).__name__}, not a PollResult"), "poll")
            if result.state:
                state.update(result.state)
            if result.status == JobStatus.SUCCEEDED:
                return result, state
            if result.status in (JobStatus.FAILED, JobStatus.CANCELED):
                reason = result.error or f"the provider reports the job {result.status.value}"
                raise JobFailed(reason, "provider", permanent=True)
            if time.monotonic() >= deadline:
                raise after_submit(TimeoutError(
                    f"still {result.status.value} after {deadline_s:g} s of polling"), "poll")
            wait = max(provider.poll_interval, result.retry_after or 0.0)

    async def _download(
        self, job: PlannedJob, provider: RemoteProvider, submission: Submission, result: PollResult,
        after_submit: Callable[[BaseException, str], JobFailed], event: dict[str, Any],
    ) -> None:
        tries = min(3, self.retry.max_attempts)
        problem: str | None = None
        for attempt in range(1, tries + 1):
            temp = self.temp_path(job)
            committed = False
            try:
                try:
                    await call_with_retries(
                        lambda: provider.download(submission, result, temp), self.retry,
                        before_attempt=self._limiter(job), on_attempt=self._count_call)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the clip may still be fetched later
                    raise after_submit(exc, "download") from None
                event["latency_s"] = self._latency(job)
                problem = await self.in_thread(self._finish_clip, temp, job, event)
                committed = problem is None
                if committed:
                    return
            finally:
                if not committed:
                    temp.unlink(missing_ok=True)
            if attempt < tries:
                await asyncio.sleep(self.retry.delay(attempt))
        raise after_submit(PermanentError(
            f"the downloaded clip does not decode ({problem}); downloaded {tries} times"), "verify")

    # --------------------------------------------------------------- totals
    def counts(self) -> dict[str, int]:
        values = list(self.status.values())
        return {
            "total": len(values),
            "succeeded": values.count("succeeded"),
            "cached": self.cached_before + self.cached_now,
            "failed": values.count("failed"),
            "skipped": values.count("skipped"),
            "pending": values.count("pending"),
        }

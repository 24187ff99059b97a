"""Progress events a run reports to its front end (CLI progress bars, the TUI)."""

from __future__ import annotations

from dataclasses import dataclass

#: Kinds of :class:`RunEvent`.
RUN_STARTED = "run_started"
JOB_STARTED = "job_started"
JOB_SUBMITTED = "job_submitted"
JOB_RETRYING = "job_retrying"
JOB_SUCCEEDED = "job_succeeded"
JOB_CACHED = "job_cached"
JOB_FAILED = "job_failed"
JOB_SKIPPED = "job_skipped"
RUN_FINISHED = "run_finished"
RUN_INTERRUPTED = "run_interrupted"


@dataclass(frozen=True)
class ModelProgress:
    """Where one model's jobs stand."""

    model: str
    total: int
    succeeded: int = 0
    cached: int = 0  # included in succeeded
    failed: int = 0
    skipped: int = 0
    running: int = 0

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.skipped

    def notable_counts(self) -> list[str]:
        """The counts worth showing beside a progress bar, e.g. ``["1 cached", "2 running"]``."""
        counts = (("cached", self.cached), ("failed", self.failed), ("skipped", self.skipped),
                  ("running", self.running))
        return [f"{n} {what}" for what, n in counts if n]


@dataclass(frozen=True)
class RunEvent:
    """One thing that happened in a run, with every model's counts right after it."""

    kind: str
    run_id: str
    model: str | None = None
    prompt_id: str | None = None
    repeat: int | None = None
    message: str | None = None  # error text, skip reason, retry note
    progress: tuple[ModelProgress, ...] = ()
    attempt: int | None = None  # job_started: 1; job_retrying: the attempt about to be made
    elapsed_s: float | None = None  # job events: seconds since the job got its slots (None if it never did)

    def progress_of(self, model: str) -> ModelProgress | None:
        for item in self.progress:
            if item.model == model:
                return item
        return None

"""The durable job journal: ``runs/<run-id>/journal.jsonl``.

Append-only, one JSON event a line, written and fsynced before the engine
moves on, so a run killed at any instant (Ctrl-C, kill -9, power loss) can be
replayed. A line torn by a crash is skipped when read back, and the next
append starts on a fresh line.

Events (``event`` field) and what they mean for a job:

* ``submitting`` written right before a hosted job's submit request goes out
  (after any rate-limit wait). If nothing follows it, the process died while
  the request may have been on the wire: the provider may or may not have the
  job, so no later run submits that clip again automatically (``workbench run
  --retry-uncertain`` does).
* ``unsubmitted`` the request did not go out, or failed without reaching the
  provider (written before each backoff wait): back to pending.
* ``submitted``  a hosted provider accepted the job: ``job_id`` and ``state``
  are everything needed to poll it again; ``charged`` is what it cost.
* ``succeeded``  the clip is in the run folder (``video``), ``cached`` when it
  came from the video cache.
* ``failed``     with ``error``, ``phase`` and ``resumable`` (true when the
  provider may still finish the job: a later session polls it again), and
  ``uncertain`` (true when the submit may have reached the provider without
  its job id coming back: the clip stays "uncertain" for every later run).
* ``skipped``    with ``reason`` (``budget``).

Run events: ``run_started``, ``run_interrupted``, ``run_finished``, ``run_failed``.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.safe_files import dump_json_line, fsync_dir

JOURNAL_FILE = "journal.jsonl"
JOB_EVENTS = ("submitting", "unsubmitted", "submitted", "succeeded", "failed", "skipped")


class Journal:
    """An open journal file; every :meth:`append` is on disk when it returns."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        size = os.fstat(self._fd).st_size
        if size > 0:
            with open(self.path, "rb") as reader:
                reader.seek(-1, os.SEEK_END)
                torn = reader.read(1) != b"\n"
            if torn:  # a crash cut the last line: start the next event on a fresh line
                self._write(b"\n")
                os.fsync(self._fd)
        if created:
            fsync_dir(self.path.parent)

    def _write(self, data: bytes) -> None:
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]

    def append(self, record: dict[str, Any]) -> None:
        """Write one event and fsync it."""
        self._write((dump_json_line(record) + "\n").encode("utf-8"))
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class JournalContents:
    events: list[dict[str, Any]]
    bad_lines: list[int] = field(default_factory=list)  # 1-based numbers of unreadable lines


def read_journal(path: Path) -> JournalContents:
    """Every readable event in order; torn or garbled lines are skipped and counted."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return JournalContents([])
    events: list[dict[str, Any]] = []
    bad: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            bad.append(number)
            continue
        if isinstance(record, dict) and isinstance(record.get("event"), str):
            events.append(record)
        else:
            bad.append(number)
    return JournalContents(events, bad)


@dataclass
class JobState:
    """What the journal says about one job after replaying every event."""

    model: str
    prompt_id: str
    repeat: int
    status: str = "pending"  # pending | submitting | submitted | succeeded | failed | skipped
    seed: int | None = None
    key: str | None = None
    job_id: str | None = None
    submission_state: dict[str, Any] | None = None
    video: str | None = None
    error: str | None = None
    phase: str | None = None
    resumable: bool = False
    reason: str | None = None
    charged: float | None = None
    attempts: int = 0
    latency_s: float | None = None
    cached: bool = False
    time: str | None = None
    #: Permanent poll/download errors on the current submission (a second one ends it).
    permanent_failures: int = 0
    #: A submit may have reached the provider but no job id was recorded (see ``submitting``).
    uncertain: bool = False
    #: The clip properties the request asked for (duration, resolution, aspect_ratio, fps).
    requested: dict[str, Any] | None = None

    @property
    def open_submission(self) -> bool:
        """Submitted and possibly still alive at the provider: poll it, never submit again."""
        if self.job_id is None:
            return False
        return self.status == "submitted" or (self.status == "failed" and self.resumable)


def _job_id(event: dict[str, Any]) -> tuple[str, str, int] | None:
    model, prompt_id, repeat = event.get("model"), event.get("prompt_id"), event.get("repeat")
    if isinstance(model, str) and isinstance(prompt_id, str) and isinstance(repeat, int):
        return (model, prompt_id, repeat)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def replay(events: list[dict[str, Any]]) -> dict[tuple[str, str, int], JobState]:
    """The state of every job the events mention, keyed by (model, prompt_id, repeat)."""
    jobs: dict[tuple[str, str, int], JobState] = {}
    for event in events:
        kind = event.get("event")
        if kind not in JOB_EVENTS:
            continue
        ident = _job_id(event)
        if ident is None:
            continue
        job = jobs.get(ident)
        if job is None:
            job = jobs[ident] = JobState(*ident)
        key = event.get("key")
        if isinstance(key, str) and key != job.key:
            if job.key is not None:  # the job was re-planned with another clip identity
                jobs[ident] = job = JobState(*ident)
            job.key = key
        if isinstance(event.get("seed"), int):
            job.seed = event["seed"]
        job.time = event.get("time") if isinstance(event.get("time"), str) else job.time
        charged = _number(event.get("charged"))
        if charged is not None:
            job.charged = (job.charged or 0.0) + charged
        if isinstance(event.get("attempts"), int):
            job.attempts = event["attempts"]
        job.uncertain = kind == "submitting" or (kind == "failed" and bool(event.get("uncertain")))
        if kind == "submitting":
            job.status = "submitting"
        elif kind == "unsubmitted":
            job.status = "pending"
        elif kind == "submitted":
            job.status = "submitted"
            new_id = str(event.get("job_id")) if event.get("job_id") is not None else None
            if new_id != job.job_id:
                job.permanent_failures = 0
            job.job_id = new_id
            state = event.get("state")
            job.submission_state = dict(state) if isinstance(state, dict) else {}
            job.error = None
            job.resumable = False
        elif kind == "succeeded":
            job.status = "succeeded"
            job.video = event.get("video") if isinstance(event.get("video"), str) else None
            job.cached = bool(event.get("cached"))
            job.latency_s = _number(event.get("latency_s"))
            job.requested = event.get("requested") if isinstance(event.get("requested"), dict) else None
            job.error = None
            job.resumable = False
            if job.cached and job.charged is None:
                job.charged = 0.0
        elif kind == "failed":
            job.status = "failed"
            job.error = str(event.get("error") or "failed")
            job.phase = event.get("phase") if isinstance(event.get("phase"), str) else None
            job.resumable = bool(event.get("resumable")) and job.job_id is not None
            if event.get("permanent") and job.job_id is not None:
                job.permanent_failures += 1
            job.latency_s = _number(event.get("latency_s"))
        elif kind == "skipped":
            job.status = "skipped"
            job.reason = str(event.get("reason") or "")
    return jobs


def run_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run-level events (started, interrupted, finished)."""
    return [e for e in events if str(e.get("event", "")).startswith("run_")]

"""A run's jobs as a table that changes in place: one row per prompt x model x repeat.

A live run changes one job at a time, so :meth:`JobTable.update_job` replaces only
that row, and :meth:`JobTable.show_jobs` (a whole run read back from its journal)
updates rows by key when the jobs are the same ones. It draws only the lines in view
(a :class:`VirtualTable`), and its columns fit the width it has: the prompt and model
columns narrow on a small terminal, and the error takes what the others leave (the
highlighted job's whole error shows under the table).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from workbench.engine.journal import JobState
from workbench.engine.runs import JobRecord
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

#: What a job's state is called on screen, from the journal's word for it.
STATE_OF_STATUS = {
    "pending": "queued",
    "submitting": "in doubt",  # a submit was cut off: the provider may have it
    "submitted": "submitted",  # with the provider, polled by the next session
    "succeeded": "done",
    "failed": "failed",
    "skipped": "skipped",
}
#: The cell style (a VirtualTable style name) of each state as shown.
STATE_STYLE = {
    "queued": "muted", "running": "accent", "submitted": "accent", "in doubt": "warn",
    "done": "pass", "cached": "pass", "failed": "fail", "skipped": "warn",
}
#: Width of the state column: its longest text.
STATE_WIDTH = max(map(len, STATE_STYLE))
#: States a job can still leave in this session.
OPEN_STATES = frozenset({"queued", "running"})
#: States the "failed only" view keeps.
TROUBLE_STATES = frozenset({"failed", "skipped", "in doubt"})

#: The widest the prompt and model columns get, and the narrowest they are cut to so
#: that the error column keeps :data:`ERROR_WANTED` cells.
PROMPT_CAP, PROMPT_FLOOR = 28, 10
MODEL_CAP, MODEL_FLOOR = 14, 5
ERROR_WANTED, ERROR_MIN = 16, 6
#: Below this many cells the tries and elapsed columns use their short labels.
SHORT_LABELS_BELOW = 90


def job_key(model: str, prompt_id: str, repeat: int) -> str:
    """The row key of a job: ``model/prompt_id/repeat``."""
    return f"{model}/{prompt_id}/{repeat}"


def first_line(text: str | None, limit: int = 90) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    if not text or not text.strip():
        return ""
    line = text.strip().splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def format_elapsed(seconds: float | None) -> str:
    """``2.1s`` (``-`` when unknown); whole seconds from 1000 s on, so it stays narrow."""
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 999.95 else f"{seconds:.0f}s"


def job_columns(room: int, prompt_width: int, model_width: int) -> list[Column]:
    """The columns for a line of ``room`` cells, given the longest prompt id and model name.

    State comes before the less important columns and never narrows; the prompt and the
    model narrow (down to a floor) before the error column gets less than it wants.
    """
    short = room < SHORT_LABELS_BELOW
    tries_label, elapsed_label = ("try", "time") if short else ("tries", "elapsed")
    elapsed_width = max(len(elapsed_label), len("999.9s"))
    fixed = len("rep") + STATE_WIDTH + len(tries_label) + elapsed_width
    rest = room - 2 * 7 - fixed  # each column has a cell of space either side
    prompt = min(max(prompt_width, len("prompt")), PROMPT_CAP)
    model = min(max(model_width, len("model")), MODEL_CAP)
    over = prompt + model + ERROR_WANTED - rest
    if over > 0:
        cut = min(over, prompt - min(prompt, PROMPT_FLOOR))
        prompt, over = prompt - cut, over - cut
    if over > 0:
        model -= min(over, model - min(model, MODEL_FLOOR))
    return [
        Column("prompt", "prompt", prompt),
        Column("model", "model", model),
        Column("repeat", "rep", len("rep"), align="right"),
        Column("state", "state", STATE_WIDTH),
        Column("attempts", tries_label, len(tries_label), align="right"),
        Column("elapsed", elapsed_label, elapsed_width, align="right"),
        Column("error", "error", None, ERROR_MIN),
    ]


@dataclass(frozen=True)
class JobRow:
    """What the table shows of one job."""

    model: str
    prompt_id: str
    repeat: int
    state: str  # queued | running | submitted | in doubt | done | failed | skipped
    attempts: int = 0
    elapsed_s: float | None = None
    error: str | None = None
    cached: bool = False
    started: float | None = None  # time.monotonic() when it began running (live rows only)

    @property
    def key(self) -> str:
        return job_key(self.model, self.prompt_id, self.repeat)

    @property
    def shown_state(self) -> str:
        """The state as the table shows it: a job done from the cache says ``cached``."""
        return "cached" if self.cached and self.state == "done" else self.state

    @classmethod
    def from_record(cls, job: JobRecord) -> "JobRow":
        """A job of a run read back from its journal."""
        return cls(job.model, job.prompt_id, job.repeat, STATE_OF_STATUS.get(job.status, job.status),
                   job.attempts, job.latency_s, job.error, job.cached)

    @classmethod
    def from_state(cls, state: JobState) -> "JobRow":
        """A job as an earlier session of a resumed run left it."""
        row = cls(state.model, state.prompt_id, state.repeat,
                  STATE_OF_STATUS.get(state.status, state.status), state.attempts, state.latency_s,
                  state.error, state.cached)
        if row.state == "skipped" and state.reason:
            row = replace(row, error=f"skipped: {state.reason}")
        return row

    def elapsed_now(self, now: float | None = None) -> float | None:
        """Seconds so far for a running job, else the recorded time."""
        if self.state == "running" and self.started is not None:
            return (time.monotonic() if now is None else now) - self.started
        return self.elapsed_s


class JobTable(VirtualTable):
    """Rows keyed by :func:`job_key`; a job's change replaces its row only.

    ``failed_only`` hides every job that did not fail (or was skipped or is in doubt).
    """

    DEFAULT_CSS = """
    JobTable {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.jobs: dict[str, JobRow] = {}  # every job of the run shown, filtered out or not
        self.failed_only = False

    # ------------------------------------------------------------ columns and cells
    def arrange_columns(self, room: int) -> None:
        prompt = max((len(row.prompt_id) for row in self.jobs.values()), default=0)
        model = max((len(row.model) for row in self.jobs.values()), default=0)
        self.columns = tuple(job_columns(room, prompt, model))

    def job_row(self, row: JobRow, now: float | None = None) -> Row:
        """The table row of one job: its cells in column order and their styles."""
        state = row.shown_state
        cells = (row.prompt_id, row.model, str(row.repeat), state,
                 str(row.attempts) if row.attempts else "-", format_elapsed(row.elapsed_now(now)),
                 first_line(row.error, 300))
        styles = (None, None, "muted", STATE_STYLE.get(state), None, None, "fail")
        return Row(row.key, cells, styles)

    def _visible(self, row: JobRow) -> bool:
        return not self.failed_only or row.state in TROUBLE_STATES

    def _show(self, keys: list[str]) -> None:
        """Show these jobs' rows, in this order (the cursor stays on its job if it is one)."""
        self.show(self.columns, [self.job_row(self.jobs[key]) for key in keys])

    # ------------------------------------------------------------ changes
    def show_jobs(self, rows: Iterable[JobRow]) -> None:
        """Show these jobs (a run's, in order). The same jobs as shown are updated in place;
        other ones (another run) replace the rows, the cursor staying on its job if it can."""
        self.jobs = {row.key: row for row in rows}
        wanted = [key for key, row in self.jobs.items() if self._visible(row)]
        if wanted == self.keys:
            self.update_rows([self.job_row(self.jobs[key]) for key in wanted])
        else:
            self._show(wanted)

    def update_job(self, row: JobRow) -> None:
        """One job changed: its row is replaced (a job the filter now lets in goes last)."""
        self.jobs[row.key] = row
        shown = row.key in self._index
        if shown and self._visible(row):
            self.update_rows([self.job_row(row)])
        elif shown:
            self._show([key for key in self.keys if key != row.key])
        elif self._visible(row):
            self._show([*self.keys, row.key])

    def tick(self) -> None:
        """Advance the elapsed time of the running jobs."""
        now = time.monotonic()
        self.update_rows([self.job_row(row, now) for key, row in self.jobs.items()
                          if row.state == "running" and key in self._index])

    def set_failed_only(self, failed_only: bool) -> None:
        self.failed_only = failed_only
        self._show([key for key, row in self.jobs.items() if self._visible(row)])

    def forget(self) -> None:
        """Show no run."""
        self.jobs = {}
        self._show([])

    # ------------------------------------------------------------ reading
    def highlighted_key(self) -> str | None:
        return self.cursor_key

    def highlighted_job(self) -> JobRow | None:
        key = self.cursor_key
        return self.jobs.get(key) if key is not None else None

    def cell_texts(self, position: int) -> list[str]:
        """The texts of the row at ``position`` (as stored, before cutting to the column)."""
        return list(self.rows[position].cells)

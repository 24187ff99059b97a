"""A run's jobs as a table that changes in place: one row per prompt x model x repeat.

A live run changes one job at a time, so :meth:`JobTable.update_job` redraws only
that row's changed cells, and :meth:`JobTable.show_jobs` (a whole run read back
from its journal) adds, removes and updates rows by key instead of rebuilding.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rich.text import Text
from textual.widgets import DataTable

from workbench.engine.journal import JobState
from workbench.engine.runs import JobRecord

#: What a job's state is called on screen, from the journal's word for it.
STATE_OF_STATUS = {
    "pending": "queued",
    "submitting": "in doubt",  # a submit was cut off: the provider may have it
    "submitted": "submitted",  # with the provider, polled by the next session
    "succeeded": "done",
    "failed": "failed",
    "skipped": "skipped",
}
#: Theme variable of each state's colour.
STATE_COLOUR = {
    "queued": "text-muted", "running": "accent", "submitted": "accent", "in doubt": "warning",
    "done": "success", "failed": "error", "skipped": "warning",
}
#: Width of the state column: its longest text.
STATE_WIDTH = len("done (cached)")
#: States a job can still leave in this session.
OPEN_STATES = frozenset({"queued", "running"})

COLUMNS = (("prompt", "prompt"), ("model", "model"), ("rep", "repeat"), ("state", "state"),
           ("tries", "attempts"), ("elapsed", "elapsed"), ("error", "error"))


def job_key(model: str, prompt_id: str, repeat: int) -> str:
    """The row key of a job: ``model/prompt_id/repeat``."""
    return f"{model}/{prompt_id}/{repeat}"


def first_line(text: str | None, limit: int = 90) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    if not text or not text.strip():
        return ""
    line = text.strip().splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


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


class JobTable(DataTable):
    """Rows keyed by :func:`job_key`; only changed cells are redrawn.

    ``failed_only`` hides every job that did not fail (or was skipped or is in doubt).
    """

    DEFAULT_CSS = """
    JobTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.jobs: dict[str, JobRow] = {}  # every job of the run shown, filtered out or not
        self.failed_only = False
        self._colours: dict[str, str] | None = None

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            # the state changes in place: a fixed width never cuts it nor makes the columns jump
            self.add_column(label, key=key, width=STATE_WIDTH if key == "state" else None)
        self.watch(self.app, "theme", self._theme_changed, init=False)

    # ------------------------------------------------------------ cells
    def _theme_changed(self) -> None:
        self._colours = None
        for key, row in self.jobs.items():
            if key in self.rows:
                self.update_cell(key, "state", self._state_cell(row))

    def _state_cell(self, row: JobRow) -> Text:
        if self._colours is None:
            variables = self.app.get_css_variables()
            self._colours = {state: variables.get(name, "") for state, name in STATE_COLOUR.items()}
        text = Text(row.state, style=self._colours.get(row.state, ""))
        if row.cached and row.state == "done":
            text.append(" (cached)", style="dim")
        return text

    def cells(self, row: JobRow, now: float | None = None) -> list[object]:
        """The row's cells, in column order."""
        elapsed = row.elapsed_now(now)
        return [
            Text(row.prompt_id), Text(row.model), row.repeat, self._state_cell(row),
            row.attempts or "-", f"{elapsed:.1f} s" if elapsed is not None else "-",
            Text(first_line(row.error)),
        ]

    def _visible(self, row: JobRow) -> bool:
        return not self.failed_only or row.state in ("failed", "skipped", "in doubt")

    def _write(self, row: JobRow, now: float | None = None) -> None:
        """Redraw the cells of ``row`` that differ from what is on screen."""
        for (_, column), value in zip(COLUMNS, self.cells(row, now)):
            if self.get_cell(row.key, column) != value:
                self.update_cell(row.key, column, value, update_width=True)

    # ------------------------------------------------------------ changes
    def show_jobs(self, rows: Iterable[JobRow]) -> None:
        """Show these jobs (a run's, in order): rows are added, removed or updated by key.

        Only when the order itself changes (another run's jobs) are the rows rebuilt,
        keeping the cursor on the job it was on.
        """
        self.jobs = {row.key: row for row in rows}
        wanted = [key for key, row in self.jobs.items() if self._visible(row)]
        current = [key.value for key in self.rows]
        kept = [key for key in current if key in self.jobs and self._visible(self.jobs[key])]
        if kept != wanted[: len(kept)]:
            self._rebuild(wanted)
            return
        for key in current:
            if key not in kept:
                self.remove_row(key)
        for key in kept:
            self._write(self.jobs[key])
        for key in wanted[len(kept):]:
            self.add_row(*self.cells(self.jobs[key]), key=key)

    def _rebuild(self, wanted: list[str]) -> None:
        cursor = self.highlighted_key()
        self.clear()
        for key in wanted:
            self.add_row(*self.cells(self.jobs[key]), key=key)
        if cursor in wanted:
            self.move_cursor(row=wanted.index(cursor))

    def update_job(self, row: JobRow) -> None:
        """One job changed: redraw its changed cells (a job the filter now lets in goes last)."""
        self.jobs[row.key] = row
        shown = row.key in self.rows
        if shown and self._visible(row):
            self._write(row)
        elif shown:
            self.remove_row(row.key)
        elif self._visible(row):
            self.add_row(*self.cells(row), key=row.key)

    def tick(self) -> None:
        """Advance the elapsed time of the running jobs."""
        now = time.monotonic()
        for key, row in self.jobs.items():
            if row.state == "running" and key in self.rows:
                self.update_cell(key, "elapsed", f"{row.elapsed_now(now):.1f} s", update_width=True)

    def set_failed_only(self, failed_only: bool) -> None:
        self.failed_only = failed_only
        wanted = [key for key, row in self.jobs.items() if self._visible(row)]
        self._rebuild(wanted)

    def forget(self) -> None:
        """Show no run."""
        self.jobs = {}
        self.clear()

    # ------------------------------------------------------------ reading
    def highlighted_key(self) -> str | None:
        if not self.row_count or not self.is_valid_row_index(self.cursor_row):
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def highlighted_job(self) -> JobRow | None:
        key = self.highlighted_key()
        return self.jobs.get(key) if key is not None else None

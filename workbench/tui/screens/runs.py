"""The Runs screen: past runs and their jobs; plan, start, watch, stop and resume a run;
score the clips it made.

Everything here is presentation over the core: :func:`plan_run` and
:func:`run_benchmark` (the engine), :func:`list_runs` / :func:`load_run`, and
:func:`score_runs` -- the same calls ``workbench run`` and ``workbench score`` make.
A run started here runs on the app's event loop (the engine does its blocking
work in threads), so it goes on while the user works on other screens; the app
asks before quitting through :class:`LiveRun` (``app.active_run``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button, Checkbox, DataTable, Footer, Header, Input, Label, Log, ProgressBar, SelectionList,
    Static,
)
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState, get_current_worker

from workbench.benchmark.folder import Benchmark
from workbench.engine import RunEvent, RunPlan, RunSummary, plan_run, run_benchmark
from workbench.engine import events as ev
from workbench.engine.events import ModelProgress
from workbench.engine.cost import check_estimate, format_money
from workbench.engine.plan import DONE, FAILED_BEFORE
from workbench.engine.resumable import resumable_runs
from workbench.engine.runs import RunInfo, RunRecord, list_runs, load_run
from workbench.engine.session import SUBMIT_GRACE
from workbench.errors import WorkbenchError, user_message
from workbench.run_scoring import ScoringProgress, ScoringReport, score_runs
from workbench.tui.widgets.job_table import OPEN_STATES, JobRow, JobTable, first_line, job_key
from workbench.tui.widgets.model_progress import RunProgress
from workbench.tui.widgets.screen_tabs import ScreenTabs
from workbench.tui.widgets.virtual_table import VirtualTable

# ---------------------------------------------------------------- plain helpers


@dataclass(frozen=True)
class RunChoices:
    """What the plan dialog asks: which models, how many repeats, how fast, how much money."""

    models: tuple[str, ...]
    repeats: int
    concurrency: int
    budget: float | None
    retry_uncertain: bool = False  # resubmit jobs whose earlier submit may have reached the provider


def parse_choices(models: Sequence[str], repeats: str, concurrency: str, budget: str,
                  retry_uncertain: bool = False) -> RunChoices:
    """Read the plan dialog's fields; a WorkbenchError names the field that is wrong."""
    if not models:
        raise WorkbenchError("select at least one model")
    try:
        repeat_count = int(repeats.strip())
    except ValueError:
        raise WorkbenchError(f"repeats: {repeats.strip()!r} is not a whole number") from None
    if not 1 <= repeat_count <= 100:
        raise WorkbenchError(f"repeats: {repeat_count} is out of range (1 to 100)")
    try:
        slots = int(concurrency.strip())
    except ValueError:
        raise WorkbenchError(f"concurrency: {concurrency.strip()!r} is not a whole number") from None
    if not 1 <= slots <= 1024:
        raise WorkbenchError(f"concurrency: {slots} is out of range (1 to 1024)")
    limit: float | None = None
    if budget.strip():
        try:
            limit = float(budget.strip().lstrip("$"))
        except ValueError:
            raise WorkbenchError(f"budget: {budget.strip()!r} is not an amount of money") from None
        if not limit >= 0 or limit == float("inf"):
            raise WorkbenchError(f"budget: {budget.strip()!r} must be zero or more")
    return RunChoices(tuple(models), repeat_count, slots, limit, retry_uncertain)


@dataclass(frozen=True)
class RunRequest:
    """A confirmed plan: the benchmark as planned and the options to run it with."""

    bench: Benchmark
    choices: RunChoices
    plan: RunPlan


#: Theme variable of each run status's colour.
STATUS_STYLE = {
    "finished": "success", "running": "accent", "stopping": "accent", "interrupted": "warning",
    "resumable": "warning", "failed": "error",
}


def sync_table(table: DataTable, rows: list[tuple[str, list[object]]]) -> None:
    """Make ``table`` show ``rows`` (key, cells) in order, touching only what changed.

    Rows keep their place and only changed cells are redrawn; a change of order
    (a new run on top, a job that failed moving up) rebuilds the rows and keeps
    the cursor on the row it was on.
    """
    current = [key.value for key in table.rows]
    wanted = [key for key, _ in rows]
    columns = [column.key for column in table.ordered_columns]
    if current == wanted:
        for key, cells in rows:
            for column, value in zip(columns, cells):
                if table.get_cell(key, column) != value:
                    table.update_cell(key, column, value, update_width=True)
        return
    cursor_key: str | None = None
    if table.row_count and table.is_valid_row_index(table.cursor_row):
        cursor_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if cursor_key in wanted:
        table.move_cursor(row=wanted.index(cursor_key))


def sync_fixed_table(table: DataTable, columns: Sequence[tuple[str, str]],
                     rows: list[tuple[str, list[object]]]) -> None:
    """:func:`sync_table` with each column exactly as wide as its widest cell or label.

    The widths are set, not measured by the table after the rows are drawn, so the header
    and the rows always line up, and a table sized to its columns (``width: auto``) fits.
    """
    widths = [max([len(label), *(len(str(cells[i])) for _key, cells in rows)])
              for i, (label, _key) in enumerate(columns)]
    shown = [(column.key.value, column.width) for column in table.ordered_columns]
    if shown != [(key, width) for (_label, key), width in zip(columns, widths)]:
        table.clear(columns=True)
        for (label, key), width in zip(columns, widths):
            table.add_column(label, key=key, width=width)
    sync_table(table, rows)


#: The plan dialog's table: (label, key) per column.
PLAN_COLUMNS = (("model", "model"), ("provider", "provider"), ("jobs", "jobs"), ("done", "done"),
                ("cached", "cached"), ("in flight", "in_flight"), ("to make", "to_make"),
                ("est. cost", "cost"))


def cached_before(plan: RunPlan) -> dict[str, int]:
    """Per model, the jobs of a resumed run that earlier sessions already served from the
    cache (the plan's own ``cached`` counts only those the next session will serve)."""
    counts = dict.fromkeys(plan.models, 0)
    for job in plan.jobs:
        before = plan.previous.get(job.id)
        if plan.actions[job.id] == DONE and before is not None and before.cached:
            counts[job.model] = counts.get(job.model, 0) + 1
    return counts


# ------------------------------------------------------------------ the plan dialog


class RunPlanDialog(ModalScreen["RunRequest | None"]):
    """Choose models, repeats, concurrency and budget; see what the run would do and cost."""

    CSS_PATH = "runs.tcss"
    HELP_TITLE = "New run"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "start", "Start the run"),
    ]

    @dataclass
    class PlanReady(Message):
        choices: RunChoices
        bench: Benchmark
        plan: RunPlan

    @dataclass
    class PlanFailed(Message):
        choices: RunChoices
        error: str

    def __init__(self, root: Path, bench: Benchmark, *, models: Sequence[str] | None = None,
                 repeats: int | None = None) -> None:
        super().__init__()
        self.root = root
        self.defaults = bench
        self.preset_models = set(models) if models else None  # a run to resume: its models
        self.preset_repeats = repeats
        self.ready: RunRequest | None = None
        self.problem: str | None = "working out the plan…"

    def compose(self) -> ComposeResult:
        run = self.defaults.config.run
        with VerticalScroll(id="plan-dialog"):
            yield Label(f"New run of {self.defaults.config.name}", id="plan-title", classes="title")
            yield Label("Models (space toggles)", classes="muted")
            yield SelectionList[str](
                *(Selection(Content(model), model,
                            self.preset_models is None or model in self.preset_models)
                  for model in self.defaults.config.models),
                id="plan-models", compact=True)
            with Horizontal(id="plan-options"):
                yield Label("Repeats", classes="plan-label")
                yield Input(str(self.preset_repeats or run.repeats), type="integer", id="plan-repeats",
                            compact=True)
                yield Label("Concurrency", classes="plan-label")
                yield Input(str(run.concurrency), type="integer", id="plan-concurrency", compact=True)
                yield Label("Budget $", classes="plan-label")
                yield Input("" if run.budget is None else f"{run.budget:g}", type="number",
                            placeholder="no limit", id="plan-budget", compact=True)
            yield Checkbox("Resubmit jobs in doubt (their provider may have them already)", False,
                           id="plan-retry-uncertain", compact=True,
                           tooltip="jobs whose earlier submit may have reached the provider: "
                                   "check its dashboard first, or you may pay twice")
            yield DataTable(id="plan-table", cursor_type="none", show_cursor=False)
            yield Static("", id="plan-note")
            with Horizontal(id="plan-buttons"):
                yield Button("Start run (ctrl+s)", variant="primary", id="plan-start", compact=True)
                yield Button("Cancel (esc)", id="plan-cancel", compact=True)

    def on_mount(self) -> None:
        sync_fixed_table(self.query_one("#plan-table", DataTable), PLAN_COLUMNS, [])
        self.query_one("#plan-start", Button).disabled = True
        self.query_one("#plan-models").focus()
        self._replan()

    # ------------------------------------------------------------ the plan
    def _choices(self) -> RunChoices:
        return parse_choices(
            self.query_one("#plan-models", SelectionList).selected,
            self.query_one("#plan-repeats", Input).value,
            self.query_one("#plan-concurrency", Input).value,
            self.query_one("#plan-budget", Input).value,
            self.query_one("#plan-retry-uncertain", Checkbox).value,
        )

    def _replan(self) -> None:
        self.ready = None
        self.query_one("#plan-start", Button).disabled = True
        try:
            choices = self._choices()
        except (WorkbenchError, OSError) as error:
            self._show_problem(str(error))
            return
        self.problem = "working out the plan…"
        self._plan(choices)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def _plan(self, choices: RunChoices) -> None:
        worker = get_current_worker()
        try:
            bench = Benchmark.load(self.root)
            plan = plan_run(bench, choices.models, choices.repeats,
                            retry_uncertain=choices.retry_uncertain)
        except Exception as error:  # noqa: BLE001 - shown in the dialog, never as a traceback
            if not worker.is_cancelled:
                self.post_message(self.PlanFailed(choices, user_message(error)))
            return
        if not worker.is_cancelled:
            self.post_message(self.PlanReady(choices, bench, plan))

    def _current(self, choices: RunChoices) -> bool:
        try:
            return self._choices() == choices
        except WorkbenchError:
            return False

    @on(PlanFailed)
    def _plan_failed(self, message: PlanFailed) -> None:
        if self._current(message.choices):
            self._show_problem(message.error)

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        if not self._current(message.choices):
            return
        plan = message.plan
        earlier = cached_before(plan)
        rows: list[tuple[str, list[object]]] = []
        for m in plan.per_model:
            cost = format_money(m.estimated_cost) if m.priced or m.estimated_cost else "-"
            # cached: every job of the run served from the cache, earlier sessions' included
            # (as the runs list counts them)
            rows.append((m.model, [Text(m.model), Text(m.provider), m.jobs, m.done,
                                   m.cached + earlier.get(m.model, 0), m.in_flight, m.to_generate,
                                   cost]))
        sync_fixed_table(self.query_one("#plan-table", DataTable), PLAN_COLUMNS, rows)
        self.ready = RunRequest(message.bench, message.choices, plan)
        self.problem = None
        self.query_one("#plan-title", Label).update(
            f"Resume run {plan.resume_run_id} of {message.bench.config.name}" if plan.resume_run_id
            else f"New run of {message.bench.config.name}")
        self.query_one("#plan-note", Static).update(self._note(message.bench, message.choices, plan))
        self.query_one("#plan-note", Static).remove_class("fail")
        self.query_one("#plan-start", Button).disabled = False

    def _note(self, bench: Benchmark, choices: RunChoices, plan: RunPlan) -> Content:
        budget = choices.budget if choices.budget is not None else bench.config.run.budget
        earlier = sum(cached_before(plan).values())
        cached = f"{plan.cached + earlier} from the cache" + (f" ({earlier} already)" if earlier else "")
        lines = [f"{plan.total_jobs} jobs: {plan.to_generate} to make, {cached}, "
                 f"estimated cost {format_money(plan.estimated_cost)}"
                 + (f" (budget {format_money(budget)})" if budget is not None else "")]
        if plan.resume_run_id:
            done = sum(m.done for m in plan.per_model)
            lines.append(f"Resumes interrupted run {plan.resume_run_id}: {done} job(s) already done "
                         "are kept; nothing is made twice.")
        unpriced = [m.model for m in plan.per_model if not m.priced and m.to_generate]
        if unpriced:
            lines.append(f"No price set for {', '.join(unpriced)}.")
        uncertain = sum(m.uncertain for m in plan.per_model)
        if uncertain:
            lines.append(f"{uncertain} job(s) may already be with the provider (a submit got no "
                         "answer); they are recorded as failed rather than paid for twice. Check the "
                         "provider's dashboard, then tick \"Resubmit jobs in doubt\" to submit them again.")
        failed_before = sum(m.failed_before for m in plan.per_model)
        if failed_before:
            lines.append(f"{failed_before} job(s) failed earlier in this run and stay failed; a new "
                         "run retries them once this one is finished.")
        if budget is not None and plan.estimated_cost > budget:
            lines.append("Over budget: raise the budget or run fewer models or repeats.")
        return Content("\n".join(lines))

    def _show_problem(self, text: str) -> None:
        self.problem = text
        self.ready = None
        self.query_one("#plan-start", Button).disabled = True
        note = self.query_one("#plan-note", Static)
        note.update(Content(text))
        note.add_class("fail")

    @on(SelectionList.SelectedChanged)
    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self._replan()

    # ------------------------------------------------------------ actions
    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#plan-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#plan-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_start(self) -> None:
        request = self.ready
        if request is None:
            self.notify(self.problem or "the plan is not ready yet", title="cannot start",
                        severity="warning")
            return
        budget = request.choices.budget
        if budget is None:
            budget = request.bench.config.run.budget
        try:
            check_estimate(request.plan.estimated_cost, budget, str(request.bench.root))
        except (WorkbenchError, OSError) as error:
            self.app.show_error(error, title="over budget")
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ------------------------------------------------------------------ a run in progress

#: Lines the log pane keeps.
LOG_LINES = 2000


def rows_from_plan(plan: RunPlan) -> dict[str, JobRow]:
    """Every job of a planned run as it stands before it starts, in the order runs are read
    back (model, prompt, repeat): done and failed jobs of a resumed run keep their result."""
    prompt_order: dict[str, int] = {}
    for job in plan.jobs:
        prompt_order.setdefault(job.prompt_id, len(prompt_order))
    model_order = {model: i for i, model in enumerate(plan.models)}
    rows: dict[str, JobRow] = {}
    for job in sorted(plan.jobs, key=lambda j: (model_order[j.model], prompt_order[j.prompt_id],
                                                  j.repeat)):
        before = plan.previous.get(job.id)
        if plan.actions[job.id] in (DONE, FAILED_BEFORE) and before is not None:
            row = JobRow.from_state(before)
        else:
            row = JobRow(job.model, job.prompt_id, job.repeat, "queued")
        rows[row.key] = row
    return rows


def event_text(event: RunEvent) -> str | None:
    """One log line for an engine event (None for events not worth a line)."""
    job = f"{event.model}/{event.prompt_id} r{event.repeat}"
    total = sum(p.total for p in event.progress)
    done = sum(p.done for p in event.progress)
    kind = event.kind
    if kind == ev.RUN_STARTED:
        return f"run {event.run_id} started: {total} jobs" + (f", {done} done before" if done else "")
    if kind == ev.JOB_STARTED:
        return f"{job} started"
    if kind == ev.JOB_RETRYING:
        return f"{job} retrying: {event.message}"
    if kind == ev.JOB_SUBMITTED:
        return f"{job} submitted to the provider"
    if kind == ev.JOB_SUCCEEDED:
        took = f" in {event.elapsed_s:.1f} s" if event.elapsed_s is not None else ""
        return f"{job} done{took}"
    if kind == ev.JOB_CACHED:
        return f"{job} done (from the cache)"
    if kind == ev.JOB_FAILED:
        return f"{job} failed: {first_line(event.message, 300)}"
    if kind == ev.JOB_SKIPPED:
        return f"{job} skipped: {event.message}"
    if kind == ev.RUN_FINISHED:
        return f"run {event.run_id} ended: {done} of {total} jobs done"
    if kind == ev.RUN_INTERRUPTED:
        return f"run {event.run_id} stopped with {done} of {total} jobs done; it can be resumed"
    return None


def _from_cache(row: JobRow) -> int:
    return int(row.cached and row.state == "done")


class LiveRun:
    """A run started from this screen: the engine's task and where each job stands.

    It is also what the app asks before quitting (``app.active_run``):
    :meth:`is_running`, :meth:`describe` and :meth:`stop`.
    """

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.run_id: str | None = request.plan.resume_run_id
        self.jobs = rows_from_plan(request.plan)
        self.counts: dict[str, int] = {}  # jobs per state, kept up to date event by event
        # jobs served from the cache per model, earlier sessions of a resumed run included
        # (the engine's progress counts only this session's)
        self.cached: dict[str, int] = dict.fromkeys(request.plan.models, 0)
        for row in self.jobs.values():
            self.counts[row.state] = self.counts.get(row.state, 0) + 1
            self.cached[row.model] = self.cached.get(row.model, 0) + _from_cache(row)
        self.started = time.monotonic()
        self.last: RunEvent | None = None  # the newest engine event
        self.task: asyncio.Future[RunSummary] | None = None  # the engine, once started
        self.stopping = False
        self.ended = False  # set once the screen has handled how the run ended

    def is_running(self) -> bool:
        return not self.ended and (self.task is None or not self.task.done())

    def jobs_left(self) -> int:
        return sum(self.counts.get(state, 0) for state in OPEN_STATES)

    def describe(self) -> str:
        """e.g. ``run 20261126-184231-c164 (12 of 60 jobs left)``."""
        name = f"run {self.run_id}" if self.run_id else "a new run"
        return f"{name} ({self.jobs_left()} of {len(self.jobs)} jobs left)"

    def stop(self) -> None:
        """Ask the engine to stop; returns at once. The engine journals how far it got, so the
        run resumes later with nothing made twice."""
        if self.stopping or not self.is_running():
            return
        self.stopping = True
        if self.task is not None:
            self.task.cancel()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def apply(self, event: RunEvent) -> JobRow | None:
        """Take in one engine event; the job row it changed, if any."""
        self.last = event
        self.run_id = event.run_id
        if event.model is None or event.prompt_id is None or event.repeat is None:
            return None
        key = job_key(event.model, event.prompt_id, event.repeat)
        row = self.jobs.get(key) or JobRow(event.model, event.prompt_id, event.repeat, "queued")
        kind = event.kind
        if kind == ev.JOB_STARTED:
            row = replace(row, state="running", attempts=event.attempt or 1, elapsed_s=None,
                          error=None, started=time.monotonic())
        elif kind == ev.JOB_RETRYING:
            row = replace(row, attempts=event.attempt or row.attempts + 1)
        elif kind in (ev.JOB_SUCCEEDED, ev.JOB_CACHED):
            row = replace(row, state="done", cached=kind == ev.JOB_CACHED, error=None,
                          elapsed_s=event.elapsed_s, started=None)
        elif kind == ev.JOB_FAILED:
            row = replace(row, state="failed", error=event.message, elapsed_s=event.elapsed_s,
                          started=None)
        elif kind == ev.JOB_SKIPPED:
            row = replace(row, state="skipped", error=f"skipped: {event.message}",
                          elapsed_s=event.elapsed_s, started=None)
        else:
            return None
        before = self.jobs.get(key)
        if before is not None:
            self.counts[before.state] -= 1
            self.cached[before.model] -= _from_cache(before)
        self.counts[row.state] = self.counts.get(row.state, 0) + 1
        self.cached[row.model] = self.cached.get(row.model, 0) + _from_cache(row)
        self.jobs[key] = row
        return row

    def progress(self, event: RunEvent) -> tuple[ModelProgress, ...]:
        """The event's counts per model, with the cached jobs of earlier sessions counted."""
        return tuple(replace(p, cached=self.cached.get(p.model, p.cached)) for p in event.progress)


# ------------------------------------------------------------------ the screen


class RunsScreen(Screen):
    """Past runs and their jobs; start, watch, stop and resume a run; score new clips."""

    CSS_PATH = "runs.tcss"
    HELP_TITLE = "Runs"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("n", "new_run", "New run"),
        Binding("r", "resume_run", "Resume"),
        Binding("x", "stop_run", "Stop"),
        Binding("c", "score", "Score clips"),
        Binding("f", "failed_only", "Failed only"),
        Binding("l", "toggle_log", "Log"),
    ]

    # ------------------------------------------------------------ messages
    @dataclass
    class RunsListed(Message):
        runs: list[RunInfo]
        resumable: set[str]

    @dataclass
    class JobsLoaded(Message):
        record: RunRecord

    @dataclass
    class ReadFailed(Message):
        error: str

    @dataclass
    class RunProgressed(Message):
        live: LiveRun
        event: RunEvent

    @dataclass
    class RunEnded(Message):
        live: LiveRun
        summary: RunSummary

    @dataclass
    class RunStopped(Message):
        live: LiveRun

    @dataclass
    class RunFailed(Message):
        live: LiveRun
        error: str

    @dataclass
    class ScoringAdvanced(Message):
        progress: ScoringProgress

    @dataclass
    class ScoringFinished(Message):
        report: ScoringReport

    @dataclass
    class ScoringFailed(Message):
        error: str

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[RunInfo] = []  # newest first
        self.resumable: set[str] = set()
        self.shown_run: str | None = None  # whose jobs the jobs table shows
        self.live_run: LiveRun | None = None  # the run started here (running or the last one)
        self.scoring = False
        self.progress_events = 0  # engine events handled (all runs of this screen)
        self.last_summary: RunSummary | None = None
        self.last_report: ScoringReport | None = None
        self._jobs_live = False  # the jobs table follows the live run's events
        self._follow_live = False  # put the cursor on the live run once it is listed
        self._score_again = False  # a run ended while scoring: score once more afterwards

    @property
    def running(self) -> bool:
        return self.live_run is not None and self.live_run.is_running()

    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenTabs("runs")
        with Vertical(id="runs-body"):
            yield Label("loading the benchmark…", id="runs-status")
            yield RunProgress(id="run-progress")
            with Horizontal(id="scoring"):
                yield Label("Scoring", id="scoring-title")
                yield ProgressBar(id="scoring-bar", show_eta=False)
                yield Label("", id="scoring-note")
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield Label("", id="jobs-title", classes="title")
            yield JobTable(id="jobs-table")
            yield Static("", id="job-detail")
            yield Log(id="run-log", max_lines=LOG_LINES)
        yield Footer()

    def on_mount(self) -> None:
        runs = self.query_one("#runs-table", DataTable)
        # the run id is the UTC time it was created (20261126-172020-c164): no separate column
        for label, key in (("run", "run"), ("status", "status"), ("done", "ok"), ("failed", "failed"),
                           ("cached", "cached"), ("cost", "cost"), ("reps", "repeats"),
                           ("models", "models")):
            # a status's width is fixed: it changes in place and must not be cut or make rows jump
            runs.add_column(label, key=key, width=len("interrupted") if key == "status" else None)
        self.query_one("#run-progress").display = False
        self.query_one("#scoring").display = False
        self.query_one("#run-log").display = False
        self.set_interval(1.0, self._tick)
        self.watch(self.app, "bench_version", self._refresh, init=True)

    async def on_unmount(self) -> None:
        """The app is closing: stop a run still going and wait until its journal says so."""
        live = self.live_run
        if live is not None and live.task is not None and not live.task.done():
            live.stop()
            await asyncio.wait({live.task}, timeout=SUBMIT_GRACE + 10)
        if live is not None and self.app.active_run is live:
            self.app.active_run = None

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        return [
            ("Start a run", "pick models and repeats, see the cost, start (n)", self.action_new_run),
            ("Resume the highlighted run", "finish an interrupted run; nothing is made twice (r)",
             self.action_resume_run),
            ("Stop the run", "stop the run in progress; it can be resumed later (x)",
             self.action_stop_run),
            ("Score new clips", "score every clip that is not scored yet (c)", self.action_score),
            ("Show failed jobs only", "hide the jobs that did not fail, or show all again (f)",
             self.action_failed_only),
            ("Show or hide the run log", "the events of the run started here (l)",
             self.action_toggle_log),
        ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_run":
            return True if self.running else None  # shown dimmed while nothing runs
        return True

    # ------------------------------------------------------------ reading runs
    def _refresh(self, _version: int = 0) -> None:
        if self.app.bench is None:
            self.query_one("#runs-status", Label).update("loading the benchmark…")
            return
        self._list_runs()

    @work(thread=True, exclusive=True, group="list-runs", exit_on_error=False)
    def _list_runs(self) -> None:
        try:
            runs = list_runs(self.app.root)
            resumable = resumable_runs(self.app.root, runs)
        except Exception as error:  # noqa: BLE001 - unreadable run folders become a notification
            self.post_message(self.ReadFailed(user_message(error)))
            return
        if not get_current_worker().is_cancelled:  # a newer listing is on its way
            self.post_message(self.RunsListed(runs, resumable))

    @work(thread=True, exclusive=True, group="load-jobs", exit_on_error=False)
    def _load_jobs(self, run_id: str) -> None:
        try:
            record = load_run(self.app.root, run_id)
        except Exception as error:  # noqa: BLE001
            self.post_message(self.ReadFailed(user_message(error)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.JobsLoaded(record))

    @on(ReadFailed)
    def _read_failed(self, message: ReadFailed) -> None:
        self.app.show_error(WorkbenchError(message.error), title="runs")

    @on(RunsListed)
    def _runs_listed(self, message: RunsListed) -> None:
        self.runs = list(reversed(message.runs))
        self.resumable = message.resumable
        table = self.query_one("#runs-table", DataTable)
        ids = [info.run_id for info in self.runs]
        live = self.live_run
        if self._jobs_live and live is not None:
            target = live.run_id if live.run_id in ids else None
            self._follow_live = self._follow_live and target is None
        elif self._follow_live and live is not None and live.run_id in ids:
            target, self._follow_live = live.run_id, False
        elif self.shown_run in ids:
            target = self.shown_run
        else:
            target = ids[0] if ids else None
        # the rows change and the cursor moves without a highlight message per step;
        # the one run to show is chosen here
        with self.prevent(DataTable.RowHighlighted):
            self._show_runs()
            if target is not None:
                table.move_cursor(row=ids.index(target))
        if target is None and not self._jobs_live:
            self.shown_run = None  # no runs (or its folder is gone)
            self.query_one("#jobs-table", JobTable).forget()
            self.query_one("#jobs-title", Label).update("")
            self._show_job_detail()
        elif target is not None and not (self._jobs_live and target == self.shown_run):
            self._highlight(target)

    def _status_of(self, info: RunInfo) -> str:
        live = self.live_run
        if live is not None and info.run_id == live.run_id and self.running:
            return "stopping" if live.stopping else "running"
        if info.status == "interrupted" and info.run_id in self.resumable:
            return "resumable"
        return info.status

    def _run_row(self, info: RunInfo) -> list[object]:
        jobs = info.jobs
        done, failed, cached = jobs.get("succeeded", 0), jobs.get("failed", 0), jobs.get("cached", 0)
        total = jobs.get("total")
        live = self.live_run
        if live is not None and info.run_id == live.run_id and self.running and live.last is not None:
            done = sum(p.succeeded for p in live.last.progress)
            failed = sum(p.failed for p in live.last.progress)
            cached = sum(live.cached.values())  # the same count the journal gives afterwards
            total = sum(p.total for p in live.last.progress)
        return [
            Text(info.run_id), self._styled(self._status_of(info)),
            f"{done}/{total}" if total else str(done), failed, cached, format_money(info.cost),
            info.repeats, Text(", ".join(info.models)),
        ]

    def _show_runs(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        sync_table(table, [(info.run_id, self._run_row(info)) for info in self.runs])
        status = self.query_one("#runs-status", Label)
        if not self.runs:
            status.update("No runs yet: press n to start one.")
            return
        text = f"{len(self.runs)} run{'s' if len(self.runs) != 1 else ''}, newest first"
        resumable = sum(1 for info in self.runs if self._status_of(info) == "resumable")
        if resumable and not self.running:
            text += f" · {resumable} resumable: highlight it and press r"
        status.update(text)

    def _styled(self, status: str) -> Text:
        colour = self.app.get_css_variables().get(STATUS_STYLE.get(status, ""), "")
        return Text(status, style=colour)

    @on(DataTable.RowHighlighted, "#runs-table")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value != self.shown_run:
            self._highlight(str(event.row_key.value))

    def _highlight(self, run_id: str) -> None:
        """Show ``run_id``'s jobs: the live run's from its events, any other from its journal."""
        self.shown_run = run_id
        live = self.live_run
        if live is not None and live.run_id == run_id and self.running:
            self._show_live_jobs()
            return
        self._jobs_live = False
        self.query_one("#jobs-title", Label).update(Content(f"Jobs of run {run_id}"))
        self._load_jobs(run_id)

    def _show_live_jobs(self) -> None:
        live = self.live_run
        assert live is not None
        self._jobs_live = True
        self.query_one("#jobs-table", JobTable).show_jobs(live.jobs.values())
        self._show_jobs_title()
        self._show_job_detail()

    def _show_jobs_title(self) -> None:
        table = self.query_one("#jobs-table", JobTable)
        live = self.live_run
        if self._jobs_live and live is not None:
            counts = live.counts  # kept per event: no count over every job per event
        else:
            counts = {}
            for row in table.jobs.values():
                counts[row.state] = counts.get(row.state, 0) + 1
        parts = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()) if n) or "none"
        if self._jobs_live and live is not None:
            name = f"run {live.run_id}" if live.run_id else "the new run"
            head = f"Jobs of {name} ({'stopping' if live.stopping else 'running'})"
        else:
            head = f"Jobs of run {self.shown_run}"
            info = next((i for i in self.runs if i.run_id == self.shown_run), None)
            if info is not None:
                head += f" ({self._status_of(info)})"
        only = " · failed only (f shows all)" if table.failed_only else ""
        self.query_one("#jobs-title", Label).update(Content(f"{head}: {parts}{only}"))

    @on(JobsLoaded)
    def _jobs_loaded(self, message: JobsLoaded) -> None:
        record = message.record
        if record.run_id != self.shown_run or self._jobs_live:
            return
        table = self.query_one("#jobs-table", JobTable)
        table.show_jobs(JobRow.from_record(job) for job in record.jobs)
        self._show_jobs_title()
        if record.torn_lines:
            title = self.query_one("#jobs-title", Label)
            title.update(Content(f"{title.content} · {record.torn_lines} unreadable journal line(s)"))
        self._show_job_detail()

    @on(VirtualTable.Highlighted, "#jobs-table")
    def _job_highlighted(self, _event: VirtualTable.Highlighted) -> None:
        self._show_job_detail()

    def _show_job_detail(self) -> None:
        """The whole error of the highlighted job (the table shows its first line, cut)."""
        job = self.query_one("#jobs-table", JobTable).highlighted_job()
        detail = self.query_one("#job-detail", Static)
        if job is None or not job.error:
            detail.update("")
            detail.display = False
            return
        detail.update(Content(f"{job.model}/{job.prompt_id} r{job.repeat}: {job.error.strip()}"))
        detail.display = True

    def _tick(self) -> None:
        """Once a second while a run goes: its clock, its running jobs' times, its row."""
        if not self.running:
            return
        self._show_progress_title()
        if self._jobs_live:
            self.query_one("#jobs-table", JobTable).tick()
        if self.runs:
            self._show_runs()

    # ------------------------------------------------------------ starting
    def action_new_run(self) -> None:
        self._open_plan()

    def action_resume_run(self) -> None:
        run_id = self.shown_run
        info = next((i for i in self.runs if i.run_id == run_id), None)
        if self.running:
            self.notify(f"{self.live_run.describe()} is in progress; x stops it",
                        title="a run is in progress", severity="warning")
            return
        if info is None:
            self.notify("no run to resume: highlight an interrupted run", severity="warning")
            return
        status = self._status_of(info)
        if status == "resumable":
            self._open_plan(models=info.models, repeats=info.repeats)
            return
        if status == "interrupted":
            why = (f"run {info.run_id} cannot be resumed: a newer interrupted run with the same "
                   "models and repeats would be resumed instead, or its prompts or models changed. "
                   "n starts a new run (clips already made come from the cache).")
        elif status == "running":
            why = f"run {info.run_id} is running (another workbench holds the benchmark's run lock)"
        else:
            why = (f"run {info.run_id} is {status}: there is nothing to resume. "
                   "n starts a new run (clips already made come from the cache).")
        self.notify(why, title="resume", severity="warning")

    def _open_plan(self, models: Sequence[str] | None = None, repeats: int | None = None) -> None:
        bench = self.app.bench
        if bench is None:
            self.notify("the benchmark is still loading", severity="warning")
            return
        if self.running:
            self.notify(f"{self.live_run.describe()} is in progress; x stops it",
                        title="a run is in progress", severity="warning")
            return
        self.app.push_screen(RunPlanDialog(self.app.root, bench, models=models, repeats=repeats),
                             callback=self._plan_chosen)

    def _plan_chosen(self, request: RunRequest | None) -> None:
        if request is None or self.running:
            return
        live = self.live_run = LiveRun(request)
        self.app.active_run = live
        self._follow_live = True
        self.shown_run = live.run_id
        progress = self.query_one("#run-progress", RunProgress)
        progress.reset()
        progress.display = True
        log = self.query_one("#run-log", Log)
        log.display = True
        plan = request.plan
        what = f"resuming run {plan.resume_run_id}" if plan.resume_run_id else "starting a new run"
        self._log(f"{what}: {', '.join(plan.models)} x {plan.repeats} repeat(s), {plan.total_jobs} "
                  f"jobs, {plan.to_generate} to make, estimated {format_money(plan.estimated_cost)}")
        self._show_live_jobs()
        self._show_progress_title()
        self.refresh_bindings()
        self._run(live)

    @work(exclusive=True, group="run", exit_on_error=False)
    async def _run(self, live: LiveRun) -> None:
        """Drive the engine on the app's event loop (it renders and writes in threads).

        The engine runs as its own task so that stopping it is one cancel, whoever asks
        (x, the quit guard, or the screen closing), and it always journals how it stopped.
        """
        if live.stopping:
            self.post_message(self.RunStopped(live))
            return
        choices = live.request.choices
        live.task = asyncio.ensure_future(run_benchmark(
            live.request.bench, models=list(choices.models), repeats=choices.repeats,
            concurrency=choices.concurrency, budget=choices.budget,
            on_event=lambda event: self.post_message(self.RunProgressed(live, event)),
            retry_uncertain=choices.retry_uncertain))
        # its outcome is read below, or (when the screen closes first) not at all: never "unretrieved"
        live.task.add_done_callback(lambda task: task.cancelled() or task.exception())
        try:
            summary = await asyncio.shield(live.task)
        except asyncio.CancelledError:
            if live.task.cancelled():  # stopped (x or the quit guard): the journal says so
                self.post_message(self.RunStopped(live))
                return
            live.stop()  # this worker is being cancelled (the screen closes): stop the engine too
            raise
        except Exception as error:  # noqa: BLE001 - budget, lock, config: a notification, not a traceback
            self.post_message(self.RunFailed(live, user_message(error)))
            return
        self.post_message(self.RunEnded(live, summary))

    # ------------------------------------------------------------ watching
    def _log(self, text: str) -> None:
        seconds = self.live_run.elapsed() if self.live_run is not None else 0.0
        self.query_one("#run-log", Log).write_line(f"{seconds:7.1f} s  {text}")

    @on(RunProgressed)
    def _run_progressed(self, message: RunProgressed) -> None:
        live, event = message.live, message.event
        if live is not self.live_run:
            return
        self.progress_events += 1
        first = live.run_id != event.run_id
        if first and self.shown_run == live.run_id:
            self.shown_run = event.run_id
        row = live.apply(event)
        self.query_one("#run-progress", RunProgress).show(live.progress(event))
        text = event_text(event)
        if text is not None:
            self._log(text)
        if row is not None and self._jobs_live:
            table = self.query_one("#jobs-table", JobTable)
            table.update_job(row)
            if event.kind != ev.JOB_RETRYING:
                self._show_jobs_title()
            if table.highlighted_key() == row.key:
                self._show_job_detail()
        if row is not None or first or event.kind == ev.RUN_STARTED:
            self._show_progress_title()
        if first or event.kind == ev.RUN_STARTED:
            self._list_runs()  # the new run's row appears now

    def _show_progress_title(self) -> None:
        live = self.live_run
        if live is None:
            return
        total = len(live.jobs)
        done = total - live.jobs_left()
        name = f"Run {live.run_id}" if live.run_id else "Starting a run"
        doing = "stopping…" if live.stopping else "x stops it"
        self.query_one("#run-progress", RunProgress).set_title(
            f"{name} · {done}/{total} done · {live.elapsed():.0f} s · {doing}")

    def _run_over(self, live: LiveRun, title: str) -> None:
        live.ended = True
        if self.app.active_run is live:
            self.app.active_run = None
        self.refresh_bindings()
        self.query_one("#run-progress", RunProgress).set_title(title)
        self._jobs_live = False
        if live.run_id is not None and self.shown_run in (None, live.run_id):
            self.shown_run = live.run_id
            self._load_jobs(live.run_id)  # the journal's word on every job (same rows, in place)
        self._list_runs()

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        live, summary = message.live, message.summary
        if live is not self.live_run:
            return
        self.last_summary = summary
        line = summary.headline()
        self._log(line)
        self._run_over(live, line[0].upper() + line[1:])
        self.notify(line, title="run ended", severity="information" if summary.ok else "warning",
                    timeout=8)
        self._score_new_clips(summary)

    def _score_new_clips(self, summary: RunSummary) -> None:
        """After a run: score its clips so Results shows them, then reload the benchmark."""
        bench = self.app.bench
        if summary.run_id is None or summary.succeeded == 0 or bench is None or not bench.config.scorers:
            self.app.load_benchmark()
            return
        if self.scoring:
            self._score_again = True
            return
        self._log(f"scoring the clips of run {summary.run_id}")
        self._start_scoring([summary.run_id])

    @on(RunStopped)
    def _run_stopped(self, message: RunStopped) -> None:
        live = message.live
        if live is not self.live_run:
            return
        where = f"run {live.run_id}" if live.run_id else "the run"
        self._log(f"{where} stopped; r resumes it")
        self._run_over(live, f"Stopped {where}; highlight it and press r to resume")
        self.notify(f"{where} stopped and saved; press r on it to resume (nothing is made twice)",
                    title="run stopped", severity="warning", timeout=8)

    @on(RunFailed)
    def _run_failed(self, message: RunFailed) -> None:
        live = message.live
        if live is not self.live_run:
            return
        started = live.last is not None
        self._log(f"the run {'stopped with an error' if started else 'did not start'}: {message.error}")
        self._run_over(live, "The run stopped with an error" if started else "The run did not start")
        if not started:
            self.query_one("#run-progress").display = False
            self._jobs_live = False
            if self.runs:
                self._highlight(self.shown_run or self.runs[0].run_id)
            else:
                self.query_one("#jobs-table", JobTable).forget()
                self.query_one("#jobs-title", Label).update("")
        self.app.show_error(WorkbenchError(message.error), title="run")

    def action_stop_run(self) -> None:
        live = self.live_run
        if live is None or not self.running:
            self.notify("no run is in progress", severity="warning")
            return
        if live.stopping:
            return
        live.stop()
        self._log("stopping: jobs in flight finish their step, then the run is saved")
        self._show_progress_title()
        if self.runs:
            self._show_runs()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that ended without its message (a bug): say so, and never leave a run 'going'."""
        worker = event.worker
        if event.state == WorkerState.ERROR:
            self.app.show_error(WorkbenchError(user_message(worker.error)), title=worker.group)
            live = self.live_run
            if worker.group == "run" and live is not None and not live.ended:
                self._run_over(live, "The run stopped with an error")
            if worker.group == "score" and self.scoring:
                self._scoring_over()

    # ------------------------------------------------------------ the jobs table and log
    def action_failed_only(self) -> None:
        table = self.query_one("#jobs-table", JobTable)
        table.set_failed_only(not table.failed_only)
        self._show_jobs_title()
        self._show_job_detail()

    def action_toggle_log(self) -> None:
        log = self.query_one("#run-log", Log)
        log.display = not log.display
        if log.display and not log.line_count:
            log.write_line("no run started here yet: the events of the next run appear here")

    # ------------------------------------------------------------ scoring
    def action_score(self) -> None:
        if self.app.bench is None:
            self.notify("the benchmark is still loading", severity="warning")
            return
        if self.scoring:
            self.notify("scoring is already in progress", severity="warning")
            return
        if not self.runs:
            self.notify("no runs yet: press n to start one", severity="warning")
            return
        self._start_scoring(None)

    def _start_scoring(self, runs: list[str] | None) -> None:
        self.scoring = True
        self.query_one("#scoring").display = True
        self.query_one("#scoring-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#scoring-note", Label).update("reading runs…")
        self._score(runs)

    @work(thread=True, exclusive=True, group="score", exit_on_error=False)
    def _score(self, runs: list[str] | None) -> None:
        try:
            bench = Benchmark.load(self.app.root)
            report = score_runs(bench, runs,
                                on_progress=lambda p: self.post_message(self.ScoringAdvanced(p)))
        except Exception as error:  # noqa: BLE001 - a notification, never a traceback
            self.post_message(self.ScoringFailed(user_message(error)))
            return
        self.post_message(self.ScoringFinished(report))

    @on(ScoringAdvanced)
    def _scoring_advanced(self, message: ScoringAdvanced) -> None:
        p = message.progress
        self.query_one("#scoring-bar", ProgressBar).update(total=p.total, progress=p.done)
        model, prompt_id, repeat = p.clip
        self.query_one("#scoring-note", Label).update(
            Content(f"{p.done}/{p.total} · {model}/{prompt_id} r{repeat}"))

    def _scoring_over(self) -> None:
        self.scoring = False
        self.query_one("#scoring").display = False
        if self._score_again:
            self._score_again = False
            self._start_scoring(None)

    @on(ScoringFinished)
    def _scoring_finished(self, message: ScoringFinished) -> None:
        report = message.report
        self.last_report = report
        if report.scored == 0 and report.not_generated == 0:
            text = f"nothing new to score ({report.up_to_date} clips already scored)"
        else:
            text = (f"scored {report.scored} clips ({report.up_to_date} already scored, "
                    f"{report.not_generated} without a video, {report.errors} score errors)")
        if report.warnings:
            text += f"; {len(report.warnings)} warning(s): {first_line(report.warnings[0], 200)}"
        if self.live_run is not None:
            self._log(text)
        self.notify(text, title="scoring done",
                    severity="warning" if report.errors or report.warnings else "information")
        self._scoring_over()
        self.app.load_benchmark()  # Results and the other screens read the new scores

    @on(ScoringFailed)
    def _scoring_failed(self, message: ScoringFailed) -> None:
        self._scoring_over()
        self.app.show_error(WorkbenchError(message.error), title="scoring")

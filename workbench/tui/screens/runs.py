"""The Runs screen: past runs and their jobs, starting (or resuming) a run with live
per-model progress, stopping it, and scoring what is not scored yet.

Everything here is presentation over the core: :func:`plan_run` and
:func:`run_benchmark` (the engine), :func:`list_runs` / :func:`load_run`, and
:func:`score_runs` -- the same calls ``workbench run`` and ``workbench score`` make.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    Button, Checkbox, DataTable, Footer, Header, Input, Label, ProgressBar, SelectionList, Static,
)
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState, get_current_worker

from workbench.benchmark.folder import Benchmark
from workbench.engine import RunEvent, RunPlan, RunSummary, plan_run, run_benchmark
from workbench.engine import events as ev
from workbench.engine.cost import check_estimate, format_money
from workbench.engine.runs import JobRecord, RunInfo, RunRecord, list_runs, load_run
from workbench.errors import WorkbenchError
from workbench.run_scoring import ScoringProgress, ScoringReport, score_runs
from workbench.tui.widgets.model_progress import RunProgress

# ---------------------------------------------------------------- plain helpers


def error_text(error: BaseException) -> str:
    """A user's mistake reads as its message; anything else names its type (never a traceback)."""
    if isinstance(error, WorkbenchError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def short_time(iso: str | None) -> str:
    """'2026-11-26T17:20:20.353Z' -> '2026-11-26 17:20'."""
    if not iso:
        return "-"
    return iso.replace("T", " ")[:16]


def first_line(text: str | None, limit: int = 90) -> str:
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


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


STATUS_STYLE = {
    "finished": "success", "succeeded": "success", "running": "accent", "interrupted": "warning",
    "submitted": "accent", "skipped": "warning", "failed": "error", "pending": "text-muted",
}
#: Failed jobs first, then the others in plan order.
JOB_ORDER = {"failed": 0, "skipped": 1}


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

    def __init__(self, root: Path, bench: Benchmark) -> None:
        super().__init__()
        self.root = root
        self.defaults = bench
        self.ready: RunRequest | None = None
        self.problem: str | None = "working out the plan…"

    def compose(self) -> ComposeResult:
        run = self.defaults.config.run
        with VerticalScroll(id="plan-dialog"):
            yield Label(f"New run of {self.defaults.config.name}", id="plan-title", classes="title")
            yield Label("Models (space toggles)", classes="muted")
            yield SelectionList[str](
                *(Selection(Content(model), model, True) for model in self.defaults.config.models),
                id="plan-models", compact=True)
            with Horizontal(id="plan-options"):
                yield Label("Repeats", classes="plan-label")
                yield Input(str(run.repeats), type="integer", id="plan-repeats", compact=True)
                yield Label("Concurrency", classes="plan-label")
                yield Input(str(run.concurrency), type="integer", id="plan-concurrency", compact=True)
                yield Label("Budget $", classes="plan-label")
                yield Input("" if run.budget is None else f"{run.budget:g}", type="number",
                            placeholder="no limit", id="plan-budget", compact=True)
                yield Checkbox("Resubmit jobs in doubt", False, id="plan-retry-uncertain", compact=True,
                               tooltip="jobs whose earlier submit may have reached the provider: "
                                       "check its dashboard first, or you may pay twice")
            yield DataTable(id="plan-table", cursor_type="none", show_cursor=False)
            yield Static("", id="plan-note")
            with Horizontal(id="plan-buttons"):
                yield Button("Start run (ctrl+s)", variant="primary", id="plan-start", compact=True)
                yield Button("Cancel (esc)", id="plan-cancel", compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#plan-table", DataTable)
        for label, key in (("model", "model"), ("provider", "provider"), ("jobs", "jobs"),
                           ("done", "done"), ("cached", "cached"), ("in flight", "in_flight"),
                           ("to make", "to_make"), ("est. cost", "cost")):
            table.add_column(label, key=key)
        self.query_one("#plan-start", Button).disabled = True
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
        except WorkbenchError as error:
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
                self.post_message(self.PlanFailed(choices, error_text(error)))
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
        rows: list[tuple[str, list[object]]] = []
        for m in plan.per_model:
            cost = format_money(m.estimated_cost) if m.priced or m.estimated_cost else "-"
            rows.append((m.model, [Text(m.model), Text(m.provider), m.jobs, m.done, m.cached,
                                   m.in_flight, m.to_generate, cost]))
        sync_table(self.query_one("#plan-table", DataTable), rows)
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
        lines = [f"{plan.total_jobs} jobs: {plan.to_generate} to make, {plan.cached} from the cache, "
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
        except WorkbenchError as error:
            self.app.show_error(error, title="over budget")
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ------------------------------------------------------------------ the screen


class RunsScreen(Screen):
    """Past runs and their jobs; start, stop and score runs."""

    CSS_PATH = "runs.tcss"
    HELP_TITLE = "Runs"
    BINDINGS = [
        Binding("n", "new_run", "New run"),
        Binding("x", "stop_run", "Stop run"),
        Binding("c", "score", "Score new clips"),
    ]

    # ------------------------------------------------------------ messages
    @dataclass
    class RunsListed(Message):
        runs: list[RunInfo]

    @dataclass
    class JobsLoaded(Message):
        record: RunRecord

    @dataclass
    class ReadFailed(Message):
        error: str

    @dataclass
    class RunProgressed(Message):
        event: RunEvent

    @dataclass
    class RunEnded(Message):
        summary: RunSummary

    @dataclass
    class RunStopped(Message):
        run_id: str | None

    @dataclass
    class RunFailed(Message):
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
        self.runs: list[RunInfo] = []
        self.shown_run: str | None = None  # whose jobs the jobs table shows
        self.active_run: str | None = None  # the run this screen is running now
        self.running = False
        self.scoring = False
        self.live: RunEvent | None = None  # the newest progress event of the active run
        self.progress_events = 0  # progress messages handled (all runs of this screen)
        self.last_summary: RunSummary | None = None
        self.last_report: ScoringReport | None = None
        self._run_started = 0.0
        self._list_due = False
        self._jobs_due = False
        self._follow_active = False  # move the cursor to the run just started once it is listed
        self._jobs: dict[str, JobRecord] = {}  # the jobs table's rows by key

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="runs-body"):
            yield Label("loading the benchmark…", id="runs-status")
            yield RunProgress(id="run-progress")
            with Horizontal(id="scoring"):
                yield Label("Scoring", id="scoring-title")
                yield ProgressBar(id="scoring-bar", show_eta=False)
                yield Label("", id="scoring-note")
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield Label("", id="jobs-title", classes="title")
            yield DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="job-detail")
        yield Footer()

    def on_mount(self) -> None:
        runs = self.query_one("#runs-table", DataTable)
        for label, key in (("run", "run"), ("status", "status"), ("created (UTC)", "created"),
                           ("models", "models"), ("ok", "ok"), ("failed", "failed"),
                           ("cached", "cached"), ("cost", "cost")):
            runs.add_column(label, key=key)
        jobs = self.query_one("#jobs-table", DataTable)
        for label, key in (("model", "model"), ("prompt", "prompt"), ("rep", "repeat"),
                           ("status", "status"), ("tries", "attempts"), ("latency", "latency"),
                           ("error", "error")):
            jobs.add_column(label, key=key)
        self.query_one("#run-progress").display = False
        self.query_one("#scoring").display = False
        self.set_interval(1.0, self._tick)
        self.watch(self.app, "bench_version", self._refresh, init=True)

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        return [
            ("Start a run", "plan and start a run, or resume an interrupted one (n)", self.action_new_run),
            ("Stop the run", "stop the run in progress; starting again resumes it (x)",
             self.action_stop_run),
            ("Score new clips", "score every clip that is not scored yet (c)", self.action_score),
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
        except Exception as error:  # noqa: BLE001 - unreadable run folders become a notification
            self.post_message(self.ReadFailed(error_text(error)))
            return
        if not get_current_worker().is_cancelled:  # a newer listing is on its way
            self.post_message(self.RunsListed(runs))

    @work(thread=True, exclusive=True, group="load-jobs", exit_on_error=False)
    def _load_jobs(self, run_id: str) -> None:
        try:
            record = load_run(self.app.root, run_id)
        except Exception as error:  # noqa: BLE001
            self.post_message(self.ReadFailed(error_text(error)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.JobsLoaded(record))

    @on(ReadFailed)
    def _read_failed(self, message: ReadFailed) -> None:
        self.app.show_error(WorkbenchError(message.error), title="runs")

    @on(RunsListed)
    def _runs_listed(self, message: RunsListed) -> None:
        self.runs = list(reversed(message.runs))  # newest first
        self._show_runs()
        table = self.query_one("#runs-table", DataTable)
        if self.shown_run is not None and self.shown_run not in {info.run_id for info in self.runs}:
            self.shown_run = None  # its folder is gone
            self.query_one("#jobs-table", DataTable).clear()
            self.query_one("#jobs-title", Label).update("")
            self._jobs = {}
            self._show_job_detail(None)
        ids = [info.run_id for info in self.runs]
        if self._follow_active and self.active_run in ids:
            self._follow_active = False  # show the new run's jobs once; the user may move on
            table.move_cursor(row=ids.index(self.active_run))
            self._highlight(self.active_run)
        elif self.runs and self.shown_run is None:
            table.move_cursor(row=0)
            self._highlight(self.runs[0].run_id)
        elif self.shown_run is not None:
            self._load_jobs(self.shown_run)

    def _run_row(self, info: RunInfo) -> list[object]:
        status, jobs = info.status, info.jobs
        ok, failed, cached = jobs.get("succeeded", 0), jobs.get("failed", 0), jobs.get("cached", 0)
        if info.run_id == self.active_run and self.live is not None and self.running:
            status = "running"
            ok = sum(p.succeeded for p in self.live.progress)
            failed = sum(p.failed for p in self.live.progress)
            cached = sum(p.cached for p in self.live.progress)
        total = jobs.get("total")
        return [
            Text(info.run_id), self._styled(status), short_time(info.created),
            Text(", ".join(info.models)), f"{ok}/{total}" if total else str(ok), failed, cached,
            format_money(info.cost),
        ]

    def _show_runs(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        sync_table(table, [(info.run_id, self._run_row(info)) for info in self.runs])
        status = self.query_one("#runs-status", Label)
        if not self.runs:
            status.update("No runs yet: press n to start one.")
        else:
            unfinished = sum(1 for info in self.runs if info.status == "interrupted")
            text = f"{len(self.runs)} run{'s' if len(self.runs) != 1 else ''}, newest first"
            if unfinished and not self.running:
                text += f" · {unfinished} interrupted: press n to resume"
            status.update(text)

    def _styled(self, status: str) -> Text:
        variables = self.app.get_css_variables()
        colour = variables.get(STATUS_STYLE.get(status, ""), "")
        return Text(status, style=colour)

    @on(DataTable.RowHighlighted, "#runs-table")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value != self.shown_run:
            self._highlight(str(event.row_key.value))

    def _highlight(self, run_id: str) -> None:
        self.shown_run = run_id
        self.query_one("#jobs-title", Label).update(Content(f"Jobs of run {run_id}"))
        self._load_jobs(run_id)

    @on(JobsLoaded)
    def _jobs_loaded(self, message: JobsLoaded) -> None:
        record = message.record
        if record.run_id != self.shown_run:
            return
        ordered = sorted(enumerate(record.jobs),
                         key=lambda item: (JOB_ORDER.get(item[1].status, 2), item[0]))
        self._jobs = {self._job_key(job): job for job in record.jobs}
        table = self.query_one("#jobs-table", DataTable)
        sync_table(table, [(self._job_key(job), self._job_row(job)) for _, job in ordered])
        if table.row_count:
            self._show_job_detail(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        counts: dict[str, int] = {}
        for job in record.jobs:
            counts[job.status] = counts.get(job.status, 0) + 1
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        torn = f" · {record.torn_lines} unreadable journal line(s)" if record.torn_lines else ""
        self.query_one("#jobs-title", Label).update(
            Content(f"Jobs of run {record.run_id} ({record.status}): {parts or 'none'}{torn}"))

    @on(DataTable.RowHighlighted, "#jobs-table")
    def _job_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_job_detail(event.row_key.value if event.row_key is not None else None)

    def _show_job_detail(self, key: str | None) -> None:
        """The whole error of the highlighted job (the table shows its first line, cut)."""
        job = self._jobs.get(key) if key else None
        detail = self.query_one("#job-detail", Static)
        if job is None or not job.error:
            detail.update("")
            detail.display = False
            return
        detail.update(Content(f"{job.model}/{job.prompt_id} r{job.repeat}: {job.error.strip()}"))
        detail.display = True

    @staticmethod
    def _job_key(job: JobRecord) -> str:
        return f"{job.model}/{job.prompt_id}/{job.repeat}"

    def _job_row(self, job: JobRecord) -> list[object]:
        status = self._styled(job.status)
        if job.cached and job.status == "succeeded":
            status.append(" (cached)", style="dim")
        latency = f"{job.latency_s:.2f} s" if job.latency_s is not None else "-"
        return [Text(job.model), Text(job.prompt_id), job.repeat, status, job.attempts or "-",
                latency, Text(first_line(job.error))]

    def _tick(self) -> None:
        """Once a second while a run is going: re-read what changed on disk."""
        if self.running and self.live is not None:
            self._show_title(self.live)
        if self._list_due:
            self._list_due = False
            self._list_runs()
        elif self._jobs_due and self.shown_run is not None and self.shown_run == self.active_run:
            self._jobs_due = False
            self._load_jobs(self.shown_run)

    # ------------------------------------------------------------ running
    def action_new_run(self) -> None:
        bench = self.app.bench
        if bench is None:
            self.notify("the benchmark is still loading", severity="warning")
            return
        if self.running:
            self.notify(f"run {self.active_run or ''} is in progress; x stops it",
                        title="a run is in progress", severity="warning")
            return
        self.app.push_screen(RunPlanDialog(self.app.root, bench), callback=self._plan_chosen)

    def _plan_chosen(self, request: RunRequest | None) -> None:
        if request is None or self.running:
            return
        self.running = True
        self.active_run = request.plan.resume_run_id
        self.live = None
        self._follow_active = True
        self._run_started = time.monotonic()
        progress = self.query_one("#run-progress", RunProgress)
        progress.reset()
        progress.display = True
        progress.set_title("starting the run…")
        self.refresh_bindings()
        self._run(request)

    @work(exclusive=True, group="run", exit_on_error=False)
    async def _run(self, request: RunRequest) -> None:
        """The run on the app's event loop (the engine renders and writes in threads)."""
        run_id: str | None = request.plan.resume_run_id

        def on_event(event: RunEvent) -> None:
            nonlocal run_id
            run_id = event.run_id
            self.post_message(self.RunProgressed(event))

        choices = request.choices
        try:
            summary = await run_benchmark(
                request.bench, models=list(choices.models), repeats=choices.repeats,
                concurrency=choices.concurrency, budget=choices.budget, on_event=on_event,
                retry_uncertain=choices.retry_uncertain)
        except asyncio.CancelledError:
            self.post_message(self.RunStopped(run_id))
            raise
        except Exception as error:  # noqa: BLE001 - budget, lock, config: a notification, not a traceback
            self.post_message(self.RunFailed(error_text(error)))
            return
        self.post_message(self.RunEnded(summary))

    @on(RunProgressed)
    def _run_progressed(self, message: RunProgressed) -> None:
        event = message.event
        self.progress_events += 1
        first = self.active_run != event.run_id
        self.active_run = event.run_id
        self.live = event
        self.query_one("#run-progress", RunProgress).show(event.progress)
        self._show_title(event)
        if first or event.kind == ev.RUN_STARTED:
            self._list_due = False
            self._list_runs()  # the new run's row appears now
        elif self.runs:
            self._show_runs()
        if event.kind in (ev.JOB_SUCCEEDED, ev.JOB_CACHED, ev.JOB_FAILED, ev.JOB_SKIPPED):
            self._jobs_due = True

    def _show_title(self, event: RunEvent) -> None:
        done = sum(p.done for p in event.progress)
        total = sum(p.total for p in event.progress)
        elapsed = time.monotonic() - self._run_started
        self.query_one("#run-progress", RunProgress).set_title(
            f"Run {event.run_id} · {done}/{total} done · {elapsed:.0f} s · x stops it")

    def _run_over(self, title: str) -> None:
        self.running = False
        self.refresh_bindings()
        self.query_one("#run-progress", RunProgress).set_title(title)
        self._list_due = False
        self._jobs_due = False
        self._list_runs()

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        summary = message.summary
        self.last_summary = summary
        line = summary.headline()
        self._run_over(line[0].upper() + line[1:])
        self.notify(line, title="run ended",
                    severity="information" if summary.ok else "warning", timeout=8)
        if summary.run_id:
            self._select_run(summary.run_id)

    @on(RunStopped)
    def _run_stopped(self, message: RunStopped) -> None:
        where = f"run {message.run_id}" if message.run_id else "the run"
        self._run_over(f"Stopped {where}; press n to resume it")
        self.notify(f"{where} stopped and saved; press n to resume it (nothing is made twice)",
                    title="run stopped", severity="warning", timeout=8)

    @on(RunFailed)
    def _run_failed(self, message: RunFailed) -> None:
        self._run_over("The run did not start" if self.live is None else "The run stopped with an error")
        if self.live is None:
            self.query_one("#run-progress").display = False
        self.app.show_error(WorkbenchError(message.error), title="run")

    def _select_run(self, run_id: str) -> None:
        """Show ``run_id``'s jobs and put the cursor on it once the table has it."""
        self.shown_run = run_id
        table = self.query_one("#runs-table", DataTable)
        keys = [key.value for key in table.rows]
        if run_id in keys:
            table.move_cursor(row=keys.index(run_id))

    def action_stop_run(self) -> None:
        if not self.running:
            self.notify("no run is in progress", severity="warning")
            return
        self.workers.cancel_group(self, "run")
        self.query_one("#run-progress", RunProgress).set_title("stopping the run…")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that ended without its message (cancelled before it began, or a bug)."""
        worker = event.worker
        if event.state == WorkerState.ERROR:
            self.app.show_error(WorkbenchError(error_text(worker.error)), title=worker.group)
        if event.state not in (WorkerState.CANCELLED, WorkerState.ERROR, WorkerState.SUCCESS):
            return
        if worker.group == "run" and self.running and event.state != WorkerState.SUCCESS:
            self._run_over("The run stopped")
        if worker.group == "score" and self.scoring and event.state == WorkerState.ERROR:
            self._scoring_over()

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
        self.scoring = True
        self.query_one("#scoring").display = True
        self.query_one("#scoring-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#scoring-note", Label).update("reading runs…")
        self._score()

    @work(thread=True, exclusive=True, group="score", exit_on_error=False)
    def _score(self) -> None:
        try:
            bench = Benchmark.load(self.app.root)
            report = score_runs(bench, on_progress=lambda p: self.post_message(self.ScoringAdvanced(p)))
        except Exception as error:  # noqa: BLE001 - a notification, never a traceback
            self.post_message(self.ScoringFailed(error_text(error)))
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

    @on(ScoringFinished)
    def _scoring_finished(self, message: ScoringFinished) -> None:
        report = message.report
        self.last_report = report
        self._scoring_over()
        if report.scored == 0 and report.not_generated == 0:
            text = f"nothing new to score ({report.up_to_date} clips already scored)"
        else:
            text = (f"scored {report.scored} clips ({report.up_to_date} already scored, "
                    f"{report.not_generated} without a video, {report.errors} score errors)")
        if report.warnings:
            text += f"; {len(report.warnings)} warning(s): {first_line(report.warnings[0], 200)}"
        self.notify(text, title="scoring done",
                    severity="warning" if report.errors or report.warnings else "information")
        self.app.load_benchmark()  # the Scores screen reads the new scores

    @on(ScoringFailed)
    def _scoring_failed(self, message: ScoringFailed) -> None:
        self._scoring_over()
        self.app.show_error(WorkbenchError(message.error), title="scoring")

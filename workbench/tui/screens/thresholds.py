"""Thresholds: tune each scorer's pass/fail bounds against the scores, then save them.

Left, the scorers with their bounds (``●`` marks an unsaved edit). Right, for the selected
scorer: its values per model with the bounds marked, what people say about it (suggested
bound, rank agreement, pass agreement), the release gate's verdict under the edited
thresholds, the share of prompts passing every threshold per model (overall and per tag,
against the saved figure), the (model, prompt) verdicts that differ from the saved
thresholds, and which scorers agree with people.

Everything comes from :class:`workbench.threshold_tuning.TuningSession`: a move costs well
under a millisecond, so the pass rates and flips update on the key press. The gate's
bootstrap takes longer, so after a move it runs in a worker, one at a time, always on the
latest thresholds. Reading the scores and saving run in workers too. Saving shows the
lines of ``benchmark.toml`` that change first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.markup import escape
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker

from workbench.benchmark.config import Threshold
from workbench.benchmark.folder import Benchmark
from workbench.decide.gate_result import GateResult
from workbench.decide.thresholds import PromptFailure
from workbench.errors import FileConflict, WorkbenchError
from workbench.gate_preview import GatePreview, prepare_gate_preview
from workbench.judgments.alignment import MIN_ITEMS, AlignmentRow
from workbench.judgments.threshold_suggestion import Suggestion
from workbench.threshold_tuning import (
    PeopleAgreement, SavedThresholds, Side, ThresholdSavePlan, TuningSession, describe,
    plan_threshold_save, save_thresholds,
)
from workbench.tui.screens.choice import ChoiceScreen
from workbench.tui.screens.threshold_diff import ThresholdDiffScreen
from workbench.tui.widgets.distribution import Distribution, DistributionRow
from workbench.tui.widgets.screen_tabs import ScreenTabs

ALL_PROMPTS = "(all prompts)"
ALL_KEY = "\x00all"
MAX_STATUS_LINES = 12
MAX_FLIP_ROWS = 50
"""Changed verdicts listed at most (the title gives the full count)."""
NARROW = 100
"""Below this many columns the scorer list narrows and descriptions hide."""
GATE_GROUP = "thresholds-gate"
VERDICT_WORDS = {"ship": "SHIP", "hold": "HOLD", "inconclusive": "INCONCLUSIVE"}


def _rate_cell(passed: int, n: int, saved_passed: int, up: str = "bold green",
               down: str = "bold red") -> Text:
    """``12/20  60% -2``: prompts passing now, and the change from the saved thresholds."""
    if n == 0:
        return Text("-")
    text = Text(f"{passed}/{n} {passed / n:>4.0%}")
    delta = passed - saved_passed
    if delta:
        text.append(f" {delta:+d}", style=up if delta > 0 else down)
    return text


def _reason(failure: PromptFailure) -> str:
    """``sharpness 12.1 < 15``: a failed bound, short enough for a table cell."""
    if failure.reason == "missing":
        return f"{failure.scorer} missing"
    sign = "<" if failure.reason == "below min" else ">"
    return f"{failure.scorer} {failure.value:.4g} {sign} {failure.bound:g}"


def _scope_label(tag: str | None) -> str:
    return ALL_PROMPTS if tag is None else f"tag '{tag}'"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _short_note(row: AlignmentRow, suggestion: Suggestion | None) -> str:
    """A few words on what to make of a scorer's figures (the full notes: ``workbench align``)."""
    notes = []
    if row.sign_agrees is False:
        notes.append("reversed")
    if row.n_rated < MIN_ITEMS:
        notes.append("too few")
    elif row.spearman is None:
        notes.append("constant")
    if suggestion is not None and not suggestion.informative:
        notes.append("no useful cut")
    return "; ".join(notes)


@dataclass(frozen=True)
class FlipRow:
    """A (model, prompt) whose verdict differs from the one under the saved thresholds."""

    passes: bool
    """True: passes now (failed before); False: fails now."""
    model: str
    prompt: str
    why: str
    """The failed bounds: the current ones if it fails now, the saved ones if it passes now."""

    @property
    def now(self) -> str:
        return "✓ passes" if self.passes else "✗ fails"


FLIP_GAP = 2
"""Spaces between the columns of the flip list."""
MIN_PROMPT = 12
"""A prompt id on the same line as its failed bound is cut (with …) to no fewer characters."""
WHY_ROOM = 32
"""Room kept for the failed bound (``temporal_flicker 0.9581 < 0.975``) on a prompt's line."""


def clip_text(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in ``…`` where cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[:width - 1] + "…"


def flip_lines(rows: Sequence[FlipRow], width: int, pass_style: str = "", fail_style: str = "",
               ) -> list[Text]:
    """The flip list laid out in ``width`` columns: a header, then a line a row.

    Long prompt ids (and model names) are cut with ``…`` so that the failed bound (scorer,
    value and bound) stays in view; where the width leaves too little room even then (80
    columns), each failed bound goes on its own line under its prompt.
    """
    if not rows or width <= 0:
        return []
    gap = " " * FLIP_GAP
    now_w = max(len(row.now) for row in rows)
    model_w = min(max(len("model"), *(len(row.model) for row in rows)), max(10, width // 4))
    prefix = now_w + FLIP_GAP + model_w + FLIP_GAP
    prompt_full = max(len("prompt"), *(len(row.prompt) for row in rows))
    why_full = max(len("failed bound"), *(len(row.why) for row in rows))
    prompt_w = min(prompt_full, width - prefix - FLIP_GAP - min(why_full, WHY_ROOM))
    one_line = prompt_w >= min(prompt_full, MIN_PROMPT)
    if not one_line:
        prompt_w = width - prefix
    why_w = width - prefix - prompt_w - FLIP_GAP if one_line else width - FLIP_GAP

    def head(now: str, model: str, prompt: str) -> str:
        return f"{now:<{now_w}}{gap}{clip_text(model, model_w):<{model_w}}{gap}{clip_text(prompt, prompt_w)}"

    title = head("now", "model", "prompt")
    title = f"{title:<{prefix + prompt_w}}{gap}failed bound" if one_line else f"{title} / failed bound"
    lines = [Text(clip_text(title, width), style="bold")]
    for row in rows:
        line = Text(row.now, style=pass_style if row.passes else fail_style)
        line.append(head("", row.model, row.prompt)[now_w:])
        if one_line:
            line.pad_right(prefix + prompt_w - line.cell_len)
            line.append(gap + clip_text(row.why, why_w))
            lines.append(line)
        else:
            lines.append(line)
            lines.append(Text(gap + clip_text(row.why, why_w)))
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return lines


class FlipList(Widget):
    """The changed verdicts, laid out for the width they get (see :func:`flip_lines`)."""

    DEFAULT_CSS = """
    FlipList {
        width: 1fr;
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[FlipRow, ...] = ()
        self._styles = ("", "")

    def show(self, rows: Sequence[FlipRow], pass_style: str = "", fail_style: str = "") -> None:
        rows = tuple(rows)
        if rows != self.rows or (pass_style, fail_style) != self._styles:
            self.rows, self._styles = rows, (pass_style, fail_style)
            self.refresh(layout=True)

    def lines(self, width: int | None = None) -> list[Text]:
        """The lines shown at ``width`` (default: the width the widget has)."""
        return flip_lines(self.rows, self.content_size.width if width is None else width, *self._styles)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Text:
        return Text("\n", no_wrap=True).join(self.lines())


class ValueInput(ModalScreen[float | None]):
    """Type an exact value for the active bound (None = cancel)."""

    DEFAULT_CSS = """
    ValueInput {
        align: center middle;
    }
    ValueInput > Vertical {
        width: 50;
        max-width: 90%;
        height: auto;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    ValueInput #value-error {
        color: $error;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, current: float | None) -> None:
        super().__init__()
        self._title = title
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            yield Input(value="" if self._current is None else f"{self._current:g}", id="value-input")
            yield Static("enter: set  ·  escape: cancel", classes="muted")
            yield Static(id="value-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            value = float(event.value.strip())
        except ValueError:
            self.query_one("#value-error", Static).update(Text(f"not a number: {event.value!r}"))
            return
        if value != value or value in (float("inf"), float("-inf")):
            self.query_one("#value-error", Static).update("give a finite number")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ThresholdsScreen(Screen):
    HELP_TITLE = "Thresholds"
    CSS_PATH = "thresholds.tcss"
    BINDINGS = [
        Binding("left", "nudge(-1)", "Lower", priority=True),
        Binding("right", "nudge(1)", "Raise", priority=True),
        Binding("shift+left", "nudge_big(-1)", "Lower x10", show=False, priority=True),
        Binding("shift+right", "nudge_big(1)", "Raise x10", show=False, priority=True),
        Binding("b", "toggle_side", "Min/max"),
        Binding("e", "enter_value", "Type value"),
        Binding("x,delete", "clear_bound", "Clear bound", show=False),
        Binding("a", "apply_suggestion", "Suggested"),
        Binding("o", "pick_tag", "Tag override", show=False),
        Binding("l", "show_alignment", "Agreement"),
        Binding("u", "revert_scorer", "Revert scorer", show=False),
        Binding("U", "revert", "Revert all", show=False),
        Binding("ctrl+s", "save", "Save…", priority=True),
        Binding("pagedown", "scroll_details(1)", "Scroll details down", show=False, priority=True),
        Binding("pageup", "scroll_details(-1)", "Scroll details up", show=False, priority=True),
    ]

    # ------------------------------------------------------------------ messages
    @dataclass
    class TableLoaded(Message):
        session: TuningSession
        people: PeopleAgreement
        gate: GatePreview | None
        gate_note: str
        """Why there is no gate (empty when there is one)."""
        saved_gate: GateResult | str
        """The verdict under the saved thresholds, or why it could not be computed."""
        warnings: list[str]
        version: int

    @dataclass
    class TableFailed(Message):
        error: WorkbenchError
        version: int

    @dataclass
    class GateEvaluated(Message):
        result: GateResult | str
        """The verdict, or why the gate could not be evaluated."""
        generation: int

    @dataclass
    class SavePlanned(Message):
        plan: ThresholdSavePlan
        bench: Benchmark
        edits: dict[str, Threshold | None]

    @dataclass
    class ThresholdsSaved(Message):
        result: SavedThresholds
        edits: dict[str, Threshold | None]

    @dataclass
    class SaveRefused(Message):
        error: WorkbenchError

    def __init__(self) -> None:
        super().__init__()
        self.session: TuningSession | None = None
        self.people: PeopleAgreement | None = None
        self.gate: GatePreview | None = None
        self.gate_note = ""
        self.saved_gate: GateResult | str | None = None
        self.gate_result: GateResult | str | None = None
        """The gate's verdict under the thresholds of ``gate_generation`` (None: not yet)."""
        self.gate_generation = 0
        """Bumped on every change of the thresholds; a verdict of an older generation is stale."""
        self.gate_evaluated = -1
        """The generation of ``gate_result``."""
        self._gate_running = False
        self.selected: str | None = None
        self.sides: dict[str, Side] = {}
        self.tag: str | None = None
        self.saving = False
        self.last_plan: ThresholdSavePlan | None = None
        self.last_saved: SavedThresholds | None = None
        self._status_lines: list[tuple[str, Text]] = []
        """(topic, message): one message a topic ("edit", "save", "load"), the latest kept."""
        self._rate_columns: list[str] = []

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenTabs("thresholds")
        yield Static("Loading the benchmark…", id="thr-empty", classes="empty-state")
        with Horizontal(id="thr-body"):
            with Vertical(id="thr-left"):
                yield Static("Scorers", classes="title")
                yield DataTable(id="thr-scorers", cursor_type="row", zebra_stripes=False)
                yield Static(id="thr-status")
            with VerticalScroll(id="thr-right", can_focus=False):
                yield Static(id="thr-heading")
                yield Static(id="thr-description")
                yield Static(id="thr-editing")
                yield Static(id="thr-people")
                yield Distribution(id="thr-dist")
                yield Static(id="thr-alone", classes="muted")
                yield Static(id="thr-gate")
                yield Static(id="thr-overall")
                yield Static(id="thr-flips-title", classes="title")
                yield FlipList(id="thr-flips")
                yield Static("Pass rate per tag: prompts passing every threshold (change from saved)",
                             id="thr-rates-title", classes="title")
                yield DataTable(id="thr-rates", cursor_type="none", show_cursor=False)
                yield Static(id="thr-align-title", classes="title")
                yield DataTable(id="thr-align", cursor_type="none", show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        scorers = self.query_one("#thr-scorers", DataTable)
        scorers.add_column("scorer", key="scorer")
        scorers.add_column("bounds", key="bounds")
        for table_id in ("#thr-rates", "#thr-align"):
            self.query_one(table_id, DataTable).can_focus = False
        align = self.query_one("#thr-align", DataTable)
        for key, label in (("scorer", "scorer"), ("n", "n"), ("spearman", "spearman"),
                           ("kendall", "kendall"), ("agree", "pass agree"),
                           ("suggested", "suggested"), ("note", "note")):
            align.add_column(label, key=key)
        self.query_one("#thr-body").display = False
        self.watch(self.app, "bench_version", self._refresh, init=True)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    def _set_empty(self, message: str) -> None:
        empty = self.query_one("#thr-empty", Static)
        empty.update(Text(message))
        empty.display = True
        self.query_one("#thr-body").display = False

    def _tone(self, name: str, bold: bool = False) -> str:
        """A Rich style in the theme's colour ``name`` (success, error, warning)."""
        color = self.app.theme_variables.get(name, "")
        if not color.startswith("#"):
            color = {"success": "green", "error": "red", "warning": "yellow"}.get(name, "")
        return f"bold {color}".strip() if bold else color

    # ------------------------------------------------------------------ loading
    def _refresh(self, version: int) -> None:
        bench = self.app.bench
        if bench is None:
            self._set_empty("Loading the benchmark…")
            return
        if self.session is None:
            self._set_empty("Reading the scores…")
        self._load(bench, version)

    @work(thread=True, exclusive=True, exit_on_error=False, group="thresholds-load")
    def _load(self, bench: Benchmark, version: int) -> None:
        warnings: list[str] = []
        try:
            session = TuningSession.load(bench, warnings)
            people = session.alignment()
        except WorkbenchError as error:
            self.post_message(self.TableFailed(error, version))
            return
        except OSError as error:
            self.post_message(self.TableFailed(WorkbenchError(
                f"{bench.root}: cannot read the scores or ratings ({error.strerror or error})"), version))
            return
        gate: GatePreview | None = None
        note = ""
        saved_gate: GateResult | str = ""
        if session.models and session.scorers:
            try:
                gate = prepare_gate_preview(bench, session.table)
                saved_gate = gate.evaluate(session.saved)
            except (WorkbenchError, OSError) as error:
                note = str(error)
                saved_gate = note
        self.post_message(self.TableLoaded(session, people, gate, note, saved_gate, warnings, version))

    @on(TableFailed)
    def _table_failed(self, message: TableFailed) -> None:
        if message.version != self.app.bench_version:
            return
        self.saving = False
        self.app.show_error(message.error, title="cannot read the scores")
        if self.session is None:
            self._set_empty(f"Cannot read the scores:\n{message.error}")

    @on(TableLoaded)
    def _table_loaded(self, message: TableLoaded) -> None:
        if message.version != self.app.bench_version:
            return
        self.saving = False
        session = message.session
        kept = self.session.edits() if self.session is not None else {}
        kept = {s: t for s, t in kept.items() if s in session.facts}
        if kept:
            session.apply_edits(kept)
            self._status(f"kept {len(kept)} unsaved edit(s) across the reload", self._tone("warning"),
                         topic="load")
        self.session = session
        self.people = message.people
        self.gate, self.gate_note, self.saved_gate = message.gate, message.gate_note, message.saved_gate
        for warning in message.warnings:
            self.notify(escape(warning), severity="warning", timeout=8)
        if not session.models or not session.scorers:
            self._set_empty(
                "No scores yet.\nRun the models and score the clips first (Runs screen, 2), or:\n"
                "  workbench run\n  workbench score")
            return
        if self.tag is not None and self.tag not in session.tag_names:
            self.tag = None
        self.query_one("#thr-empty").display = False
        self.query_one("#thr-body").display = True
        self._build_rate_table()
        self._sync_scorers()
        if self.selected not in session.facts:
            self.selected = session.scorers[0]
        table = self.query_one("#thr-scorers", DataTable)
        table.move_cursor(row=session.scorers.index(self.selected))
        table.focus()
        # the saved verdict stands for the thresholds until an edit asks for a new one
        self.gate_generation += 1
        if kept or self.gate is None:
            self._request_gate()
        else:
            self.gate_result, self.gate_evaluated = self.saved_gate, self.gate_generation
        self._show_all()
        self._sync_alignment()

    # ------------------------------------------------------------------ the gate
    def _request_gate(self) -> None:
        """Ask for the verdict under the current thresholds; one evaluation runs at a time."""
        if self.gate is None or self.session is None:
            return
        if not self._gate_running:
            self._gate_running = True
            self._evaluate_gate(self.gate, self.session.thresholds, self.gate_generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group=GATE_GROUP)
    def _evaluate_gate(self, gate: GatePreview, thresholds: dict[str, Threshold], generation: int) -> None:
        try:
            result: GateResult | str = gate.evaluate(thresholds)
        except (WorkbenchError, OSError) as error:
            result = str(error)
        except Exception as error:  # noqa: BLE001 - the verdict line says what went wrong, the screen goes on
            result = f"the gate failed: {type(error).__name__}: {error}"
        self.post_message(self.GateEvaluated(result, generation))

    @on(GateEvaluated)
    def _gate_evaluated(self, message: GateEvaluated) -> None:
        if message.generation == self.gate_generation:
            self.gate_result, self.gate_evaluated = message.result, message.generation
            self._show_gate()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """When an evaluation ends, start the next one if the thresholds moved meanwhile."""
        if event.worker.group != GATE_GROUP or not event.worker.is_finished:
            return
        self._gate_running = False
        if self.gate_pending():
            self._request_gate()

    def gate_pending(self) -> bool:
        """Whether the shown verdict is for older thresholds than the current ones."""
        return self.gate is not None and self.gate_evaluated != self.gate_generation

    def _verdict_text(self, result: GateResult | str | None) -> Text:
        if result is None:
            return Text("…", style="dim")
        if isinstance(result, str):
            return Text("cannot evaluate", style=self._tone("warning", bold=True))
        tone = {"ship": "success", "hold": "error"}.get(result.verdict, "warning")
        return Text(VERDICT_WORDS[result.verdict], style=self._tone(tone, bold=True))

    def _show_gate(self) -> None:
        widget = self.query_one("#thr-gate", Static)
        if self.gate is None:
            widget.update(Text.assemble(("Gate: ", "bold"), (self.gate_note or "no gate", "dim")))
            return
        text = Text.assemble(("Gate ", "bold"), f"{self.gate.candidate} vs {self.gate.incumbent}: ")
        pending = self.gate_pending()
        text.append_text(self._verdict_text(self.gate_result))
        if pending:
            text.append("  updating…", style="dim")
        saved = self.saved_gate
        if self.session is not None and self.session.edits() and saved is not None:
            text.append("  saved thresholds: ", style="dim")
            text.append_text(self._verdict_text(saved))
        result = self.gate_result
        if isinstance(result, str):
            text.append(f"\n{result}", style="dim")
        elif result is not None:
            text.append_text(self._gate_reasons(result))
        widget.update(text)

    def _gate_reasons(self, result: GateResult) -> Text:
        """The pass-rate rule (the part thresholds change) and, short of ship, the first other reason."""
        text = Text()
        rate = next((c for c in result.checks if c.rule == "pass_rate"), None)
        if rate is not None:
            mark, tone = {"pass": ("✓", "success"), "fail": ("✗", "error")}.get(rate.outcome, ("·", ""))
            text.append(f"\n{mark} ", style=self._tone(tone, bold=True) if tone else "dim")
            text.append(rate.message)
        if result.verdict != "ship":
            other = next((r for r in result.reasons if rate is None or r != rate.message), None)
            if other is not None:
                text.append(f"\n{other}", style="dim")
        return text

    # ------------------------------------------------------------------ views
    def _side(self, scorer: str) -> Side:
        if scorer not in self.sides:
            session = self.session
            lo, hi = session.bounds(scorer)
            if lo is None and hi is not None:
                self.sides[scorer] = "max"
            elif hi is None and lo is not None:
                self.sides[scorer] = "min"
            else:
                self.sides[scorer] = session.facts[scorer].preferred_side
        return self.sides[scorer]

    def _scorer_cells(self, scorer: str) -> tuple[Text, str]:
        session = self.session
        threshold = session.threshold(scorer)
        name = Text()
        name.append("● " if session.is_edited(scorer) else "  ", style=self._tone("warning", bold=True))
        name.append(scorer)
        bounds = describe(threshold)
        if threshold is not None and threshold.tags:
            bounds += f" +{len(threshold.tags)}"
        return name, bounds

    def _sync_scorers(self) -> None:
        """Keyed diff of the scorer list: add, remove and update rows by scorer name."""
        table = self.query_one("#thr-scorers", DataTable)
        wanted = list(self.session.scorers)
        present = [row.key.value for row in table.ordered_rows]
        if present != wanted:
            table.clear()
            for scorer in wanted:
                table.add_row(*self._scorer_cells(scorer), key=scorer)
            return
        for scorer in wanted:
            self._update_scorer_row(scorer)

    def _update_scorer_row(self, scorer: str) -> None:
        table = self.query_one("#thr-scorers", DataTable)
        for column, cell in zip(("scorer", "bounds"), self._scorer_cells(scorer)):
            if str(table.get_cell(scorer, column)) != str(cell):
                table.update_cell(scorer, column, cell, update_width=True)

    def _show_all(self) -> None:
        self._show_scorer()
        self._show_gate()
        self._sync_rates()
        self._sync_flips()
        self._show_status()

    def _show_scorer(self) -> None:
        session, scorer = self.session, self.selected
        if session is None or scorer is None:
            return
        facts = session.facts[scorer]
        heading = Text(scorer, style="bold")
        way = {"higher": "higher is better", "lower": "lower is better", "none": "no better side"}
        extras = [e for e in (way.get(facts.direction, ""), facts.unit) if e]
        if extras:
            heading.append(f"  ({', '.join(extras)})", style="dim")
        if not facts.enabled:
            heading.append("  not an enabled scorer", style=self._tone("warning"))
        self.query_one("#thr-heading", Static).update(heading)
        self.query_one("#thr-description", Static).update(Text(facts.description, style="dim"))

        side = self._side(scorer)
        lo, hi = session.bounds(scorer, self.tag)
        editing = Text()
        editing.append(f"{_scope_label(self.tag)}: ")
        if self.tag is not None and not session.has_override(scorer, self.tag):
            editing.append("(no override, follows all prompts) ", style="dim")
        for name, value in (("min", lo), ("max", hi)):
            label = f" {name} {'-' if value is None else f'{value:g}'} "
            editing.append(label, style="reverse bold" if name == side else "")
            editing.append(" ")
        saved = session.saved_threshold(scorer)
        editing.append(f" saved: {describe(saved)}", style="dim")
        if saved is not None and saved.tags:
            editing.append(f" +{len(saved.tags)} tag", style="dim")
        editing.append(f"\nstep {facts.step:g} (shift ×10) · {facts.n_values} values", style="dim")
        missing = len(session.models) * len(session.prompt_ids) - facts.n_values
        if missing:
            editing.append(f", {missing} missing (a missing value fails)", style="dim")
        self.query_one("#thr-editing", Static).update(editing)
        self.query_one("#thr-people", Static).update(self._people_text(scorer, lo, hi))

        passes = session.scorer_passes(scorer)
        values = session.values(scorer)
        rows = [DistributionRow(model, values[i], None if passes is None else passes[i])
                for i, model in enumerate(session.models)]
        counts = session.scorer_pass_counts(scorer)
        suffixes = ([f"{counts.passed[m]}/{counts.n_prompts}" for m in session.models]
                    if counts is not None else None)
        saved_bounds = (None, None)
        if saved is not None:
            scoped = saved.tags.get(self.tag) if self.tag is not None else None
            saved_bounds = (scoped.min, scoped.max) if scoped is not None else (saved.min, saved.max)
        self.query_one("#thr-dist", Distribution).show(rows, (lo, hi), saved_bounds, suffixes)
        alone = self.query_one("#thr-alone", Static)
        if counts is None:
            alone.update("no threshold on this scorer: every prompt passes it")
        else:
            alone.update("▲ bounds, △ saved; n/N: prompts passing this scorer's own bounds")

    def _people_text(self, scorer: str, lo: float | None, hi: float | None) -> Text:
        """What human judgments say about this scorer: suggested bound, rank and pass agreement."""
        session = self.session
        facts = session.facts[scorer]
        text = Text("People: ", style="bold")
        suggestion = facts.suggestion
        if suggestion is not None and suggestion.informative:
            text.append(f"suggested {suggestion.describe()}")
            in_use = (lo if suggestion.bound == "min" else hi) == suggestion.threshold
            text.append(" (in use)" if in_use else " (a uses it)", style="dim")
        elif suggestion is not None:
            text.append(f"no bound does better than passing (or failing) all {suggestion.n} labelled clips",
                        style="dim")
        elif facts.direction in ("higher", "lower"):
            text.append(f"no suggested bound ({facts.n_labels} clip(s) with pass/fail labels; "
                        "needs 3 with both verdicts)", style="dim")
        else:
            text.append("no suggested bound for a scorer without a better side", style="dim")
        row = self.people.rows.get(scorer) if self.people is not None else None
        if row is not None and row.spearman is not None:
            text.append(f" · spearman {_signed(row.spearman)} kendall {_signed(row.kendall)} "
                        f"(n {row.n_rated})")
            if row.sign_agrees is False:
                text.append(" people rank it the other way", style=self._tone("warning"))
        agreement = session.pass_agreement(scorer)
        if agreement is not None and agreement.share is not None:
            text.append(f" · pass agreement {agreement.share:.0%} of {agreement.n}")
            saved = session.pass_agreement(scorer, saved=True)
            if saved is not None and saved.share is not None and saved.share != agreement.share:
                text.append(f" (saved {saved.share:.0%})", style="dim")
        return text

    def _build_rate_table(self) -> None:
        table = self.query_one("#thr-rates", DataTable)
        models = list(self.session.models)
        scopes = [ALL_KEY, *self.session.tag_names]
        if self._rate_columns == models and [r.key.value for r in table.ordered_rows] == scopes:
            return
        table.clear(columns=True)
        table.add_column("scope", key="scope")
        for model in models:
            table.add_column(model, key=model)
        self._rate_columns = models
        for scope in scopes:
            label = ALL_PROMPTS if scope == ALL_KEY else scope
            table.add_row(label, *[""] * len(models), key=scope)

    def _sync_rates(self) -> None:
        session = self.session
        table = self.query_one("#thr-rates", DataTable)
        now, saved = session.pass_rates(), session.saved_rates
        tones = (self._tone("success", bold=True), self._tone("error", bold=True))
        overall = Text("Pass every threshold: ", style="bold")
        for i, model in enumerate(session.models):
            if i:
                overall.append(" · ", style="dim")
            overall.append(f"{model} ")
            overall.append_text(_rate_cell(now.passed[model], now.n_prompts, saved.passed[model], *tones))
        self.query_one("#thr-overall", Static).update(overall)
        for model in session.models:
            cells = {ALL_KEY: _rate_cell(now.passed[model], now.n_prompts, saved.passed[model], *tones)}
            for tag in session.tag_names:
                n = now.tag_sizes.get(tag, 0)
                cells[tag] = _rate_cell(now.tag_passed[model].get(tag, 0), n,
                                        saved.tag_passed[model].get(tag, 0), *tones)
            for scope, cell in cells.items():
                if str(table.get_cell(scope, model)) != cell.plain:
                    table.update_cell(scope, model, cell, update_width=True)

    def _flip_rows(self, passing: list[tuple[str, str]], failing: list[tuple[str, str]],
                   ) -> list[FlipRow]:
        session = self.session
        rows = [FlipRow(False, model, prompt, "; ".join(_reason(f) for f in session.failures(model, prompt)))
                for model, prompt in failing[:MAX_FLIP_ROWS]]
        rows += [FlipRow(True, model, prompt,
                         "; ".join(_reason(f) for f in session.failures(model, prompt, saved=True)))
                 for model, prompt in passing[:max(0, MAX_FLIP_ROWS - len(rows))]]
        return rows

    def _sync_flips(self) -> None:
        """The changed verdicts: those that fail now first, then those that pass now."""
        passing, failing = self.session.flips()
        flips = self.query_one("#thr-flips", FlipList)
        wanted = self._flip_rows(passing, failing)
        flips.show(wanted, self._tone("success", bold=True), self._tone("error", bold=True))
        title = self.query_one("#thr-flips-title", Static)
        total = len(passing) + len(failing)
        if total:
            shown = f" (first {len(wanted)} listed)" if total > len(wanted) else ""
            title.update(f"Prompts that flip from the saved thresholds: "
                         f"{len(passing)} now pass, {len(failing)} now fail{shown}")
        else:
            title.update("No prompt flips: every verdict is as with the saved thresholds")
        flips.display = bool(wanted)

    def _align_cells(self, scorer: str, row: AlignmentRow) -> dict[str, str]:
        session = self.session
        agreement = session.pass_agreement(scorer) if scorer in session.facts else None
        if agreement is None or agreement.share is None:
            agree = "-"
        else:
            agree = f"{agreement.share:.0%} of {agreement.n}"
        facts = session.facts.get(scorer)
        suggestion = facts.suggestion if facts is not None else None
        suggested = "-"
        if suggestion is not None and suggestion.informative:
            sign = ">=" if suggestion.bound == "min" else "<="
            suggested = f"{sign} {suggestion.threshold:g} ({suggestion.agreement:.0%})"
        return {
            "scorer": scorer,
            "n": str(row.n_rated),
            "spearman": _signed(row.spearman),
            "kendall": _signed(row.kendall),
            "agree": agree,
            "suggested": suggested,
            "note": _short_note(row, suggestion),
        }

    def _sync_alignment(self) -> None:
        """The table of which scorers agree with people (pass agreement at the edited thresholds)."""
        people, session = self.people, self.session
        title = self.query_one("#thr-align-title", Static)
        table = self.query_one("#thr-align", DataTable)
        if people is None or session is None:
            return
        if people.rated_clips == 0 and people.labelled_clips == 0:
            title.update("Which scorers agree with people: no human judgments yet. Rate clips in a "
                         "prompt's detail (4): 1-5 and pass/fail.")
            table.display = False
            return
        title.update(f"Which scorers agree with people: {people.rated_clips} rated clips, "
                     f"{people.labelled_clips} with pass/fail (rank agreement -1..+1; pass agreement "
                     "at the edited thresholds; reversed: people rank it against its direction)")
        table.display = True
        order = [s for s in session.scorers if s in people.rows]
        order += [s for s in people.rows if s not in order]
        wanted = {s: self._align_cells(s, people.rows[s]) for s in order}
        present = [row.key.value for row in table.ordered_rows]
        if present != order:
            table.clear()
            for scorer, cells in wanted.items():
                table.add_row(*cells.values(), key=scorer)
            return
        for scorer, cells in wanted.items():
            for column, value in cells.items():
                if table.get_cell(scorer, column) != value:
                    table.update_cell(scorer, column, value, update_width=True)

    def _status(self, line: str | Text, style: str = "", topic: str = "edit") -> None:
        """Show a message in the left column; it replaces the last one about the same topic
        (``edit``: a change of the thresholds, ``save``: saving, ``load``: reading the file)."""
        text = line if isinstance(line, Text) else Text(line, style=style)
        kept = [(t, old) for t, old in self._status_lines if t != topic]
        self._status_lines = (kept + [(topic, text)])[-MAX_STATUS_LINES:]
        self._show_status()

    def _clear_status(self, *topics: str) -> None:
        """Drop the messages about ``topics`` (all of them when none is named): a later action
        that succeeded makes them stale."""
        kept = [(t, text) for t, text in self._status_lines if topics and t not in topics]
        if kept != self._status_lines:
            self._status_lines = kept
            self._show_status()

    def _show_status(self) -> None:
        text = Text()
        if self.session is not None:
            edits = self.session.edits()
            if edits:
                text.append(f"● {len(edits)} unsaved: ctrl+s saves, U reverts all\n",
                            style=self._tone("warning", bold=True))
        for _topic, line in self._status_lines:
            text.append_text(line)
            text.append("\n")
        text.rstrip()
        self.query_one("#thr-status", Static).update(text)

    # ------------------------------------------------------------------ events
    @on(DataTable.RowHighlighted, "#thr-scorers")
    def _scorer_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.session is None or event.row_key.value not in self.session.facts:
            return
        if event.row_key.value != self.selected:
            self.selected = event.row_key.value
            self._show_scorer()

    @on(DataTable.RowSelected, "#thr-scorers")
    def _scorer_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a scorer: type a value for its active bound."""
        self.action_enter_value()

    # ------------------------------------------------------------------ editing
    def _ready(self) -> bool:
        return self.session is not None and self.selected is not None and \
            self.query_one("#thr-body").display

    def _after_edit(self, scorer: str | None = None) -> None:
        """Show what a change of the thresholds did; the gate's verdict follows in a worker."""
        self._clear_status("edit")  # what an earlier edit said (a refused value, say) is stale now
        if scorer is None:
            self._sync_scorers()
        else:
            self._update_scorer_row(scorer)
        self.gate_generation += 1
        self._request_gate()
        self._show_all()
        self._sync_alignment()

    def _edit(self, change: Callable[[], object]) -> bool:
        try:
            change()
        except (WorkbenchError, OSError) as error:
            self._status(str(error), self._tone("error"))
            self.notify(escape(str(error)), severity="warning", timeout=6)
            return False
        self._after_edit(self.selected)
        return True

    def action_nudge(self, steps: int) -> None:
        if not self._ready():
            return
        scorer = self.selected
        self._edit(lambda: self.session.nudge(scorer, self._side(scorer), steps, self.tag))

    def action_nudge_big(self, direction: int) -> None:
        self.action_nudge(direction * 10)

    def action_toggle_side(self) -> None:
        if not self._ready():
            return
        self.sides[self.selected] = "max" if self._side(self.selected) == "min" else "min"
        self._show_scorer()

    def action_enter_value(self) -> None:
        if not self._ready():
            return
        scorer, side = self.selected, self._side(self.selected)
        lo, hi = self.session.bounds(scorer, self.tag)
        title = f"{scorer} {side} for {_scope_label(self.tag)}"
        self.app.push_screen(ValueInput(title, lo if side == "min" else hi), callback=self._value_entered)

    def _value_entered(self, value: float | None) -> None:
        if value is None or not self._ready():
            return
        scorer, side = self.selected, self._side(self.selected)
        if not self._edit(lambda: self.session.set_bound(scorer, side, value, self.tag)):
            return
        lo, hi = self.session.bounds(scorer, self.tag)
        placed = lo if side == "min" else hi
        if placed is not None and placed != value:
            self._status(f"{scorer}: {side} kept at {placed:g} (the scorer's range or the other bound)",
                         self._tone("warning"))

    def action_clear_bound(self) -> None:
        if not self._ready():
            return
        scorer, side, tag = self.selected, self._side(self.selected), self.tag
        if self.session.clear_bound(scorer, side, tag) is None:
            self._status(f"{scorer}: no {side} to clear for {_scope_label(tag)}", "dim")
            return
        self._after_edit(scorer)

    def action_apply_suggestion(self) -> None:
        if not self._ready():
            return
        scorer = self.selected
        suggestion = self.session.facts[scorer].suggestion
        if suggestion is None:
            self._status(f"{scorer}: no suggested bound (needs human pass/fail labels)", "dim")
            return
        self.sides[scorer] = suggestion.bound
        self._edit(lambda: self.session.apply_suggestion(scorer, self.tag))

    def action_pick_tag(self) -> None:
        if not self._ready():
            return
        tags = list(self.session.tag_names)
        if not tags:
            self._status("no prompt has a tag: the bounds apply to all prompts", "dim")
            return
        labels = [ALL_PROMPTS]
        threshold = self.session.threshold(self.selected)
        for tag in tags:
            override = threshold.tags.get(tag) if threshold is not None else None
            labels.append(f"{tag}  (override {describe(override)})" if override else tag)
        current = 0 if self.tag is None else tags.index(self.tag) + 1
        options = [(str(index), label) for index, label in enumerate(labels)]
        self.app.push_screen(ChoiceScreen("Edit the bounds for…", options, str(current)),
                             callback=self._tag_picked)

    def _tag_picked(self, choice: str | None) -> None:
        if choice is None or self.session is None:
            return
        index = int(choice)
        self.set_tag(None if index == 0 else self.session.tag_names[index - 1])

    def set_tag(self, tag: str | None) -> None:
        """Edit the bounds for all prompts (None) or as an override for one tag."""
        self.tag = tag
        if self.session is not None and self.selected is not None:
            self._show_scorer()

    def action_revert(self) -> None:
        if self.session is None:
            return
        edits = self.session.edits()
        if not edits:
            self._status("nothing to revert", "dim")
            return
        self.session.revert()
        self._after_edit()
        self._clear_status("save")  # a refused save was about edits that are gone now
        self._status(f"reverted {len(edits)} unsaved edit(s)", self._tone("warning"))

    def action_revert_scorer(self) -> None:
        if not self._ready():
            return
        scorer = self.selected
        if not self.session.is_edited(scorer):
            self._status(f"{scorer}: nothing to revert", "dim")
            return
        self.session.revert(scorer)
        self._after_edit(scorer)
        self._status(f"{scorer}: back to the saved threshold", self._tone("warning"))

    def action_scroll_details(self, direction: int) -> None:
        right = self.query_one("#thr-right", VerticalScroll)
        if direction > 0:
            right.scroll_page_down(animate=False)
        else:
            right.scroll_page_up(animate=False)

    def action_show_alignment(self) -> None:
        """Scroll the details to the table of which scorers agree with people."""
        if not self._ready():
            return
        self.query_one("#thr-right", VerticalScroll).scroll_to_widget(
            self.query_one("#thr-align-title"), animate=False, top=True)

    # ------------------------------------------------------------------ saving
    def action_save(self) -> None:
        """Work out the lines of benchmark.toml that change, then show them before writing."""
        if self.session is None or self.app.bench is None:
            return
        if self.saving:
            self.notify("still saving the last change", severity="warning")
            return
        edits = self.session.edits()
        if not edits:
            self._status("nothing to save: every threshold is as saved", "dim", topic="save")
            return
        self.saving = True
        self._plan_save(self.app.bench, edits)

    @work(thread=True, exclusive=True, exit_on_error=False, group="thresholds-plan")
    def _plan_save(self, bench: Benchmark, edits: dict[str, Threshold | None]) -> None:
        try:
            plan = plan_threshold_save(bench, edits)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.SaveRefused(error))
            return
        self.post_message(self.SavePlanned(plan, bench, edits))

    @on(SavePlanned)
    def _save_planned(self, message: SavePlanned) -> None:
        self.last_plan = message.plan
        if message.plan.empty:
            self.saving = False
            self._status("nothing to save: the file already has these thresholds", "dim", topic="save")
            return

        def answered(write: bool | None) -> None:
            if write:
                self._save(message.bench, message.edits)
            else:
                self.saving = False
                self._status("not saved: still editing", "dim", topic="save")

        self.app.push_screen(ThresholdDiffScreen(message.plan), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="thresholds-save")
    def _save(self, bench: Benchmark, edits: dict[str, Threshold | None]) -> None:
        try:
            result = save_thresholds(bench, edits)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.SaveRefused(error))
            return
        self.post_message(self.ThresholdsSaved(result, edits))

    @on(ThresholdsSaved)
    def _saved(self, message: ThresholdsSaved) -> None:
        result = message.result
        self.last_saved = result
        self.session.mark_saved(message.edits)
        if self.gate_evaluated == self.gate_generation:
            self.saved_gate = self.gate_result
        text = Text(f"wrote {result.path.name}:", style=self._tone("success", bold=True))
        for line in result.lines:
            text.append(f"\n{line.number}: {line.sign}{line.text}",
                        style=self._tone("success" if line.sign == "+" else "error"))
        self._clear_status()  # every earlier message (a refused save, say) is about what is saved now
        self._status(text, topic="save")
        self.notify(escape("\n".join(result.changes) or "no change"), title=f"saved {result.path.name}")
        self._sync_scorers()
        self._show_all()
        self._sync_alignment()
        self.app.load_benchmark()

    @on(SaveRefused)
    def _save_refused(self, message: SaveRefused) -> None:
        self.saving = False
        error = message.error
        if isinstance(error, FileConflict):
            self._status(f"not saved: {error.path.name} changed on disk. Your edits are kept: "
                         "ctrl+r reloads the file (keeping them), then ctrl+s saves.",
                         self._tone("error", bold=True), topic="save")
        else:
            self._status(f"not saved: {error}", self._tone("error", bold=True), topic="save")
        self.app.show_error(error, title="thresholds not saved")

    # ------------------------------------------------------------------ palette
    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        return [
            ("Thresholds: raise the bound", "move the active bound up one step (right; shift: ten)",
             lambda: self.action_nudge(1)),
            ("Thresholds: lower the bound", "move the active bound down one step (left; shift: ten)",
             lambda: self.action_nudge(-1)),
            ("Thresholds: switch min/max", "choose which bound the arrows move (b)",
             self.action_toggle_side),
            ("Thresholds: type a value", "set the active bound to an exact value (e, enter)",
             self.action_enter_value),
            ("Thresholds: clear the bound", "drop the active bound (x)", self.action_clear_bound),
            ("Thresholds: use the suggested threshold", "the bound that best matches human pass/fail "
             "labels (a)", self.action_apply_suggestion),
            ("Thresholds: edit for a tag", "a per-tag override, or all prompts (o)",
             self.action_pick_tag),
            ("Thresholds: edit for all prompts", "leave the tag override scope",
             lambda: self.set_tag(None)),
            ("Thresholds: which scorers agree with people", "rank and pass agreement with human "
             "judgments (l)", self.action_show_alignment),
            ("Thresholds: save", "show the lines of benchmark.toml that change, then write them "
             "(ctrl+s)", self.action_save),
            ("Thresholds: revert this scorer", "back to this scorer's saved threshold (u)",
             self.action_revert_scorer),
            ("Thresholds: revert all edits", "back to the saved thresholds (U)", self.action_revert),
        ]

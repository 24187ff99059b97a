"""Thresholds: tune each scorer's pass/fail bounds against the scores, then save them.

Left, the scorers with their bounds (``●`` marks an unsaved edit). Right, for the selected
scorer: its values per model with the bounds marked, the share of prompts passing every
threshold per model (overall and per tag, against the saved figure), and the (model,
prompt) verdicts that differ from the saved thresholds. All of it comes from
:class:`workbench.threshold_tuning.TuningSession`; a move costs well under a millisecond,
so it runs on the key press. Reading the scores and saving run in workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from workbench.benchmark.config import Threshold
from workbench.benchmark.folder import Benchmark
from workbench.decide.thresholds import PromptFailure
from workbench.errors import FileConflict, WorkbenchError
from workbench.threshold_tuning import (
    SavedThresholds, Side, TuningSession, describe, save_thresholds,
)
from workbench.tui.screens.choice import ChoiceScreen
from workbench.tui.widgets.distribution import Distribution, DistributionRow

ALL_PROMPTS = "(all prompts)"
ALL_KEY = "\x00all"
KEY_SEP = "\x1f"
MAX_STATUS_LINES = 12


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
            yield Static(self._title, classes="title")
            yield Input(value="" if self._current is None else f"{self._current:g}", id="value-input")
            yield Static(id="value-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            value = float(event.value.strip())
        except ValueError:
            self.query_one("#value-error", Static).update(f"not a number: {event.value!r}")
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
        Binding("e", "enter_value", "Value"),
        Binding("x,delete", "clear_bound", "Clear"),
        Binding("a", "apply_suggestion", "Suggested"),
        Binding("o", "pick_tag", "Tag"),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape,u", "revert", "Revert"),
        Binding("pagedown", "scroll_details(1)", "Scroll details down", show=False, priority=True),
        Binding("pageup", "scroll_details(-1)", "Scroll details up", show=False, priority=True),
    ]

    # ------------------------------------------------------------------ messages
    @dataclass
    class TableLoaded(Message):
        session: TuningSession
        warnings: list[str]
        version: int

    @dataclass
    class TableFailed(Message):
        error: WorkbenchError
        version: int

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
        self.selected: str | None = None
        self.sides: dict[str, Side] = {}
        self.tag: str | None = None
        self.saving = False
        self.last_saved: SavedThresholds | None = None
        self._status_lines: list[Text] = []
        self._rate_columns: list[str] = []

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the benchmark…", id="thr-empty", classes="empty-state")
        with Horizontal(id="thr-body"):
            with Vertical(id="thr-left"):
                yield Static("Scorers", classes="title")
                yield DataTable(id="thr-scorers", cursor_type="row", zebra_stripes=False)
                yield Static(id="thr-status")
            with VerticalScroll(id="thr-right", can_focus=False):
                yield Static(id="thr-heading")
                yield Static(id="thr-editing")
                yield Static(id="thr-suggestion")
                yield Distribution(id="thr-dist")
                yield Static(id="thr-alone", classes="muted")
                yield Static(id="thr-overall")
                yield Static(id="thr-flips-title", classes="title")
                yield DataTable(id="thr-flips", cursor_type="none", show_cursor=False)
                yield Static("Pass rate per tag: prompts passing every threshold (change from saved)",
                             id="thr-rates-title", classes="title")
                yield DataTable(id="thr-rates", cursor_type="none", show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        scorers = self.query_one("#thr-scorers", DataTable)
        scorers.add_column("scorer", key="scorer")
        scorers.add_column("bounds", key="bounds")
        scorers.add_column("tags", key="tags")
        for table_id in ("#thr-rates", "#thr-flips"):
            self.query_one(table_id, DataTable).can_focus = False
        flips = self.query_one("#thr-flips", DataTable)
        flips.add_column("now", key="now")
        flips.add_column("model", key="model")
        flips.add_column("prompt", key="prompt")
        flips.add_column("why", key="why")
        self.query_one("#thr-body").display = False
        self.watch(self.app, "bench_version", self._refresh, init=True)

    def _set_empty(self, message: str) -> None:
        empty = self.query_one("#thr-empty", Static)
        empty.update(message)
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
        except WorkbenchError as error:
            self.post_message(self.TableFailed(error, version))
            return
        self.post_message(self.TableLoaded(session, warnings, version))

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
            self._status(f"kept {len(kept)} unsaved edit(s) across the reload", self._tone("warning"))
        self.session = session
        for warning in message.warnings:
            self.notify(warning, severity="warning", timeout=8)
        if not session.models or not session.scorers:
            self._set_empty(
                "No scores yet.\nRun the models and score the clips first:\n"
                f"  workbench run {self.app.root}\n  workbench score {self.app.root}")
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
        self._show_all()

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

    def _scorer_cells(self, scorer: str) -> tuple[Text, str, str]:
        session = self.session
        threshold = session.threshold(scorer)
        name = Text()
        name.append("● " if session.is_edited(scorer) else "  ", style=self._tone("warning", bold=True))
        name.append(scorer)
        overrides = f"+{len(threshold.tags)}" if threshold is not None and threshold.tags else ""
        return name, describe(threshold), overrides

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
        for column, cell in zip(("scorer", "bounds", "tags"), self._scorer_cells(scorer)):
            if str(table.get_cell(scorer, column)) != str(cell):
                table.update_cell(scorer, column, cell, update_width=True)

    def _show_all(self) -> None:
        self._show_scorer()
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
        extras = [way.get(facts.direction, ""), facts.unit]
        extras = [e for e in extras if e]
        if extras:
            heading.append(f"  ({', '.join(extras)})", style="dim")
        if not facts.enabled:
            heading.append("  not an enabled scorer", style=self._tone("warning"))
        if facts.description:
            heading.append(f"\n{facts.description}", style="dim")
        self.query_one("#thr-heading", Static).update(heading)

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
        editing.append(f"  saved: {describe(saved)}", style="dim")
        if saved is not None and saved.tags:
            editing.append(f" +{len(saved.tags)}tag", style="dim")
        editing.append(f"\nstep {facts.step:g} (shift: {facts.big_step:g})  "
                       f"values {facts.n_values}", style="dim")
        missing = len(session.models) * len(session.prompt_ids) - facts.n_values
        if missing:
            editing.append(f", {missing} missing (a missing value fails)", style="dim")
        self.query_one("#thr-editing", Static).update(editing)

        suggestion = facts.suggestion
        if suggestion is not None:
            text = Text(f"suggested from human pass/fail labels: {suggestion.describe()}")
            in_use = (lo if suggestion.bound == "min" else hi) == suggestion.threshold
            if in_use:
                text.append("  (in use)", style="dim")
            elif suggestion.informative:
                text.append("  press a to use it", style="dim")
            else:
                text.append("  (no better than passing or failing every clip)", style="dim")
        elif facts.direction in ("higher", "lower"):
            text = Text(f"no suggestion: {facts.n_labels} clip(s) with human pass/fail labels "
                        "(needs 3, both verdicts)", style="dim")
        else:
            text = Text("no threshold suggestion for a scorer without a better side", style="dim")
        self.query_one("#thr-suggestion", Static).update(text)

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
                overall.append("  ·  ", style="dim")
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

    def _flip_rows(self) -> dict[str, tuple[Text, str, str, str]]:
        session = self.session
        passing, failing = session.flips()
        rows: dict[str, tuple[Text, str, str, str]] = {}
        for model, prompt in failing:
            why = "; ".join(_reason(f) for f in session.failures(model, prompt))
            rows[f"{model}{KEY_SEP}{prompt}"] = (Text("✗ fails", style=self._tone("error", bold=True)), model, prompt, why)
        for model, prompt in passing:
            why = "was " + "; ".join(_reason(f) for f in session.failures(model, prompt, saved=True))
            rows[f"{model}{KEY_SEP}{prompt}"] = (Text("✓ passes", style=self._tone("success", bold=True)), model, prompt, why)
        return rows

    def _sync_flips(self) -> None:
        """Keyed diff of the changed verdicts: remove gone rows, add new ones, update changed cells."""
        session = self.session
        table = self.query_one("#thr-flips", DataTable)
        wanted = self._flip_rows()
        present = {key.value for key in table.rows}
        for key in present - wanted.keys():
            table.remove_row(key)
        columns = ("now", "model", "prompt", "why")
        for key, cells in wanted.items():
            if key not in present:
                table.add_row(*cells, key=key)
                continue
            for column, cell in zip(columns, cells):
                if str(table.get_cell(key, column)) != str(cell):
                    table.update_cell(key, column, cell, update_width=True)
        if list(wanted) != [row.key.value for row in table.ordered_rows]:
            order = {key: i for i, key in enumerate(wanted)}
            table.sort("model", "prompt", key=lambda mp: order[f"{mp[0]}{KEY_SEP}{mp[1]}"])
        passing, failing = session.flips()
        title = self.query_one("#thr-flips-title", Static)
        if passing or failing:
            title.update(f"Verdicts that differ from the saved thresholds: "
                         f"{len(passing)} now pass, {len(failing)} now fail")
        else:
            title.update("No verdict differs from the saved thresholds")
        table.display = bool(wanted)

    def _status(self, line: str | Text, style: str = "") -> None:
        text = line if isinstance(line, Text) else Text(line, style=style)
        self._status_lines = (self._status_lines + [text])[-MAX_STATUS_LINES:]
        self._show_status()

    def _show_status(self) -> None:
        text = Text()
        if self.session is not None:
            edits = self.session.edits()
            if edits:
                text.append(f"● {len(edits)} unsaved: ctrl+s saves, esc reverts\n",
                            style=self._tone("warning", bold=True))
        for line in self._status_lines:
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

    # ------------------------------------------------------------------ editing
    def _ready(self) -> bool:
        return self.session is not None and self.selected is not None and \
            self.query_one("#thr-body").display

    def _after_edit(self) -> None:
        self._update_scorer_row(self.selected)
        self._show_all()

    def _edit(self, change) -> None:  # noqa: ANN001 - a callable returning a ThresholdChange
        try:
            change()
        except WorkbenchError as error:
            self._status(str(error), self._tone("error"))
            self.notify(escape(str(error)), severity="warning", timeout=6)
            return
        self._after_edit()

    def action_nudge(self, steps: int) -> None:
        if not self._ready():
            return
        scorer = self.selected
        self._edit(lambda: self.session.nudge(scorer, self._side(scorer), steps, self.tag))

    def action_nudge_big(self, direction: int) -> None:
        if not self._ready():
            return
        scorer = self.selected
        self._edit(lambda: self.session.nudge(scorer, self._side(scorer), direction * 10, self.tag))

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
        self._edit(lambda: self.session.set_bound(scorer, side, value, self.tag))
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
        self._after_edit()

    def action_apply_suggestion(self) -> None:
        if not self._ready():
            return
        scorer = self.selected
        suggestion = self.session.facts[scorer].suggestion
        if suggestion is None:
            self._status(f"{scorer}: no suggestion (needs human pass/fail labels)", "dim")
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
        for tag in tags:
            threshold = self.session.threshold(self.selected)
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
        self._sync_scorers()
        self._show_all()
        self._status(f"reverted {len(edits)} unsaved edit(s)", self._tone("warning"))

    def revert_selected(self) -> None:
        if not self._ready() or not self.session.is_edited(self.selected):
            return
        self.session.revert(self.selected)
        self._after_edit()
        self._status(f"{self.selected}: back to the saved threshold", self._tone("warning"))

    def action_scroll_details(self, direction: int) -> None:
        right = self.query_one("#thr-right", VerticalScroll)
        if direction > 0:
            right.scroll_page_down(animate=False)
        else:
            right.scroll_page_up(animate=False)

    # ------------------------------------------------------------------ saving
    def action_save(self) -> None:
        if self.session is None or self.app.bench is None:
            return
        if self.saving:
            self.notify("still saving the last change", severity="warning")
            return
        edits = self.session.edits()
        if not edits:
            self._status("nothing to save: every threshold is as saved", "dim")
            return
        self.saving = True
        self._save(self.app.bench, edits)

    @work(thread=True, exclusive=True, exit_on_error=False, group="thresholds-save")
    def _save(self, bench: Benchmark, edits: dict[str, Threshold | None]) -> None:
        try:
            result = save_thresholds(bench, edits)
        except WorkbenchError as error:
            self.post_message(self.SaveRefused(error))
            return
        self.post_message(self.ThresholdsSaved(result, edits))

    @on(ThresholdsSaved)
    def _saved(self, message: ThresholdsSaved) -> None:
        result = message.result
        self.last_saved = result
        self.session.mark_saved(message.edits)
        text = Text(f"wrote {result.path.name}:", style=self._tone("success", bold=True))
        for line in result.diff:
            text.append(f"\n{line}", style=self._tone("success" if line.startswith("+") else "error"))
        self._status(text)
        self.notify(escape("\n".join(result.changes) or "no change"), title=f"saved {result.path.name}")
        self._sync_scorers()
        self._show_all()
        self.app.load_benchmark()

    @on(SaveRefused)
    def _save_refused(self, message: SaveRefused) -> None:
        self.saving = False
        error = message.error
        if isinstance(error, FileConflict):
            self._status(f"not saved: {error.path.name} changed on disk. Your edits are kept: "
                         "ctrl+r reloads the file (keeping them), then ctrl+s saves.",
                         self._tone("error", bold=True))
        else:
            self._status(f"not saved: {error}", self._tone("error", bold=True))
        self.app.show_error(error, title="thresholds not saved")

    # ------------------------------------------------------------------ palette
    def palette_commands(self) -> list[tuple[str, str, object]]:
        return [
            ("Thresholds: raise the bound", "move the active bound up one step (right)",
             lambda: self.action_nudge(1)),
            ("Thresholds: lower the bound", "move the active bound down one step (left)",
             lambda: self.action_nudge(-1)),
            ("Thresholds: switch min/max", "choose which bound the arrows move (b)",
             self.action_toggle_side),
            ("Thresholds: type a value", "set the active bound to an exact value (e)",
             self.action_enter_value),
            ("Thresholds: clear the bound", "drop the active bound (x)", self.action_clear_bound),
            ("Thresholds: use the suggested threshold", "from human pass/fail labels (a)",
             self.action_apply_suggestion),
            ("Thresholds: edit for a tag", "a per-tag override, or all prompts (o)",
             self.action_pick_tag),
            ("Thresholds: edit for all prompts", "leave the tag override scope",
             lambda: self.set_tag(None)),
            ("Thresholds: save", "write every edited threshold to benchmark.toml (ctrl+s)",
             self.action_save),
            ("Thresholds: revert all edits", "back to the saved thresholds (esc, u)",
             self.action_revert),
            ("Thresholds: revert this scorer", "back to this scorer's saved threshold",
             self.revert_selected),
        ]

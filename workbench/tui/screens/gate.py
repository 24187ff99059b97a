"""Gate screen: may the candidate replace the incumbent, why, and recording the decision.

Everything it shows comes from the same core calls as ``workbench gate``:
:func:`~workbench.decide.gate_inputs.gather_gate_inputs` and
:func:`~workbench.decide.gate_inputs.evaluate_inputs` (in a thread worker: the
bootstrap takes a moment), :func:`~workbench.decision_history.record_decision` to
write a record and :func:`~workbench.decision_history.list_decisions` for the
earlier ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.widgets.data_table import RowDoesNotExist
from textual.worker import Worker, WorkerState

from workbench.benchmark.folder import Benchmark
from workbench.decide.gate_inputs import GateInputs, evaluate_inputs, gather_gate_inputs
from workbench.decide.gate_result import GateResult
from workbench.decide.verdict_text import (
    ci_range, format_number, format_percent, signed, wins_ties_losses,
)
from workbench.decision_history import (
    DecisionHistory, DecisionSummary, RecordedDecision, list_decisions, record_decision,
)
from workbench.errors import WorkbenchError
from workbench.tui.screens.choice import ChoiceScreen
from workbench.tui.widgets.screen_tabs import ScreenTabs
from workbench.tui.screens.record_decision import (
    DecisionRequest, RecordDecisionScreen, default_decider,
)

VERDICT_WORDS = {
    "ship": "the candidate may replace the incumbent",
    "hold": "keep the incumbent",
    "inconclusive": "not enough evidence either way",
}
OUTCOME_STYLE = {"pass": "text-success", "fail": "text-error", "inconclusive": "text-warning",
                 "skipped": ""}
NOTE_CHARS = 48


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class GateScreen(Screen):
    """The release gate for the chosen pair of models, and the decisions taken."""

    CSS_PATH = "gate.tcss"
    HELP_TITLE = "Gate"
    BINDINGS = [
        Binding("c", "pick('candidate')", "Candidate"),
        Binding("i", "pick('incumbent')", "Incumbent"),
        Binding("x", "swap", "Swap"),
        Binding("n", "next_scorer", "Tag scorer"),
        Binding("d", "record", "Record decision"),
    ]

    # ------------------------------------------------------------ messages
    @dataclass
    class Evaluated(Message):
        """The gate ran for the pair asked for with ``token``."""

        token: int
        inputs: GateInputs
        result: GateResult

    @dataclass
    class EvaluationFailed(Message):
        token: int
        error: WorkbenchError

    @dataclass
    class HistoryLoaded(Message):
        history: DecisionHistory

    @dataclass
    class Recorded(Message):
        recorded: RecordedDecision

    @dataclass
    class RecordFailed(Message):
        error: WorkbenchError

    # ------------------------------------------------------------ state
    def __init__(self) -> None:
        super().__init__()
        self.candidate: str | None = None
        self.incumbent: str | None = None
        self.inputs: GateInputs | None = None
        self.result: GateResult | None = None
        self.error: WorkbenchError | None = None
        self.history: DecisionHistory = DecisionHistory()
        self.last_recorded: RecordedDecision | None = None
        self.tag_scorer: str | None = None
        self._token = 0
        self._bench: Benchmark | None = None

    @property
    def evaluating(self) -> bool:
        return self.result is None and self.error is None and self._bench is not None

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenTabs("gate")
        yield Static("Loading the benchmark…", id="gate-empty", classes="empty-state")
        with VerticalScroll(id="gate-body"):
            yield Static("", id="gate-verdict", classes="verdict")
            yield Static("", id="gate-models")
            yield Static("", id="gate-rules")
            yield Static("", id="gate-reasons")
            yield Static("", id="gate-warnings")
            yield Static("Primary scorers", classes="section")
            yield DataTable(id="gate-scorers", cursor_type="row", zebra_stripes=True)
            yield Static("", id="gate-rule-terms", classes="muted note")
            yield Static("Per tag", id="gate-tags-title", classes="section")
            yield DataTable(id="gate-tags", cursor_type="row", zebra_stripes=True)
            yield Static("Threshold pass rates", classes="section")
            yield Static("", id="gate-pass-rates")
            yield Static("Earlier decisions", classes="section")
            yield Static("", id="gate-recorded")
            yield DataTable(id="gate-history", cursor_type="row", zebra_stripes=True)
            yield Static("", id="gate-history-note", classes="muted")
        yield Footer()

    def on_mount(self) -> None:
        history = self.query_one("#gate-history", DataTable)
        history.add_columns("decided (UTC)", "candidate vs incumbent", "decision", "gate said",
                            "override", "by", "note")
        self._show_body(False)
        self.watch(self.app, "bench_version", self._refresh, init=True)
        self.watch(self.app, "theme", self._restyle, init=False)

    def _show_body(self, shown: bool, empty: str = "") -> None:
        self.query_one("#gate-body").display = shown
        placeholder = self.query_one("#gate-empty", Static)
        placeholder.display = not shown
        if empty:
            placeholder.update(Content(empty))

    # ------------------------------------------------------------ (re)loading
    def _refresh(self, _version: int = 0) -> None:
        bench = self.app.bench
        self._bench = bench
        if bench is None:
            self._show_body(False, "Loading the benchmark…")
            return
        models = list(bench.config.models)
        if len(models) < 2:
            have = ", ".join(models) or "none"
            self._show_body(False, f"The gate compares two models; {bench.config_path} has "
                                   f"{len(models)} ({have}). Add a [models.<id>] table for "
                                   "each model to compare.")
            return
        self._show_body(True)
        gate = bench.config.gate
        if self.candidate not in models or self.incumbent not in models \
                or self.candidate == self.incumbent:
            if gate is not None:
                self.candidate, self.incumbent = gate.candidate, gate.incumbent
            else:
                self.incumbent, self.candidate = models[0], models[1]
        self._evaluate_pair()
        self._load_history(bench)

    def _evaluate_pair(self) -> None:
        bench = self._bench
        if bench is None or self.candidate is None or self.incumbent is None:
            return
        self._token += 1
        self.result = None
        self.error = None
        self._set_verdict(f"… evaluating {self.candidate} vs {self.incumbent}", "pending")
        self._show_models()
        self._evaluate(bench, self.candidate, self.incumbent, self._token)

    @work(thread=True, exclusive=True, group="gate-evaluate", exit_on_error=False)
    def _evaluate(self, bench: Benchmark, candidate: str, incumbent: str, token: int) -> None:
        try:
            inputs = gather_gate_inputs(bench, candidate=candidate, incumbent=incumbent)
            result = evaluate_inputs(inputs)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.EvaluationFailed(token, error))
            return
        self.post_message(self.Evaluated(token, inputs, result))

    @work(thread=True, exclusive=True, group="gate-history", exit_on_error=False)
    def _load_history(self, bench: Benchmark) -> None:
        self.post_message(self.HistoryLoaded(list_decisions(bench.decisions_dir)))

    @work(thread=True, exclusive=True, group="gate-record", exit_on_error=False)
    def _write_record(self, inputs: GateInputs, result: GateResult,
                      request: DecisionRequest) -> None:
        try:
            recorded = record_decision(inputs, result, note=request.note,
                                       override=request.override, decider=request.decider)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.RecordFailed(error))
            return
        self.post_message(self.Recorded(recorded))

    # ------------------------------------------------------------ message handlers
    @on(Evaluated)
    def _evaluated(self, message: Evaluated) -> None:
        if message.token != self._token:
            return  # an answer for a pair no longer shown
        self.inputs, self.result, self.error = message.inputs, message.result, None
        primary_with_stats = [s.scorer for s in message.result.scorers]
        if self.tag_scorer not in primary_with_stats:
            self.tag_scorer = primary_with_stats[0] if primary_with_stats else None
        self._render_result()

    @on(EvaluationFailed)
    def _evaluation_failed(self, message: EvaluationFailed) -> None:
        if message.token != self._token:
            return
        self.inputs, self.result, self.error = None, None, message.error
        self._render_failure(message.error)

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        self.history = message.history
        self._render_history()

    @on(Recorded)
    def _recorded(self, message: Recorded) -> None:
        self.last_recorded = message.recorded
        record = message.recorded.record
        names = ", ".join(message.recorded.file_names)
        folder = message.recorded.files.json.parent
        decision = record["decision"].upper()
        if record["overridden"]:
            decision += f" (override of {record['verdict']})"
        recorded = self.query_one("#gate-recorded", Static)
        recorded.update(Content(f"Recorded {decision} in {folder}: {names}"))
        recorded.add_class("shown")
        self.notify(f"{decision}: {names}", title="decision recorded")
        if self._bench is not None:
            self._load_history(self._bench)

    @on(RecordFailed)
    def _record_failed(self, message: RecordFailed) -> None:
        self.app.show_error(message.error, title="decision not recorded")

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and (event.worker.group or "").startswith("gate-"):
            self.app.show_error(event.worker.error or RuntimeError("unknown error"), title="gate")

    @on(DataTable.RowHighlighted, "#gate-scorers")
    def _scorer_highlighted(self, event: DataTable.RowHighlighted) -> None:
        scorer = event.row_key.value if event.row_key is not None else None
        if self.result is not None and scorer != self.tag_scorer \
                and self.result.scorer_stats(scorer or "") is not None:
            self.tag_scorer = scorer
            self._render_tags()

    # ------------------------------------------------------------ actions
    def action_pick(self, role: str) -> None:
        """Choose the candidate or the incumbent from the benchmark's models."""
        if self._bench is None:
            return
        current, other = ((self.candidate, self.incumbent) if role == "candidate"
                          else (self.incumbent, self.candidate))
        options = []
        for model_id, model in self._bench.config.models.items():
            if model_id == other:
                continue
            provider = getattr(model, "provider", "")
            options.append((model_id, f"{model_id}  ({provider})" if provider else model_id))
        if not options:
            self.notify(f"no other model to pick as the {role}; x swaps the two", timeout=4)
            return

        def chosen(model_id: str | None) -> None:
            if model_id is not None and model_id != current:
                self._set_role(role, model_id)

        self.app.push_screen(ChoiceScreen(f"Compare which model as the {role}?", options, current), chosen)

    def _set_role(self, role: str, model_id: str) -> None:
        if role == "candidate":
            self.candidate = model_id
        else:
            self.incumbent = model_id
        self._evaluate_pair()

    def action_swap(self) -> None:
        if self._bench is None or self.candidate is None or self.incumbent is None:
            return
        self.candidate, self.incumbent = self.incumbent, self.candidate
        self._evaluate_pair()

    def action_next_scorer(self) -> None:
        if self.result is None or not self.result.scorers:
            return
        names = [s.scorer for s in self.result.scorers]
        index = names.index(self.tag_scorer) if self.tag_scorer in names else -1
        self.tag_scorer = names[(index + 1) % len(names)]
        table = self.query_one("#gate-scorers", DataTable)
        row = table.get_row_index(self.tag_scorer)
        table.move_cursor(row=row)
        self._render_tags()

    def action_record(self) -> None:
        if self.error is not None:
            self.notify(f"nothing to record: {self.error}", severity="warning")
            return
        if self.result is None or self.inputs is None:
            self.notify("the gate is still being evaluated", severity="warning")
            return
        inputs, result = self.inputs, self.result
        modal = RecordDecisionScreen(result.verdict, result.candidate, result.incumbent,
                                     default_decider())

        def recorded(request: DecisionRequest | None) -> None:
            if request is not None:
                self._write_record(inputs, result, request)

        self.app.push_screen(modal, recorded)

    def palette_commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        return [
            ("Gate: choose the candidate", "compare another model as the candidate (c)",
             lambda: self.action_pick("candidate")),
            ("Gate: choose the incumbent", "compare against another incumbent (i)",
             lambda: self.action_pick("incumbent")),
            ("Gate: swap candidate and incumbent", "the reverse comparison (x)", self.action_swap),
            ("Gate: per-tag rows of the next scorer", "show another primary scorer by tag (n)",
             self.action_next_scorer),
            ("Gate: record the decision", "write a decision record with a note (d)",
             self.action_record),
        ]

    # ------------------------------------------------------------ rendering
    def _style(self, name: str, extra: str = "") -> str:
        colour = self.app.theme_variables.get(name, "") if name else ""
        return " ".join(part for part in (colour, extra) if part)

    def _restyle(self) -> None:
        if self.result is not None:
            self._render_result()
        self._render_history(force=True)

    def _set_verdict(self, text: str, kind: str) -> None:
        verdict = self.query_one("#gate-verdict", Static)
        verdict.update(Content(text))
        for name in ("ship", "hold", "inconclusive", "pending", "error"):
            verdict.set_class(name == kind, f"verdict-{name}")

    def _show_models(self) -> None:
        bench = self._bench
        if bench is None:
            return
        source = ("benchmark.toml [gate]" if bench.config.gate is not None
                  else "default rules (no [gate] section)")
        self.query_one("#gate-models", Static).update(Content.assemble(
            "candidate: ", (self.candidate or "?", "bold"), " (c to change) · incumbent: ",
            (self.incumbent or "?", "bold"), " (i) · rules: ", source))

    def _render_failure(self, error: WorkbenchError) -> None:
        self._set_verdict(f"CANNOT EVALUATE  {self.candidate} vs {self.incumbent}", "error")
        self.query_one("#gate-reasons", Static).update(Content(f"• {error}"))
        rules = self.query_one("#gate-rules", Static)
        bench = self._bench
        if bench is not None and bench.config.gate is None:
            rules.update(Content(self._gate_hint(bench, [])))
            rules.display = True
        else:
            rules.display = False
        self.query_one("#gate-warnings", Static).display = False
        self.query_one("#gate-scorers", DataTable).clear()
        self.query_one("#gate-tags", DataTable).clear()
        self.query_one("#gate-pass-rates", Static).update("")

    def _gate_hint(self, bench: Benchmark, primary: Sequence[str]) -> str:
        listed = json.dumps(list(primary) or ["<scorer>"])
        return (
            f"No [gate] section in {bench.config_path.name}: default rules apply, as with "
            f"`workbench gate --candidate … --incumbent …`: every enabled scorer with a better "
            f"direction ({', '.join(primary) or 'none'}) must improve (superiority, margin 0).\n"
            "To set your own rules, add to benchmark.toml:\n"
            f"  [gate]\n  incumbent = \"{self.incumbent}\"\n  candidate = \"{self.candidate}\"\n"
            f"  primary = {listed}\n  margin = 0.0"
        )

    def _render_result(self) -> None:
        inputs, result = self.inputs, self.result
        if inputs is None or result is None:
            return
        self._set_verdict(
            f"{result.verdict.upper()}  {result.candidate} vs {result.incumbent}: "
            f"{VERDICT_WORDS[result.verdict]} · {result.n_prompts} of "
            f"{result.n_benchmark_prompts} prompts paired", result.verdict)
        self._show_models()
        rules = self.query_one("#gate-rules", Static)
        rules.display = not inputs.gate_from_config
        if not inputs.gate_from_config:
            rules.update(Content(self._gate_hint(inputs.bench, inputs.primary)))
        reasons = "\n".join(f"• {reason}" for reason in result.reasons) or "• (no reasons given)"
        self.query_one("#gate-reasons", Static).update(Content(reasons))
        warnings = self.query_one("#gate-warnings", Static)
        warnings.display = bool(inputs.warnings)
        warnings.update(Content("\n".join(f"! {w}" for w in inputs.warnings)))
        self._render_scorers()
        self._render_tags()
        self._render_pass_rates()

    def _rule_outcome(self, scorer: str) -> str:
        result = self.result
        assert result is not None
        for check in result.checks:
            if check.scorer == scorer and check.rule == "margin":
                return check.outcome
        if any(c.scorer == scorer and c.outcome == "inconclusive" for c in result.checks):
            return "inconclusive"
        return ""

    def _render_scorers(self) -> None:
        inputs, result = self.inputs, self.result
        assert inputs is not None and result is not None
        table = self.query_one("#gate-scorers", DataTable)
        table.clear(columns=True)
        confidence = format_number(inputs.gate.confidence * 100)
        table.add_columns("scorer", "better", "incumbent", "candidate", "difference",
                          f"{confidence}% CI", "W/T/L", "sign p", "n", "rule")
        for scorer in inputs.primary:
            stats = result.scorer_stats(scorer)
            outcome = self._rule_outcome(scorer)
            shown = outcome if outcome else "n/a"
            outcome_cell = Text(shown, style=self._style(OUTCOME_STYLE.get(outcome, ""), "bold"))
            if stats is None:
                direction = inputs.directions.get(scorer) or "?"
                missing = Text("n/a", justify="right")
                cells = [Text(scorer), direction, missing, missing, missing, "n/a", "", "",
                         Text("0", justify="right"), outcome_cell]
            else:
                diff_style = ("" if not stats.mean_diff else
                              self._style("text-success" if stats.mean_diff > 0 else "text-error"))
                cells = [Text(scorer), stats.direction, Text(format_number(stats.incumbent_mean),
                                                             justify="right"),
                         Text(format_number(stats.candidate_mean), justify="right"),
                         Text(signed(stats.mean_diff), style=diff_style, justify="right"),
                         ci_range(stats), wins_ties_losses(stats), Text(format_number(stats.sign_p), justify="right"),
                         Text(str(stats.n), justify="right"), outcome_cell]
            table.add_row(*cells, key=scorer)
        self.query_one("#gate-rule-terms", Static).update(Content(self._rule_terms()))
        if self.tag_scorer is not None:
            try:
                table.move_cursor(row=table.get_row_index(self.tag_scorer))
            except RowDoesNotExist:
                pass

    def _rule_terms(self) -> str:
        """The rule each scorer was held to, and how to read the table."""
        inputs = self.inputs
        assert inputs is not None
        gate = inputs.gate
        terms = {s: f"{gate.rule_for(s)}, margin {format_number(gate.margin_for(s))}"
                 for s in inputs.primary}
        if len(set(terms.values())) == 1 and len(terms) > 1:
            rules = f"{next(iter(terms.values()))} for every primary scorer"
        else:
            rules = "; ".join(f"{s} {term}" for s, term in terms.items())
        return (f"rule: {rules} · at least {gate.min_prompts} paired prompts · "
                f"{format_number(gate.confidence * 100)}% CI from {gate.resamples} resamples\n"
                "difference > 0: the candidate is better · W/T/L: candidate wins/ties/losses per "
                "prompt · sign p: two-sided sign test")

    def _render_tags(self) -> None:
        result, scorer = self.result, self.tag_scorer
        table = self.query_one("#gate-tags", DataTable)
        table.clear(columns=True)
        confidence = format_number(self.inputs.gate.confidence * 100) if self.inputs else "95"
        table.add_columns("tag", "n", "incumbent", "candidate", "difference", f"{confidence}% CI",
                          "W/T/L", "check")
        title = self.query_one("#gate-tags-title", Static)
        table.display = result is not None and scorer is not None
        if result is None or scorer is None:
            title.update("Per tag: no primary scorer has scores from both models")
            return
        others = len(result.scorers) > 1
        title.update(Content.assemble("Per tag: ", (scorer, "bold"),
                                      " (n: next scorer)" if others else ""))
        regressed = {c.tag for c in result.checks
                     if c.rule == "tag" and c.outcome == "fail" and c.scorer == scorer}
        checked = any(c.rule == "tag" and c.scorer == scorer for c in result.checks)
        per_tag = sorted((s for s in result.tags if s.scorer == scorer), key=lambda s: s.tag or "")
        for stats in per_tag:
            if stats.tag in regressed:
                status, style = "REGRESSES", self._style("text-error", "bold")
            elif stats.n < 2:
                status, style = "not checked (1 prompt)", "dim"
            else:
                status, style = ("ok" if checked else ""), ""
            cells = [stats.tag or "", str(stats.n), format_number(stats.incumbent_mean),
                     format_number(stats.candidate_mean), signed(stats.mean_diff), ci_range(stats),
                     wins_ties_losses(stats), status]
            right = {1, 2, 3, 4}
            table.add_row(*(Text(c, style=style, justify="right" if i in right else "left")
                            for i, c in enumerate(cells)), key=stats.tag)

    def _render_pass_rates(self) -> None:
        inputs, result = self.inputs, self.result
        assert inputs is not None and result is not None
        widget = self.query_one("#gate-pass-rates", Static)
        rates = result.pass_rates
        if rates is None:
            if not inputs.thresholds:
                widget.update("No thresholds are set, so there are no pass rates to compare.")
            else:
                widget.update("Pass rates need scores from both models.")
            return
        models = (result.incumbent, result.candidate)
        lines = ["prompts passing every threshold: " + " · ".join(
            f"{role} {m} {format_percent(rates.overall[m])} ({rates.passed[m]}/{rates.n_prompts})"
            for role, m in zip(("incumbent", "candidate"), models))]
        if rates.tags:
            lines.append("by tag: " + " · ".join(
                f"{tag} {rates.tag_passed[models[0]][tag]}→{rates.tag_passed[models[1]][tag]}"
                f"/{rates.tag_sizes[tag]}" for tag in rates.tags))
        rule = "must not fall" if inputs.gate.pass_rate_must_not_fall else "is not checked"
        lines.append(f"(the candidate's pass rate {rule} under the gate rules)")
        widget.update(Content("\n".join(lines)))

    def _render_history(self, force: bool = False) -> None:
        table = self.query_one("#gate-history", DataTable)
        note = self.query_one("#gate-history-note", Static)
        decisions = self.history.decisions
        wanted = [d.json_file.name for d in decisions]
        if force or [row.value for row in table.rows] != wanted:
            table.clear()
            for summary in decisions:
                table.add_row(*self._history_cells(summary), key=summary.json_file.name)
        table.display = bool(decisions)
        lines = []
        if not decisions:
            lines.append("No decisions recorded yet: press d to record one.")
        lines += [f"! {w}" for w in self.history.warnings]
        note.update(Content("\n".join(lines)))
        note.display = bool(lines)

    def _history_cells(self, summary: DecisionSummary) -> list[Text]:
        decision_style = {"ship": "text-success", "hold": "text-error"}.get(summary.decision,
                                                                             "text-warning")
        return [
            Text(summary.when),
            Text(f"{summary.candidate} vs {summary.incumbent}"),
            Text(summary.decision, style=self._style(decision_style, "bold")),
            Text(summary.verdict),
            Text("yes", style=self._style("text-warning", "bold")) if summary.overridden
            else Text("no", style="dim"),
            Text(summary.decided_by),
            Text(_shorten(summary.note, NOTE_CHARS)),
        ]

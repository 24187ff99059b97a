"""The modal that records a decision: a note, who decides, and an optional override.

It only collects and checks the answers (with the core's own rules, so the message
is the one the command line gives); the gate screen writes the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from workbench.decide.records import DECISIONS, decider_name, final_decision
from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class DecisionRequest:
    """What the person asked to record."""

    note: str
    decider: str
    override: str | None
    """``"ship"`` / ``"hold"`` against the gate's verdict, or None to record the verdict."""


def default_decider() -> str:
    """The name to prefill: $WORKBENCH_RATER or the login name; empty when neither is known."""
    try:
        return decider_name()
    except WorkbenchError:
        return ""


class RecordDecisionScreen(ModalScreen[DecisionRequest | None]):
    """Ask for the note, the decider and an override; dismiss with a checked request."""

    CSS_PATH = "decisions.tcss"
    HELP_TITLE = "Record a decision"
    BINDINGS = [
        Binding("ctrl+s", "record", "Record", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, verdict: str, candidate: str, incumbent: str, decider: str = "") -> None:
        super().__init__()
        self.verdict = verdict
        self.candidate = candidate
        self.incumbent = incumbent
        self.decider = decider

    def compose(self) -> ComposeResult:
        overrides = [d for d in DECISIONS if d != self.verdict]
        with Vertical(id="record-dialog"):
            yield Static(Content.assemble(
                "Record the decision: ", (self.candidate, "bold"), " vs ", (self.incumbent, "bold"),
                " (the gate says ", (self.verdict.upper(), "bold"), ")"), id="record-title")
            yield Label("Note (why; required for an override)")
            yield Input(placeholder="e.g. steadier hands, QA agrees", id="record-note")
            yield Label("Decided by")
            yield Input(value=self.decider, placeholder="your name", id="record-decider")
            yield Label("Decision")
            with RadioSet(id="record-override"):
                yield RadioButton(f"the gate's verdict: {self.verdict}", value=True,
                                  id="override-none")
                for decision in overrides:
                    yield RadioButton(f"override: {decision}", id=f"override-{decision}")
            yield Static("", id="record-error")
            with Horizontal(id="record-buttons"):
                yield Button("Record (ctrl+s)", variant="primary", id="record-save")
                yield Button("Cancel (esc)", id="record-cancel")

    def on_mount(self) -> None:
        self.query_one("#record-note", Input).focus()

    @property
    def override(self) -> str | None:
        pressed = self.query_one("#record-override", RadioSet).pressed_button
        if pressed is None or pressed.id == "override-none":
            return None
        return (pressed.id or "").removeprefix("override-")

    def _show_error(self, message: str) -> None:
        error = self.query_one("#record-error", Static)
        error.update(Content(message))
        error.add_class("shown")

    def action_record(self) -> None:
        note = self.query_one("#record-note", Input).value.strip()
        typed = self.query_one("#record-decider", Input).value.strip()
        override = self.override
        try:
            final_decision(self.verdict, override, note)  # type: ignore[arg-type]
            decider = decider_name(typed or None)
        except WorkbenchError as error:
            self._show_error(str(error))
            return
        self.dismiss(DecisionRequest(note=note, decider=decider, override=override))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_record()

    @on(Button.Pressed, "#record-save")
    def _save_pressed(self) -> None:
        self.action_record()

    @on(Button.Pressed, "#record-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(RadioSet.Changed)
    def _override_changed(self) -> None:
        self.query_one("#record-error", Static).remove_class("shown")

"""Shown when the benchmark cannot be loaded: every problem with its file, line and field."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from workbench.errors import InvalidInput, WorkbenchError


class ProblemsScreen(Screen[None]):
    HELP_TITLE = "Problems"
    BINDINGS = [
        Binding("ctrl+r", "reload", "Reload"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, error: WorkbenchError) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("The benchmark has problems. Fix them in your editor, then press ctrl+r.",
                         classes="title")
            if isinstance(self.error, InvalidInput):
                text = "\n".join(f"  {p}" for p in self.error.problems)
            else:
                text = f"  {self.error}"
            yield Static(text, id="problems", markup=False)
        yield Footer()

    def action_reload(self) -> None:
        self.dismiss()
        self.app.action_reload()

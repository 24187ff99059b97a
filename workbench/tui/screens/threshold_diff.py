"""Before thresholds are saved: the lines of ``benchmark.toml`` that will change, to confirm or cancel."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from workbench.threshold_tuning import ThresholdSavePlan


def diff_text(plan: ThresholdSavePlan, removed: str = "red", added: str = "green") -> Text:
    """``  64 -min = 0.9`` / ``  64 +min = 0.92``: each changed line with its line number."""
    text = Text(no_wrap=True, overflow="ellipsis")
    width = max((len(str(line.number)) for line in plan.lines), default=1)
    for index, line in enumerate(plan.lines):
        if index:
            text.append("\n")
        text.append(f"{line.number:>{width}} ", style="dim")
        text.append(f"{line.sign}{line.text}", style=removed if line.sign == "-" else added)
    return text


class ThresholdDiffScreen(ModalScreen[bool]):
    """Shows what a save writes; dismisses True to write it, False to go back to editing."""

    DEFAULT_CSS = """
    ThresholdDiffScreen {
        align: center middle;
    }
    ThresholdDiffScreen > Vertical {
        width: 84;
        max-width: 96%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    ThresholdDiffScreen #diff-title {
        text-style: bold;
    }
    ThresholdDiffScreen #diff-changes {
        color: $text-muted;
        margin-bottom: 1;
    }
    ThresholdDiffScreen VerticalScroll {
        height: auto;
        max-height: 14;
        background: $surface;
        padding: 0 1;
    }
    ThresholdDiffScreen Horizontal {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    ThresholdDiffScreen Button {
        margin-left: 2;
    }
    """
    BINDINGS = [
        Binding("y,ctrl+s", "answer(True)", "Write the file"),
        Binding("n,escape", "answer(False)", "Back to editing"),
    ]

    def __init__(self, plan: ThresholdSavePlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        plan = self.plan
        removed = sum(line.sign == "-" for line in plan.lines)
        added = len(plan.lines) - removed
        with Vertical():
            yield Static(f"Save to {plan.path.name}? These lines change ({removed} out, {added} in):",
                         id="diff-title", markup=False)
            yield Static("\n".join(plan.changes), id="diff-changes", markup=False)
            with VerticalScroll(id="diff-lines"):
                yield Static(diff_text(plan, self._color("error", "red"), self._color("success", "green")),
                             id="diff-text")
            with Horizontal():
                yield Button("Back (n)", id="no")
                yield Button("Write (y)", id="yes", variant="primary")

    def _color(self, name: str, fallback: str) -> str:
        color = self.app.theme_variables.get(name, "")
        return color if color.startswith("#") else fallback

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, write: bool) -> None:
        self.dismiss(write)

"""``?``: every key of the current screen and of the app, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.markup import escape


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 72;
        max-height: 80%;
        border: round $accent;
        background: $panel;
        padding: 1 2;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._text(), id="help-text")

    def _text(self) -> str:
        lines: list[str] = []
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        sections = []
        if below is not None:
            sections.append((getattr(below, "HELP_TITLE", type(below).__name__), below.BINDINGS))
            # the focused widget's own keys (a table's cursor keys, say), and its containers'
            widget = below.focused
            while widget is not None and widget is not below:
                own = [b for b in getattr(widget, "BINDINGS", []) if isinstance(b, Binding) and b.description]
                if own:
                    sections.append((f"In the {type(widget).__name__}", own))
                widget = widget.parent
        sections.append(("Everywhere", self.app.BINDINGS))
        for title, bindings in sections:
            lines.append(f"[b]{title}[/b]")
            for binding in bindings:
                if isinstance(binding, Binding):
                    keys, description = self._keys(binding), binding.description or binding.action
                else:
                    key, _action, description = (tuple(binding) + ("",))[:3]
                    keys = ", ".join(k.replace("question_mark", "?") for k in key.split(","))
                lines.append(f"  [b]{escape(keys):<18}[/b] {escape(description)}")
            lines.append("")
        lines.append("ctrl+p opens the command palette: every action by name.")
        return "\n".join(lines)

    def _keys(self, binding: Binding) -> str:
        """Every key of a binding as the footer shows keys (``←``, ``^s``, ``?``)."""
        if binding.key_display:
            return binding.key_display
        shown = []
        for key in binding.key.split(","):
            single = Binding(key.strip(), binding.action, binding.description)
            shown.append(self.app.get_key_display(single))
        return ", ".join(shown)

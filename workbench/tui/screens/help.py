"""``?``: every key of the current screen and of the app, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from rich.text import Text


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
            yield Static(self._text(), id="help-text", markup=False)

    def _text(self) -> Text:
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        sections: list[tuple[str, list[Binding]]] = []
        taken: set[str] = set()  # keys the screen (or its focused widget) uses for itself
        if below is not None:
            own = self._listed(below.BINDINGS)
            sections.append((getattr(below, "HELP_TITLE", type(below).__name__), own))
            # the focused widget's own keys (a table's cursor keys, say), and its containers'
            widget = below.focused
            while widget is not None and widget is not below:
                keys = [b for b in self._listed(getattr(widget, "BINDINGS", [])) if b.description]
                if keys:
                    title = getattr(widget, "HELP_TITLE", None) or "In the list or table"
                    sections.append((title, keys))
                widget = widget.parent
            taken = {key.strip() for _title, bindings in sections for b in bindings for key in b.key.split(",")}
        everywhere = [b for b in self._listed(self.app.BINDINGS)
                      if not any(key.strip() in taken for key in b.key.split(","))]
        sections.append(("Everywhere", everywhere))
        text = Text()
        for title, bindings in sections:
            text.append(f"{title}\n", style="bold")
            for binding in bindings:
                text.append(f"  {self._keys(binding):<18}", style="bold")
                text.append(f" {binding.description or binding.action}\n")
            text.append("\n")
        hidden = sorted({key.strip() for b in self._listed(self.app.BINDINGS) for key in b.key.split(",")} & taken)
        if hidden:
            text.append(f"Here {', '.join(hidden)} {'do' if len(hidden) > 1 else 'does'} this screen's work; "
                        "escape first to use them to switch screens.\n", style="italic")
        text.append("ctrl+p opens the command palette: this screen's actions and every screen by name.")
        return text

    @staticmethod
    def _listed(bindings) -> list[Binding]:
        """Bindings as Binding objects, without the hidden ones another binding already shows
        (``1-5`` stands for ``2``..``5``)."""
        out: list[Binding] = []
        for item in bindings:
            binding = item if isinstance(item, Binding) else Binding(*item)
            if not binding.show and any(o.show and o.action.split("(")[0] == binding.action.split("(")[0]
                                        for o in out):
                continue
            out.append(binding)
        return out

    def _keys(self, binding: Binding) -> str:
        """Every key of a binding as the footer shows keys (``←``, ``^s``, ``?``)."""
        if binding.key_display:
            return binding.key_display
        shown = []
        for key in binding.key.split(","):
            single = Binding(key.strip(), binding.action, binding.description)
            shown.append(self.app.get_key_display(single))
        return ", ".join(shown)

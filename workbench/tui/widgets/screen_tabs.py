"""The strip of screen names under the header: which screen this is, and a click (or its
number key) to go to another."""

from __future__ import annotations

from textual.widgets import Static


class ScreenTabs(Static):
    """``1 Prompts  2 Runs  3 Results  4 Detail  5 Thresholds  6 Gate``, the current one lit."""

    DEFAULT_CSS = """
    ScreenTabs {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, current: str, *, id: str | None = None) -> None:
        super().__init__(self.markup_for(current), id=id)
        self.current = current

    @staticmethod
    def markup_for(current: str) -> str:
        from workbench.tui.app import SCREENS

        parts = []
        for name, (key, label) in SCREENS.items():
            action = "app.open_detail()" if name == "detail" else f"app.switch_mode('{name}')"
            style = "reverse bold $accent" if name == current else ""
            opening = f"[{style} @click={action}]" if style else f"[@click={action}]"
            parts.append(f"{opening} {key} {label} [/]")
        return " ".join(parts)

"""Command palette entries for every screen and app action, so nothing depends on remembering a key."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class WorkbenchCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        from workbench.tui.app import SCREENS

        app = self.app
        entries: list[tuple[str, str, object]] = []
        for name, (key, label) in SCREENS.items():
            if name == "detail":
                entries.append(("Go to Detail", f"the highlighted prompt's clips side by side ({key})",
                                app.open_detail))
            else:
                entries.append((f"Go to {label}", f"show the {label.lower()} screen ({key})",
                                partial(app.switch_mode, name)))
        entries.append(("Reload benchmark", "read the benchmark files again (ctrl+r)",
                        app.action_reload))
        entries.append(("Help", "every key on this screen (?)", app.action_help))
        screen = self.screen  # the screen the palette was opened from
        for name, help_text, callback in getattr(screen, "palette_commands", lambda: [])():
            entries.append((name, help_text, callback))
        return entries

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

"""The workbench TUI: one app, one screen per job (prompts, scores, thresholds, gate, runs).

The app owns the loaded :class:`~workbench.benchmark.folder.Benchmark`. Slow work
(loading, running, scoring) happens in workers that only post messages; the
handlers here change state. Screens read ``app.bench`` and watch
``app.bench_version`` to refresh when the benchmark is (re)loaded.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from workbench.benchmark.folder import Benchmark
from workbench.errors import WorkbenchError
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.messages import BenchmarkFailed, BenchmarkLoaded


def _prompts():
    from workbench.tui.screens.prompts import PromptsScreen
    return PromptsScreen()


def _scores():
    from workbench.tui.screens.scores import ScoresScreen
    return ScoresScreen()


def _thresholds():
    from workbench.tui.screens.thresholds import ThresholdsScreen
    return ThresholdsScreen()


def _gate():
    from workbench.tui.screens.gate import GateScreen
    return GateScreen()


def _runs():
    from workbench.tui.screens.runs import RunsScreen
    return RunsScreen()


def _rate():
    from workbench.tui.screens.rate import RateScreen
    return RateScreen()


#: mode name -> (key, label); the order of the footer and the help screen.
SCREENS = {
    "scores": ("s", "Scores"),
    "prompts": ("p", "Prompts"),
    "thresholds": ("t", "Thresholds"),
    "gate": ("g", "Gate"),
    "rate": ("h", "Rate"),
    "runs": ("r", "Runs"),
}


class WorkbenchApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    MODES = {
        "scores": _scores,
        "prompts": _prompts,
        "thresholds": _thresholds,
        "gate": _gate,
        "rate": _rate,
        "runs": _runs,
    }
    BINDINGS = [
        *(Binding(key, f"switch_mode('{mode}')", label, priority=False) for mode, (key, label) in SCREENS.items()),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    #: bumped every time a benchmark is (re)loaded; screens watch it to refresh.
    bench_version: reactive[int] = reactive(0)

    def __init__(self, root: Path | str, *, start: str = "scores") -> None:
        super().__init__()
        self.root = Path(root)
        self.bench: Benchmark | None = None
        self.load_error: WorkbenchError | None = None
        self.start_mode = start if start in self.MODES else "scores"

    def on_mount(self) -> None:
        self.sub_title = str(self.root)
        self.switch_mode(self.start_mode)
        self.load_benchmark()

    # ------------------------------------------------------------ loading
    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_benchmark(self) -> None:
        try:
            bench = Benchmark.load(self.root)
        except WorkbenchError as error:
            self.post_message(BenchmarkFailed(error))
            return
        self.post_message(BenchmarkLoaded(bench))

    @on(BenchmarkLoaded)
    def _loaded(self, message: BenchmarkLoaded) -> None:
        self.bench = message.bench
        self.load_error = None
        self.sub_title = f"{message.bench.config.name}  ({self.root})"
        self.bench_version += 1

    @on(BenchmarkFailed)
    def _failed(self, message: BenchmarkFailed) -> None:
        from workbench.tui.screens.problems import ProblemsScreen

        self.load_error = message.error
        self.push_screen(ProblemsScreen(message.error))

    # ------------------------------------------------------------ actions
    def action_reload(self) -> None:
        self.notify("reloading the benchmark")
        self.load_benchmark()

    def action_help(self) -> None:
        from workbench.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def show_error(self, error: BaseException, title: str = "error") -> None:
        """A readable notification for a worker's failure; never a traceback for a user's mistake."""
        self.notify(str(error), title=title, severity="error", timeout=10)


def run_app(root: Path, start: str = "scores") -> None:
    WorkbenchApp(root, start=start).run()

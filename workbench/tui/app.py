"""The workbench TUI: one app, one screen per job (prompts, runs, results, detail, thresholds, gate).

The app owns the loaded :class:`~workbench.benchmark.folder.Benchmark`. Slow work
(loading, running, scoring) happens in workers that only post messages; the
handlers here change state. Screens read ``app.bench`` and watch
``app.bench_version`` to refresh when the benchmark is (re)loaded.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from workbench.errors import CannotAccess, WorkbenchError, user_message
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.messages import BenchmarkFailed, BenchmarkLoaded

if TYPE_CHECKING:  # the core's models load in the first worker, after the first paint
    from workbench.benchmark.folder import Benchmark


def _prompts():
    from workbench.tui.screens.prompts import PromptsScreen
    return PromptsScreen()


def _results():
    from workbench.tui.screens.results import ResultsScreen
    return ResultsScreen()


def _thresholds():
    from workbench.tui.screens.thresholds import ThresholdsScreen
    return ThresholdsScreen()


def _gate():
    from workbench.tui.screens.gate import GateScreen
    return GateScreen()


def _runs():
    from workbench.tui.screens.runs import RunsScreen
    return RunsScreen()


#: screen name -> (number key, label), in the order of the tab strip. Every one but
#: "detail" is a mode; "detail" is pushed over Results for one prompt (enter on a row).
SCREENS = {
    "prompts": ("1", "Prompts"),
    "runs": ("2", "Runs"),
    "results": ("3", "Results"),
    "detail": ("4", "Detail"),
    "thresholds": ("5", "Thresholds"),
    "gate": ("6", "Gate"),
}


#: the module of each mode's screen, imported ahead by the first load.
START_MODULES = {
    "prompts": "workbench.tui.screens.prompts",
    "runs": "workbench.tui.screens.runs",
    "results": "workbench.tui.screens.results",
    "thresholds": "workbench.tui.screens.thresholds",
    "gate": "workbench.tui.screens.gate",
}


class StartingScreen(Screen[None]):
    """What shows for the moment between starting and the benchmark being read."""

    def __init__(self, mode: str, root: Path) -> None:
        super().__init__()
        self.mode = mode
        self.root = root

    def compose(self) -> ComposeResult:
        from textual.widgets import Footer, Header, Static

        from workbench.tui.widgets.screen_tabs import ScreenTabs

        yield Header()
        yield ScreenTabs(self.mode)
        yield Static(f"reading {self.root}…", classes="empty-state", markup=False)
        yield Footer()


class ActiveRun(Protocol):
    """What the app needs of a run in progress to guard quitting (the Runs screen provides it)."""

    def is_running(self) -> bool: ...

    def describe(self) -> str:
        """e.g. ``run 20261126-184231-c164 (12 of 60 jobs left)``."""
        ...

    def stop(self) -> None:
        """Ask the run to stop; returns at once and leaves the journal resumable."""
        ...


class WorkbenchApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    MODES = {
        "prompts": _prompts,
        "runs": _runs,
        "results": _results,
        "thresholds": _thresholds,
        "gate": _gate,
    }
    BINDINGS = [
        *(Binding(key, "open_detail()" if name == "detail" else f"switch_mode('{name}')", label, show=False)
          for name, (key, label) in SCREENS.items()),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    #: bumped every time a benchmark is (re)loaded; screens watch it to refresh.
    bench_version: reactive[int] = reactive(0)

    def __init__(self, root: Path | str, *, start: str = "results") -> None:
        super().__init__()
        self.root = Path(root)
        self.bench: Benchmark | None = None
        self.load_error: WorkbenchError | None = None
        #: the prompt the user last highlighted on Results or Prompts; ``4`` opens its detail.
        self.current_prompt_id: str | None = None
        #: set by the Runs screen while a run is going (see :class:`ActiveRun`); quitting asks first.
        self.active_run: ActiveRun | None = None
        #: (benchmark, results grid) read ahead by the load worker; see take_prefetched_results().
        self.prefetched_results: tuple[Benchmark, object] | None = None
        self.start_mode = start if start in self.MODES else "results"

    def on_mount(self) -> None:
        # First paint: a light screen (header, tabs, "loading"), while a worker reads the
        # benchmark and imports the first screen's modules (numpy, polars, the core); the
        # screen itself opens when the benchmark is in.
        self.sub_title = str(self.root.resolve())
        self._started = False
        self._load_token = 0
        self._painted = threading.Event()
        self.push_screen(StartingScreen(self.start_mode, self.root))
        self.call_after_refresh(self._painted.set)
        self.load_benchmark()

    def _open_start_screen(self) -> None:
        if not self._started:
            self._started = True
            self.switch_mode(self.start_mode)

    # ------------------------------------------------------------ loading
    def load_benchmark(self) -> None:
        """(Re)read the benchmark in a worker; only the newest request's answer is applied."""
        self._load_token += 1
        self._load(self._load_token)

    @work(thread=True, group="load", exit_on_error=False)
    def _load(self, token: int) -> None:
        import importlib

        from workbench.benchmark.folder import Benchmark

        if not self._started:  # warm the first screen's imports here, off the UI thread,
            self._painted.wait(timeout=1.0)  # once the first frame is out (they would slow it)
            importlib.import_module(START_MODULES[self.start_mode])
        try:
            bench = Benchmark.load(self.root)
        except WorkbenchError as error:
            self.post_message(BenchmarkFailed(error, token))
            return
        except OSError as error:  # a file the system will not let us read
            self.post_message(BenchmarkFailed(CannotAccess(error), token))
            return
        self.post_message(BenchmarkLoaded(bench, token))
        if self.current_mode != "results":
            self._prefetch_results(bench)

    def _prefetch_results(self, bench: Benchmark) -> None:
        """Read the score table while the user is elsewhere, so opening Results only paints.
        (Runs inside the load worker; a failure here is left for the Results screen to report.)"""
        from workbench.results_grid import build_results_grid

        try:
            grid = build_results_grid(bench)
        except (WorkbenchError, OSError):
            return
        self.call_from_thread(self._keep_prefetched, bench, grid)

    def _keep_prefetched(self, bench: Benchmark, grid: object) -> None:
        if bench is self.bench:
            self.prefetched_results = (bench, grid)

    def take_prefetched_results(self, bench: Benchmark) -> object | None:
        """The score grid read ahead for this very benchmark, once; None if there is none."""
        found, self.prefetched_results = self.prefetched_results, None
        return found[1] if found is not None and found[0] is bench else None

    @on(BenchmarkLoaded)
    def _loaded(self, message: BenchmarkLoaded) -> None:
        if message.token != self._load_token:
            return  # an older read finished after a newer one was asked for
        self._open_start_screen()
        self.bench = message.bench
        self.load_error = None
        self.sub_title = f"{message.bench.config.name}  ({self.root.resolve()})"
        self.bench_version += 1

    @on(BenchmarkFailed)
    def _failed(self, message: BenchmarkFailed) -> None:
        from workbench.tui.screens.problems import ProblemsScreen

        if message.token != self._load_token:
            return
        self.load_error = message.error
        self._open_start_screen()
        self.push_screen(ProblemsScreen(message.error))

    # ------------------------------------------------------------ actions
    def action_reload(self) -> None:
        self.notify("reloading the benchmark")
        self.load_benchmark()

    def action_help(self) -> None:
        from workbench.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_open_detail(self, prompt_id: str | None = None) -> None:
        """Show one prompt's clips side by side (the highlighted one unless named)."""
        from workbench.tui.screens.prompt_detail import PromptDetailScreen

        prompt_id = prompt_id or self.current_prompt_id
        if prompt_id is None and self.bench is not None and self.bench.prompts:
            prompt_id = self.bench.prompts[0].id
        if prompt_id is None:
            self.notify("no prompt to show yet: add one on the Prompts screen (1)", severity="warning")
            return
        self.current_prompt_id = prompt_id
        if isinstance(self.screen, PromptDetailScreen):
            self.screen.show_prompt(prompt_id)
            return
        self.push_screen(PromptDetailScreen(prompt_id))

    def open_detail(self, prompt_id: str | None = None) -> None:
        self.action_open_detail(prompt_id)

    async def action_quit(self) -> None:
        """Quit, but ask first while a run is going: it stops, and resumes later from its journal."""
        run = self.active_run
        if run is None or not run.is_running():
            self.exit()
            return
        from workbench.tui.screens.confirm import ConfirmScreen

        def answered(stop: bool | None) -> None:
            if stop:
                run.stop()
                self.exit()

        self.push_screen(ConfirmScreen(
            "A run is in progress",
            f"{run.describe()} is still going. Quit anyway? The run stops now; what is done is kept, "
            "and it resumes from its journal later (Runs screen, or `workbench run BENCH` again).",
            yes="Stop and quit", no="Keep working", danger=True,
        ), answered)

    def show_error(self, error: BaseException, title: str = "error") -> None:
        """A readable notification for a worker's failure; never a traceback for a user's mistake."""
        self.notify(user_message(error), title=title, severity="error", timeout=10)


def run_app(root: Path, start: str = "results") -> None:
    from workbench.tui.widgets.thumbnail import prepare_graphics

    prepare_graphics()  # ask the terminal about Kitty/Sixel now: it cannot be asked once the app runs
    WorkbenchApp(root, start=start).run()

"""Live progress of a run: one bar per model with its done / cached / failed / running counts."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar

from workbench.engine.events import ModelProgress


def describe_progress(progress: ModelProgress) -> str:
    """'4/6 · 1 cached · 1 failed · 2 running': the counts next to a model's bar."""
    return " · ".join([f"{progress.done}/{progress.total}", *progress.notable_counts()])


class ModelProgressBar(Horizontal):
    """One model's row: its name, a bar of finished jobs, and the counts."""

    DEFAULT_CSS = """
    ModelProgressBar {
        height: 1;
        width: 1fr;
    }
    ModelProgressBar > .model-name {
        width: 16;
        text-style: bold;
    }
    ModelProgressBar > ProgressBar {
        width: auto;
        margin-right: 1;
    }
    ModelProgressBar > ProgressBar > Bar {
        width: 24;
    }
    ModelProgressBar > .model-counts {
        width: 1fr;
        color: $text-muted;
    }
    ModelProgressBar.-failures > .model-counts {
        color: $warning;
    }
    """

    def __init__(self, progress: ModelProgress, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.progress = progress

    def compose(self) -> ComposeResult:
        yield Label(self.progress.model, classes="model-name")
        yield ProgressBar(total=max(self.progress.total, 1), show_eta=False)
        yield Label("", classes="model-counts")

    def on_mount(self) -> None:
        self.show(self.progress)

    def show(self, progress: ModelProgress) -> None:
        """Draw ``progress`` (the newest counts for this model)."""
        self.progress = progress
        if not self.is_mounted:
            return
        bar = self.query_one(ProgressBar)
        bar.update(total=max(progress.total, 1), progress=progress.done if progress.total else 1)
        self.query_one(".model-counts", Label).update(describe_progress(progress))
        self.set_class(bool(progress.failed or progress.skipped), "-failures")


class RunProgress(Vertical):
    """A heading plus one :class:`ModelProgressBar` per model, added as models appear."""

    DEFAULT_CSS = """
    RunProgress {
        height: auto;
        padding: 0 1;
    }
    RunProgress > .run-progress-title {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._bars: dict[str, ModelProgressBar] = {}

    def compose(self) -> ComposeResult:
        yield Label("", classes="run-progress-title")

    def set_title(self, text: str) -> None:
        self.query_one(".run-progress-title", Label).update(text)

    def reset(self) -> None:
        """Forget the previous run's bars."""
        for bar in self._bars.values():
            bar.remove()
        self._bars = {}

    def show(self, progress: Iterable[ModelProgress]) -> None:
        """Update each model's bar, creating bars for models not seen yet."""
        for item in progress:
            bar = self._bars.get(item.model)
            if bar is None:
                bar = self._bars[item.model] = ModelProgressBar(item)
                self.mount(bar)
            else:
                bar.show(item)

    def model_progress(self) -> dict[str, ModelProgress]:
        """The counts last shown, per model."""
        return {model: bar.progress for model, bar in self._bars.items()}

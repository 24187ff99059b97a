"""What every screen looks like, at 120x40 and at 80x24, on the sample benchmark run and scored
(with the clock taken out: see snapshot_bench.py). A change to a screen's look fails here until
the snapshots are updated on purpose: ``pytest tests/tui/test_snapshots.py --snapshot-update``,
then look at the new pictures before committing them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .snapshot_bench import build_snapshot_bench
from workbench.tui.app import WorkbenchApp

SIZES = {"wide": (120, 40), "small": (80, 24)}


@pytest.fixture(scope="module")
def _snapshot_template(tmp_path_factory) -> Path:
    return build_snapshot_bench(tmp_path_factory.mktemp("snapshots") / "hard-cases")


@pytest.fixture
def bench(_snapshot_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "hard-cases"
    shutil.copytree(_snapshot_template, target)
    return target


async def settle(pilot) -> None:
    """The benchmark loaded, every worker done and the screen no longer changing (a worker's
    message can land a frame or two after the worker ends); then the folder's path (it differs
    per machine) off the header."""
    app = pilot.app
    for _ in range(200):
        if app.bench is not None and type(app.screen).__name__ != "StartingScreen":
            break
        await pilot.pause(0.05)
    await _steady(pilot)
    app.sub_title = "hard-cases"
    await _steady(pilot)


async def _steady(pilot) -> None:
    app = pilot.app
    previous = None
    for _ in range(60):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        shown = app.export_screenshot()
        if shown == previous and not any(w.is_running for w in app.workers):
            return
        previous = shown
    raise AssertionError("the screen never settled")


def keys_then_settle(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)
    return run_before


SCREENS = {
    "prompts": ("prompts", ()),
    "runs": ("runs", ()),
    "results": ("results", ()),
    "detail": ("results", ("down", "4")),
    "thresholds": ("thresholds", ("down",)),
    "gate": ("gate", ()),
    "help": ("results", ("question_mark",)),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_looks_right(snap_compare, bench, screen, size):
    mode, keys = SCREENS[screen]
    app = WorkbenchApp(bench, start=mode)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=keys_then_settle(*keys))


@pytest.mark.parametrize("size", SIZES)
def test_blind_comparison_looks_right(snap_compare, bench, size):
    """Blind A/B on the first prompt; the order of the two clips comes from a fixed seed here."""
    from workbench.tui.screens.prompt_detail import PromptDetailScreen

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.app.push_screen(PromptDetailScreen("pianist-hands-closeup", seed=7))
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    app = WorkbenchApp(bench, start="results")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)

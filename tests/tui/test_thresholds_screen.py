"""The Thresholds screen: live moves checked against the evaluator, saving, conflicts, revert, small terminals."""

from __future__ import annotations

import difflib

from workbench.benchmark.config import Bounds, Threshold
from workbench.benchmark.folder import Benchmark
from workbench.decide.thresholds import ThresholdEvaluator
from workbench.judgments.ratings import record_rating
from workbench.tables.score_table import load_table
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.thresholds import KEY_SEP, ThresholdsScreen

SIZE = (120, 40)


async def open_screen(app: WorkbenchApp, pilot) -> ThresholdsScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ThresholdsScreen)
    assert screen.session is not None
    return screen


async def select(pilot, screen: ThresholdsScreen, scorer: str) -> None:
    order = list(screen.session.scorers)
    for _ in range(len(order)):
        if screen.selected == scorer:
            return
        await pilot.press("down" if order.index(scorer) > order.index(screen.selected) else "up")
    assert screen.selected == scorer


def cell_text(table, row, column) -> str:
    return str(table.get_cell(row, column))


def shown_flips(screen: ThresholdsScreen) -> dict[tuple[str, str], str]:
    table = screen.query_one("#thr-flips")
    out = {}
    for row in table.ordered_rows:
        model, prompt = row.key.value.split(KEY_SEP)
        out[(model, prompt)] = cell_text(table, row.key, "now")
    return out


def reference(root) -> ThresholdEvaluator:
    bench = Benchmark.load(root)
    return ThresholdEvaluator(load_table(bench), bench.prompt_tags(), bench.config.thresholds,
                              models=["old", "new"])


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


async def test_moving_a_bound_updates_rates_and_flips_as_the_evaluator_says(scored_bench):
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        assert list(screen.session.scorers) == ["decodes", "sharpness", "temporal_flicker", "frozen_frames"]
        await select(pilot, screen, "sharpness")
        expected = reference(scored_bench)
        rates = screen.query_one("#thr-rates")
        flipped_before: set = set()
        for press in range(12):
            await pilot.press("right")
            bound = screen.session.threshold("sharpness").min
            change = expected.move("sharpness", min=bound)
            flipped_before ^= set(change.flipped)
            flips = shown_flips(screen)
            assert set(flips) == flipped_before
            assert all(flips[k] == "✗ fails" for k in change.now_failing)
            for model in ("old", "new"):
                passed = change.pass_rates.passed[model]
                assert cell_text(rates, "\x00all", model).startswith(f"{passed}/3")
                for tag in ("hands", "smoke", "text"):
                    tag_passed = change.pass_rates.tag_passed[model][tag]
                    size = change.pass_rates.tag_sizes[tag]
                    assert cell_text(rates, tag, model).startswith(f"{tag_passed}/{size}")
        assert flipped_before, "twelve steps up should fail some prompt"
        assert "now fail" in str(screen.query_one("#thr-flips-title").render())
        scorers = screen.query_one("#thr-scorers")
        assert cell_text(scorers, "sharpness", "scorer").startswith("●")
        assert cell_text(scorers, "sharpness", "bounds") == f">= {bound:g}"
        # shift moves ten steps; b switches to max, x clears it again
        await pilot.press("shift+left")
        assert screen.session.threshold("sharpness").min == round(bound - 10 * screen.session.facts["sharpness"].step, 6)
        await pilot.press("b", "left")
        assert screen.session.threshold("sharpness").max is not None
        await pilot.press("x")
        assert screen.session.threshold("sharpness").max is None


async def test_saving_writes_a_one_line_diff_keeps_comments_and_reloads(scored_bench):
    config = scored_bench / "benchmark.toml"
    before = config.read_text()
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        await select(pilot, screen, "temporal_flicker")
        await pilot.press("shift+right", "shift+right", "right")
        new_min = screen.session.threshold("temporal_flicker").min
        assert new_min != 0.9 and screen.session.is_edited("temporal_flicker")
        version = app.bench_version
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        after = config.read_text()
        assert changed_lines(before, after) == ["-min = 0.9  # keep this comment",
                                                f"+min = {new_min}  # keep this comment"]
        assert app.bench_version > version
        assert app.bench.config.thresholds["temporal_flicker"] == Threshold(min=new_min)
        assert screen.session.edits() == {} and not screen.session.is_edited("temporal_flicker")
        status = str(screen.query_one("#thr-status").render())
        assert "wrote benchmark.toml" in status and f"+min = {new_min}" in status
        assert screen.last_saved is not None and screen.last_saved.changes == (
            f"temporal_flicker: min 0.9 -> {new_min:g}",)
        await pilot.press("ctrl+s")  # nothing left to save
        await app.workers.wait_for_complete()
        assert config.read_text() == after
        # e: type an exact value (a bad one is explained, not applied)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"abc", "enter")  # the current value is selected: typing replaces it
        assert "not a number" in str(app.screen.query_one("#value-error").render())
        await pilot.press("backspace", "backspace", "backspace", *"0.97", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ThresholdsScreen)
        assert screen.session.threshold("temporal_flicker") == Threshold(min=0.97)


async def test_a_conflicting_edit_on_disk_is_refused_and_the_edits_are_kept(scored_bench):
    config = scored_bench / "benchmark.toml"
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        await select(pilot, screen, "sharpness")
        await pilot.press("right", "right", "right")
        edits = screen.session.edits()
        assert set(edits) == {"sharpness"}
        theirs = config.read_text().replace("margin = 0.01", "margin = 0.02  # changed by a colleague")
        config.write_text(theirs)
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert config.read_text() == theirs
        assert screen.session.edits() == edits
        status = str(screen.query_one("#thr-status").render())
        assert "not saved" in status and "changed on disk" in status
        # reloading keeps the edits; saving then applies them on top of the colleague's change
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.session.edits() == edits
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        saved = Benchmark.load(scored_bench)
        assert saved.config.thresholds["sharpness"] == edits["sharpness"]
        assert "margin = 0.02  # changed by a colleague" in config.read_text()


async def test_revert_and_tag_overrides(scored_bench):
    config = scored_bench / "benchmark.toml"
    before = config.read_text()
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        await select(pilot, screen, "temporal_flicker")
        saved_rates = screen.session.saved_rates
        await pilot.press("shift+right", "shift+right")
        await select(pilot, screen, "sharpness")
        await pilot.press("right", "right")
        assert set(screen.session.edits()) == {"temporal_flicker", "sharpness"}
        await pilot.press("escape")
        assert screen.session.edits() == {} and screen.session.pass_rates() == saved_rates
        assert shown_flips(screen) == {}
        assert not cell_text(screen.query_one("#thr-scorers"), "sharpness", "scorer").startswith("●")
        await pilot.press("right", "u")
        assert screen.session.edits() == {}

        # a per-tag override: pick the tag "hands", raise its min, save
        await select(pilot, screen, "temporal_flicker")
        await pilot.press("o")
        await pilot.pause()
        picker = app.screen
        assert type(picker).__name__ == "ChoiceScreen"
        await pilot.press("down", "enter")  # (all prompts), hands, smoke, text
        await pilot.pause()
        assert screen.tag == "hands"
        await pilot.press("right")
        threshold = screen.session.threshold("temporal_flicker")
        assert threshold.min == 0.9 and set(threshold.tags) == {"hands"}
        assert "tag 'hands'" in str(screen.query_one("#thr-editing").render())
        expected = reference(scored_bench).set_threshold("temporal_flicker", threshold)
        assert screen.session.pass_rates() == expected.pass_rates
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        saved = Benchmark.load(scored_bench).config.thresholds["temporal_flicker"]
        assert saved == Threshold(min=0.9, tags={"hands": Bounds(min=threshold.tags["hands"].min)})
        assert all(line.startswith("+") for line in changed_lines(before, config.read_text()))


async def test_suggested_threshold_from_human_labels(scored_bench):
    bench = Benchmark.load(scored_bench)
    for prompt in ("hands-1", "smoke-1", "text-1"):
        record_rating(bench, prompt, "old", rater="ann", passed=False)
        record_rating(bench, prompt, "new", rater="ann", passed=True)
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot)
        await select(pilot, screen, "temporal_flicker")
        suggestion = screen.session.facts["temporal_flicker"].suggestion
        assert suggestion is not None and suggestion.bound == "min"
        assert "suggested from human pass/fail labels" in str(screen.query_one("#thr-suggestion").render())
        await pilot.press("a")
        assert screen.session.threshold("temporal_flicker").min == suggestion.threshold
        assert set(shown_flips(screen)) == {("old", p) for p in ("hands-1", "smoke-1", "text-1")}


async def test_small_terminal_and_no_scores(scored_bench, fresh_bench):
    app = WorkbenchApp(scored_bench, start="thresholds")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(app, pilot)
        for key in ("down", "right", "shift+right", "b", "left", "x", "a", "pagedown", "pageup", "escape",
                    "down", "down", "right", "right"):
            await pilot.press(key)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ThresholdsScreen)
        assert screen.session.edits()
    app = WorkbenchApp(fresh_bench, start="thresholds")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert "No scores yet" in str(screen.query_one("#thr-empty").render())
        await pilot.press("right", "ctrl+s", "escape", "o", "a")
        assert not (fresh_bench / "runs").exists()

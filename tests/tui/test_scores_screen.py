"""The Scores screen: the grid against the score table, verdicts, the detail pane, filter, sort, empty states."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from workbench.benchmark.folder import Benchmark
from workbench.clip_views import row_key
from workbench.engine.runner import run_benchmark
from workbench.run_scoring import score_runs
from workbench.scorers.registry import available_scorers
from workbench.tables.score_table import load_table
from workbench.tables.table_output import FAIL_MARK, PASS_MARK, format_value
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.choice import ChoiceScreen
from workbench.tui.screens.scores import ScoresScreen
from workbench.tui.widgets.clip_strip import NOT_SCORED, ClipStrip

SIZE = (120, 40)
PROMPTS = ("hands-1", "smoke-1", "text-1")
MODELS = ("old", "new")
SCORERS = ("decodes", "sharpness", "temporal_flicker", "frozen_frames")
FLICKER_COLUMN = 5  # prompt, model, verdict, decodes, sharpness, temporal_flicker


async def ready(app: WorkbenchApp, pilot) -> ScoresScreen:
    """Wait for the benchmark and then the scores to load."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ScoresScreen)
    return screen


def text_of(screen: ScoresScreen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def means(root: Path) -> dict[tuple[str, str, str], float | None]:
    """(prompt, model, scorer) -> mean over repeats, straight from the score table."""
    table = load_table(Benchmark.load(root))
    grouped = table.group_by("prompt_id", "model", "scorer").agg(pl.col("value").mean())
    return {(p, m, s): v for p, m, s, v in grouped.iter_rows()}


def visible_strips(screen: ScoresScreen) -> list[ClipStrip]:
    return [s for s in screen.query(ClipStrip) if s.display]


async def test_grid_shows_every_prompt_and_model_with_the_table_values(scored_bench):
    expected = means(scored_bench)
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        grid = screen.grid
        assert grid.scorers == SCORERS
        assert grid.row_keys == [row_key(p, m) for p in PROMPTS for m in MODELS]
        for prompt in PROMPTS:
            assert grid.cell_plain(row_key(prompt, "old"), "prompt") == prompt
            assert grid.cell_plain(row_key(prompt, "new"), "prompt") == ""  # once per group
            for model in MODELS:
                assert grid.cell_plain(row_key(prompt, model), "model") == model
                for scorer in SCORERS:
                    shown = grid.cell_plain(row_key(prompt, model), scorer)
                    assert shown.split(" ")[0] == format_value(expected[(prompt, model, scorer)])
        status = text_of(screen, "#scores-status")
        assert "3 prompts × 2 models" in status and "tag: all" in status


async def test_marks_follow_the_threshold_and_refresh_when_it_changes(scored_bench):
    expected = means(scored_bench)
    flicker = {(p, m): expected[(p, m, "temporal_flicker")] for p in PROMPTS for m in MODELS}
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)

        def check(bound: float) -> None:
            success, error = app.get_css_variables()["success"], app.get_css_variables()["error"]
            for (prompt, model), value in flicker.items():
                key = row_key(prompt, model)
                cell = screen.grid.get_cell(key, "temporal_flicker")
                passes = value >= bound
                assert cell.plain.endswith(PASS_MARK if passes else FAIL_MARK)
                mark_style = [str(span.style) for span in cell.spans if span.end == len(cell.plain)]
                assert mark_style and mark_style[-1] == (success if passes else error)
                verdict = screen.grid.cell_plain(key, "verdict")
                assert verdict == (f"{PASS_MARK} pass" if passes else f"{FAIL_MARK} fail")
                # no threshold on sharpness: a bare value
                assert screen.grid.cell_plain(key, "sharpness") == format_value(expected[(prompt, model, "sharpness")])

        check(0.9)
        # a bound between the models' values: some clips pass, some fail
        ordered = sorted(flicker.values())
        bound = (ordered[2] + ordered[3]) / 2
        bench = Benchmark.load(scored_bench)
        bench.set_threshold("temporal_flicker", min=bound, max=None)
        bench.save_config()
        version = app.bench_version
        app.load_benchmark()
        screen = await ready(app, pilot)
        assert app.bench_version == version + 1
        check(bound)
        assert {screen.grid.cell_plain(k, "verdict") for k in screen.grid.row_keys} == {
            f"{PASS_MARK} pass", f"{FAIL_MARK} fail"}
        # the colours follow the theme
        before = app.get_css_variables()["success"]
        app.theme = "nord"
        await pilot.pause()
        assert app.get_css_variables()["success"] != before
        check(bound)


async def test_moving_the_cursor_updates_the_detail_pane(scored_bench):
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert "A hand waves" in text_of(screen, "#detail-prompt")
        await pilot.press("down", "down")  # smoke-1 / old
        await pilot.pause()
        assert screen.grid.cursor_keys()[0] == row_key("smoke-1", "old")
        prompt_text = text_of(screen, "#detail-prompt")
        assert "smoke-1" in prompt_text and "Smoke rises from a chimney" in prompt_text and "smoke" in prompt_text
        strips = visible_strips(screen)
        assert [s.model for s in strips] == list(MODELS)
        assert [s.current for s in strips] == [True, False]
        for strip in strips:
            assert strip.view is not None and strip.view.prompt_id == "smoke-1"
            shown = strip.shown_thumbnails()
            assert len(shown) >= 3
            for thumb in shown:
                assert thumb.path.is_file()
                assert thumb.path.parent.name == "smoke-1--r0.thumbs"
                assert thumb.path.parent.parent.name == strip.model
            title = str(strip.query_one(".clip-title").render())
            assert strip.model in title and strip.view.run_id in title
            scores = str(strip.query_one(".clip-scores").render())
            assert "temporal_flicker" in scores and PASS_MARK in scores

        for _ in range(FLICKER_COLUMN):
            await pilot.press("right")
        await pilot.pause()
        assert screen.grid.cursor_keys() == (row_key("smoke-1", "old"), "temporal_flicker")
        column = text_of(screen, "#detail-column")
        description = available_scorers()["temporal_flicker"].description
        assert description[:40] in column.replace("\n", " ")
        assert "threshold min 0.9" in column.replace("\n", " ")


async def test_tag_filter_limits_rows(scored_bench):
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "down", "down", "enter")  # all, hands, smoke, text
        await pilot.pause()
        assert app.screen is screen and screen.tag == "text"
        assert screen.grid.row_keys == [row_key("text-1", m) for m in MODELS]
        assert "tag: text" in text_of(screen, "#scores-status")
        assert "A sign that reads OPEN" in text_of(screen, "#detail-prompt")

        await pilot.press("f")
        await pilot.pause()
        await pilot.press("up", "up", "enter")  # hands: hands-1 and text-1
        await pilot.pause()
        assert screen.grid.row_keys == [row_key(p, m) for p in ("hands-1", "text-1") for m in MODELS]

        await pilot.press("f", "escape")  # escape keeps the filter
        await pilot.pause()
        assert screen.tag == "hands"
        await pilot.press("x")
        await pilot.pause()
        assert screen.tag is None and len(screen.grid.row_keys) == 6


async def test_sort_cycles_ascending_descending_and_benchmark_order(scored_bench):
    expected = means(scored_bench)
    default = [row_key(p, m) for p in PROMPTS for m in MODELS]
    by_value = sorted(default, key=lambda k: expected[(*k.split("\x1f"), "temporal_flicker")])
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        for _ in range(FLICKER_COLUMN):
            await pilot.press("right")
        await pilot.press("o")
        await pilot.pause()
        assert screen.grid.row_keys == by_value
        assert "sort: temporal_flicker ↑" in text_of(screen, "#scores-status")
        # sorted rows name their prompt on every row
        assert all(screen.grid.cell_plain(k, "prompt") for k in by_value)
        # the cursor stays on the row it was on
        assert screen.grid.cursor_keys() == (row_key("hands-1", "old"), "temporal_flicker")
        await pilot.press("o")
        await pilot.pause()
        assert screen.grid.row_keys == by_value[::-1]
        await pilot.press("o")
        await pilot.pause()
        assert screen.grid.row_keys == default
        assert "sort: benchmark order" in text_of(screen, "#scores-status")


async def test_empty_state_on_a_benchmark_without_runs(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        empty = screen.query_one("#scores-empty")
        assert empty.display and not screen.grid.display
        text = text_of(screen, "#scores-empty")
        assert "no scores yet" in text and "press r" in text
        assert f"workbench run {fresh_bench}" in text and f"workbench score {fresh_bench}" in text
        await pilot.press("o", "f", "x", "n")  # nothing to act on: no crash, no modal
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("r")
        await pilot.pause()
        assert app.current_mode == "runs"


async def test_unreadable_scores_are_reported_not_raised(scored_bench):
    scores_file = next(scored_bench.glob("runs/*/scores.jsonl"))
    scores_file.write_text(scores_file.read_text() + '{"model": "old", "prompt_id": "hands-1"}\n')
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        text = text_of(screen, "#scores-empty")
        assert screen.query_one("#scores-empty").display and "cannot read the scores" in text
        assert f"{scores_file}:" in text and "required key is missing" in text


async def test_loading_state_while_the_benchmark_is_not_loaded(scored_bench):
    app = WorkbenchApp(scored_bench, start="scores")
    app.load_benchmark = lambda: None  # the benchmark never arrives
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ScoresScreen) and app.bench is None
        assert "loading" in text_of(screen, "#scores-empty")
        assert not screen.grid.display


async def test_missing_thumbnails_show_a_placeholder(scored_bench):
    for folder in list(scored_bench.glob("runs/*/videos/*/*.thumbs")):
        shutil.rmtree(folder)
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("down")
        await pilot.pause()
        for strip in visible_strips(screen):
            assert strip.shown_thumbnails() == []
            placeholder = strip.query_one(".clip-placeholder")
            assert placeholder.display and NOT_SCORED in str(placeholder.render())


async def test_a_clip_that_failed_shows_its_error(scored_bench):
    toml = scored_bench / "benchmark.toml"
    toml.write_text(toml.read_text() + '\n[models.broken]\nprovider = "synthetic"\nfailure_rate = 1.0\n')
    bench = Benchmark.load(scored_bench)
    await run_benchmark(bench, models=["broken"])
    score_runs(bench, workers=1)
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        key = row_key("hands-1", "broken")
        assert screen.grid.row_keys[:3] == [row_key("hands-1", m) for m in ("old", "new", "broken")]
        assert screen.grid.cell_plain(key, "verdict") == "no video"
        assert screen.grid.cell_plain(key, "sharpness") == "error"
        await pilot.press("down", "down")
        await pilot.pause()
        strip = next(s for s in visible_strips(screen) if s.model == "broken")
        assert strip.current
        problem = str(strip.query_one(".clip-problem").render())
        assert "no video" in problem and "synthetic failure" in problem
        assert "fails" in str(strip.query_one(".clip-title").render())


async def test_next_repeat_shows_the_other_clip(fresh_bench):
    toml = fresh_bench / "benchmark.toml"
    toml.write_text(toml.read_text().replace("[models.old]", "[run]\nrepeats = 2\n\n[models.old]"))
    bench = Benchmark.load(fresh_bench)
    await run_benchmark(bench, models=["new"])
    score_runs(bench, workers=1)
    app = WorkbenchApp(fresh_bench, start="scores")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.grid.row_keys == [row_key(p, "new") for p in PROMPTS]
        strip = visible_strips(screen)[0]
        assert strip.view.repeat == 0 and "repeat 1/2" in str(strip.query_one(".clip-title").render())
        first = [t.path for t in strip.shown_thumbnails()]
        await pilot.press("n")
        await pilot.pause()
        assert strip.view.repeat == 1 and "repeat 2/2" in str(strip.query_one(".clip-title").render())
        second = [t.path for t in strip.shown_thumbnails()]
        assert second and all(p.parent.name == "hands-1--r1.thumbs" for p in second) and second != first
        await pilot.press("n")
        await pilot.pause()
        assert strip.view.repeat == 0


async def test_small_terminal_does_not_crash(scored_bench):
    app = WorkbenchApp(scored_bench, start="scores")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        assert len(screen.grid.row_keys) == 6
        await pilot.press(*["right"] * 7, *["down"] * 6, "o", "o", "n", "left", "up")
        await pilot.press("f", "down", "enter")
        await pilot.pause()
        assert screen.tag == "hands"
        await pilot.resize_terminal(60, 16)
        await pilot.press("down", "x", "o")
        await pilot.pause()
        assert app.screen is screen and len(screen.grid.row_keys) == 6
        assert screen.palette_commands() and all(callable(c) for _n, _h, c in screen.palette_commands())

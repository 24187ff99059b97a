"""Prompt detail: every model's clip side by side, rating, blind A/B, next to judge, thumbnails."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from textual.widgets import ContentSwitcher, Footer, Header, Static

from workbench.benchmark.folder import Benchmark
from workbench.clip_details import board_clips, pair_for_prompt
from workbench.clip_views import load_board
from workbench.judging_queue import pair_queue
from workbench.judgments.ratings import load_judgments, record_rating
from workbench.run_scoring import thumbnails_dir
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.prompt_detail import PromptDetailScreen
from workbench.tui.widgets.clip_strip import BlindSide, ModelColumn, ThumbStrip
from workbench.tui.widgets.screen_tabs import ScreenTabs

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _rater(monkeypatch):
    monkeypatch.setenv("WORKBENCH_RATER", "tester")


async def settle(app, pilot) -> None:
    """Let workers finish, and the workers their messages start."""
    for _ in range(6):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if all(worker.is_finished for worker in app.workers):
            return


async def open_detail(app, pilot, prompt_id: str, seed: int | None = None) -> PromptDetailScreen:
    await settle(app, pilot)
    if seed is None:
        app.open_detail(prompt_id)
    else:
        app.push_screen(PromptDetailScreen(prompt_id, seed=seed))
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, PromptDetailScreen)
    return screen


def ratings(root: Path) -> list[dict]:
    path = root / "ratings.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def text_of(widget) -> str:
    return str(widget.render())


def stage_text(screen) -> str:
    """What the screen itself shows (not the header with the folder path, not the footer)."""
    parts = []
    for widget in screen.query(Static):
        if isinstance(widget, ScreenTabs) or not widget.display:
            continue
        if any(isinstance(a, (Header, Footer)) or not getattr(a, "display", True) for a in widget.ancestors):
            continue
        parts.append(text_of(widget))
    return "\n".join(parts)


def columns(screen) -> list[ModelColumn]:
    return list(screen.query(ModelColumn))


def column_text(column: ModelColumn, part: str) -> str:
    return text_of(column.query_one(f".col-{part}", Static))


# ----------------------------------------------------------------------------- showing


async def test_every_models_clip_side_by_side_with_scores_bounds_and_generation(scored_bench):
    bench = Benchmark.load(scored_bench)
    board = load_board(bench)
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "hands-1")
        assert screen.query_one(ScreenTabs).current == "detail"
        assert screen.query_one("#stage", ContentSwitcher).current == "columns"
        prompt_box = text_of(screen.query_one("#prompt-box", Static))
        assert "A hand waves" in prompt_box and "#hands" in prompt_box
        assert "hands-1" in text_of(screen.query_one("#bar-prompt", Static))
        assert "prompt 1/3" in text_of(screen.query_one("#bar-prompt", Static))
        shown = columns(screen)
        assert [c.model for c in shown] == ["old", "new"]
        assert shown[0].has_class("-selected") and not shown[1].has_class("-selected")
        for column in shown:
            [view] = board.clips[("hands-1", column.model)]
            assert column.model in column_text(column, "title")
            assert column.query_one(ThumbStrip).shown_paths() == list(view.thumbnails)
            assert all(p.is_file() for p in view.thumbnails)
            scores = column_text(column, "scores").splitlines()
            flicker_line = next(line for line in scores if line.startswith("temporal_flicker"))
            flicker = view.scores["temporal_flicker"]
            assert "≥0.9" in flicker_line
            assert ("✓" if flicker.value >= 0.9 else "✗") in flicker_line
            assert any(line.startswith("sharpness") for line in scores)
            meta = column_text(column, "meta")
            assert f"run      {view.run_id}" in meta and "latency" in meta and "synthetic" in meta
            assert "tester: not rated yet" in column_text(column, "judged")
        await pilot.click("#model-1")  # the mouse picks a model too
        assert screen.selected_clip.model == "new" and shown[1].has_class("-selected")


async def test_prompts_step_with_brackets_and_escape_goes_back(scored_bench):
    """(And the footer shows the rating keys in full at 120 columns; ? help explains the rest.)"""
    from textual.widgets._footer import FooterKey

    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "hands-1")
        keys = [k for k in screen.query(FooterKey) if k.display]
        shown = [(k.key_display, k.description) for k in keys]
        own = [d for _k, d in shown][:7]  # (then the app's own: help, quit)
        assert own == ["Back", "Prompt", "Score", "Pass/fail", "Comment", "Blind A/B",
                       "Next to judge"], shown
        assert ("[ ]", "Prompt") in shown and ("1-5", "Score") in shown and ("y/f", "Pass/fail") in shown
        footer = screen.query_one(Footer)
        palette = keys[-1]  # docked at the right: nothing may run under it
        assert palette.description == "palette" and palette.region.right == footer.region.right
        assert all(0 < k.region.width and k.region.right <= palette.region.x for k in keys[:-1]), \
            [(k.description, k.region) for k in keys]
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = str(app.screen.query_one("#help-text").render())
        for words in ("Next model", "Previous model", "Next repeat", "Blind A/B: A is better", "Rater",
                      "Nothing to score here: says why"):
            assert words in help_text, words
        assert "Score keys with nothing to score" not in help_text
        await pilot.press("escape")  # closes the help
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert screen.detail.prompt.id == "smoke-1" and app.current_prompt_id == "smoke-1"
        assert "Smoke rises" in text_of(screen.query_one("#prompt-box", Static))
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(app, pilot)
        assert screen.detail.prompt.id == "text-1"  # wraps round
        assert "seed 7" in text_of(screen.query_one("#prompt-box", Static))
        app.open_detail("smoke-1")  # key 4 / enter elsewhere while the detail is on top
        await settle(app, pilot)
        assert app.screen is screen and screen.detail.prompt.id == "smoke-1"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PromptDetailScreen)


# ----------------------------------------------------------------------------- rating


async def test_rate_the_selected_clip_and_find_it_in_ratings_jsonl(scored_bench):
    board = load_board(Benchmark.load(scored_bench))
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "hands-1")
        await pilot.press("4", "y")  # a score and a verdict save the rating
        await settle(app, pilot)
        [first] = ratings(scored_bench)
        run = board.clips[("hands-1", "old")][0].run_id
        assert first["kind"] == "rating" and first["model"] == "old" and first["prompt_id"] == "hands-1"
        assert (first["score"], first["passed"], first["repeat"], first["run"]) == (4, True, 0, run)
        assert first["rater"] == "tester"
        assert "saved" in text_of(screen.query_one("#status", Static))
        assert "tester: 4/5 pass" in column_text(columns(screen)[0], "judged")

        await pilot.press("right")
        assert columns(screen)[1].has_class("-selected") and screen.selected_clip.model == "new"
        await pilot.press("2", "enter")  # enter saves a score alone
        await settle(app, pilot)
        second = ratings(scored_bench)[1]
        assert (second["model"], second["score"], second["passed"]) == ("new", 2, None)

        await pilot.press("f", "c")  # a comment with a verdict staged waits for enter
        await pilot.pause()
        await pilot.press(*"too dark", "enter")
        await pilot.pause()
        assert "too dark" in text_of(screen.query_one("#staged", Static)) and len(ratings(scored_bench)) == 2
        await pilot.press("enter")
        await settle(app, pilot)
        third = ratings(scored_bench)[2]
        assert (third["model"], third["passed"], third["comment"], third["score"]) == ("new", False, "too dark", None)
        assert "tester: fail “too dark”" in column_text(columns(screen)[1], "judged")
        await pilot.press("tab")  # tab moves the model cursor too (wrapping)
        assert screen.selected_clip.model == "old"
        version = app.bench_version
        await pilot.press("escape")  # leaving reloads the benchmark so other screens see the ratings
        await settle(app, pilot)
        assert not isinstance(app.screen, PromptDetailScreen) and app.bench_version > version

    reloaded = load_judgments(scored_bench / "ratings.jsonl")
    assert len(reloaded.ratings) == 3 and not reloaded.warnings


async def test_next_to_judge_visits_every_clip_not_yet_rated(scored_bench):
    bench = Benchmark.load(scored_bench)
    board = load_board(bench)
    before = [("old", "smoke-1"), ("new", "text-1"), ("new", "hands-1")]
    for model, prompt_id in before:  # rated earlier, e.g. from the command line
        record_rating(bench, prompt_id, model, rater="tester", run=board.clips[(prompt_id, model)][0].run_id,
                      score=2)
    record_rating(bench, "hands-1", "old", rater="someone-else", score=1)  # not this rater's
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "smoke-1", seed=11)
        assert "3 clips left to rate" in text_of(screen.query_one("#bar-mode", Static))
        visited = []
        for _ in range(3):
            await pilot.press("j")
            await settle(app, pilot)
            visited.append(screen.selected_clip.key)
            assert screen.detail.prompt.id == visited[-1][1] == app.current_prompt_id
            await pilot.press("3", "y")
            await settle(app, pilot)
        await pilot.press("j")
        await settle(app, pilot)
        assert "rated every clip" in text_of(screen.query_one("#status", Static))
        assert "0 clips left to rate" in text_of(screen.query_one("#bar-mode", Static))
    assert sorted((m, p) for m, p, _r in visited) == [("new", "smoke-1"), ("old", "hands-1"), ("old", "text-1")]
    assert len(ratings(scored_bench)) == 7


# ----------------------------------------------------------------------------- blind A/B


async def test_blind_ab_hides_names_records_the_preference_then_reveals(scored_bench):
    bench = Benchmark.load(scored_bench)
    board = load_board(bench)
    seed = 3
    expected = pair_for_prompt(pair_queue(board_clips(board, bench.prompts), load_judgments(bench.ratings_path),
                                          "tester", seed), {}, "hands-1")
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "hands-1", seed=seed)
        await pilot.press("v")
        await settle(app, pilot)
        assert screen.query_one("#stage", ContentSwitcher).current == "blind"
        shown = stage_text(screen)
        assert "A hand waves" in shown and not re.search(r"\b(old|new)\b", shown), shown
        left, right = screen.query(BlindSide)
        assert left.clip == expected.left and right.clip == expected.right
        assert left.query_one(ThumbStrip).shown_paths() == list(expected.left.thumbnails)
        assert right.query_one(ThumbStrip).shown_paths() == list(expected.right.thumbnails)
        await pilot.press("1")  # no rating from the blind view
        await pilot.press("b")
        await settle(app, pilot)
        [pref] = ratings(scored_bench)
        assert pref["kind"] == "preference" and pref["choice"] == "right" and pref["prompt_id"] == "hands-1"
        assert pref["left"]["model"] == expected.left.model and pref["right"]["model"] == expected.right.model
        assert pref["left"]["run"] == expected.left.run and pref["rater"] == "tester"
        revealed = stage_text(screen)
        assert f"A  ·  {expected.left.model}" in revealed and f"B  ·  {expected.right.model}" in revealed
        assert f"A was {expected.left.model}, B was {expected.right.model}" in text_of(
            screen.query_one("#status", Static))
        await pilot.press("c")  # a comment after the choice is added to it (the same choice again)
        await pilot.pause()
        await pilot.press(*"cleaner fingers", "enter")
        await settle(app, pilot)
        again = ratings(scored_bench)[1]
        assert (again["choice"], again["left"], again["comment"]) == ("right", pref["left"], "cleaner fingers")
        assert "“cleaner fingers”" in text_of(screen.query_one("#status", Static))

        await pilot.press("j")  # the next pair to compare, blind again
        await settle(app, pilot)
        assert screen.pair is not None and screen.pair.prompt_id != "hands-1"
        assert not re.search(r"\b(old|new)\b", stage_text(screen))
        await pilot.press("v")
        await settle(app, pilot)
        assert screen.query_one("#stage", ContentSwitcher).current == "columns"
        assert screen.detail.prompt.id == screen.prompt_id != "hands-1"


# ----------------------------------------------------------------------------- thumbnails and trouble


async def test_missing_thumbnails_are_made_in_a_worker(scored_bench):
    board = load_board(Benchmark.load(scored_bench))
    [view] = board.clips[("smoke-1", "new")]
    folder = thumbnails_dir(view.video)
    shutil.rmtree(folder)
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "smoke-1")
        await settle(app, pilot)
        column = next(c for c in columns(screen) if c.model == "new")
        made = column.query_one(ThumbStrip).shown_paths()
        assert len(made) == 6 and all(p.parent == folder and p.is_file() for p in made)


async def test_bad_ratings_file_and_unknown_prompt_are_explained(scored_bench):
    (scored_bench / "ratings.jsonl").write_text('{"kind": "rating", "prompt_id": "hands-1"}\n')
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "hands-1")  # a bad line is skipped, and said so
        assert screen.query_one("#stage", ContentSwitcher).current == "columns"
        said = [str(n.message) for n in app._notifications]
        assert any("ratings.jsonl:1" in m and "required key is missing" in m for m in said), said

    (scored_bench / "ratings.jsonl").unlink()
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "gone-1")
        assert "no prompt 'gone-1'" in text_of(screen.query_one("#detail-empty", Static))
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert screen.detail.prompt.id == "hands-1"


async def test_a_failed_save_is_reported_and_not_counted(scored_bench):
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "hands-1")
        (scored_bench / "ratings.jsonl").mkdir()  # nothing can be appended now
        await pilot.press("5", "y")
        await settle(app, pilot)
        status = text_of(screen.query_one("#status", Static))
        assert status.startswith("not saved:") and "ratings.jsonl" in status
        assert "6 clips left to rate" in text_of(screen.query_one("#bar-mode", Static))


async def test_a_prompt_without_clips_says_how_to_make_them(fresh_bench):
    app = WorkbenchApp(fresh_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "smoke-1")
        assert "No clips for smoke-1 yet" in text_of(screen.query_one("#detail-empty", Static))
        await pilot.press("3", "y", "enter", "v")
        await settle(app, pilot)
    assert not (fresh_bench / "ratings.jsonl").exists()


async def test_small_terminal_scrolls_and_shows_three_frames(scored_bench):
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(app, pilot, "text-1")
        for column in columns(screen):
            assert len(column.query_one(ThumbStrip).shown_paths()) == 3
            assert column.outer_size.width >= 36
        await pilot.press("right", "down", "down", "pagedown", "v", "a")
        await settle(app, pilot)
        assert ratings(scored_bench)[0]["kind"] == "preference"
        await pilot.press("v", "left", "1", "f")
        await settle(app, pilot)
        assert ratings(scored_bench)[1]["score"] == 1


async def test_a_judgment_still_being_written_when_the_screen_closes_reaches_the_other_screens(
        scored_bench, monkeypatch):
    import threading

    import workbench.judgments.ratings as ratings_module

    release = threading.Event()
    write = ratings_module.append_jsonl

    def slow_disk(path, record):
        release.wait(timeout=10)
        write(path, record)

    monkeypatch.setattr(ratings_module, "append_jsonl", slow_disk)
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(app, pilot, "hands-1")
        version = app.bench_version
        await pilot.press("4", "y", "escape")  # rated, and gone before the file is written
        await pilot.pause()
        assert not isinstance(app.screen, PromptDetailScreen) and app.bench_version == version
        release.set()
        await settle(app, pilot)
        await settle(app, pilot)
        assert [r["score"] for r in ratings(scored_bench)] == [4]
        assert app.bench_version > version  # the app reloaded: Results and the gate see the rating


async def test_a_comment_is_never_lost_added_to_the_judgment_or_staged_in_view(scored_bench):
    """4 y saves; a comment typed after that is saved on that judgment (same score and verdict).
    On a clip not judged yet it stays staged, in view, until a rating saves it along."""
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "hands-1")
        hint = text_of(screen.query_one("#staged", Static))
        assert "4 y saves a 4/5 pass" in hint and "c adds a comment" in hint and "enter saves" in hint
        await pilot.press("4", "y")
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"hand blurs", "enter")
        await settle(app, pilot)
        first, second = ratings(scored_bench)
        assert (second["model"], second["score"], second["passed"], second["comment"]) == (
            "old", 4, True, "hand blurs")
        assert second["run"] == first["run"] and second["rater"] == "tester"
        assert "“hand blurs” on your 4/5 pass" in text_of(screen.query_one("#status", Static))
        assert "tester: 4/5 pass “hand blurs”" in column_text(columns(screen)[0], "judged")
        assert not screen.staged_comment
        current = load_judgments(scored_bench / "ratings.jsonl").current_ratings()
        assert len(current) == 1 and current[0].comment == "hand blurs"

        await pilot.press("right", "c")  # the other model's clip, not judged yet
        await pilot.pause()
        await pilot.press(*"too dark", "enter")
        await settle(app, pilot)
        assert len(ratings(scored_bench)) == 2
        staged = text_of(screen.query_one("#staged", Static))
        assert "“too dark” staged" in staged and "the rating you give next saves it along" in staged
        await pilot.press("enter")  # enter with only a comment: explained, and the comment stays
        await settle(app, pilot)
        assert len(ratings(scored_bench)) == 2 and screen.staged_comment == "too dark"
        assert "needs a rating" in text_of(screen.query_one("#status", Static))
        await pilot.press("f", "enter")
        await settle(app, pilot)
        third = ratings(scored_bench)[2]
        assert (third["model"], third["passed"], third["score"], third["comment"]) == ("new", False, None, "too dark")

        await pilot.press("c")  # the fail is judged now: this comment replaces "too dark" at once
        await pilot.pause()
        assert app.screen.query_one("#text-ask-input").value == "too dark"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("right_square_bracket")  # the next prompt: not judged yet
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"odd light", "enter")
        await pilot.pause()
        await pilot.press("right")  # a staged comment dropped by moving on is said, not silent
        status = text_of(screen.query_one("#status", Static))
        assert "not saved" in status and "odd light" in status
        assert len(ratings(scored_bench)) == 3

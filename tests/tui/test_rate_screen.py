"""The Rate screen: blind comparisons, 1-5 ratings, the queue, the alignment panel."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from textual.widgets import DataTable, Footer, Header, Input, Static

from workbench.benchmark.folder import Benchmark
from workbench.judging_queue import PairTask, RatingTask, judgeable_clips
from workbench.judgments.ratings import Side, record_preference, record_rating
from workbench.run_scoring import thumbnails_dir
from workbench.tui.app import WorkbenchApp
from workbench.tui.widgets.thumbnail import Thumbnail

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _rater(monkeypatch):
    monkeypatch.setenv("WORKBENCH_RATER", "tester")


async def settle(app, pilot) -> None:
    """Let workers finish and the handlers they start (alignment after a save) finish too."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    while any(not worker.is_finished for worker in app.workers):
        await app.workers.wait_for_complete()
        await pilot.pause()


def lines(root: Path) -> list[dict]:
    path = root / "ratings.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def visible_text(screen) -> str:
    """Everything the screen itself writes (not the app's header with the folder path)."""
    parts = []
    for widget in screen.query(Static):
        if widget.display and not any(isinstance(a, (Header, Footer)) for a in widget.ancestors):
            parts.append(str(widget.render()))
    parts += [t.label for t in screen.query(Thumbnail)]
    return "\n".join(parts)


async def test_compare_shows_a_blind_pair_of_one_prompt(scored_bench):
    app = WorkbenchApp(scored_bench, start="rate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        task = screen.current
        assert screen.mode == "compare" and isinstance(task, PairTask)
        assert task.left.prompt_id == task.right.prompt_id == task.prompt_id
        assert {task.left.model, task.right.model} == {"old", "new"}
        prompt = Benchmark.load(scored_bench).prompt(task.prompt_id)
        shown = visible_text(screen)
        assert prompt.text in shown and task.prompt_id in shown
        assert not re.search(r"\b(old|new)\b", shown), shown
        assert text_of(screen, "#progress-label") == "0/3 pairs judged"
        assert "rater: tester" in text_of(screen, "#rater-label")
        for side, clip in (("left", task.left), ("right", task.right)):
            paths = [screen.query_one(f"#{side}-thumb-{i}", Thumbnail).path for i in range(6)]
            assert paths == list(clip.thumbnails) and all(p.is_file() for p in paths)
        assert task.left.thumbnails != task.right.thumbnails


async def test_compare_keys_append_the_preferences_as_shown(scored_bench):
    app = WorkbenchApp(scored_bench, start="rate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        expected = []
        seen_prompts = set()
        for key, choice in (("a", "left"), ("right", "right"), ("equals_sign", "tie")):
            task = screen.current
            seen_prompts.add(task.prompt_id)
            expected.append((task.prompt_id, task.left.model, task.right.model, choice))
            await pilot.press(key)
        await settle(app, pilot)
        assert seen_prompts == {"hands-1", "smoke-1", "text-1"}  # a new pair after each choice
        records = lines(scored_bench)
        assert [(r["prompt_id"], r["left"]["model"], r["right"]["model"], r["choice"]) for r in records] \
            == expected
        run = judgeable_clips(Benchmark.load(scored_bench)).clips[0].run
        for record in records:
            assert record["kind"] == "preference" and record["rater"] == "tester"
            assert record["left"]["run"] == record["right"]["run"] == run
        assert "all 3 pairs done" in text_of(screen, "#progress-label")
        last = expected[-1]
        assert f"A was {last[1]}, B was {last[2]}" in text_of(screen, "#status")
        # skipping writes nothing and shows another pair
        before = screen.current.prompt_id
        await pilot.press("n")
        await settle(app, pilot)
        assert screen.current.prompt_id != before and len(lines(scored_bench)) == 3


async def test_rate_keys_append_ratings(scored_bench):
    app = WorkbenchApp(scored_bench, start="rate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("m")
        assert screen.mode == "rate" and isinstance(screen.current, RatingTask)
        assert text_of(screen, "#progress-label") == "0/6 clips rated"
        assert not re.search(r"\b(old|new)\b", visible_text(screen))
        shown = []
        for keys in (("4", "y"), ("2", "f"), ("3", "enter")):
            shown.append(screen.current.clip)
            await pilot.press(*keys)
        shown.append(screen.current.clip)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen.query_one(Input), Input)
        await pilot.press(*"hands melt", "enter")
        await pilot.pause()
        assert "hands melt" in text_of(screen, "#staged")
        await pilot.press("f", "enter")
        await settle(app, pilot)
        records = lines(scored_bench)
        got = [(r["kind"], r["prompt_id"], r["model"], r["run"], r["score"], r["passed"], r["comment"])
               for r in records]
        verdicts = [(4, True, ""), (2, False, ""), (3, None, ""), (None, False, "hands melt")]
        assert got == [("rating", c.prompt_id, c.model, c.run, *v) for c, v in zip(shown, verdicts)]
        assert len({c.item for c in shown}) == 4
        assert text_of(screen, "#progress-label") == "4/6 clips rated"
        assert f"that was {shown[-1].model}" in text_of(screen, "#status")
        # the comment box did not count as leaving; leaving reloads so other screens see the ratings
        assert app.bench_version == 1
        await pilot.press("s")
        await settle(app, pilot)
        assert app.current_mode == "scores" and app.bench_version == 2


async def test_the_queue_skips_what_this_rater_already_judged(scored_bench):
    bench = Benchmark.load(scored_bench)
    clips = judgeable_clips(bench).clips
    done = clips[:2]
    for clip in done:
        record_rating(bench, clip.prompt_id, clip.model, rater="tester", run=clip.run, score=3)
    record_rating(bench, clips[2].prompt_id, clips[2].model, rater="someone-else", score=1)
    record_preference(bench, "smoke-1", Side(model="new"), Side(model="old"), "left", rater="tester")
    app = WorkbenchApp(scored_bench, start="rate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert text_of(screen, "#progress-label") == "1/3 pairs judged"
        walked = []
        for _ in range(4):
            walked.append(screen.current.prompt_id)
            await pilot.press("n")
        # the two pairs not judged yet first, then the judged one, then round again
        assert sorted(walked[:2]) == ["hands-1", "text-1"] and walked[2:] == ["smoke-1", walked[0]]
        await pilot.press("m")
        assert text_of(screen, "#progress-label") == "2/6 clips rated"
        offered = []
        for _ in range(4):
            offered.append(screen.current.clip.item)
            await pilot.press("n")
        assert set(offered) == {c.item for c in clips[2:]}


async def test_alignment_panel_shows_n_after_ratings(scored_bench):
    app = WorkbenchApp(scored_bench, start="rate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("l")
        await settle(app, pilot)
        assert screen.query_one("#alignment-panel").display
        assert "no ratings yet" in text_of(screen, "#alignment-title")
        table = screen.query_one("#alignment-table", DataTable)
        assert {str(k.value) for k in table.rows} == {"decodes", "sharpness", "temporal_flicker", "frozen_frames"}
        assert table.get_cell("sharpness", "n") == "0"
        await pilot.press("m")
        for keys in (("5", "y"), ("1", "f"), ("3", "y")):
            await pilot.press(*keys)
        await settle(app, pilot)
        assert table.get_cell("sharpness", "n") == "3"
        assert "3 rated clips" in text_of(screen, "#alignment-title")
        assert table.get_cell("temporal_flicker", "agree").endswith("of 3")
        assert screen.alignment_rated == 3
        await pilot.press("2", "f")
        await settle(app, pilot)
        assert table.get_cell("sharpness", "n") == "4"
        await pilot.press("l")
        assert not screen.query_one("#alignment-panel").display


async def test_changing_the_rater(scored_bench):
    app = WorkbenchApp(scored_bench, start="rate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("w")
        await pilot.pause()
        field = app.screen.query_one(Input)
        assert field.value == "tester"
        field.value = ""
        await pilot.press(*"zoe", "enter")
        await settle(app, pilot)
        assert screen.rater == "zoe" and "zoe" in text_of(screen, "#rater-label")
        await pilot.press("b")
        await settle(app, pilot)
        assert [r["rater"] for r in lines(scored_bench)] == ["zoe"]


async def test_empty_states(scored_bench, fresh_bench):
    app = WorkbenchApp(fresh_bench, start="rate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        message = text_of(app.screen, "#empty")
        assert "No clips to judge yet" in message and f"workbench run {fresh_bench}" in message
        await pilot.press("a", "m", "4", "y")
        await settle(app, pilot)
        assert lines(fresh_bench) == []

    for video in (scored_bench / "runs").glob("*/videos/new/*.mp4"):
        shutil.rmtree(thumbnails_dir(video))
    app = WorkbenchApp(scored_bench, start="rate")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert "only old has clips" in text_of(screen, "#empty")
        await pilot.press("a")
        await settle(app, pilot)
        assert lines(scored_bench) == []
        await pilot.press("m", "4", "y")
        await settle(app, pilot)
        assert [(r["model"], r["score"]) for r in lines(scored_bench)] == [("old", 4)]


async def test_small_terminal_does_not_crash(scored_bench):
    app = WorkbenchApp(scored_bench, start="rate")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("l", "a")
        await settle(app, pilot)
        await pilot.press("m", "4", "y", "question_mark")
        await settle(app, pilot)
        await pilot.press("escape", "m")
        await settle(app, pilot)
        assert app.screen.mode == "compare" and len(lines(scored_bench)) == 2

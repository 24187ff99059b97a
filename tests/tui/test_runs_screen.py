"""The Runs screen: start a run and watch it, stop and resume it, score, errors, small terminals."""

from __future__ import annotations

import asyncio

import json
import time
from pathlib import Path

from workbench.benchmark.folder import Benchmark
from workbench.engine.run_lock import RunLock
from workbench.engine.runner import run_benchmark
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.runs import RunPlanDialog, RunsScreen
from workbench.tui.widgets.model_progress import RunProgress

SIZE = (120, 40)


async def settle(app, pilot, rounds: int = 4) -> None:
    """Wait for every worker, including those the finished ones' messages start."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot, condition, timeout: float = 20.0) -> None:
    """Pause until ``condition()`` holds (a loaded machine makes workers finish late)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await pilot.pause(0.05)


async def open_dialog(app, pilot) -> RunPlanDialog:
    await pilot.press("n")
    await settle(app, pilot)
    dialog = app.screen
    assert isinstance(dialog, RunPlanDialog)
    return dialog


def cell_texts(table, row: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(row)]


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def journal(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]


async def test_start_a_run_from_the_screen_and_watch_it_finish(fresh_bench):
    seen: list[RunsScreen.RunProgressed] = []

    def hook(message) -> None:  # may see a message more than once (posted, then handled)
        if isinstance(message, RunsScreen.RunProgressed) and all(m is not message for m in seen):
            seen.append(message)

    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        assert "No runs yet" in str(screen.query_one("#runs-status").render())

        dialog = await open_dialog(app, pilot)
        assert dialog.ready is not None
        assert [(m.model, m.jobs, m.to_generate) for m in dialog.ready.plan.per_model] == \
            [("old", 3, 3), ("new", 3, 3)]
        assert "6 jobs: 6 to make" in str(dialog.query_one("#plan-note").render())
        assert dialog.query_one("#plan-table").row_count == 2
        await pilot.press("ctrl+s")
        await settle(app, pilot)

        assert app.screen is screen and not screen.running
        summary = screen.last_summary
        assert summary is not None and summary.status == "finished" and summary.succeeded == 6
        runs = screen.query_one("#runs-table")
        assert runs.row_count == 1
        row = cell_texts(runs, 0)
        assert row[0] == summary.run_id and row[1] == "finished" and row[4] == "6/6" and row[5] == "0"
        jobs = screen.query_one("#jobs-table")
        assert jobs.row_count == 6
        assert all(cell_texts(jobs, i)[3] == "succeeded" for i in range(6))

        # live progress arrived as messages, one per engine event, and the bars show the end
        assert len(seen) == screen.progress_events >= 2 * 6 + 2
        assert seen[0].event.kind == "run_started" and seen[-1].event.kind == "run_finished"
        bars = screen.query_one(RunProgress).model_progress()
        assert {m: (p.done, p.total) for m, p in bars.items()} == {"old": (3, 3), "new": (3, 3)}
        assert any("finished" in text for text in notifications(app))

        # a second run is served from the video cache; it is listed on top and its jobs shown
        dialog = await open_dialog(app, pilot)
        assert dialog.ready is not None and dialog.ready.plan.cached == 6
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        second = screen.last_summary
        assert second.run_id != summary.run_id and second.cached == 6
        assert [cell_texts(runs, i)[0] for i in range(2)] == [second.run_id, summary.run_id]
        assert cell_texts(runs, 0)[6] == "6"
        assert screen.shown_run == second.run_id
        assert all(cell_texts(jobs, i)[3] == "succeeded (cached)" for i in range(6))

    run_dir = fresh_bench / "runs" / summary.run_id
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "finished" and manifest["jobs"]["succeeded"] == 6
    for model in ("old", "new"):
        for prompt_id in ("hands-1", "smoke-1", "text-1"):
            video = run_dir / "videos" / model / f"{prompt_id}--r0.mp4"
            assert video.is_file() and video.stat().st_size > 1000


async def test_scoring_from_the_screen_writes_scores_and_reloads(fresh_bench):
    summary = await run_benchmark(Benchmark.load(fresh_bench))
    scores = fresh_bench / "runs" / summary.run_id / "scores.jsonl"
    assert not scores.exists()
    app = WorkbenchApp(fresh_bench, start="runs")
    advanced = []

    def hook(message):
        if type(message).__name__ == "ScoringAdvanced":
            advanced.append(message.progress)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await wait_until(pilot, lambda: bool(screen.runs))
        version = app.bench_version
        await pilot.press("c")
        await wait_until(pilot, lambda: screen.last_report is not None)
        await settle(app, pilot)
        assert sorted({p.done for p in advanced}) == [1, 2, 3, 4, 5, 6]  # the progress bar was fed
        assert not screen.scoring and not screen.query_one("#scoring").display
        assert screen.last_report is not None and screen.last_report.scored == 6
        assert app.bench_version > version  # the benchmark was reloaded for the Scores screen
        assert any("scored 6 clips" in text for text in notifications(app))
    rows = [json.loads(line) for line in scores.read_text().splitlines()]
    assert len(rows) == 6 * 2
    assert {r["scorer"] for r in rows} == {"sharpness", "temporal_flicker"}
    assert all(r["error"] is None and isinstance(r["value"], float) for r in rows)


async def test_stopping_a_run_leaves_it_resumable_and_nothing_is_made_twice(fresh_bench):
    toml = fresh_bench / "benchmark.toml"
    toml.write_text(toml.read_text().replace('provider = "synthetic"',
                                             'provider = "synthetic"\nlatency = 0.3'))
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        dialog = await open_dialog(app, pilot)
        dialog.query_one("#plan-concurrency").value = "1"  # one job at a time: easy to stop midway
        await settle(app, pilot)
        assert dialog.ready is not None and dialog.ready.choices.concurrency == 1
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.running
        deadline = time.monotonic() + 20
        while not (screen.live and sum(p.succeeded for p in screen.live.progress) >= 1):
            assert time.monotonic() < deadline, "no job finished"
            await pilot.pause(0.05)
        await pilot.press("x")
        await settle(app, pilot)
        assert not screen.running
        run_id = screen.active_run
        run_dir = fresh_bench / "runs" / run_id
        assert json.loads((run_dir / "manifest.json").read_text())["status"] == "interrupted"
        assert cell_texts(screen.query_one("#runs-table"), 0)[1] == "interrupted"
        done_first = sum(1 for e in journal(run_dir) if e["event"] == "succeeded")
        assert 1 <= done_first < 6
        assert any("press n to resume" in text for text in notifications(app))

        dialog = await open_dialog(app, pilot)
        assert dialog.ready is not None and dialog.ready.plan.resume_run_id == run_id
        assert "Resume run" in str(dialog.query_one("#plan-title").render())
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        summary = screen.last_summary
        assert summary is not None and summary.resumed and summary.run_id == run_id
        assert summary.status == "finished" and summary.succeeded == 6
        assert screen.query_one("#runs-table").row_count == 1
        assert cell_texts(screen.query_one("#runs-table"), 0)[1] == "finished"

    events = journal(run_dir)
    assert sum(1 for e in events if e["event"] == "run_started") == 2
    made: dict[tuple, int] = {}
    for e in events:
        if e["event"] == "succeeded":
            key = (e["model"], e["prompt_id"], e["repeat"])
            made[key] = made.get(key, 0) + 1
    assert len(made) == 6 and set(made.values()) == {1}, made


async def test_errors_become_notifications(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen

        # a run already in progress (another process holds the lock): refused with its message
        lock = RunLock(fresh_bench / ".workbench-cache")
        lock.acquire()
        try:
            await open_dialog(app, pilot)
            await pilot.press("ctrl+s")
            await settle(app, pilot)
        finally:
            lock.release()
        assert app.screen is screen and not screen.running
        assert any("another `workbench run` is in progress" in t for t in notifications(app))
        assert not (fresh_bench / "runs").exists() or not any((fresh_bench / "runs").iterdir())

        # bad field in the dialog: shown there, start refused
        dialog = await open_dialog(app, pilot)
        dialog.query_one("#plan-repeats").value = "0"
        await settle(app, pilot)
        assert "repeats: 0 is out of range" in str(dialog.query_one("#plan-note").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert any("repeats: 0 is out of range" in t for t in notifications(app))
        await pilot.press("escape")
        await pilot.pause()

        # over budget: the estimate is refused before anything is spent
        toml = fresh_bench / "benchmark.toml"
        good = toml.read_text()
        toml.write_text(good.replace("flicker = 0.05", "flicker = 0.05\nprice_per_clip = 2.0")
                        + "\n[run]\nbudget = 1.0\n")
        dialog = await open_dialog(app, pilot)
        assert "Over budget" in str(dialog.query_one("#plan-note").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert any("over the budget of $1.00" in t for t in notifications(app))
        await pilot.press("escape")
        await pilot.pause()

        # the config broken after loading: the dialog names the file, line and key
        toml.write_text(good.replace("flicker = 0.05", "flicker = 0.05\nbogus = 1"))
        dialog = await open_dialog(app, pilot)
        assert "benchmark.toml:12: models.old.bogus: unknown key" in str(
            dialog.query_one("#plan-note").render())
        assert dialog.ready is None
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
    assert not (fresh_bench / "runs").exists() or not any((fresh_bench / "runs").iterdir())


async def test_small_terminal_with_failures_listed_first(fresh_bench):
    toml = fresh_bench / "benchmark.toml"
    toml.write_text(toml.read_text().replace("flicker = 0.05", "flicker = 0.05\nfailure_rate = 1.0"))
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await open_dialog(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        summary = screen.last_summary
        assert summary is not None and summary.failed == 3 and summary.succeeded == 3
        jobs = screen.query_one("#jobs-table")
        statuses = [cell_texts(jobs, i)[3] for i in range(jobs.row_count)]
        assert statuses == ["failed"] * 3 + ["succeeded"] * 3
        assert all(cell_texts(jobs, i)[0] == "old" and "synthetic failure" in cell_texts(jobs, i)[6]
                   for i in range(3))
        assert cell_texts(screen.query_one("#runs-table"), 0)[5] == "3"
        detail = str(screen.query_one("#job-detail").render())  # the highlighted job's whole error
        assert detail.startswith("old/hands-1 r0: synthetic failure") and "failure_rate 1" in detail
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Score new clips" in str(app.screen.query_one("#help-text").render())
        await pilot.press("escape")
        await pilot.press("c")
        await settle(app, pilot)
        assert screen.last_report is not None and screen.last_report.not_generated == 3


async def test_the_plan_dialog_can_resubmit_jobs_in_doubt(fresh_bench):
    from textual.widgets import Checkbox

    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        dialog = await open_dialog(app, pilot)
        assert dialog._choices().retry_uncertain is False
        dialog.query_one("#plan-retry-uncertain", Checkbox).value = True
        await settle(app, pilot)
        assert dialog._choices().retry_uncertain is True
        assert dialog.ready is not None  # re-planned with the box ticked

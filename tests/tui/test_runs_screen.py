"""The Runs screen: plan and start a run, watch every job live, stop, resume, quit during a run,
keep running on other screens, score the new clips, errors and small terminals."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Checkbox

from workbench.benchmark.folder import Benchmark
from workbench.engine import list_runs
from workbench.engine.run_lock import RunLock, run_in_progress
from workbench.engine.runner import run_benchmark
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.engine.resumable import resumable_runs
from workbench.tui.screens.runs import RunPlanDialog, RunsScreen
from workbench.tui.widgets.job_table import JobTable
from workbench.tui.widgets.model_progress import RunProgress

SIZE = (120, 40)
SAMPLE = Path(__file__).resolve().parents[2] / "sample_benchmarks" / "hard-cases"
STATE, TRIES, ELAPSED, ERROR = 3, 4, 5, 6  # jobs table columns after prompt, model, rep


@pytest.fixture
def sample_two(tmp_path: Path) -> Path:
    """A copy of the sample benchmark (three synthetic models, every scorer) with two prompts."""
    root = tmp_path / "hard-cases"
    root.mkdir()
    shutil.copy(SAMPLE / "benchmark.toml", root / "benchmark.toml")
    lines = (SAMPLE / "prompts.jsonl").read_text().splitlines()
    (root / "prompts.jsonl").write_text("\n".join(lines[:2]) + "\n")
    return root


def slow_models(root: Path, latency: float) -> Callable[[], None]:
    """Give every synthetic model of ``root`` a latency (seconds per clip); returns a function
    that takes it away again (latency does not change what a clip is, so a run still resumes)."""
    toml = root / "benchmark.toml"
    fast = toml.read_text()
    toml.write_text(fast.replace('provider = "synthetic"', f'provider = "synthetic"\nlatency = {latency}'))
    return lambda: toml.write_text(fast)


async def settle(app, pilot, rounds: int = 3) -> None:
    """Wait for every worker, including those the finished ones' messages start.

    (``pilot.pause(delay)`` handles the screen's pending messages; a bare ``pause()``
    also waits for the CPU to idle, up to a second, which a run or scoring never lets it.)
    """
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause(0.01)


async def wait_until(pilot, condition, timeout: float = 20.0) -> None:
    """Pause until ``condition()`` holds (a loaded machine makes workers finish late)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await pilot.pause(0.05)


async def open_dialog(app, pilot, key: str = "n") -> RunPlanDialog:
    await pilot.press(key)
    await settle(app, pilot)
    dialog = app.screen
    assert isinstance(dialog, RunPlanDialog)
    return dialog


async def start_run(app, pilot, concurrency: str | None = None) -> RunsScreen:
    screen = app.screen
    dialog = await open_dialog(app, pilot)
    if concurrency is not None:
        dialog.query_one("#plan-concurrency").value = concurrency
        await settle(app, pilot)
        assert dialog.ready is not None and dialog.ready.choices.concurrency == int(concurrency)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: screen.live_run is not None)
    return screen


def run_finished(screen: RunsScreen) -> bool:
    """The run ended and its clips were scored (or there was nothing to score)."""
    return screen.live_run is not None and screen.live_run.ended and not screen.scoring


def cell_texts(table, row: int) -> list[str]:
    if isinstance(table, JobTable):
        return table.cell_texts(row)
    return [str(cell) for cell in table.get_row_at(row)]


def column(table, index: int) -> list[str]:
    return [cell_texts(table, i)[index] for i in range(table.row_count)]


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def journal(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]


def made_once(run_dir: Path) -> dict[tuple, int]:
    """How many times each job of the run was journaled as succeeded."""
    made: dict[tuple, int] = {}
    for e in journal(run_dir):
        if e["event"] == "succeeded":
            key = (e["model"], e["prompt_id"], e["repeat"])
            made[key] = made.get(key, 0) + 1
    return made


async def test_launch_a_run_on_the_sample_see_it_finish_scored_and_reloaded(sample_two):
    seen: list[RunsScreen.RunProgressed] = []
    guarded: list[bool] = []  # while the run went, quitting would have asked first

    def hook(message) -> None:  # may see a message more than once (posted, then handled)
        if isinstance(message, RunsScreen.RunProgressed) and all(m is not message for m in seen):
            seen.append(message)
            guarded.append(app.active_run is not None and app.active_run.is_running())

    app = WorkbenchApp(sample_two, start="runs")
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        assert screen.query_one("ScreenTabs").current == "runs"
        assert "No runs yet" in str(screen.query_one("#runs-status").render())
        version = app.bench_version

        dialog = await open_dialog(app, pilot)
        assert dialog.ready is not None
        assert [(m.model, m.jobs, m.to_generate) for m in dialog.ready.plan.per_model] == \
            [("incumbent", 2, 2), ("candidate", 2, 2), ("weak", 2, 2)]
        assert "6 jobs: 6 to make, 0 from the cache, estimated cost $0.00" in str(
            dialog.query_one("#plan-note").render())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: run_finished(screen) and screen.last_report is not None)
        await settle(app, pilot)

        assert app.screen is screen and not screen.running and app.active_run is None
        summary = screen.last_summary
        assert summary is not None and summary.status == "finished" and summary.succeeded == 6
        runs = screen.query_one("#runs-table")
        assert runs.row_count == 1
        row = cell_texts(runs, 0)
        assert row == [summary.run_id, "finished", "6/6", "0", "0", "$0.00", "1",
                       "incumbent, candidate, weak"]
        jobs = screen.query_one("#jobs-table", JobTable)
        assert jobs.row_count == 6 and column(jobs, STATE) == ["done"] * 6
        assert column(jobs, TRIES) == ["1"] * 6
        assert all(re.fullmatch(r"\d+\.\ds", text) for text in column(jobs, ELAPSED))

        # the progress came as one message per engine event: each job started, then ended
        kinds = [m.event.kind for m in seen]
        assert all(g for m, g in zip(seen, guarded) if m.event.kind != "run_finished")
        assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
        assert kinds.count("job_started") == 6 and kinds.count("job_succeeded") == 6
        bars = screen.query_one(RunProgress).model_progress()
        assert {m: (p.done, p.total) for m, p in bars.items()} == \
            {"incumbent": (2, 2), "candidate": (2, 2), "weak": (2, 2)}
        log = "\n".join(screen.query_one("#run-log").lines)
        assert "starting a new run: incumbent, candidate, weak x 1 repeat(s), 6 jobs" in log
        assert "weak/" in log and " started" in log and " done in " in log
        assert f"run {summary.run_id} finished" in log and "scored 6 clips" in log

        # its clips were scored without asking, and the benchmark reloaded for Results
        assert screen.last_report.scored == 6 and screen.last_report.runs == [summary.run_id]
        assert app.bench_version > version
        assert any("scored 6 clips" in text for text in notifications(app))

    run_dir = sample_two / "runs" / summary.run_id
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "finished"
    scorers = Benchmark.load(sample_two).config.scorers
    rows = [json.loads(line) for line in (run_dir / "scores.jsonl").read_text().splitlines()]
    assert {(r["model"], r["prompt_id"]) for r in rows} == {(m, p) for (m, p, _r) in made_once(run_dir)}
    assert {r["scorer"] for r in rows} == set(scorers) and len(rows) == 6 * len(scorers)


async def test_jobs_update_live_in_place_queued_running_done(fresh_bench):
    slow_models(fresh_bench, 0.2)
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await start_run(app, pilot, concurrency="1")
        jobs = screen.query_one("#jobs-table", JobTable)
        rebuilds = []  # times every row was replaced
        original = jobs.show
        jobs.show = lambda *a, **k: (rebuilds.append(1), original(*a, **k))[1]
        assert jobs.row_count == 6  # every job of the plan, before the engine reports anything

        # one job at a time: one running, the ones after it queued, its time ticking
        await wait_until(pilot, lambda: "running" in column(jobs, STATE))
        states = column(jobs, STATE)
        assert states.count("running") == 1 and states.count("queued") >= 1
        assert states.count("running") + states.count("queued") + states.count("done") == 6
        running = states.index("running")
        assert cell_texts(jobs, running)[TRIES] == "1"
        await wait_until(pilot, lambda: "done" in column(jobs, STATE))
        assert re.search(r"\(\d of 6 jobs left\)", app.active_run.describe())
        assert screen.query_one("#run-progress").display and screen.query_one("#run-log").display
        title = str(screen.query_one("#jobs-title").render())
        assert "(running)" in title and " done" in title

        await wait_until(pilot, lambda: run_finished(screen))
        await settle(app, pilot)
        assert column(jobs, STATE) == ["done"] * 6
        assert all(float(t.rstrip("s")) >= 0.2 for t in column(jobs, ELAPSED))
        assert rebuilds == []  # every change replaced one row: the others stayed as they were
        # the plan's order is the journal's order (model, prompt, repeat)
        assert [cell_texts(jobs, i)[:2] for i in range(3)] == \
            [["hands-1", "old"], ["smoke-1", "old"], ["text-1", "old"]]


async def test_stopping_a_run_then_resuming_it_makes_nothing_twice(fresh_bench):
    full_speed = slow_models(fresh_bench, 0.6)  # slow enough that x lands mid-run on a busy machine
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await start_run(app, pilot, concurrency="1")
        jobs = screen.query_one("#jobs-table", JobTable)
        await wait_until(pilot, lambda: column(jobs, STATE).count("done") >= 1)
        await pilot.press("x")
        await wait_until(pilot, lambda: screen.live_run.ended)
        await settle(app, pilot)
        assert not screen.running and app.active_run is None
        run_id = screen.live_run.run_id
        run_dir = fresh_bench / "runs" / run_id
        assert json.loads((run_dir / "manifest.json").read_text())["status"] == "interrupted"
        runs = screen.query_one("#runs-table")
        assert cell_texts(runs, 0)[:2] == [run_id, "resumable"]
        assert "1 resumable: highlight it and press r" in str(screen.query_one("#runs-status").render())
        states = column(jobs, STATE)
        assert 1 <= states.count("done") < 6 and "queued" in states and "running" not in states
        assert any("press r on it to resume" in text for text in notifications(app))

        full_speed()
        dialog = await open_dialog(app, pilot, key="r")
        assert dialog.ready is not None and dialog.ready.plan.resume_run_id == run_id
        assert "Resume run" in str(dialog.query_one("#plan-title").render())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: run_finished(screen))
        await settle(app, pilot)
        summary = screen.last_summary
        assert summary.resumed and summary.run_id == run_id and summary.status == "finished"
        assert runs.row_count == 1 and cell_texts(runs, 0)[1] == "finished"
        assert column(jobs, STATE) == ["done"] * 6

        await pilot.press("r")  # a finished run has nothing to resume
        await pilot.pause(0.01)
        assert app.screen is screen
        assert any("there is nothing to resume" in text for text in notifications(app))

    assert sum(1 for e in journal(run_dir) if e["event"] == "run_started") == 2
    made = made_once(run_dir)
    assert len(made) == 6 and set(made.values()) == {1}, made


async def test_resuming_keeps_the_cached_count_and_the_plan_table_aligned(fresh_bench):
    bench = Benchmark.load(fresh_bench)
    first = await run_benchmark(bench)  # every repeat-0 clip is in the cache now
    assert first.succeeded == 6
    slow_models(fresh_bench, 0.6)  # the new clips (repeat 1) take a while
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        dialog = await open_dialog(app, pilot)
        dialog.query_one("#plan-repeats").value = "2"
        dialog.query_one("#plan-concurrency").value = "1"
        await settle(app, pilot)
        assert dialog.ready is not None and dialog.ready.plan.cached == 6
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.live_run is not None
                         and sum(screen.live_run.cached.values()) >= 2)
        await pilot.press("x")
        await wait_until(pilot, lambda: screen.live_run.ended)
        await settle(app, pilot)
        run_id = screen.live_run.run_id
        runs = screen.query_one("#runs-table")
        before = int(cell_texts(runs, 0)[4])  # cached, as the journal has it
        assert cell_texts(runs, 0)[:2] == [run_id, "resumable"] and 2 <= before <= 6

        # the dialog counts the clips earlier sessions took from the cache too
        dialog = await open_dialog(app, pilot, key="r")
        assert dialog.ready is not None and dialog.ready.plan.resume_run_id == run_id
        plan_table = dialog.query_one("#plan-table")
        assert sum(int(cell_texts(plan_table, i)[4]) for i in range(plan_table.row_count)) == 6
        assert f"6 from the cache ({before} already)" in str(dialog.query_one("#plan-note").render())
        # header and rows are as wide as the columns: the rows do not run on past the header
        columns = sum(c.get_render_width(plan_table) for c in plan_table.columns.values())
        assert plan_table.size.width == columns

        # while the resumed run goes, and after it, the runs list and the bars keep that count
        seen: list[int] = []

        def watch() -> bool:
            live = screen.live_run
            if live is not None and live.run_id == run_id and screen.running and live.last is not None:
                screen._show_runs()
                seen.append(int(cell_texts(runs, 0)[4]))
            return run_finished(screen)

        await pilot.press("ctrl+s")
        await wait_until(pilot, watch)
        await settle(app, pilot)
        assert seen and min(seen) >= before and seen == sorted(seen)
        bars = screen.query_one(RunProgress).model_progress()
        assert sum(p.cached for p in bars.values()) == 6
        assert cell_texts(runs, 0)[1] == "finished" and cell_texts(runs, 0)[4] == "6"
    (info,) = [i for i in list_runs(fresh_bench) if i.run_id == run_id]
    assert info.jobs.get("cached") == 6


async def test_a_run_goes_on_while_the_user_is_on_another_screen(fresh_bench):
    slow_models(fresh_bench, 0.6)  # still going once the other screen is up, on a busy machine too
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await start_run(app, pilot, concurrency="2")
        version = app.bench_version
        await pilot.press("1")
        await pilot.pause(0.05)
        assert app.current_mode == "prompts" and app.screen is not screen
        assert app.active_run is not None and app.active_run.is_running()

        await wait_until(pilot, lambda: run_finished(screen) and app.bench_version > version)
        assert app.current_mode == "prompts"  # it finished while the user was elsewhere
        assert app.active_run is None
        await pilot.press("2")
        await settle(app, pilot)
        assert app.screen is screen
        summary = screen.last_summary
        assert summary.status == "finished" and summary.succeeded == 6
        assert cell_texts(screen.query_one("#runs-table"), 0)[:2] == [summary.run_id, "finished"]
        assert column(screen.query_one("#jobs-table"), STATE) == ["done"] * 6
        assert screen.last_report is not None and screen.last_report.scored == 6
        assert app.bench is not None and app.bench_version > version  # every screen reloads
    assert (fresh_bench / "runs" / summary.run_id / "scores.jsonl").is_file()


async def test_quitting_during_a_run_asks_then_stops_it_resumably(fresh_bench):
    full_speed = slow_models(fresh_bench, 1.0)  # q and y land mid-run even on a busy machine
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await start_run(app, pilot, concurrency="1")
        jobs = screen.query_one("#jobs-table", JobTable)
        await wait_until(pilot, lambda: column(jobs, STATE).count("done") >= 1)
        run = app.active_run
        assert run is screen.live_run and run.is_running()
        run_id = run.run_id
        assert re.fullmatch(rf"run {run_id} \([1-5] of 6 jobs left\)", run.describe())

        await pilot.press("q")
        await pilot.pause(0.01)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"run {run_id} (" in str(app.screen.query_one("#confirm-message").render())
        await pilot.press("y")
    assert app.return_code == 0

    # the engine stopped cleanly before the app closed: journal and manifest say so, lock free
    run_dir = fresh_bench / "runs" / run_id
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "interrupted"
    assert journal(run_dir)[-1]["event"] == "run_interrupted"
    assert not run_in_progress(fresh_bench / ".workbench-cache")
    done_before = sum(made_once(run_dir).values())
    assert 1 <= done_before < 6

    # `workbench run` (the same core call) resumes it and finishes; no job is made twice
    full_speed()
    summary = await run_benchmark(Benchmark.load(fresh_bench))
    assert summary.resumed and summary.run_id == run_id and summary.status == "finished"
    assert summary.succeeded == 6 and summary.provider_calls == 6 - done_before
    made = made_once(run_dir)
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
        assert app.screen is screen and not screen.running and app.active_run is None
        assert any("another `workbench run` is in progress" in t for t in notifications(app))
        assert "did not start" in "\n".join(screen.query_one("#run-log").lines)
        assert not (fresh_bench / "runs").exists() or not any((fresh_bench / "runs").iterdir())

        # the box for jobs in doubt re-plans with it ticked
        dialog = await open_dialog(app, pilot)
        assert dialog._choices().retry_uncertain is False
        dialog.query_one("#plan-retry-uncertain", Checkbox).value = True
        await settle(app, pilot)
        assert dialog._choices().retry_uncertain is True and dialog.ready is not None
        assert dialog.ready.plan.retry_uncertain

        # bad field in the dialog: shown there, start refused
        dialog.query_one("#plan-repeats").value = "0"
        await settle(app, pilot)
        assert "repeats: 0 is out of range" in str(dialog.query_one("#plan-note").render())
        await pilot.press("ctrl+s")
        await pilot.pause(0.01)
        assert app.screen is dialog
        assert any("repeats: 0 is out of range" in t for t in notifications(app))
        await pilot.press("escape")
        await pilot.pause(0.01)

        # over budget: the estimate is refused before anything is spent
        toml = fresh_bench / "benchmark.toml"
        good = toml.read_text()
        toml.write_text(good.replace("flicker = 0.05", "flicker = 0.05\nprice_per_clip = 2.0")
                        + "\n[run]\nbudget = 1.0\n")
        dialog = await open_dialog(app, pilot)
        assert "Over budget" in str(dialog.query_one("#plan-note").render())
        await pilot.press("ctrl+s")
        await pilot.pause(0.01)
        assert app.screen is dialog
        assert any("over the budget of $1.00" in t for t in notifications(app))
        await pilot.press("escape")
        await pilot.pause(0.01)

        # the config broken after loading: the dialog names the file, line and key
        toml.write_text(good.replace("flicker = 0.05", "flicker = 0.05\nbogus = 1"))
        dialog = await open_dialog(app, pilot)
        assert "benchmark.toml:12: models.old.bogus: unknown key" in str(
            dialog.query_one("#plan-note").render())
        assert dialog.ready is None
        await pilot.press("escape")
        await pilot.pause(0.01)
        assert app.screen is screen

        # x is dimmed while nothing runs; r says why it cannot resume
        assert screen.check_action("stop_run", ()) is None
        await pilot.press("r")
        await pilot.pause(0.01)
        assert any("no run to resume" in t for t in notifications(app))
    assert not (fresh_bench / "runs").exists() or not any((fresh_bench / "runs").iterdir())


async def test_small_terminal_failed_jobs_their_errors_and_every_key(fresh_bench):
    toml = fresh_bench / "benchmark.toml"
    toml.write_text(toml.read_text().replace("flicker = 0.05", "flicker = 0.05\nfailure_rate = 1.0"))
    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = await start_run(app, pilot)
        await wait_until(pilot, lambda: run_finished(screen))
        await settle(app, pilot)
        summary = screen.last_summary
        assert summary is not None and summary.failed == 3 and summary.succeeded == 3
        assert cell_texts(screen.query_one("#runs-table"), 0)[2:4] == ["3/6", "3"]
        jobs = screen.query_one("#jobs-table", JobTable)
        assert column(jobs, STATE) == ["failed"] * 3 + ["done"] * 3
        assert all("synthetic failure" in text for text in column(jobs, ERROR)[:3])
        assert column(jobs, TRIES) == ["1"] * 6  # a failure's tries come from the journal too
        detail = str(screen.query_one("#job-detail").render())  # the highlighted job's whole error
        assert detail.startswith("old/hands-1 r0: synthetic failure") and "failure_rate 1" in detail
        # the clips that exist were scored; the failed ones have no video
        assert screen.last_report.scored == 3 and screen.last_report.not_generated == 3

        # every column fits, state and error included: nothing hides past the right edge
        for size in ((80, 24), (60, 20), (120, 40), (80, 24)):
            await pilot.resize_terminal(*size)
            await settle(app, pilot)
            header = jobs.line_text(0).split()
            assert header[:4] == ["prompt", "model", "rep", "state"] and header[-1] == "error", size
            assert jobs.content_width <= jobs.scrollable_content_region.width, size
            failed_line = jobs.line_text(1)  # old/hands-1 r0, failed
            assert "failed" in failed_line and "synthetic" in failed_line, (size, failed_line)
            assert re.search(r"\d+\.\ds", failed_line), (size, failed_line)  # its elapsed time
        assert "synthetic failure" in jobs.line_text(1)  # at 80 columns the error reads

        await pilot.press("f")  # failed only
        await pilot.pause(0.01)
        assert jobs.row_count == 3 and set(column(jobs, STATE)) == {"failed"}
        assert "failed only" in str(screen.query_one("#jobs-title").render())
        await pilot.press("f")
        await pilot.pause(0.01)
        assert jobs.row_count == 6

        await pilot.press("l")  # the log hides, and shows again
        await pilot.pause(0.01)
        assert not screen.query_one("#run-log").display
        await pilot.press("l")
        await pilot.pause(0.01)
        assert screen.query_one("#run-log").display

        await pilot.press("question_mark")
        await pilot.pause(0.01)
        help_text = str(app.screen.query_one("#help-text").render())
        for description in ("New run", "Resume", "Stop", "Score clips", "Failed only", "Log"):
            assert description in help_text
        await pilot.press("escape")
        await pilot.pause(0.01)
        await pilot.press("c")  # all scored already, failures included
        await settle(app, pilot)
        assert screen.last_report.scored == 0 and screen.last_report.up_to_date == 3
        assert any("nothing new to score" in text for text in notifications(app))

    # no digits (they switch screens), every key described and in the command palette
    keys = [binding.key for binding in RunsScreen.BINDINGS]
    assert not any(key.isdigit() for key in keys)
    assert all(binding.description for binding in RunsScreen.BINDINGS)
    palette = RunsScreen().palette_commands()
    assert len(palette) == len(RunsScreen.BINDINGS)
    for binding in RunsScreen.BINDINGS:
        assert any(f"({binding.key})" in help_text for _name, help_text, _cb in palette), binding.key


async def test_only_the_newest_interrupted_run_of_a_plan_is_resumable(fresh_bench):
    slow_models(fresh_bench, 0.2)
    bench = Benchmark.load(fresh_bench)
    task = asyncio.ensure_future(run_benchmark(bench, concurrency=1))
    runs_dir = fresh_bench / "runs"
    while not any(runs_dir.glob("*/videos/*/*.mp4")):
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (older,) = list_runs(fresh_bench)
    # a second interrupted run of the same plan, made later: the engine would resume that one
    newer = runs_dir / "20991231-235959-beef"
    shutil.copytree(older.path, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest.update(run_id=newer.name, created="2099-12-31T23:59:59.000Z")
    (newer / "manifest.json").write_text(json.dumps(manifest))
    assert resumable_runs(fresh_bench, list_runs(fresh_bench)) == {newer.name}

    app = WorkbenchApp(fresh_bench, start="runs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        runs = screen.query_one("#runs-table")
        assert [cell_texts(runs, i)[:2] for i in range(2)] == \
            [[newer.name, "resumable"], [older.run_id, "interrupted"]]
        await pilot.press("down")  # the older one
        await settle(app, pilot)
        assert screen.shown_run == older.run_id
        await pilot.press("r")
        await pilot.pause(0.01)
        assert app.screen is screen
        assert any("cannot be resumed: a newer interrupted run" in t for t in notifications(app))


def test_a_live_run_follows_the_engines_events(fresh_bench):
    from workbench.engine import plan_run
    from workbench.engine.events import ModelProgress, RunEvent
    from workbench.tui.screens.runs import LiveRun, RunChoices, RunRequest, event_text

    bench = Benchmark.load(fresh_bench)
    plan = plan_run(bench)
    live = LiveRun(RunRequest(bench, RunChoices(("old", "new"), 1, 2, None), plan))
    assert [key for key in live.jobs][:3] == ["old/hands-1/0", "old/smoke-1/0", "old/text-1/0"]
    assert live.is_running() and live.describe() == "a new run (6 of 6 jobs left)"

    progress = (ModelProgress("old", 3), ModelProgress("new", 3))

    def event(kind: str, **fields) -> RunEvent:
        return RunEvent(kind=kind, run_id="r1", progress=progress, **fields)

    job = dict(model="old", prompt_id="smoke-1", repeat=0)
    assert live.apply(event("run_started")) is None and live.run_id == "r1"
    row = live.apply(event("job_started", attempt=1, elapsed_s=0.0, **job))
    assert (row.state, row.attempts) == ("running", 1) and row.elapsed_now() >= 0
    assert live.apply(event("job_retrying", attempt=2, message="attempt 2 of 5", **job)).attempts == 2
    row = live.apply(event("job_failed", message="HTTP 500\nbody", elapsed_s=1.25, **job))
    assert (row.state, row.error, row.elapsed_s) == ("failed", "HTTP 500\nbody", 1.25)
    assert live.counts == {"queued": 5, "running": 0, "failed": 1}
    assert live.describe() == "run r1 (5 of 6 jobs left)"
    assert event_text(event("job_failed", message="HTTP 500\nbody", **job)) == \
        "old/smoke-1 r0 failed: HTTP 500"
    assert event_text(event("job_cached", **job)) == "old/smoke-1 r0 done (from the cache)"

    live.stop()  # before the engine's task exists: the worker sees it and does not start
    assert live.stopping and live.task is None


async def test_the_job_table_changes_rows_by_key(fresh_bench):
    from textual.app import App

    from workbench.tui.widgets.job_table import JobRow

    class One(App):
        def compose(self):
            yield JobTable()

    def rows(*states: str) -> list[JobRow]:
        return [JobRow("m", f"p{i}", 0, state, error="boom" if state == "failed" else None)
                for i, state in enumerate(states)]

    app = One()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        rebuilds = []  # times every row was replaced
        original = table.show
        table.show = lambda *a, **k: (rebuilds.append(1), original(*a, **k))[1]
        table.show_jobs(rows("queued", "queued", "queued"))
        await pilot.pause(0.01)
        assert rebuilds == [1]
        table.move_cursor(row=1)
        table.update_job(rows("queued", "running")[1])
        table.show_jobs(rows("done", "failed", "queued"))  # the same jobs, read back: in place
        assert column(table, STATE) == ["done", "failed", "queued"] and rebuilds == [1]
        assert table.highlighted_key() == "m/p1/0"
        table.show_jobs(rows("done", "failed", "queued", "queued"))  # one more at the end
        assert column(table, STATE) == ["done", "failed", "queued", "queued"]
        table.show_jobs(rows("done", "failed", "queued", "queued")[1:])  # the first one gone
        assert [cell_texts(table, i)[0] for i in range(3)] == ["p1", "p2", "p3"]
        assert table.highlighted_key() == "m/p1/0" and table.cursor_row == 0  # on its job

        table.move_cursor(row=2)
        table.show_jobs(list(reversed(rows("done", "failed", "queued", "queued"))))  # new order
        assert table.highlighted_key() == "m/p3/0" and table.cursor_row == 0
        table.set_failed_only(True)
        assert column(table, STATE) == ["failed"] and column(table, ERROR) == ["boom"]
        table.update_job(JobRow("m", "p3", 0, "failed", error="late"))  # let in, at the end
        assert column(table, ERROR) == ["boom", "late"]
        table.update_job(JobRow("m", "p1", 0, "done"))  # no longer failed: leaves the view
        assert column(table, ERROR) == ["late"]

        # a job served from the cache says so; states have their colours
        table.set_failed_only(False)
        table.update_job(JobRow("m", "p0", 0, "done", cached=True))
        assert cell_texts(table, table.keys.index("m/p0/0"))[STATE] == "cached"
        assert table.row("m/p0/0").styles[STATE] == "pass" and table.row("m/p3/0").styles[STATE] == "fail"

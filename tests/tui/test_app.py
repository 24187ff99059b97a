"""The app shell: loading, the problems screen, help, screen switching, the command palette."""

from __future__ import annotations

from workbench.tui.app import SCREENS, WorkbenchApp

SIZE = (120, 40)


async def test_loads_the_benchmark_and_switches_screens(scored_bench):
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.bench is not None and app.bench.config.name == "tiny"
        assert app.bench_version == 1
        for name, (key, _label) in SCREENS.items():
            await pilot.press(key)
            await pilot.pause()
            if name == "detail":  # pushed over the current mode, for the highlighted prompt
                assert type(app.screen).__name__ == "PromptDetailScreen"
                await pilot.press("escape")
                await pilot.pause()
            else:
                assert app.current_mode == name
                assert app.screen.query_one("ScreenTabs").current == name


async def test_clicking_a_tab_switches_screens(scored_bench):
    app = WorkbenchApp(scored_bench, start="results")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        tabs = app.screen.query_one("ScreenTabs")
        label = " 6 Gate "
        column = str(tabs.render()).index(label) + 3
        await pilot.click(tabs, offset=(column + 1, 0))  # +1: the strip's padding
        await pilot.pause()
        assert app.current_mode == "gate"


async def test_quitting_during_a_run_asks_first(scored_bench):
    class Going:
        stopped = False

        def is_running(self) -> bool:
            return not self.stopped

        def describe(self) -> str:
            return "run r1 (3 of 6 jobs left)"

        def stop(self) -> None:
            self.stopped = True

    app = WorkbenchApp(scored_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        run = Going()
        app.active_run = run
        await pilot.press("q")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        assert "run r1 (3 of 6 jobs left) is still going" in str(app.screen.query_one("#confirm-message").render())
        await pilot.press("n")  # keep working
        await pilot.pause()
        assert app.is_running and not run.stopped and type(app.screen).__name__ == "GateScreen"
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert run.stopped
    assert app.return_code == 0


async def test_a_broken_benchmark_shows_its_problems_then_reloads(fresh_bench):
    prompts = fresh_bench / "prompts.jsonl"
    good = prompts.read_text()
    prompts.write_text(good + '{"id": "hands-1", "text": "dup"}\n')
    app = WorkbenchApp(fresh_bench)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "ProblemsScreen"
        text = str(app.screen.query_one("#problems").render())
        assert "prompts.jsonl:4: id: duplicate prompt id 'hands-1'" in text
        prompts.write_text(good)
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.bench is not None and type(app.screen).__name__ != "ProblemsScreen"


async def test_help_lists_keys(scored_bench):
    app = WorkbenchApp(scored_bench)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        text = str(app.screen.query_one("#help-text").render())
        assert "Thresholds" in text and "Quit" in text
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ != "HelpScreen"


async def test_palette_offers_the_screen_s_own_commands(scored_bench):
    from workbench.tui.commands import WorkbenchCommands

    app = WorkbenchApp(scored_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+p")
        await pilot.pause()
        below = app.screen_stack[-2]  # the palette is on top of the prompts screen
        assert type(below).__name__ == "PromptsScreen"
        names = [name for name, _help, _callback in WorkbenchCommands(below)._commands()]
        assert "Go to Thresholds" in names
        assert any("Import" in name for name in names), names


async def test_results_are_read_ahead_while_another_screen_is_shown(scored_bench):
    app = WorkbenchApp(scored_bench, start="gate")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.prefetched_results is not None and app.prefetched_results[0] is app.bench
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "ResultsScreen"
        assert screen.grid is not None and screen.grid.n_rows == 3
        assert app.prefetched_results is None  # used once
        assert not [w for w in app.workers if w.group == "results-grid"]  # nothing read twice

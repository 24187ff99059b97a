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
        for mode, (key, _label) in SCREENS.items():
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode


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

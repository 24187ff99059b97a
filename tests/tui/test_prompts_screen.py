"""The Prompts screen: listing, tag filter, and every curation action writing prompts.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from workbench.tui.app import WorkbenchApp
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.prompt_form import ImportForm, PromptForm, TagForm
from workbench.tui.screens.prompts import PromptsScreen

SIZE = (120, 40)


async def settle(app, pilot, rounds: int = 4) -> None:
    """Let workers finish and the messages they post (and the reloads those start) be handled."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()


def records(root: Path) -> dict[str, dict]:
    lines = (root / "prompts.jsonl").read_text().splitlines()
    return {r["id"]: r for r in map(json.loads, filter(str.strip, lines))}


def row_ids(screen: PromptsScreen) -> list[str]:
    table = screen.query_one("#prompt-table", DataTable)
    return [row.key.value for row in table.ordered_rows]


def shown(widget: Static) -> str:
    return str(widget.render())


async def open_prompts(app, pilot) -> PromptsScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, PromptsScreen)
    return screen


async def move_to(pilot, screen: PromptsScreen, prompt_id: str) -> None:
    table = screen.query_one("#prompt-table", DataTable)
    table.focus()
    table.move_cursor(row=row_ids(screen).index(prompt_id))
    await pilot.pause()
    assert screen.current_id() == prompt_id


async def type_text(pilot, text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def test_lists_prompts_with_tag_counts_detail_and_filter(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        assert row_ids(screen) == ["hands-1", "smoke-1", "text-1"]
        tag_list = screen.query_one("#tag-list", OptionList)
        labels = [str(tag_list.get_option_at_index(i).prompt) for i in range(tag_list.option_count)]
        assert labels == ["all 3", "hands 2", "smoke 1", "text 1"]
        await move_to(pilot, screen, "text-1")
        detail = shown(screen.query_one("#detail-text", Static))
        assert "A sign that reads OPEN" in detail and "#text" in detail and "seed 7" in detail
        table = screen.query_one("#prompt-table", DataTable)
        assert table.get_row("text-1")[1:4] == ["text-1", "text, hands", "A sign that reads OPEN"]

        # filter by tag: the tag list previews as the highlight moves
        await pilot.press("f", "down")  # all -> hands
        await pilot.pause()
        assert screen.tag_filter == "hands"
        assert row_ids(screen) == ["hands-1", "text-1"]
        assert shown(screen.query_one("#prompts-status", Static)).startswith("2 prompts tagged hands (of 3)")
        await pilot.press("down")
        await pilot.pause()
        assert row_ids(screen) == ["smoke-1"]
        await pilot.press("enter")  # choosing a tag moves to the list
        await pilot.pause()
        assert app.focused is screen.query_one("#prompt-table")
        await pilot.press("f", "home")
        await pilot.pause()
        assert screen.tag_filter is None and len(row_ids(screen)) == 3

        # every action is in the palette and the help
        names = [name for name, _help, _callback in screen.palette_commands()]
        assert {"Add prompt", "Edit prompt", "Add tag", "Remove tag", "Delete prompts",
                "Import prompts"} <= set(names)
        # the app's palette provider lists this screen's commands; running one opens its form
        provider = WorkbenchCommands(screen)
        entries = {name: callback for name, _help, callback in provider._commands()}
        assert "Import prompts" in entries and "Go to Scores" in entries
        entries["Import prompts"]()
        await pilot.pause()
        assert isinstance(app.screen, ImportForm)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = str(app.screen.query_one("#help-text").render())
        assert "Prompts" in help_text and "Import" in help_text and "Delete" in help_text






async def test_add_through_the_form_invalid_input_keeps_it_open(fresh_bench):
    before = (fresh_bench / "prompts.jsonl").read_bytes()
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        form.query_one("#field-text", TextArea).load_text("A kite in a storm")
        form.query_one("#field-resolution", Input).value = "big"
        form.query_one("#field-fps", Input).value = "fast"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        error = form.query_one("#error-resolution", Static)
        assert error.display and "resolution 'big' should look like '1280x720'" in shown(error)
        assert form.query_one("#error-fps", Static).display
        assert not form.query_one("#error-seed", Static).display
        assert (fresh_bench / "prompts.jsonl").read_bytes() == before
        # the same text as an existing prompt: a general message, the form still open
        form.query_one("#field-resolution", Input).value = "1280x720"
        form.query_one("#field-fps", Input).value = ""
        form.query_one("#field-text", TextArea).load_text("a hand  WAVES")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "already prompt 'hands-1'" in shown(form.query_one("#form-error", Static))
        assert not form.query_one("#error-resolution", Static).display
        # fixed (text typed, the rest filled in): it saves, closes and shows the new prompt
        form.query_one("#field-text", TextArea).load_text("")
        form.query_one("#field-text", TextArea).focus()
        await type_text(pilot, "A kite in a storm")
        form.query_one("#field-tags", Input).value = "sky, fast-motion"
        form.query_one("#field-notes", Input).value = "the string must stay attached"
        form.query_one("#field-seed", Input).value = "12"
        form.query_one("#field-duration", Input).value = "2.5"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert records(fresh_bench)["a-kite-in-a-storm"] == {
            "id": "a-kite-in-a-storm", "text": "A kite in a storm", "tags": ["sky", "fast-motion"],
            "notes": "the string must stay attached", "seed": 12, "duration": 2.5,
            "resolution": "1280x720"}
        assert app.screen.current_id() == "a-kite-in-a-storm"
        assert "sky" in app.bench.tags()


async def test_edit_and_delete_the_highlighted_prompt(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        await move_to(pilot, screen, "text-1")
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PromptForm)
        assert form.query_one("#field-text", TextArea).text == "A sign that reads OPEN"
        assert form.query_one("#field-seed", Input).value == "7"
        assert form.query_one("#field-id", Input).disabled
        form.query_one("#field-notes", Input).value = "letters must stay legible"
        form.query_one("#field-seed", Input).value = ""
        form.query_one("#field-fps", Input).value = "30"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        edited = records(fresh_bench)["text-1"]
        assert edited["notes"] == "letters must stay legible" and edited["fps"] == 30
        assert "seed" not in edited and edited["tags"] == ["text", "hands"]
        assert "letters must stay legible" in shown(screen.query_one("#detail-text", Static))

        # delete asks first; "n" keeps the prompt, "y" deletes it
        await move_to(pilot, screen, "smoke-1")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "smoke-1" in shown(app.screen.query_one("#confirm-message", Static))
        await pilot.press("n")
        await settle(app, pilot)
        assert "smoke-1" in records(fresh_bench)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert list(records(fresh_bench)) == ["hands-1", "text-1"]
        assert row_ids(screen) == ["hands-1", "text-1"]
        tag_list = screen.query_one("#tag-list", OptionList)
        labels = [str(tag_list.get_option_at_index(i).prompt) for i in range(tag_list.option_count)]
        assert "smoke 1" not in labels




async def test_tag_the_highlighted_and_the_marked_prompts(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        await move_to(pilot, screen, "smoke-1")
        await pilot.press("plus")
        await pilot.pause()
        assert isinstance(app.screen, TagForm)
        await type_text(pilot, "Night")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TagForm)  # upper case is not a valid tag
        assert "not valid" in shown(app.screen.query_one("#form-error", Static))
        app.screen.query_one("#field-tags", Input).value = "night"
        await pilot.press("enter")
        await settle(app, pilot)
        assert records(fresh_bench)["smoke-1"]["tags"] == ["smoke", "night"]
        assert records(fresh_bench)["hands-1"]["tags"] == ["hands"]

        # mark hands-1 and smoke-1 with space, then remove "hands" from both
        await move_to(pilot, screen, "hands-1")
        await pilot.press("space", "space")
        await pilot.pause()
        assert screen.marked == {"hands-1", "smoke-1"}
        assert screen.query_one("#prompt-table", DataTable).get_row("hands-1")[0] == "●"
        await pilot.press("minus")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TagForm) and form.prompt_ids == ["hands-1", "smoke-1"]
        form.query_one("#field-tags", Input).value = "nope"
        await pilot.press("enter")
        await pilot.pause()
        assert "none of these prompts has the tag 'nope'" in shown(form.query_one("#form-error", Static))
        form.query_one("#field-tags", Input).value = "hands"
        await pilot.press("enter")
        await settle(app, pilot)
        saved = records(fresh_bench)
        assert saved["hands-1"]["tags"] == [] and saved["smoke-1"]["tags"] == ["smoke", "night"]
        assert saved["text-1"]["tags"] == ["text", "hands"]
        await pilot.press("escape")
        await pilot.pause()
        assert screen.marked == set()


async def test_a_file_changed_on_disk_is_never_overwritten_and_reload_applies_the_change(fresh_bench):
    path = fresh_bench / "prompts.jsonl"
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        edited_elsewhere = path.read_text().replace('"notes": ""', '"notes": "from the editor"', 1)
        path.write_text(edited_elsewhere)
        await move_to(pilot, screen, "hands-1")
        await pilot.press("plus")
        await pilot.pause()
        app.screen.query_one("#field-tags", Input).value = "closeup"
        await pilot.press("enter")
        await settle(app, pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        message = shown(question.query_one("#confirm-message", Static))
        assert "changed by another program" in message and "NOT written" in message
        assert path.read_text() == edited_elsewhere  # nothing lost
        assert "changed on disk" in shown(screen.query_one("#prompts-status", Static))
        await pilot.press("y")  # reload and apply again
        await settle(app, pilot)
        saved = records(fresh_bench)["hands-1"]
        assert saved["notes"] == "from the editor" and saved["tags"] == ["hands", "closeup"]
        assert isinstance(app.screen, PromptsScreen)
        assert "changed on disk" not in shown(screen.query_one("#prompts-status", Static))

        # the same in the add form: the input stays, "Reload file & save" applies it to the new file
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        form.query_one("#field-text", TextArea).load_text("Rain on a window")
        path.write_text(path.read_text() + '{"id": "extra-1", "text": "Typed in an editor"}\n')
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "changed on disk" in shown(form.query_one("#form-error", Static))
        assert form.query_one("#field-text", TextArea).text == "Rain on a window"
        assert "rain-on-a-window" not in records(fresh_bench)
        await pilot.click("#retry-fresh")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert {"extra-1", "rain-on-a-window"} <= set(records(fresh_bench))
        assert "extra-1" in row_ids(app.screen)




async def test_import_a_text_file_reports_duplicates(fresh_bench, tmp_path):
    source = tmp_path / "more.txt"
    source.write_text("# new hard cases\nA hand waves\nA dog runs through tall grass\n\n"
                      "smoke rises from a CHIMNEY\nA dog runs through tall grass\n")
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ImportForm)
        form.query_one("#field-path", Input).value = str(tmp_path / "missing.txt")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "no such file" in shown(form.query_one("#form-error", Static))
        form.query_one("#field-path", Input).value = str(source)
        form.query_one("#field-tags", Input).value = "imported"
        form.query_one("#field-path", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        report = shown(form.query_one("#import-report", Static))
        assert "Added 1 prompt: a-dog-runs-through-tall-grass" in report
        assert "Skipped 3 duplicates" in report
        assert "more.txt:2 'A hand waves' is already hands-1" in report
        assert "more.txt:5" in report and "is already smoke-1" in report
        assert "more.txt:6" in report and "is already a-dog-runs-through-tall-grass" in report
        saved = records(fresh_bench)
        assert len(saved) == 4
        assert saved["a-dog-runs-through-tall-grass"]["tags"] == ["imported"]
        await pilot.press("enter")  # Done
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert app.screen.current_id() == "a-dog-runs-through-tall-grass"


async def test_small_terminal_does_not_crash(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prompts(app, pilot)
        table = screen.query_one("#prompt-table", DataTable)
        assert len(table.columns) == 4  # params move to the detail view
        for keys in (("a",), ("escape",), ("plus",), ("escape",), ("d",), ("n",), ("i",),
                     ("escape",), ("space",), ("f", "down", "enter")):
            await pilot.press(*keys)
            await pilot.pause()
        assert isinstance(app.screen, PromptsScreen)
        assert row_ids(screen) == ["hands-1", "text-1"]

"""The Prompts screen: the list with the latest result per model, search and tag filter, and
every curation action writing prompts.jsonl (add, edit, duplicate, delete and undo, bulk tag,
import), including the refusal to overwrite a file edited elsewhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textual.widgets import Input, OptionList, Static, TextArea

from workbench.benchmark.folder import Benchmark
from workbench.tui.app import WorkbenchApp
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.prompt_detail import PromptDetailScreen
from workbench.tui.screens.prompt_form import ImportForm, PromptForm, TagForm
from workbench.tui.screens.prompts import PromptsScreen
from workbench.tui.widgets.screen_tabs import ScreenTabs
from workbench.tui.widgets.virtual_table import VirtualTable

SIZE = (120, 40)
SAMPLE = Path(__file__).resolve().parents[2] / "sample_benchmarks" / "hard-cases"


async def settle(app, pilot, rounds: int = 4) -> None:
    """Let workers finish and the messages they post (and the reloads those start) be handled."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()


def records(root: Path) -> dict[str, dict]:
    lines = (root / "prompts.jsonl").read_text().splitlines()
    return {r["id"]: r for r in map(json.loads, filter(str.strip, lines))}


def row_ids(screen: PromptsScreen) -> list[str]:
    return screen.query_one("#prompt-table", VirtualTable).keys


def row_text(screen: PromptsScreen, prompt_id: str) -> list[str]:
    return list(screen.query_one("#prompt-table", VirtualTable).row(prompt_id).cells)


def drawn(screen: PromptsScreen) -> list[str]:
    """The table's lines as they are drawn."""
    table = screen.query_one("#prompt-table", VirtualTable)
    return [table.line_text(y) for y in range(table.size.height)]


def shown(widget: Static) -> str:
    return str(widget.render())


async def open_prompts(app, pilot) -> PromptsScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, PromptsScreen)
    return screen


async def move_to(pilot, screen: PromptsScreen, prompt_id: str) -> None:
    table = screen.query_one("#prompt-table", VirtualTable)
    table.focus()
    table.move_to_key(prompt_id)
    await pilot.pause()
    assert screen.current_id() == prompt_id


async def type_text(pilot, text: str) -> None:
    keys = {" ": "space", "\n": "enter", ",": "comma", "=": "equals_sign", ".": "full_stop",
            "-": "minus"}
    await pilot.press(*[keys.get(ch, ch) for ch in text])


async def test_list_shows_latest_result_per_model_and_opens_the_detail(scored_bench):
    bench = Benchmark.load(scored_bench)
    bench.set_threshold("temporal_flicker", min=0.99, max=None)  # old (~0.98) fails, new passes
    bench.save_config()
    app = WorkbenchApp(scored_bench, start="prompts")
    opened: list[str | None] = []
    app.open_detail = opened.append  # the detail screen itself is tested on its own
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        assert str(screen.query_one(ScreenTabs).render()).split()[:2] == ["1", "Prompts"]
        assert row_ids(screen) == ["hands-1", "smoke-1", "text-1"]
        table = screen.query_one("#prompt-table", VirtualTable)
        assert [c.label for c in table.columns] == [" ", "id", "tags", "text", "old", "new"]
        assert row_text(screen, "text-1")[1:] == ["text-1", "text, hands", "A sign that reads OPEN",
                                                   "✗", "✓"]
        lines = drawn(screen)
        assert lines[0].split() == ["id", "tags", "text", "old", "new"]
        assert lines[3].split() == ["text-1", "text,", "hands", "A", "sign", "that", "reads", "OPEN", "✗", "✓"]
        await move_to(pilot, screen, "text-1")
        assert app.current_prompt_id == "text-1"
        detail = shown(screen.query_one("#detail-text", Static))
        assert "A sign that reads OPEN" in detail and "#text" in detail and "seed 7" in detail
        assert "old ✗ fails: temporal_flicker" in detail and "below min 0.99" in detail
        assert "new ✓ passes the thresholds" in detail
        await pilot.press("up")
        assert app.current_prompt_id == "smoke-1"
        await pilot.press("enter")
        assert opened == ["smoke-1"]
        # the mouse works too: a click moves the cursor, a double click opens the detail
        await pilot.click("#prompt-table", offset=(6, 1))
        assert screen.current_id() == "hands-1"
        await pilot.click("#prompt-table", offset=(6, 3), times=2)
        assert screen.current_id() == "text-1" and opened == ["smoke-1", "text-1"]

        # a prompt added since the run has "-" (not run) in every model column
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#field-text", TextArea).load_text("A kite in a storm")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert row_text(screen, "a-kite-in-a-storm")[4:] == ["-", "-"]
        assert row_text(screen, "hands-1")[4:] == ["✗", "✓"]  # the rest stays


async def test_add_and_tag_a_prompt_then_find_it_in_prompts_jsonl(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PromptForm)
        assert app.focused is form.query_one("#field-text", TextArea)
        await type_text(pilot, "Kite,\nat dusk")  # multi-line text
        form.query_one("#field-tags", Input).value = "sky, fast-motion"
        form.query_one("#field-notes", Input).value = "the string must stay attached"
        form.query_one("#field-seed", Input).value = "12"
        form.query_one("#field-params", TextArea).load_text("duration = 2.5\nresolution = 1280x720")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        new_id = "kite-at-dusk"
        assert records(fresh_bench)[new_id] == {
            "id": new_id, "text": "Kite,\nat dusk", "tags": ["sky", "fast-motion"],
            "notes": "the string must stay attached", "seed": 12, "duration": 2.5,
            "resolution": "1280x720"}
        assert screen.current_id() == new_id and app.current_prompt_id == new_id
        assert row_ids(screen)[-1] == new_id

        # tag it with + and find the tag in the file
        await pilot.press("plus")
        await pilot.pause()
        assert isinstance(app.screen, TagForm)
        await type_text(pilot, "weather")
        await pilot.press("enter")
        await settle(app, pilot)
        assert records(fresh_bench)[new_id]["tags"] == ["sky", "fast-motion", "weather"]
        assert "weather" in app.bench.tags()


async def test_bad_input_keeps_the_form_open_with_the_field_named(fresh_bench):
    before = (fresh_bench / "prompts.jsonl").read_bytes()
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        form.query_one("#field-text", TextArea).load_text("A kite in a storm")
        form.query_one("#field-seed", Input).value = "lucky"
        form.query_one("#field-params", TextArea).load_text("resolution = big\nfps = 0")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        params_error = shown(form.query_one("#error-params", Static))
        assert "resolution: resolution 'big' should look like '1280x720'" in params_error
        assert "fps: " in params_error
        assert "valid integer" in shown(form.query_one("#error-seed", Static))
        assert not form.query_one("#error-text", Static).display
        # a line that is not key = value names its line
        form.query_one("#field-seed", Input).value = ""
        form.query_one("#field-params", TextArea).load_text("fps = 24\nspeed 2")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "line 2: expected 'key = value'" in shown(form.query_one("#error-params", Static))
        assert not form.query_one("#error-seed", Static).display
        # the same text as an existing prompt: a general message, the form still open
        form.query_one("#field-params", TextArea).load_text('{"fps": 24}')
        form.query_one("#field-text", TextArea).load_text("a hand  WAVES")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "already prompt 'hands-1'" in shown(form.query_one("#form-error", Static))
        assert (fresh_bench / "prompts.jsonl").read_bytes() == before
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PromptsScreen)
        assert (fresh_bench / "prompts.jsonl").read_bytes() == before


async def test_edit_text_notes_seed_and_params(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        await move_to(pilot, screen, "text-1")
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PromptForm) and form.editing
        assert form.query_one("#field-text", TextArea).text == "A sign that reads OPEN"
        assert form.query_one("#field-seed", Input).value == "7"
        assert form.query_one("#field-id", Input).disabled
        form.query_one("#field-text", TextArea).load_text("A sign that reads OPEN\nin red letters")
        form.query_one("#field-notes", Input).value = "letters must stay legible"
        form.query_one("#field-seed", Input).value = ""
        form.query_one("#field-params", TextArea).load_text('fps = 30\nnegative_prompt = "blur"')
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert records(fresh_bench)["text-1"] == {
            "id": "text-1", "text": "A sign that reads OPEN\nin red letters", "tags": ["text", "hands"],
            "notes": "letters must stay legible", "fps": 30, "negative_prompt": "blur"}
        assert "letters must stay legible" in shown(screen.query_one("#detail-text", Static))
        # the form shows the params as key = value lines; emptying them clears them
        await pilot.press("e")
        await pilot.pause()
        params = app.screen.query_one("#field-params", TextArea)
        assert params.text == 'fps = 30\nnegative_prompt = "blur"'
        params.load_text("")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "fps" not in records(fresh_bench)["text-1"]
        assert list(records(fresh_bench)) == ["hands-1", "smoke-1", "text-1"]


async def test_duplicate_opens_the_form_with_a_new_id(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        await move_to(pilot, screen, "hands-1")
        await pilot.press("c")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PromptForm) and form.duplicating
        assert form.query_one("#field-id", Input).value == "hands-2"
        assert not form.query_one("#field-id", Input).disabled
        assert form.query_one("#field-text", TextArea).text == "A hand waves"
        # an exact copy would test nothing new
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "would generate exactly what prompt 'hands-1' does" in shown(
            form.query_one("#error-text", Static))
        form.query_one("#field-seed", Input).value = "99"
        form.query_one("#field-params", TextArea).load_text("aspect_ratio = 9:16")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert list(records(fresh_bench)) == ["hands-1", "hands-2", "smoke-1", "text-1"]
        assert records(fresh_bench)["hands-2"] == {
            "id": "hands-2", "text": "A hand waves", "tags": ["hands"], "notes": "", "seed": 99,
            "aspect_ratio": "9:16"}
        assert screen.current_id() == "hands-2"
        assert row_ids(screen) == ["hands-1", "hands-2", "smoke-1", "text-1"]


async def test_delete_marked_prompts_and_undo(fresh_bench):
    path = fresh_bench / "prompts.jsonl"
    original = path.read_bytes()
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        await pilot.press("u")  # nothing to undo yet: a warning, no change
        await settle(app, pilot)
        assert path.read_bytes() == original
        await move_to(pilot, screen, "hands-1")
        await pilot.press("space", "down", "space")  # mark hands-1 and text-1
        await pilot.pause()
        assert screen.marked == {"hands-1", "text-1"}
        await pilot.press("d")
        await settle(app, pilot)
        assert list(records(fresh_bench)) == ["smoke-1"]
        assert row_ids(screen) == ["smoke-1"] and screen.marked == set()
        assert "u restores hands-1, text-1" in shown(screen.query_one("#prompts-status", Static))
        await move_to(pilot, screen, "smoke-1")
        await pilot.press("delete")
        await settle(app, pilot)
        assert records(fresh_bench) == {}
        assert "No prompts here" in shown(screen.query_one("#detail-text", Static))
        await pilot.press("u")  # the last deletion first
        await settle(app, pilot)
        assert list(records(fresh_bench)) == ["smoke-1"]
        await pilot.press("u")
        await settle(app, pilot)
        assert path.read_bytes() == original  # every prompt back at its old place
        assert row_ids(screen) == ["hands-1", "smoke-1", "text-1"]
        assert screen.current_id() == "hands-1"
        assert screen.undo_stack == []


def highlighted_lines(screen: PromptsScreen) -> list[str]:
    """The table lines drawn with the cursor's colours (exactly one while a row is shown)."""
    table = screen.query_one("#prompt-table", VirtualTable)
    cursor = (table.rich_style + table.get_component_rich_style("virtual-table--cursor",
                                                                  partial=True)).bgcolor
    lines = [table.render_line(y) for y in range(1, table.size.height)]
    return [line.text for line in lines if list(line) and list(line)[0].style.bgcolor == cursor]


def assert_in_step(app, screen: PromptsScreen, prompt_id: str) -> None:
    """The cursor, the drawn highlight, the detail pane and the app's current prompt agree."""
    assert screen.current_id() == prompt_id
    (line,) = highlighted_lines(screen)
    assert line.split()[0].rstrip("…") in prompt_id, line
    assert shown(screen.query_one("#detail-text", Static)).split()[0] == prompt_id
    assert app.current_prompt_id == prompt_id


async def test_cursor_highlight_detail_and_actions_stay_in_step_after_delete_undo_and_reloads(tmp_path):
    root = tmp_path / "hard-cases"
    shutil.copytree(SAMPLE, root)
    app = WorkbenchApp(root, start="prompts")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prompts(app, pilot)
        ids = row_ids(screen)
        await move_to(pilot, screen, ids[3])
        await pilot.press("space", "up", "up")  # mark one prompt, then go to another
        assert screen.marked == {ids[3]}
        assert_in_step(app, screen, ids[2])
        await pilot.press("d")  # deletes the marked prompt; the cursor stays where it is
        await settle(app, pilot)
        assert ids[3] not in records(root) and row_ids(screen) == ids[:3] + ids[4:]
        assert_in_step(app, screen, ids[2])
        await pilot.press("u")  # it comes back, and the cursor goes to it
        await settle(app, pilot)
        assert list(records(root)) == ids == row_ids(screen)
        assert_in_step(app, screen, ids[3])

        # the row acted on is the row highlighted
        await pilot.press("up")
        assert_in_step(app, screen, ids[2])
        await pilot.press("space")  # marks it and moves on
        assert screen.marked == {ids[2]}
        assert_in_step(app, screen, ids[3])
        await pilot.press("escape", "e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PromptForm) and form.editing and form.prompt.id == ids[3]
        await pilot.press("escape")
        await pilot.pause()
        assert_in_step(app, screen, ids[3])

        # the detail screen steps to another prompt; a reload meanwhile leaves that one current,
        # and back on the list the cursor is on it
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptDetailScreen)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert app.current_prompt_id == ids[4]
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert app.current_prompt_id == ids[4]
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen
        assert_in_step(app, screen, ids[4])


async def test_search_and_tag_filter_combine_and_bulk_tag_what_they_show(fresh_bench):
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        tag_list = screen.query_one("#tag-list", OptionList)
        labels = [str(tag_list.get_option_at_index(i).prompt) for i in range(tag_list.option_count)]
        assert labels == ["all 3", "hands 2", "smoke 1", "text 1"]
        # the tag list opens on f (it stays closed at this width) and previews as it moves
        assert not screen.query_one("#tag-pane").display
        await pilot.press("f", "down")  # all -> hands
        await pilot.pause()
        assert screen.query_one("#tag-pane").display
        assert screen.tag_filter == "hands" and row_ids(screen) == ["hands-1", "text-1"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is screen.query_one("#prompt-table")
        assert not screen.query_one("#tag-pane").display
        # search by text within the tag
        await pilot.press("slash")
        assert app.focused is screen.query_one("#search", Input)
        await type_text(pilot, "SIGN")
        await pilot.pause()
        assert row_ids(screen) == ["text-1"]
        status = shown(screen.query_one("#prompts-status", Static))
        assert status.startswith("1 prompt tagged hands matching 'SIGN' (of 3)")
        await pilot.press("escape")  # leaves the search box, keeps the query
        assert app.focused is screen.query_one("#prompt-table")
        assert row_ids(screen) == ["text-1"]
        await pilot.press("f", "home", "enter")  # all tags: the search alone
        await pilot.pause()
        assert screen.tag_filter is None and row_ids(screen) == ["text-1"]
        await pilot.press("escape")  # clears the search
        await pilot.pause()
        assert row_ids(screen) == ["hands-1", "smoke-1", "text-1"]

        # search "a", mark every prompt shown, tag them all, then untag two of them
        screen.query_one("#search", Input).value = "hand"
        await pilot.pause()
        assert row_ids(screen) == ["hands-1"]
        screen.query_one("#search", Input).value = "a"
        await pilot.pause()
        await pilot.press("m")
        assert screen.marked == {"hands-1", "smoke-1", "text-1"}
        await pilot.press("plus")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TagForm) and form.prompt_ids == ["hands-1", "smoke-1", "text-1"]
        await type_text(pilot, "no/slash")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form  # not a valid tag
        assert "not valid" in shown(form.query_one("#form-error", Static))
        form.query_one("#field-tags", Input).value = "Night review"  # typed as people do: lower-cased
        await pilot.press("enter")
        await settle(app, pilot)
        assert all(r["tags"][-2:] == ["night", "review"] for r in records(fresh_bench).values())
        await move_to(pilot, screen, "hands-1")
        await pilot.press("m")  # all were marked: m unmarks them
        assert screen.marked == set()
        await pilot.press("space", "space")
        await pilot.press("minus")
        await pilot.pause()
        form = app.screen
        form.query_one("#field-tags", Input).value = "nope"
        await pilot.press("enter")
        await pilot.pause()
        assert "none of these prompts has the tag 'nope'" in shown(form.query_one("#form-error", Static))
        form.query_one("#field-tags", Input).value = "night, hands"
        await pilot.press("enter")
        await settle(app, pilot)
        saved = records(fresh_bench)
        assert saved["hands-1"]["tags"] == ["review"] and saved["smoke-1"]["tags"] == ["smoke", "review"]
        assert saved["text-1"]["tags"] == ["text", "hands", "night", "review"]
        await pilot.press("escape")
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
        assert "(add tag closeup to hands-1)" in message
        assert path.read_text() == edited_elsewhere  # nothing lost
        assert "changed on disk" in shown(screen.query_one("#prompts-status", Static))
        await pilot.press("y")  # reload and apply again
        await settle(app, pilot)
        saved = records(fresh_bench)["hands-1"]
        assert saved["notes"] == "from the editor" and saved["tags"] == ["hands", "closeup"]
        assert isinstance(app.screen, PromptsScreen)
        assert "changed on disk" not in shown(screen.query_one("#prompts-status", Static))

        # a delete refused the same way; "not now" leaves the file alone
        path.write_text(path.read_text() + '{"id": "extra-1", "text": "Typed in an editor"}\n')
        edited_again = path.read_text()
        await move_to(pilot, screen, "smoke-1")
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
        assert path.read_text() == edited_again and screen.undo_stack == []
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert "extra-1" in row_ids(screen)

        # in the add form: the input stays, "Reload file & save" applies it to the new file
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        form.query_one("#field-text", TextArea).load_text("Rain on a window")
        path.write_text(path.read_text() + '{"id": "extra-2", "text": "Also typed in an editor"}\n')
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "changed on disk" in shown(form.query_one("#form-error", Static))
        assert form.query_one("#field-text", TextArea).text == "Rain on a window"
        assert "rain-on-a-window" not in records(fresh_bench)
        await pilot.click("#retry-fresh")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert {"extra-1", "extra-2", "rain-on-a-window"} <= set(records(fresh_bench))
        assert "extra-2" in row_ids(app.screen)


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
        assert "more.txt:6" in report and "is already a-dog-runs-through-tall-grass" in report
        saved = records(fresh_bench)
        assert len(saved) == 4 and saved["a-dog-runs-through-tall-grass"]["tags"] == ["imported"]
        await pilot.press("enter")  # Done
        await settle(app, pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert app.screen.current_id() == "a-dog-runs-through-tall-grass"


async def test_keys_palette_help_and_text_shown_as_typed(fresh_bench):
    path = fresh_bench / "prompts.jsonl"
    path.write_text(path.read_text() + '{"id": "markup-1", "text": "A sign reading [b]SALE[/b] [red]"}\n')
    app = WorkbenchApp(fresh_bench, start="prompts")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(app, pilot)
        assert row_text(screen, "markup-1")[3] == "A sign reading [b]SALE[/b] [red]"
        assert "[b]SALE[/b] [red]" in drawn(screen)[4]
        await move_to(pilot, screen, "markup-1")
        assert "[b]SALE[/b] [red]" in shown(screen.query_one("#detail-text", Static))
        keys = [k for binding in PromptsScreen.BINDINGS for k in binding.key.split(",")]
        assert not any(k.isdigit() or k in ("q", "question_mark") for k in keys)
        assert all(binding.description for binding in PromptsScreen.BINDINGS)
        actions = {binding.action for binding in PromptsScreen.BINDINGS}
        palette = {callback.__name__ for _name, _help, callback in screen.palette_commands()}
        assert {f"action_{a}" for a in actions} - {"action_escape"} <= palette
        provider = WorkbenchCommands(screen)
        entries = {name: callback for name, _help, callback in provider._commands()}
        assert "Duplicate prompt" in entries and "Go to Results" in entries
        screen.query_one("#search", Input).value = "sign"
        screen.tag_filter = "text"
        await pilot.pause()
        assert row_ids(screen) == ["text-1"]
        entries["Show all prompts"]()
        await pilot.pause()
        assert row_ids(screen) == ["hands-1", "smoke-1", "text-1", "markup-1"]
        assert screen.query_one("#search", Input).value == "" and screen.tag_filter is None
        entries["Import prompts"]()
        await pilot.pause()
        assert isinstance(app.screen, ImportForm)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = str(app.screen.query_one("#help-text").render())
        for word in ("Prompts", "Duplicate", "Undo", "Search", "Mark all shown", "Detail", "Import"):
            assert word in help_text


async def test_small_terminal_and_a_long_list(scored_bench):
    path = scored_bench / "prompts.jsonl"
    path.write_text(path.read_text() + "".join(
        json.dumps({"id": f"case-{i:03d}", "text": f"Case number {i}"}) + "\n" for i in range(300)))
    app = WorkbenchApp(scored_bench, start="prompts")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prompts(app, pilot)
        table = screen.query_one("#prompt-table", VirtualTable)
        assert len(table.columns) == 6  # mark, id, tags, text, old, new
        assert table.content_width <= table.size.width  # no sideways scroll
        assert drawn(screen)[1].split()[-2:] == ["✓", "✓"]
        assert drawn(screen)[4].split()[-2:] == ["-", "-"]  # case-000: not run
        assert table.row_count == 303

        # the cursor scrolls the list
        await pilot.press("end")
        assert screen.current_id() == "case-299" and app.current_prompt_id == "case-299"
        assert any("case-299" in line for line in drawn(screen))
        assert not any("hands-1" in line for line in drawn(screen))
        await pilot.press("pageup", "home")
        assert screen.current_id() == "hands-1"
        assert drawn(screen)[1].split()[:1] == ["hands-1"]
        screen.query_one("#search", Input).value = "number 29"  # words match anywhere
        await pilot.pause()
        assert table.keys == ["case-029", "case-129", "case-229", *(f"case-{i}" for i in range(290, 300))]
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 303

        # every form and the tag list open and close at this size
        for keys in (("a",), ("escape",), ("plus",), ("escape",), ("i",), ("escape",),
                     ("space",), ("f", "down", "enter"), ("slash", "z", "escape"),
                     ("escape",), ("escape",)):
            await pilot.press(*keys)
            await pilot.pause()
        assert isinstance(app.screen, PromptsScreen)
        assert row_ids(screen) == ["hands-1", "text-1"]  # the tag filter stays
        assert screen.marked == set() and screen.search_query == ""

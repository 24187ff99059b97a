"""The Prompts screen: the benchmark's hard cases with their latest result per model;
search and tag filter; add, edit, duplicate, delete (with undo), tag in bulk, import.

Every change goes through the core curation functions (workbench.benchmark.curation) in
a thread worker, on a copy of the loaded benchmark, and is saved to prompts.jsonl at once;
then the app reloads so every screen sees it. If prompts.jsonl changed on disk meanwhile,
nothing is written and the screen offers to reload the file and apply the change again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import DescendantBlur
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from workbench.benchmark.curation import (
    DeletedPrompts, ImportReport, delete_prompts, filter_prompts, restore_prompts,
    suggest_copy_id, tag_prompts,
)
from workbench.benchmark.folder import Benchmark
from workbench.benchmark.prompts import Prompt
from workbench.errors import FileConflict, WorkbenchError
from workbench.latest_results import LatestResults, latest_results
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.prompt_form import ImportForm, PromptForm, TagForm, working_copy
from workbench.tui.screens.prompt_rows import (
    describe_result, param_summary, prompt_columns, prompt_row,
)
from workbench.tui.widgets.screen_tabs import ScreenTabs
from workbench.tui.widgets.virtual_table import VirtualTable

ALL = "__all__"
UNTAGGED = "__untagged__"


@dataclass
class ChangeResult:
    """What a change did: a one-line summary, and what the screen should remember."""

    summary: str
    focus: str | None = None  # the prompt to highlight after the reload
    deleted: DeletedPrompts | None = None  # what an undo would restore
    restored: DeletedPrompts | None = None  # the deletion this change undid


#: A change to apply to a benchmark (already a private copy).
Change = Callable[[Benchmark], ChangeResult]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _listing(ids: list[str], most: int = 6) -> str:
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


class PromptTable(VirtualTable):
    """The prompt list: enter opens the highlighted prompt's detail."""

    BINDINGS = [Binding("enter", "select", "Detail")]


class PromptsScreen(Screen):
    HELP_TITLE = "Prompts"
    CSS_PATH = "prompts.tcss"
    AUTO_FOCUS = "#prompt-table"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-medium"), (140, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("enter", "open_detail", "Detail"),
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("c", "duplicate", "Duplicate"),
        Binding("d,delete", "delete", "Delete"),
        Binding("u", "undo", "Undo"),
        Binding("space", "mark", "Mark"),
        Binding("m", "mark_all", "Mark all shown", show=False),
        Binding("plus", "tag_add", "Tag", key_display="+"),
        Binding("minus", "tag_remove", "Untag", key_display="-", show=False),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("f", "focus_tags", "Tags"),
        Binding("i", "import", "Import", show=False),
        Binding("escape", "escape", "Unmark / clear search", show=False),
    ]

    @dataclass
    class Saved(Message):
        """A change was written to prompts.jsonl."""
        result: ChangeResult

    @dataclass
    class SaveFailed(Message):
        """A change was refused; nothing was written."""
        error: BaseException
        change: Change
        description: str

    @dataclass
    class ResultsLoaded(Message):
        """The latest result per prompt and model was read from the runs and scores."""
        results: LatestResults
        version: int

    @dataclass
    class ResultsFailed(Message):
        error: BaseException
        version: int

    def __init__(self) -> None:
        super().__init__()
        self.tag_filter: str | None = None
        self.search_query = ""
        self.marked: set[str] = set()
        self.results: LatestResults | None = None
        self.undo_stack: list[DeletedPrompts] = []
        self._writing = False
        self._focus_id: str | None = None  # the prompt to highlight once the reload lands
        self._focus_origin: str | None = None  # where the cursor was when that was decided
        self._write_origin: str | None = None  # where the cursor was when the last change started
        self._follow_on_resume = False  # left for the detail or another screen: follow its prompt
        self._conflict = False
        self._shown_models: tuple[str, ...] = ()

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenTabs("prompts")
        yield Static("loading the benchmark…", id="prompts-loading", classes="empty-state")
        with Horizontal(id="prompts-body"):
            with Vertical(id="tag-pane"):
                yield Static("Tags (f)", classes="title")
                yield OptionList(id="tag-list")
            with Vertical(id="main-pane"):
                yield Input(placeholder="search id, text and notes (/)", id="search", compact=True)
                yield Static("", id="prompts-status", markup=False)
                yield PromptTable(id="prompt-table")
                with VerticalScroll(id="prompt-detail"):
                    yield Static("", id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "bench_version", self._refresh, init=True)

    def on_screen_suspend(self) -> None:
        # the detail screen ([ ]) and the other screens move the shared prompt; a form of ours does not
        self._follow_on_resume = not isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        follow, self._follow_on_resume = self._follow_on_resume, False
        wanted = self.app.current_prompt_id
        if follow and wanted is not None and wanted != self.current_id():
            self.table.move_to_key(wanted)  # (stays put when the filters hide it)
        self._highlighted()
        # runs and scoring happen on other screens: read the latest results again on return
        if self.app.bench is not None:
            self._start_results()

    # ------------------------------------------------------------ queries
    @property
    def bench(self) -> Benchmark | None:
        return self.app.bench

    def visible_prompts(self) -> list[Prompt]:
        """The prompts the tag filter and the search leave, in file order."""
        bench = self.bench
        if bench is None:
            return []
        untagged = self.tag_filter == UNTAGGED
        return filter_prompts(bench.prompts, tag=None if untagged else self.tag_filter,
                              untagged=untagged, query=self.search_query)

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#prompt-table", VirtualTable)

    def current_id(self) -> str | None:
        return self.table.cursor_key

    def _loaded_prompt(self, prompt_id: str | None) -> Prompt | None:
        """The prompt of the loaded benchmark with this id (None while a reload catches up)."""
        bench = self.bench
        if bench is None or prompt_id is None:
            return None
        return next((p for p in bench.prompts if p.id == prompt_id), None)

    def targets(self) -> list[str]:
        """The marked prompts (in file order), or else the highlighted one."""
        bench = self.bench
        if bench is None:
            return []
        if self.marked:
            return [p.id for p in bench.prompts if p.id in self.marked]
        current = self.current_id()
        return [current] if current else []

    def _width_class(self) -> str:
        for name in ("-wide", "-medium"):
            if self.has_class(name):
                return name
        return "-narrow"

    def _tags_pinned(self) -> bool:
        """The tag pane stays open on wide screens; elsewhere ``f`` opens it for a choice."""
        return self.has_class("-wide")

    # ------------------------------------------------------------ refresh
    def _refresh(self, _version: int = 0) -> None:
        bench = self.bench
        loading = bench is None
        self.query_one("#prompts-loading").display = loading
        self.query_one("#prompts-body").display = not loading
        if bench is None:
            return
        self._conflict = False
        ids = {p.id for p in bench.prompts}
        self.marked &= ids
        self._fill_tags(bench)
        self._fill_table()
        self._focus_after_reload(None, None)
        self._start_results()

    def _fill_tags(self, bench: Benchmark) -> None:
        counts = Counter(t for p in bench.prompts for t in p.tags)
        untagged = sum(1 for p in bench.prompts if not p.tags)
        if self.tag_filter == UNTAGGED and not untagged:
            self.tag_filter = None
        elif self.tag_filter not in (None, UNTAGGED) and self.tag_filter not in counts:
            self.tag_filter = None
        options = [Option(self._tag_label("all", len(bench.prompts)), id=ALL)]
        options += [Option(self._tag_label(tag, counts[tag]), id=tag) for tag in sorted(counts)]
        if untagged:
            options.append(Option(self._tag_label("(untagged)", untagged), id=UNTAGGED))
        tag_list = self.query_one("#tag-list", OptionList)
        with tag_list.prevent(OptionList.OptionHighlighted):
            tag_list.set_options(options)
            wanted = self.tag_filter or ALL
            tag_list.highlighted = next(i for i, o in enumerate(options) if o.id == wanted)

    @staticmethod
    def _tag_label(name: str, count: int) -> Content:
        return Content.assemble(name, (f" {count}", "$text-muted"))

    def _fill_table(self) -> None:
        """Show the prompts the filters leave; the cursor stays on its prompt (or goes to the
        one just saved)."""
        prompts = self.visible_prompts()
        columns = prompt_columns(prompts, self.results, self._width_class())
        rows = [prompt_row(p, self.results, self.marked) for p in prompts]
        empty = ""
        if not prompts and self.bench is not None and self.bench.prompts:
            empty = "no prompt matches: esc clears the search, f picks another tag"
        self.table.show(columns, rows, keep=self._wanted_focus(), empty_message=empty)
        self._shown_models = self.results.models if self.results is not None else ()
        self._highlighted()
        self._show_status()

    def _wanted_focus(self) -> str | None:
        """The prompt a change asked to highlight, unless the user moved the cursor since."""
        if self._focus_id is None or self.current_id() != self._focus_origin:
            return None
        return self._focus_id

    def _focus_after_reload(self, prompt_id: str | None, origin: str | None) -> None:
        self._focus_id, self._focus_origin = prompt_id, origin

    def _update_rows(self, prompt_ids: set[str] | None = None) -> None:
        """Redraw some rows (all shown, for None) after marks or results changed."""
        bench = self.bench
        if bench is None:
            return
        wanted = [p for p in bench.prompts if prompt_ids is None or p.id in prompt_ids]
        self.table.update_rows([prompt_row(p, self.results, self.marked) for p in wanted])

    def _show_status(self) -> None:
        bench = self.bench
        status = self.query_one("#prompts-status", Static)
        if bench is None:
            return
        status.set_class(self._conflict, "conflict")
        if self._conflict:
            status.update(f"{bench.prompts_path.name} changed on disk: not saved, ctrl+r reloads")
            return
        shown = len(self.visible_prompts())
        text = _plural(shown, "prompt")
        if self.tag_filter == UNTAGGED:
            text += " without tags"
        elif self.tag_filter is not None:
            text += f" tagged {self.tag_filter}"
        if self.search_query.strip():
            text += f" matching {self.search_query.strip()!r}"
        if shown != len(bench.prompts):
            text += f" (of {len(bench.prompts)})"
        if self.marked:
            text += f" · {len(self.marked)} marked: actions apply to them (esc unmarks)"
        elif self.undo_stack:
            text += f" · u restores {_listing(self.undo_stack[-1].ids, 3)}"
        if self.results is not None and not self.results.models:
            text += " · no runs yet"
        status.update(text)

    def _highlighted(self) -> None:
        """The cursor's prompt is the app's current prompt (while this screen is the one shown:
        a reload in the background must not move the prompt another screen shows), and the
        detail pane shows it."""
        current = self.current_id()
        if current is not None and self.is_active:
            self.app.current_prompt_id = current
        self._show_detail()

    def _show_detail(self) -> None:
        box = self.query_one("#detail-text", Static)
        bench = self.bench
        prompt = self._loaded_prompt(self.current_id())
        if bench is None or prompt is None:
            hint = ("No prompts match. Esc clears the search." if bench is not None and bench.prompts
                    else "No prompts here. Press a to add one, i to import a file.")
            box.update(Content.styled(hint, "$text-muted"))
            return
        parts: list[str | tuple[str, str]] = [(prompt.id, "bold")]
        if prompt.tags:
            parts.append(("  " + "  ".join(f"#{t}" for t in prompt.tags), "$accent"))
        parts += ["\n", prompt.text, "\n"]
        if prompt.notes:
            parts += [("notes: ", "bold"), prompt.notes, "\n"]
        parts.append(("params: ", "bold"))
        parts.append(param_summary(prompt) or ("defaults of each model", "$text-muted"))
        if prompt.negative_prompt:
            parts += ["\n", ("negative: ", "bold"), prompt.negative_prompt]
        parts += self._detail_results(prompt.id)
        box.update(Content.assemble(*parts))

    def _detail_results(self, prompt_id: str) -> list[str | tuple[str, str]]:
        if self.results is None:
            return ["\n", ("latest: reading runs and scores…", "$text-muted")]
        if not self.results.models:
            return ["\n", ("latest: no runs yet", "$text-muted")]
        parts: list[str | tuple[str, str]] = ["\n", ("latest:", "bold")]
        for model, result in self.results.for_prompt(prompt_id):
            parts += ["\n  ", (model, "bold"), " "]
            parts += describe_result(result)
        return parts

    # ------------------------------------------------------------ latest results
    def _start_results(self) -> None:
        bench = self.bench
        if bench is not None:
            self._load_results(bench, self.app.bench_version)

    @work(thread=True, exclusive=True, group="prompts-results", exit_on_error=False)
    def _load_results(self, bench: Benchmark, version: int) -> None:
        try:
            results = latest_results(bench)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.ResultsFailed(error, version))
            return
        self.post_message(self.ResultsLoaded(results, version))

    @on(ResultsLoaded)
    def _results_loaded(self, message: ResultsLoaded) -> None:
        if message.version != self.app.bench_version or self.bench is None:
            return  # a reload is under way; its own results follow
        self.results = message.results
        if message.results.models != self._shown_models:
            self._fill_table()  # other columns
        else:
            self._update_rows()
            self._highlighted()
            self._show_status()

    @on(ResultsFailed)
    def _results_failed(self, message: ResultsFailed) -> None:
        if message.version == self.app.bench_version:
            self.app.show_error(message.error, title="latest results")

    # ------------------------------------------------------------ events
    @on(OptionList.OptionHighlighted, "#tag-list")
    @on(OptionList.OptionSelected, "#tag-list")
    def _tag_chosen(self, event: OptionList.OptionHighlighted | OptionList.OptionSelected) -> None:
        wanted = None if event.option.id == ALL else event.option.id
        if wanted != self.tag_filter:
            self.tag_filter = wanted
            self._fill_table()
        if isinstance(event, OptionList.OptionSelected):
            self.table.focus()

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        if event.widget.id == "tag-list":
            self.remove_class("-show-tags")

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if event.value != self.search_query:
            self.search_query = event.value
            if self.bench is not None:
                self._fill_table()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.table.focus()

    def on_resize(self) -> None:
        # the caps on the id, tags and model columns depend on the width class
        if self.bench is not None:
            self.call_after_refresh(self._fill_table)

    @on(VirtualTable.Highlighted, "#prompt-table")
    def _row_highlighted(self) -> None:
        self._highlighted()

    @on(VirtualTable.Selected, "#prompt-table")
    def _row_selected(self) -> None:
        self.action_open_detail()

    # ------------------------------------------------------------ actions
    def _ready(self) -> bool:
        """True when a change may start now (benchmark loaded, no save or reload under way)."""
        if self.bench is None:
            self.notify("the benchmark is still loading", severity="warning")
            return False
        reloading = any(w.group == "load" and not w.is_finished for w in self.app.workers)
        if self._writing or reloading:
            self.notify("saving the last change; try again in a moment", severity="warning")
            return False
        return True

    def _highlighted_prompt(self) -> Prompt | None:
        prompt = self._loaded_prompt(self.current_id())
        if prompt is None:
            self.notify("no prompt highlighted", severity="warning")
        return prompt

    def action_open_detail(self) -> None:
        prompt = self._highlighted_prompt()
        if prompt is not None:
            self.app.current_prompt_id = prompt.id
            self.app.open_detail(prompt.id)

    def action_add(self) -> None:
        if self._ready():
            self.app.push_screen(PromptForm(), self._form_closed)

    def action_edit(self) -> None:
        prompt = self._highlighted_prompt()
        if prompt is not None and self._ready():
            self.app.push_screen(PromptForm(prompt), self._form_closed)

    def action_duplicate(self) -> None:
        prompt = self._highlighted_prompt()
        if prompt is not None and self._ready():
            suggested = suggest_copy_id(self.bench, prompt.id)
            self.app.push_screen(PromptForm(prompt, copy_id=suggested), self._form_closed)

    def _form_closed(self, prompt: Prompt | None) -> None:
        if prompt is None:
            return
        self._focus_after_reload(prompt.id, self.current_id())
        self._reveal([prompt])
        self.notify(f"saved {prompt.id}")
        self.app.load_benchmark()

    def _reveal(self, prompts: list[Prompt]) -> None:
        """Clear the tag filter and search if they would hide all of ``prompts``."""
        untagged = self.tag_filter == UNTAGGED
        if filter_prompts(prompts, untagged=untagged, tag=None if untagged else self.tag_filter,
                          query=self.search_query):
            return
        self.tag_filter = None
        self.search_query = ""
        self.query_one("#search", Input).value = ""

    def action_mark(self) -> None:
        current = self.current_id()
        if current is None:
            return
        self.marked ^= {current}
        self._update_rows({current})
        self.table.action_cursor(1)
        self._show_status()

    def action_mark_all(self) -> None:
        """Mark every prompt shown (after filter and search); if all are, unmark them."""
        shown = {p.id for p in self.visible_prompts()}
        if not shown:
            return
        if shown <= self.marked:
            self.marked -= shown
        else:
            self.marked |= shown
        self._update_rows(shown)
        self._show_status()

    def action_clear_marks(self) -> None:
        if not self.marked:
            return
        unmarked, self.marked = self.marked, set()
        self._update_rows(unmarked)
        self._show_status()

    def action_escape(self) -> None:
        """Leave the search or tag list; else unmark; else clear the search."""
        focused = self.focused
        if focused is not None and focused.id in ("search", "tag-list"):
            self.table.focus()
        elif self.marked:
            self.action_clear_marks()
        elif self.search_query:
            self.query_one("#search", Input).value = ""

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_show_all(self) -> None:
        """Clear the search and the tag filter."""
        self.tag_filter = None
        self.search_query = ""
        self.query_one("#search", Input).value = ""
        if self.bench is not None:
            self._fill_tags(self.bench)
            self._fill_table()

    def action_focus_tags(self) -> None:
        if not self._tags_pinned():
            self.add_class("-show-tags")
        self.query_one("#tag-list", OptionList).focus()

    def _ask_tags(self, remove: bool) -> None:
        ids = self.targets()
        if not ids:
            self.notify("no prompt highlighted", severity="warning")
            return
        if not self._ready():
            return
        bench = self.bench
        present = sorted({t for p in bench.prompts if p.id in ids for t in p.tags})
        form = TagForm(ids, remove=remove, known_tags=bench.tags(), present_tags=present)

        def chosen(tags: list[str] | None) -> None:
            if not tags:
                return
            kind = "removed" if remove else "added"

            def change(target: Benchmark) -> ChangeResult:
                changed = tag_prompts(target, ids, add=[] if remove else tags,
                                      remove=tags if remove else [])
                if not changed:
                    return ChangeResult("nothing to change")
                return ChangeResult(f"{kind} {', '.join(tags)} on {_plural(len(changed), 'prompt')}")

            where = "from" if remove else "to"
            verb = "remove" if remove else "add"
            self.start_write(change, f"{verb} tag {', '.join(tags)} {where} {_listing(ids)}")

        self.app.push_screen(form, chosen)

    def action_tag_add(self) -> None:
        self._ask_tags(remove=False)

    def action_tag_remove(self) -> None:
        self._ask_tags(remove=True)

    def action_delete(self) -> None:
        """Delete the marked (or highlighted) prompts at once; ``u`` brings them back."""
        ids = self.targets()
        if not ids:
            self.notify("no prompt highlighted", severity="warning")
            return
        if not self._ready():
            return
        focus = self._focus_after_delete(ids)

        def change(target: Benchmark) -> ChangeResult:
            deleted = delete_prompts(target, ids)
            return ChangeResult(f"deleted {_listing(deleted.ids)} (u undoes)", focus=focus,
                                deleted=deleted)

        self.start_write(change, f"delete {_listing(ids)}")

    def _focus_after_delete(self, ids: list[str]) -> str | None:
        """Where the cursor goes once ``ids`` are gone: it stays on its prompt if that one is
        kept, else on the next shown prompt that is kept (or the last one before)."""
        visible = [p.id for p in self.visible_prompts()]
        current = self.current_id()
        if current is not None and current not in ids and current in visible:
            return current
        gone = set(ids)
        start = visible.index(current) if current in visible else len(visible)
        after = [i for i in visible[start:] if i not in gone]
        before = [i for i in visible[:start] if i not in gone]
        return after[0] if after else (before[-1] if before else None)

    def action_undo(self) -> None:
        """Put the last deleted prompts back where they were."""
        if not self.undo_stack:
            self.notify("nothing to undo: no prompt was deleted here", severity="warning")
            return
        if not self._ready():
            return
        deleted = self.undo_stack[-1]

        def change(target: Benchmark) -> ChangeResult:
            restored = restore_prompts(target, deleted)
            return ChangeResult(f"restored {_listing([p.id for p in restored])}",
                                focus=restored[0].id, restored=deleted)

        self.start_write(change, f"restore {_listing(deleted.ids)}")

    def action_import(self) -> None:
        if self._ready():
            self.app.push_screen(ImportForm(), self._import_closed)

    def _import_closed(self, report: ImportReport | None) -> None:
        if report is not None and report.added:
            self._focus_after_reload(report.added[0].id, self.current_id())
            self.tag_filter = None
            self.search_query = ""
            self.query_one("#search", Input).value = ""
            if self.bench is not None and report.added[0].id in {p.id for p in self.bench.prompts}:
                self._refresh()  # the reload finished while the report was open
            self.notify(f"imported {_plural(len(report.added), 'prompt')}, "
                        f"skipped {_plural(len(report.duplicates), 'duplicate')}")

    def palette_commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        return [
            ("Open prompt detail", "clips, scores and ratings of the highlighted prompt (enter)",
             self.action_open_detail),
            ("Add prompt", "add a prompt with a form (a)", self.action_add),
            ("Edit prompt", "edit the highlighted prompt (e)", self.action_edit),
            ("Duplicate prompt", "copy the highlighted prompt under a new id and edit it (c)",
             self.action_duplicate),
            ("Delete prompts", "delete the marked or highlighted prompts (d)", self.action_delete),
            ("Undo delete", "put the last deleted prompts back where they were (u)", self.action_undo),
            ("Mark prompt", "mark or unmark the highlighted prompt (space)", self.action_mark),
            ("Mark all shown prompts", "mark every prompt the filters show, or unmark them (m)",
             self.action_mark_all),
            ("Unmark all prompts", "clear every mark (esc)", self.action_clear_marks),
            ("Add tag", "tag the marked or highlighted prompts (+)", self.action_tag_add),
            ("Remove tag", "untag the marked or highlighted prompts (-)", self.action_tag_remove),
            ("Search prompts", "find prompts by id, text or notes (/)", self.action_search),
            ("Show all prompts", "clear the search and the tag filter", self.action_show_all),
            ("Filter by tag", "choose a tag to show only its prompts (f)", self.action_focus_tags),
            ("Import prompts", "import a .txt or .csv file of prompts (i)", self.action_import),
        ]

    # ------------------------------------------------------------ writing
    def start_write(self, change: Change, description: str, *, fresh: bool = False) -> None:
        """Apply ``change`` in a worker: to a copy of the loaded benchmark, or (``fresh``)
        to the benchmark read again from disk."""
        self._writing = True
        self._write_origin = self.current_id()
        self._write(self.bench, self.app.root, change, description, fresh)

    @work(thread=True, exclusive=True, group="prompts-write", exit_on_error=False)
    def _write(self, bench: Benchmark | None, root: Path, change: Change, description: str,
               fresh: bool) -> None:
        try:
            target = Benchmark.load(root) if fresh or bench is None else working_copy(bench)
            result = change(target)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.SaveFailed(error, change, description))
            return
        self.post_message(self.Saved(result))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._writing = False
        result = message.result
        if result.deleted is not None:
            self.undo_stack.append(result.deleted)
            self.marked -= set(result.deleted.ids)
        if result.restored is not None and result.restored in self.undo_stack:
            self.undo_stack.remove(result.restored)
        if result.focus is not None:
            # (dropped when the user moved the cursor while the change was being saved)
            self._focus_after_reload(result.focus, self._write_origin)
        if result.restored is not None:
            self._reveal(result.restored.prompts)  # show what came back
        self.notify(result.summary)
        self.app.load_benchmark()

    @on(SaveFailed)
    def _save_failed(self, message: SaveFailed) -> None:
        self._writing = False
        error = message.error
        if not isinstance(error, FileConflict):
            if isinstance(error, OSError):
                error = WorkbenchError(f"{error.filename or 'file'}: {error.strerror or error}")
            self.app.show_error(error)
            return
        self._conflict = True
        self._show_status()
        text = (f"{error.path} was changed by another program after the workbench loaded it.\n\n"
                f"Your change ({message.description}) was NOT written; the file is as that "
                "program left it.\n\nReload the file and apply your change to it again?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_write(message.change, message.description, fresh=True)
            else:
                self.notify("not saved; press ctrl+r to reload the prompts", severity="warning")

        self.app.push_screen(
            ConfirmScreen(f"{error.path.name} changed on disk", text,
                          yes="Reload and apply", no="Not now"),
            answered)

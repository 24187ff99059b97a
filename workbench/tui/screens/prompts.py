"""The Prompts screen: browse the benchmark's hard cases by tag, and curate them.

Every change goes through the core curation functions (workbench.benchmark.curation) in
a thread worker, on a copy of the loaded benchmark; then the app reloads so every screen
sees it. If prompts.jsonl changed on disk meanwhile, nothing is written and the screen
offers to reload the file and apply the change again.
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
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from workbench.benchmark.curation import ImportReport, remove_prompts, tag_prompts
from workbench.benchmark.folder import Benchmark
from workbench.benchmark.prompts import Prompt
from workbench.errors import FileConflict, WorkbenchError
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.prompt_form import ImportForm, PromptForm, TagForm, working_copy

ALL = "__all__"
UNTAGGED = "__untagged__"
MIN_TEXT_WIDTH = 16
MARK = "●"

#: A change to apply to a benchmark (already a private copy); returns a one-line summary.
Change = Callable[[Benchmark], str]


def param_summary(prompt: Prompt) -> str:
    """The generation params a prompt sets, compactly: ``seed 7 · 4s · 1280x720``."""
    parts: list[str] = []
    if prompt.seed is not None:
        parts.append(f"seed {prompt.seed}")
    if prompt.duration is not None:
        parts.append(f"{prompt.duration:g}s")
    if prompt.resolution:
        parts.append(prompt.resolution)
    if prompt.aspect_ratio:
        parts.append(prompt.aspect_ratio)
    if prompt.fps is not None:
        parts.append(f"{prompt.fps}fps")
    if prompt.negative_prompt:
        parts.append("neg")
    return " · ".join(parts)


def excerpt(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class PromptsScreen(Screen):
    HELP_TITLE = "Prompts"
    CSS_PATH = "prompts.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("space", "mark", "Mark"),
        Binding("plus", "tag_add", "Tag", key_display="+"),
        Binding("minus", "tag_remove", "Untag", key_display="-"),
        Binding("d,delete", "delete", "Delete"),
        Binding("i", "import", "Import"),
        Binding("f", "focus_tags", "Filter"),
        Binding("escape", "clear_marks", "Unmark"),
    ]

    @dataclass
    class Saved(Message):
        """A change was written to prompts.jsonl."""
        summary: str

    @dataclass
    class SaveFailed(Message):
        """A change was refused; nothing was written."""
        error: BaseException
        change: Change
        description: str

    def __init__(self) -> None:
        super().__init__()
        self.tag_filter: str | None = None
        self.marked: set[str] = set()
        self._writing = False
        self._focus_id: str | None = None
        self._conflict = False

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading the benchmark…", id="prompts-loading", classes="empty-state")
        with Horizontal(id="prompts-body"):
            with Vertical(id="tag-pane"):
                yield Static("Tags", classes="title")
                yield OptionList(id="tag-list")
            with Vertical(id="main-pane"):
                yield Static("", id="prompts-status", markup=False)
                yield DataTable(id="prompt-table", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="prompt-detail"):
                    yield Static("", id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "bench_version", self._refresh, init=True)

    # ------------------------------------------------------------ queries
    @property
    def bench(self) -> Benchmark | None:
        return self.app.bench

    def visible_prompts(self) -> list[Prompt]:
        bench = self.bench
        if bench is None:
            return []
        if self.tag_filter == UNTAGGED:
            return [p for p in bench.prompts if not p.tags]
        return bench.prompts_with_tag(self.tag_filter)

    def current_id(self) -> str | None:
        table = self.query_one("#prompt-table", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # cursor outside the table while it is being rebuilt
            return None
        return key.value

    def targets(self) -> list[str]:
        """The marked prompts (in file order), or else the highlighted one."""
        bench = self.bench
        if bench is None:
            return []
        if self.marked:
            return [p.id for p in bench.prompts if p.id in self.marked]
        current = self.current_id()
        return [current] if current else []

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
        self._focus_id = None

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

    def _widths(self, prompts: list[Prompt]) -> dict[str, int]:
        """Cell widths that fit the screen: id and tags capped, the text gets the rest.
        A narrow screen drops the params column (the detail view shows them)."""
        narrow = self.has_class("-narrow")
        widths = {"id": 22 if narrow else 32, "tags": 12 if narrow else 26}
        room = self.size.width - (18 if narrow else 26) - 1 - 2  # tag pane, its border, scrollbar
        columns = 4 if narrow else 5
        fixed = 1 + 2 * columns  # mark column, cell padding
        fixed += max((len(excerpt(p.id, widths["id"])) for p in prompts), default=2)
        fixed += max((len(excerpt(", ".join(p.tags), widths["tags"])) for p in prompts), default=4)
        if not narrow:
            widths["params"] = max((len(param_summary(p)) for p in prompts), default=6)
            fixed += widths["params"]
        widths["text"] = max(MIN_TEXT_WIDTH, room - fixed)
        return widths

    def _row(self, prompt: Prompt, widths: dict[str, int]) -> list[str]:
        cells = [MARK if prompt.id in self.marked else "", excerpt(prompt.id, widths["id"]),
                 excerpt(", ".join(prompt.tags), widths["tags"]),
                 excerpt(prompt.text, widths["text"])]
        if "params" in widths:
            cells.append(param_summary(prompt))
        return cells

    def _fill_table(self) -> None:
        table = self.query_one("#prompt-table", DataTable)
        keep = self._focus_id or self.current_id()
        old_row = table.cursor_row
        table.clear(columns=True)  # so column widths shrink again after a filter or resize
        prompts = self.visible_prompts()
        widths = self._widths(prompts)
        rows = [self._row(prompt, widths) for prompt in prompts]
        table.add_column(" ", key="mark", width=1)
        names = [name for name in ("id", "tags", "text", "params") if name in widths]
        for index, name in enumerate(names, start=1):
            # explicit widths: measured from the cells, so a layout pass cannot squeeze them
            width = max([len(name), *(len(row[index]) for row in rows)])
            table.add_column(name, key=name, width=width)
        for prompt, row in zip(prompts, rows):
            table.add_row(*row, key=prompt.id)
        if prompts:
            ids = [p.id for p in prompts]
            row = ids.index(keep) if keep in ids else min(max(old_row, 0), len(ids) - 1)
            table.move_cursor(row=row)
        self._show_detail()
        self._show_status()

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
        where = {None: "", UNTAGGED: " without tags"}.get(self.tag_filter, f" tagged {self.tag_filter}")
        text = f"{_plural(shown, 'prompt')}{where}"
        if shown != len(bench.prompts):
            text += f" (of {len(bench.prompts)})"
        if self.marked:
            text += f" · {len(self.marked)} marked (space marks, esc unmarks; actions apply to them)"
        status.update(text)

    def _show_detail(self) -> None:
        box = self.query_one("#detail-text", Static)
        bench = self.bench
        current = self.current_id()
        if bench is None or current is None:
            box.update(Content.styled("No prompts here. Press a to add one, i to import a file.",
                                      "$text-muted"))
            return
        prompt = bench.prompt(current)
        parts: list[str | tuple[str, str]] = [(prompt.id, "bold")]
        if prompt.tags:
            parts.append(("  " + "  ".join(f"#{t}" for t in prompt.tags), "$accent"))
        parts += ["\n", prompt.text, "\n"]
        if prompt.notes:
            parts += [("notes: ", "bold"), prompt.notes, "\n"]
        shown = []
        if prompt.seed is not None:
            shown.append(f"seed {prompt.seed}")
        if prompt.duration is not None:
            shown.append(f"duration {prompt.duration:g} s")
        if prompt.resolution:
            shown.append(f"resolution {prompt.resolution}")
        if prompt.aspect_ratio:
            shown.append(f"aspect ratio {prompt.aspect_ratio}")
        if prompt.fps is not None:
            shown.append(f"fps {prompt.fps}")
        parts.append(("params: ", "bold"))
        parts.append(", ".join(shown) if shown else ("defaults of each model", "$text-muted"))
        if prompt.negative_prompt:
            parts += ["\n", ("negative: ", "bold"), prompt.negative_prompt]
        box.update(Content.assemble(*parts))

    # ------------------------------------------------------------ events
    @on(OptionList.OptionHighlighted, "#tag-list")
    @on(OptionList.OptionSelected, "#tag-list")
    def _tag_chosen(self, event: OptionList.OptionHighlighted | OptionList.OptionSelected) -> None:
        wanted = None if event.option.id == ALL else event.option.id
        if wanted != self.tag_filter:
            self.tag_filter = wanted
            self._fill_table()
        if isinstance(event, OptionList.OptionSelected):
            self.query_one("#prompt-table", DataTable).focus()

    def on_resize(self) -> None:
        if self.bench is not None:
            self._fill_table()

    @on(DataTable.RowHighlighted, "#prompt-table")
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#prompt-table")
    def _row_selected(self) -> None:
        self.action_edit()

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

    def action_add(self) -> None:
        if self._ready():
            self.app.push_screen(PromptForm(), self._form_closed)

    def action_edit(self) -> None:
        current = self.current_id()
        if current is None:
            self.notify("no prompt highlighted", severity="warning")
            return
        if self._ready():
            self.app.push_screen(PromptForm(self.bench.prompt(current)), self._form_closed)

    def _form_closed(self, prompt: Prompt | None) -> None:
        if prompt is None:
            return
        self._focus_id = prompt.id
        if self.tag_filter is not None and prompt.id not in {p.id for p in self.visible_prompts()}:
            self.tag_filter = None
        self.notify(f"saved {prompt.id}")
        self.app.load_benchmark()

    def action_mark(self) -> None:
        current = self.current_id()
        if current is None:
            return
        self.marked ^= {current}
        table = self.query_one("#prompt-table", DataTable)
        table.update_cell(current, "mark", MARK if current in self.marked else "")
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)
        self._show_status()

    def action_clear_marks(self) -> None:
        if not self.marked:
            return
        table = self.query_one("#prompt-table", DataTable)
        visible = {p.id for p in self.visible_prompts()}
        for prompt_id in self.marked & visible:
            table.update_cell(prompt_id, "mark", "")
        self.marked.clear()
        self._show_status()

    def action_focus_tags(self) -> None:
        self.query_one("#tag-list", OptionList).focus()

    def _ask_tags(self, remove: bool) -> None:
        ids = self.targets()
        if not ids:
            self.notify("no prompt highlighted", severity="warning")
            return
        if not self._ready():
            return
        bench = self.bench
        present = sorted({t for i in ids for t in bench.prompt(i).tags})
        form = TagForm(ids, remove=remove, known_tags=bench.tags(), present_tags=present)

        def chosen(tags: list[str] | None) -> None:
            if not tags:
                return
            kind = "removed" if remove else "added"

            def change(target: Benchmark) -> str:
                changed = tag_prompts(target, ids, add=[] if remove else tags,
                                      remove=tags if remove else [])
                if not changed:
                    return "nothing to change"
                return f"{kind} {', '.join(tags)} on {_plural(len(changed), 'prompt')}"

            where = "from" if remove else "to"
            self.start_write(change, f"{kind[:-1]} tag {', '.join(tags)} {where} {', '.join(ids)}")

        self.app.push_screen(form, chosen)

    def action_tag_add(self) -> None:
        self._ask_tags(remove=False)

    def action_tag_remove(self) -> None:
        self._ask_tags(remove=True)

    def action_delete(self) -> None:
        ids = self.targets()
        if not ids:
            self.notify("no prompt highlighted", severity="warning")
            return
        if not self._ready():
            return
        listing = ", ".join(ids[:12]) + (f" and {len(ids) - 12} more" if len(ids) > 12 else "")
        message = (f"{listing}\n\nThey are removed from prompts.jsonl. Videos, scores and ratings "
                   "already recorded for them stay on disk.")

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def change(target: Benchmark) -> str:
                removed = remove_prompts(target, ids)
                return f"deleted {', '.join(p.id for p in removed)}"

            self.start_write(change, f"delete {', '.join(ids)}")

        self.app.push_screen(
            ConfirmScreen(f"Delete {_plural(len(ids), 'prompt')}?", message, yes="Delete",
                          no="Keep", danger=True),
            answered)

    def action_import(self) -> None:
        if self._ready():
            self.app.push_screen(ImportForm(), self._import_closed)

    def _import_closed(self, report: ImportReport | None) -> None:
        if report is not None and report.added:
            self._focus_id = report.added[0].id
            self.tag_filter = None
            if self.bench is not None and self._focus_id in {p.id for p in self.bench.prompts}:
                self._refresh()  # the reload finished while the report was open
            self.notify(f"imported {_plural(len(report.added), 'prompt')}, "
                        f"skipped {_plural(len(report.duplicates), 'duplicate')}")

    def palette_commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        return [
            ("Add prompt", "add a prompt with a form (a)", self.action_add),
            ("Edit prompt", "edit the highlighted prompt (e)", self.action_edit),
            ("Mark prompt", "mark or unmark the highlighted prompt (space)", self.action_mark),
            ("Unmark all prompts", "clear every mark (esc)", self.action_clear_marks),
            ("Add tag", "tag the marked or highlighted prompts (+)", self.action_tag_add),
            ("Remove tag", "untag the marked or highlighted prompts (-)", self.action_tag_remove),
            ("Delete prompts", "delete the marked or highlighted prompts (d)", self.action_delete),
            ("Import prompts", "import a .txt or .csv file of prompts (i)", self.action_import),
            ("Filter by tag", "move to the tag list (f)", self.action_focus_tags),
        ]

    # ------------------------------------------------------------ writing
    def start_write(self, change: Change, description: str, *, fresh: bool = False) -> None:
        """Apply ``change`` in a worker: to a copy of the loaded benchmark, or (``fresh``)
        to the benchmark read again from disk."""
        self._writing = True
        self._write(self.bench, self.app.root, change, description, fresh)

    @work(thread=True, exclusive=True, group="prompts-write", exit_on_error=False)
    def _write(self, bench: Benchmark | None, root: Path, change: Change, description: str,
               fresh: bool) -> None:
        try:
            target = Benchmark.load(root) if fresh or bench is None else working_copy(bench)
            summary = change(target)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.SaveFailed(error, change, description))
            return
        self.post_message(self.Saved(summary))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._writing = False
        self.notify(message.summary)
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

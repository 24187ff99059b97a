"""Modal forms for curating prompts: add, edit or duplicate one prompt, pick tags, import a file.

The add/edit and import forms save through the core curation functions in a thread
worker and stay open on a mistake, showing the core's message next to the field it
names. A file changed on disk meanwhile (FileConflict) is reported in the form, with
a button that reloads the file and applies the same input again, so nothing typed is lost.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static, TextArea

from workbench.benchmark.curation import (
    PARAM_KEYS, PARAMS_SOURCE, ImportReport, add_prompt, duplicate_prompt, format_params,
    import_prompts, parse_params, split_tags, update_prompt,
)
from workbench.benchmark.folder import Benchmark
from workbench.benchmark.prompts import Prompt, check_tag
from workbench.errors import FileConflict, InvalidInput, Problem, WorkbenchError, user_message

#: (field, label, placeholder) of the one-line inputs, in form order (text comes first).
PROMPT_FIELDS = (
    ("id", "id", "optional: made from the text"),
    ("tags", "tags", "comma separated, e.g. hands, low-light"),
    ("notes", "notes", "what a reviewer should look for"),
    ("seed", "seed", "integer, optional: the same seed gives comparable clips"),
)
PARAMS_HINT = "one 'key = value' a line, or JSON; keys: " + ", ".join(PARAM_KEYS)


def working_copy(bench: Benchmark) -> Benchmark:
    """A copy whose prompt list a worker may change without touching the loaded benchmark
    other screens are reading (the core functions change ``bench.prompts`` before saving)."""
    return dataclasses.replace(bench, prompts=list(bench.prompts))


def field_of(problem: Problem) -> str | None:
    """Which box of the prompt form shows ``problem``: text, id, tags, notes, seed or params."""
    if problem.file == PARAMS_SOURCE:
        return "params"
    name = (problem.field or "").split(".")[0]
    if name in PARAM_KEYS:
        return "params"
    if name in {"text", *(f for f, _l, _p in PROMPT_FIELDS)}:
        return name
    return None


def field_message(problem: Problem) -> str:
    """The problem as the box beside its field says it (params name the line and key)."""
    if field_of(problem) != "params":
        return problem.message
    where = f"line {problem.line}: " if problem.line else ""
    key = f"{problem.field}: " if problem.field else ""
    return f"{where}{key}{problem.message}"


class _FormBase(ModalScreen):
    """Shared look and error display of the forms."""

    CSS_PATH = "prompts.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def _show_general(self, text: str) -> None:
        box = self.query_one("#form-error", Static)
        box.update(text)
        box.display = bool(text)

    busy = False  #: a save is being written; the form stays until it is done

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for button in self.query(".form-action").results(Button):
            button.disabled = busy

    def _still_saving(self) -> bool:
        if self.busy:
            self.notify("still saving; a moment", timeout=2)
        return self.busy

    def action_cancel(self) -> None:
        if not self._still_saving():
            self.dismiss(None)


# --------------------------------------------------------------- add / edit / duplicate
class PromptForm(_FormBase):
    """Add a prompt (``prompt=None``), edit one, or (``copy_id``) duplicate one under a new
    id; dismisses with the saved Prompt or None."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    @dataclass
    class Saved(Message):
        prompt: Prompt

    @dataclass
    class Failed(Message):
        error: BaseException

    def __init__(self, prompt: Prompt | None = None, *, copy_id: str | None = None) -> None:
        super().__init__(classes="workbench-form")
        self.prompt = prompt
        self.copy_id = copy_id if prompt is not None else None

    @property
    def editing(self) -> bool:
        return self.prompt is not None and self.copy_id is None

    @property
    def duplicating(self) -> bool:
        return self.copy_id is not None

    def _initial(self, name: str) -> str:
        if self.prompt is None:
            return ""
        if name == "id":
            return self.copy_id or self.prompt.id
        if name == "params":
            return format_params(self.prompt)
        value = getattr(self.prompt, name)
        if name == "tags":
            return ", ".join(value)
        return "" if value is None else str(value)

    def _title(self) -> str:
        if self.prompt is None:
            return "Add a prompt"
        if self.duplicating:
            return f"Duplicate {self.prompt.id}: change the text, seed or params"
        return f"Edit prompt {self.prompt.id}"

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(self._title(), classes="form-title", markup=False)
            with VerticalScroll(id="form-fields"):
                with Vertical(classes="form-field"):
                    with Horizontal(classes="form-row"):
                        yield Label("text", classes="form-label")
                        yield TextArea(self._initial("text"), id="field-text", compact=True,
                                       soft_wrap=True, placeholder="the prompt as a user would type it")
                    yield Static("", id="error-text", classes="field-error", markup=False)
                for name, label, placeholder in PROMPT_FIELDS:
                    with Vertical(classes="form-field"):
                        with Horizontal(classes="form-row"):
                            yield Label(label, classes="form-label")
                            yield Input(self._initial(name), placeholder=placeholder,
                                        id=f"field-{name}", compact=True,
                                        disabled=(name == "id" and self.editing))
                        yield Static("", id=f"error-{name}", classes="field-error", markup=False)
                with Vertical(classes="form-field"):
                    with Horizontal(classes="form-row"):
                        yield Label("params", classes="form-label")
                        yield TextArea(self._initial("params"), id="field-params", compact=True,
                                       soft_wrap=True, placeholder="duration = 4\nresolution = 1280x720")
                    yield Static(PARAMS_HINT, classes="field-hint", markup=False)
                    yield Static("", id="error-params", classes="field-error", markup=False)
                if self.editing:
                    yield Static("The id cannot change: runs and ratings refer to it "
                                 "(duplicate the prompt to give it another).", classes="form-hint")
            yield Static("", id="form-error", markup=False)
            with Horizontal(classes="form-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Reload file & save", id="retry-fresh", variant="warning",
                             classes="form-action")
                yield Button("Save (ctrl+s)", id="save", variant="primary", classes="form-action")

    def on_mount(self) -> None:
        for box in self.query(".field-error").results(Static):
            box.display = False
        self.query_one("#form-error").display = False
        self.query_one("#retry-fresh").display = False
        self.query_one("#field-text", TextArea).focus()

    # ------------------------------------------------------------ input
    def values(self) -> dict[str, object]:
        """The form's raw input: text, prompt_id, tags (a list), notes, seed, params (text)."""
        out: dict[str, object] = {
            "text": self.query_one("#field-text", TextArea).text.strip(),
            "params": self.query_one("#field-params", TextArea).text,
        }
        for name, _label, _placeholder in PROMPT_FIELDS:
            raw = self.query_one(f"#field-{name}", Input).value.strip()
            if name == "tags":
                out["tags"] = split_tags(raw)
            elif name == "notes":
                out["notes"] = raw
            elif name == "id":
                out["prompt_id"] = raw or None
            else:
                out[name] = raw or None
        return out

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#retry-fresh")
    def _retry_pressed(self) -> None:
        self._start_save(fresh=True)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if self.query_one("#save", Button).disabled:
            return
        self._start_save(fresh=False)

    def _start_save(self, fresh: bool) -> None:
        bench = self.app.bench
        if bench is None and not fresh:
            self._show_general("The benchmark is still loading; try again in a moment.")
            return
        self._set_busy(True)
        self._save(bench, self.app.root, self.values(), fresh)

    # ------------------------------------------------------------ saving
    @work(thread=True, exclusive=True, group="prompt-form", exit_on_error=False)
    def _save(self, bench: Benchmark | None, root: Path, values: dict[str, object],
              fresh: bool) -> None:
        try:
            values = dict(values)
            params = parse_params(str(values.pop("params")))
            target = Benchmark.load(root) if fresh or bench is None else working_copy(bench)
            text = str(values.pop("text"))
            new_id = values.pop("prompt_id")
            if self.prompt is None:
                prompt = add_prompt(target, text, prompt_id=new_id, **values, **params)
            elif self.duplicating:
                prompt = duplicate_prompt(target, self.prompt.id, prompt_id=new_id, text=text,
                                          **values, **params)
            else:
                prompt = update_prompt(target, self.prompt.id, text=text, **values, **params)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.Failed(error))
            return
        self.post_message(self.Saved(prompt))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.dismiss(message.prompt)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._set_busy(False)
        for box in self.query(".field-error").results(Static):
            box.update("")
            box.display = False
        error = message.error
        conflict = isinstance(error, FileConflict)
        self.query_one("#retry-fresh").display = conflict
        if conflict:
            self._show_general(
                f"{error.path.name} changed on disk after it was loaded (edited elsewhere?). "
                "Nothing was written and your input is still here. "
                "'Reload file & save' reads the file again and saves this input into it.")
            return
        general: list[str] = []
        if isinstance(error, InvalidInput):
            by_field: dict[str, list[str]] = {}
            for problem in error.problems:
                name = field_of(problem)
                if name is None:
                    general.append(str(problem))
                else:
                    by_field.setdefault(name, []).append(field_message(problem))
            for name, messages in by_field.items():
                box = self.query_one(f"#error-{name}", Static)
                box.update("\n".join(messages))
                box.display = True
            if not general:
                general.append("Fix the fields marked in red, then save again.")
            first = next(iter(by_field), None)
            if first is not None:
                self.query_one(f"#field-{first}").focus()
        else:
            general.append(user_message(error))
        self._show_general("\n".join(general))


# --------------------------------------------------------------------------- tags
class TagForm(_FormBase):
    """Ask for tags to add to (or remove from) some prompts; dismisses with the tags or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt_ids: list[str], *, remove: bool, known_tags: list[str],
                 present_tags: list[str]) -> None:
        super().__init__(classes="workbench-form small-form")
        self.prompt_ids = prompt_ids
        self.removing = remove
        self.known_tags = known_tags
        self.present_tags = present_tags

    def compose(self) -> ComposeResult:
        who = (self.prompt_ids[0] if len(self.prompt_ids) == 1
               else f"{len(self.prompt_ids)} marked prompts")
        title = f"Remove tags from {who}" if self.removing else f"Add tags to {who}"
        suggestions = self.present_tags if self.removing else self.known_tags
        with Vertical(id="form-box"):
            yield Static(title, classes="form-title", markup=False)
            if len(self.prompt_ids) > 1:
                listing = ", ".join(self.prompt_ids[:8])
                if len(self.prompt_ids) > 8:
                    listing += f" and {len(self.prompt_ids) - 8} more"
                yield Static(f"prompts: {listing}", classes="form-hint", markup=False)
            if self.removing:
                yield Static(f"tags they have: {', '.join(self.present_tags) or '(none)'}",
                             classes="form-hint", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("tags", classes="form-label")
                yield Input(placeholder="comma separated", id="field-tags", compact=True,
                            suggester=SuggestFromList(suggestions) if suggestions else None)
            yield Static("", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Remove" if self.removing else "Add", id="apply",
                             variant="error" if self.removing else "primary", classes="form-action")

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False
        self.query_one("#field-tags", Input).focus()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted)
    def _apply(self, event: Message) -> None:
        event.stop()
        tags = split_tags(self.query_one("#field-tags", Input).value)
        if not tags:
            self._show_general("Type at least one tag.")
            return
        if self.removing:
            absent = [t for t in tags if t not in self.present_tags]
            if absent:
                self._show_general(f"none of these prompts has the tag {', '.join(map(repr, absent))}")
                return
        else:
            try:
                for tag in tags:
                    check_tag(tag)
            except ValueError as error:
                self._show_general(str(error))
                return
        self.dismiss(tags)


# ------------------------------------------------------------------------- import
def describe_import(report: ImportReport, source: Path) -> str:
    """The import report as a few readable lines."""
    lines: list[str] = []
    if report.added:
        ids = ", ".join(p.id for p in report.added[:8])
        more = f" and {len(report.added) - 8} more" if len(report.added) > 8 else ""
        lines.append(f"Added {len(report.added)} prompt{'s' if len(report.added) != 1 else ''}: "
                     f"{ids}{more}")
    else:
        lines.append("Added no prompts.")
    if report.duplicates:
        count = len(report.duplicates)
        lines.append(f"Skipped {count} duplicate{'s' if count != 1 else ''}:")
        for line, text, existing in report.duplicates[:10]:
            short = text if len(text) <= 32 else text[:31] + "…"
            lines.append(f"  {source.name}:{line} {short!r} is already {existing}")
        if count > 10:
            lines.append(f"  … and {count - 10} more")
    elif not report.added:
        lines.append(f"{source.name} has no prompts (blank lines and # comments are skipped).")
    return "\n".join(lines)


class ImportForm(_FormBase):
    """Import prompts from a text or CSV file; shows the report, dismisses with it (or None)."""

    BINDINGS = [Binding("escape", "cancel", "Close")]

    @dataclass
    class Imported(Message):
        report: ImportReport
        path: Path

    @dataclass
    class Failed(Message):
        error: BaseException

    def __init__(self) -> None:
        super().__init__(classes="workbench-form small-form")
        self.report: ImportReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static("Import prompts", classes="form-title")
            yield Static("A .txt file (one prompt a line) or a .csv with a 'text' column "
                         "(and optionally id, tags, notes, seed). Texts already here are skipped.",
                         classes="form-hint")
            with Horizontal(classes="form-row"):
                yield Label("file", classes="form-label")
                yield Input(placeholder="a path; a relative one starts where workbench was started",
                            id="field-path", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("tags", classes="form-label")
                yield Input(placeholder="optional: tag every imported prompt", id="field-tags",
                            compact=True)
            yield Static("", id="form-error")
            yield Static("", id="import-report", markup=False)
            with Horizontal(classes="form-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Reload file & import", id="retry-fresh", variant="warning",
                             classes="form-action")
                yield Button("Import", id="import", variant="primary", classes="form-action")
                yield Button("Done", id="done", variant="success")

    def on_mount(self) -> None:
        for selector in ("#form-error", "#import-report", "#retry-fresh", "#done"):
            self.query_one(selector).display = False
        self.query_one("#field-path", Input).focus()

    @on(Button.Pressed, "#cancel")
    @on(Button.Pressed, "#done")
    def _close(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self._still_saving():
            self.dismiss(self.report)

    @on(Button.Pressed, "#import")
    @on(Input.Submitted)
    def _import_pressed(self, event: Message) -> None:
        event.stop()
        if self.report is not None:
            self.dismiss(self.report)
            return
        self._start(fresh=False)

    @on(Button.Pressed, "#retry-fresh")
    def _retry_pressed(self) -> None:
        self._start(fresh=True)

    def _start(self, fresh: bool) -> None:
        raw = self.query_one("#field-path", Input).value.strip()
        if not raw:
            self._show_general("Type the path of a .txt or .csv file.")
            return
        tags = split_tags(self.query_one("#field-tags", Input).value)
        try:
            for tag in tags:
                check_tag(tag)
        except ValueError as error:
            self._show_general(str(error))
            return
        bench = self.app.bench
        if bench is None and not fresh:
            self._show_general("The benchmark is still loading; try again in a moment.")
            return
        path = Path(raw).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        self._set_busy(True)
        self._import(bench, self.app.root, path, tags, fresh)

    @work(thread=True, exclusive=True, group="prompt-import", exit_on_error=False)
    def _import(self, bench: Benchmark | None, root: Path, path: Path, tags: list[str],
                fresh: bool) -> None:
        try:
            if path.is_dir():
                raise WorkbenchError(f"{path}: is a folder; give a .txt or .csv file")
            target = Benchmark.load(root) if fresh or bench is None else working_copy(bench)
            report = import_prompts(target, path, tags=tags)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.Failed(error))
            return
        self.post_message(self.Imported(report, path))

    @on(Imported)
    def _imported(self, message: Imported) -> None:
        self.report = message.report
        self.busy = False  # written; the buttons stay hidden behind Done
        self._show_general("")
        box = self.query_one("#import-report", Static)
        box.update(describe_import(message.report, message.path))
        box.display = True
        for selector in ("#import", "#retry-fresh", "#cancel"):
            self.query_one(selector).display = False
        for field in self.query(Input).results(Input):
            field.disabled = True
        done = self.query_one("#done", Button)
        done.display = True
        done.focus()
        if message.report.added:
            self.app.load_benchmark()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._set_busy(False)
        error = message.error
        conflict = isinstance(error, FileConflict)
        self.query_one("#retry-fresh").display = conflict
        if conflict:
            self._show_general(
                f"{error.path.name} changed on disk after it was loaded (edited elsewhere?). "
                "Nothing was written. 'Reload file & import' reads it again and imports into it.")
        else:
            self._show_general(user_message(error))

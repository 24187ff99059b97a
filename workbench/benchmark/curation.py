"""Curating prompts: scaffold a benchmark; find, add, edit, duplicate, tag, delete (and
restore), and import prompts.

These are the functions both the CLI and the TUI call. Every change is saved at once,
atomically, and refused (:class:`~workbench.errors.FileConflict`) when prompts.jsonl
changed on disk since the benchmark was loaded.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.benchmark.folder import (
    CACHE_DIR, CONFIG_FILE, DECISIONS_DIR, PROMPTS_FILE, Benchmark, _pydantic_message,
)
from workbench.benchmark.prompts import Prompt, check_tag
from workbench.errors import InvalidInput, NotFound, Problem, WorkbenchError
from workbench.safe_files import atomic_write_text

CONFIG_TEMPLATE = '''# {name}: a workbench benchmark. Docs: docs/FORMATS.md in the workbench repository.
name = "{name}"
description = "Hard cases for our product, judged by what our users care about."

# Scorers computed for every clip (see `workbench scorers`).
scorers = ["decodes", "sharpness", "temporal_flicker", "frozen_frames", "motion_jerk", "compliance"]

[run]
repeats = 1
concurrency = 4

# The model we run today. The built-in offline generator needs no key and no network.
[models.incumbent]
provider = "synthetic"
flicker = 0.04
blur = 1.0

# The model we are thinking of switching to.
[models.candidate]
provider = "synthetic"
flicker = 0.02
blur = 0.5

[thresholds.temporal_flicker]
min = 0.9

[gate]
incumbent = "incumbent"
candidate = "candidate"
primary = ["temporal_flicker"]
margin = 0.002
min_prompts = 10
'''

GITIGNORE = f"# caches of generated videos and scores: safe to delete\n{CACHE_DIR}/\n"


def init_benchmark(root: Path, name: str | None = None) -> Path:
    """Create a new benchmark folder with a commented benchmark.toml."""
    root = Path(root)
    if (root / CONFIG_FILE).exists():
        raise WorkbenchError(f"{root / CONFIG_FILE}: already exists; not overwriting it")
    name = name or root.resolve().name
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(root / CONFIG_FILE, CONFIG_TEMPLATE.format(name=name.replace('"', "'")))
    if not (root / PROMPTS_FILE).exists():
        atomic_write_text(root / PROMPTS_FILE, "")
    (root / DECISIONS_DIR).mkdir(exist_ok=True)
    if not (root / ".gitignore").exists():
        atomic_write_text(root / ".gitignore", GITIGNORE)
    return root


def normalise_text(text: str) -> str:
    return " ".join(text.casefold().split())


def slug_from_text(text: str, taken: set[str], max_words: int = 6) -> str:
    words = re.findall(r"[a-z0-9]+", text.casefold())
    base = "-".join(words[:max_words])[:48].strip("-") or "prompt"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def _find_same_text(bench: Benchmark, text: str) -> Prompt | None:
    wanted = normalise_text(text)
    for prompt in bench.prompts:
        if normalise_text(prompt.text) == wanted:
            return prompt
    return None


def _validated(record: dict[str, Any], where: str) -> Prompt:
    """A Prompt from a record, or InvalidInput naming each bad field."""
    try:
        return Prompt.model_validate(record)
    except ValidationError as exc:
        raise InvalidInput([
            Problem(where, _pydantic_message(e), field=".".join(map(str, e["loc"])) or None)
            for e in exc.errors()
        ]) from None


def _id_taken(bench: Benchmark, prompt_id: str) -> InvalidInput:
    return InvalidInput([Problem(str(bench.prompts_path), f"prompt id {prompt_id!r} already exists",
                                 field="id")])


def make_prompt(bench: Benchmark, text: str, *, prompt_id: str | None = None,
                tags: list[str] | tuple[str, ...] = (), notes: str = "", **params) -> Prompt:
    taken = {p.id for p in bench.prompts}
    if prompt_id is not None and prompt_id in taken:
        raise _id_taken(bench, prompt_id)
    record = {"id": prompt_id or slug_from_text(text, taken), "text": text, "tags": list(tags),
              "notes": notes, **{k: v for k, v in params.items() if v is not None}}
    return _validated(record, "prompt")


def add_prompt(bench: Benchmark, text: str, **kwargs) -> Prompt:
    """Add one prompt and save; refuses a prompt whose text is already in the benchmark."""
    same = _find_same_text(bench, text)
    if same is not None:
        raise WorkbenchError(f"{bench.prompts_path}: the same text is already prompt {same.id!r}")
    prompt = make_prompt(bench, text, **kwargs)
    bench.prompts.append(prompt)
    bench.save_prompts()
    return prompt


def tag_prompts(bench: Benchmark, prompt_ids: list[str], *, add: list[str] = (),
                remove: list[str] = ()) -> list[Prompt]:
    """Add and remove tags on the given prompts, then save. Returns the changed prompts."""
    for tag in list(add):
        try:
            check_tag(tag)
        except ValueError as exc:
            raise WorkbenchError(str(exc)) from None
    wanted = set(prompt_ids)
    known = {p.id for p in bench.prompts}
    missing = sorted(wanted - known)
    if missing:
        raise NotFound(f"{bench.prompts_path}: no prompt with id {', '.join(map(repr, missing))}")
    changed: list[Prompt] = []
    for index, prompt in enumerate(bench.prompts):
        if prompt.id not in wanted:
            continue
        tags = [t for t in prompt.tags if t not in set(remove)]
        tags += [t for t in add if t not in tags]
        if tuple(tags) != prompt.tags:
            bench.prompts[index] = prompt.model_copy(update={"tags": tuple(tags)})
            changed.append(bench.prompts[index])
    if changed:
        bench.save_prompts()
    return changed


def update_prompt(bench: Benchmark, prompt_id: str, **changes) -> Prompt:
    """Replace fields of one prompt (text, notes, seed, params...) and save."""
    old = bench.prompt(prompt_id)
    if "id" in changes and changes["id"] != prompt_id:
        raise WorkbenchError(f"{bench.prompts_path}: the id of prompt {prompt_id!r} cannot change "
                             "(runs and ratings refer to it); duplicate it under a new id instead")
    new = _validated({**old.to_record(), **changes}, str(bench.prompts_path))
    bench.prompts[[p.id for p in bench.prompts].index(prompt_id)] = new
    bench.save_prompts()
    return new


# ----------------------------------------------------------------------- duplicate


def suggest_copy_id(bench: Benchmark, prompt_id: str) -> str:
    """A free id for a copy of ``prompt_id``: ``hands-1`` -> ``hands-2``, ``dog`` -> ``dog-2``."""
    taken = {p.id for p in bench.prompts}
    match = re.fullmatch(r"(.*?)-?(\d+)", prompt_id)
    if match and match.group(1):
        base, number = prompt_id[: match.start(2)], int(match.group(2)) + 1
    else:
        base, number = f"{prompt_id}-", 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


def _what_is_generated(prompt: Prompt) -> tuple[Any, ...]:
    """What decides the clip a model makes: the text, the seed and the params."""
    return (normalise_text(prompt.text), prompt.seed, tuple(sorted(prompt.generation_params().items())))


def _repeat_overlap(bench: Benchmark, copy: Prompt) -> str | None:
    """Repeat r of a prompt uses seed + r: a copy with the same text and params whose seeds
    meet another prompt's within the benchmark's repeats would make the very same clips."""
    repeats = bench.config.run.repeats
    mine = {copy.seed_for(r) for r in range(repeats)}
    for other in bench.prompts:
        if (normalise_text(other.text), other.generation_params()) != (normalise_text(copy.text),
                                                                       copy.generation_params()):
            continue
        shared = sorted(mine & {other.seed_for(r) for r in range(repeats)})
        if shared:
            return (f"with the same text and params, seed {copy.seed} makes the same clips as prompt "
                    f"{other.id!r} (seed {shared[0]} is one of its {repeats} repeats); pick a seed at "
                    f"least {repeats} away from {other.seed_for(0)}, or change the text or params")
    return None


def duplicate_prompt(bench: Benchmark, source_id: str, *, prompt_id: str | None = None,
                     **changes: Any) -> Prompt:
    """Copy prompt ``source_id`` (with ``changes`` to any field) under a new id, placed right
    after it, and save. The same text is fine when the seed or params differ; a copy that
    would generate exactly what an existing prompt does is refused."""
    source = bench.prompt(source_id)
    new_id = prompt_id or suggest_copy_id(bench, source_id)
    if new_id in {p.id for p in bench.prompts}:
        raise _id_taken(bench, new_id)
    changes.pop("id", None)
    copy = _validated({**source.to_record(), **changes, "id": new_id}, "prompt")
    same = next((p for p in bench.prompts if _what_is_generated(p) == _what_is_generated(copy)), None)
    if same is not None:
        raise InvalidInput([Problem(
            "prompt", f"would generate exactly what prompt {same.id!r} does (same text, seed and "
                      "params); change one of them so the copy tests something new", field="text")])
    overlap = _repeat_overlap(bench, copy)
    if overlap is not None:
        raise InvalidInput([Problem("prompt", overlap, field="seed")])
    index = [p.id for p in bench.prompts].index(source_id)
    bench.prompts.insert(index + 1, copy)
    bench.save_prompts()
    return copy


# -------------------------------------------------------------- delete and restore


@dataclass(frozen=True)
class DeletedPrompts:
    """Prompts taken out of a benchmark, each with the position it had, for an undo."""

    entries: tuple[tuple[int, Prompt], ...]

    @property
    def ids(self) -> list[str]:
        return [prompt.id for _position, prompt in self.entries]

    @property
    def prompts(self) -> list[Prompt]:
        return [prompt for _position, prompt in self.entries]


def delete_prompts(bench: Benchmark, prompt_ids: Iterable[str]) -> DeletedPrompts:
    """Remove the given prompts and save; returns them with their positions
    (videos, scores and ratings already recorded for them stay on disk)."""
    wanted = set(prompt_ids)
    missing = sorted(wanted - {p.id for p in bench.prompts})
    if missing:
        raise NotFound(f"{bench.prompts_path}: no prompt with id {', '.join(map(repr, missing))}")
    entries = tuple((i, p) for i, p in enumerate(bench.prompts) if p.id in wanted)
    bench.prompts = [p for p in bench.prompts if p.id not in wanted]
    bench.save_prompts()
    return DeletedPrompts(entries)


def remove_prompts(bench: Benchmark, prompt_ids: list[str]) -> list[Prompt]:
    """Remove the given prompts and save; returns the removed prompts in file order."""
    return delete_prompts(bench, prompt_ids).prompts


def restore_prompts(bench: Benchmark, deleted: DeletedPrompts) -> list[Prompt]:
    """Put deleted prompts back at the positions they had, and save. Refuses (changing
    nothing) when one of their ids was taken meanwhile."""
    taken = {p.id for p in bench.prompts}
    clashes = [prompt.id for _position, prompt in deleted.entries if prompt.id in taken]
    if clashes:
        raise WorkbenchError(f"{bench.prompts_path}: cannot restore {', '.join(map(repr, clashes))}: "
                             "a prompt with that id exists again")
    for position, prompt in sorted(deleted.entries, key=lambda entry: entry[0]):
        bench.prompts.insert(min(position, len(bench.prompts)), prompt)
    bench.save_prompts()
    return deleted.prompts


# -------------------------------------------------------------------------- params

#: the generation params a prompt may set besides its seed
PARAM_KEYS = ("duration", "resolution", "aspect_ratio", "fps", "negative_prompt")
PARAMS_SOURCE = "params"


def _param_value(raw: str) -> Any:
    """A TOML value (``4``, ``2.5``, ``"a b"``), or the bare text when it is not one
    (``1280x720``, ``16:9``); empty means unset."""
    if not raw:
        return None
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse_params(text: str) -> dict[str, Any]:
    """Generation params typed as ``key = value`` lines (TOML-ish, # comments allowed) or as
    a JSON object, e.g. ``duration = 4`` / ``{"duration": 4}``. Returns every key of
    :data:`PARAM_KEYS`, None for those not given; values are checked when the prompt is
    built. Problems name the line and key."""
    stripped = text.strip()
    items: list[tuple[int | None, str, Any]] = []
    problems: list[Problem] = []
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidInput([Problem(PARAMS_SOURCE, f"not valid JSON: {exc.msg} (column {exc.colno})",
                                        exc.lineno)]) from None
        if not isinstance(data, dict):
            raise InvalidInput([Problem(PARAMS_SOURCE, "JSON params must be an object")])
        items = [(None, str(key), value) for key, value in data.items()]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, raw = line.partition("=")
            key = key.strip().strip("\"'")
            if not sep or not key:
                problems.append(Problem(PARAMS_SOURCE, "expected 'key = value', e.g. 'duration = 4'", number))
                continue
            items.append((number, key, _param_value(raw.strip())))
    found: dict[str, Any] = {}
    first_line: dict[str, int | None] = {}
    for number, key, value in items:
        name = key.replace("-", "_").replace(" ", "_").lower()
        if name not in PARAM_KEYS:
            problems.append(Problem(PARAMS_SOURCE, f"unknown param (known: {', '.join(PARAM_KEYS)}; "
                                                   "seed, tags and notes have fields of their own)",
                                    number, key))
        elif name in found:
            where = f" (first on line {first_line[name]})" if first_line[name] else ""
            problems.append(Problem(PARAMS_SOURCE, f"given twice{where}", number, name))
        else:
            found[name] = value
            first_line[name] = number
    if problems:
        raise InvalidInput(problems)
    return {key: found.get(key) for key in PARAM_KEYS}


def format_params(prompt: Prompt) -> str:
    """A prompt's generation params as ``key = value`` lines (what :func:`parse_params` reads)."""
    lines = []
    for key, value in prompt.generation_params().items():
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
        lines.append(f"{key} = {shown}")
    return "\n".join(lines)


# -------------------------------------------------------------------------- finding


def prompt_matches(prompt: Prompt, query: str) -> bool:
    """Whether every word of ``query`` occurs (any case) in the prompt's id, text or notes."""
    words = query.casefold().split()
    if not words:
        return True
    haystack = "\n".join((prompt.id, prompt.text, prompt.notes)).casefold()
    return all(word in haystack for word in words)


def filter_prompts(prompts: Sequence[Prompt], *, tag: str | None = None, untagged: bool = False,
                   query: str = "") -> list[Prompt]:
    """The prompts (in order) carrying ``tag`` (any tag when None; none at all with
    ``untagged``) that match the search ``query``."""
    out = []
    for prompt in prompts:
        if untagged and prompt.tags or tag is not None and tag not in prompt.tags:
            continue
        if prompt_matches(prompt, query):
            out.append(prompt)
    return out


@dataclass
class ImportReport:
    added: list[Prompt] = field(default_factory=list)
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)  # line, text, existing id
    problems: list[Problem] = field(default_factory=list)


def split_tags(value: str) -> list[str]:
    """Tags as a person types or a file lists them: ``"Hands, low-light;text"`` ->
    ``["hands", "low-light", "text"]`` (commas, semicolons, bars or spaces between; lower case)."""
    return [t.strip().lower() for t in re.split(r"[;,|\s]+", value or "") if t.strip()]


def _read_import_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput([Problem(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    rows: list[tuple[int, dict[str, str]]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        columns = [c.strip().lower() for c in (reader.fieldnames or [])]
        if "text" not in columns:
            raise InvalidInput([Problem(str(path), "a CSV import needs a 'text' column "
                                                   f"(found: {', '.join(columns) or 'no header'})", 1)])
        reader.fieldnames = columns
        for record in reader:
            rows.append((reader.line_num, {k: (v or "") for k, v in record.items() if k}))
        return rows
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            rows.append((number, {"text": line.strip()}))
    return rows


def import_prompts(bench: Benchmark, path: Path, *, tags: list[str] = ()) -> ImportReport:
    """Import prompts from plain text (one a line) or CSV (columns text, tags, and optionally
    id, notes, seed). Texts already in the benchmark, or repeated in the file, are reported
    as duplicates and skipped. Nothing is saved if any row is invalid."""
    path = Path(path)
    report = ImportReport()
    seen = {normalise_text(p.text): p.id for p in bench.prompts}
    new_prompts: list[Prompt] = []
    for line, row in _read_import_rows(path):
        text = row.get("text", "").strip()
        if not text:
            report.problems.append(Problem(str(path), "text is empty", line, "text"))
            continue
        key = normalise_text(text)
        if key in seen:
            report.duplicates.append((line, text, seen[key]))
            continue
        extra: dict[str, object] = {}
        if row.get("seed", "").strip():
            extra["seed"] = row["seed"].strip()
        try:
            prompt = make_prompt(
                bench, text, prompt_id=row.get("id", "").strip() or None,
                tags=split_tags(row.get("tags", "")) + [t for t in tags],
                notes=row.get("notes", "").strip(), **extra,
            )
        except WorkbenchError as exc:
            problems = exc.problems if isinstance(exc, InvalidInput) else [Problem(str(path), str(exc))]
            report.problems.extend(Problem(str(path), p.message, line, p.field) for p in problems)
            continue
        seen[key] = prompt.id
        bench.prompts.append(prompt)
        new_prompts.append(prompt)
    if report.problems:
        for prompt in new_prompts:
            bench.prompts.remove(prompt)
        raise InvalidInput(report.problems)
    report.added = new_prompts
    if new_prompts:
        bench.save_prompts()
    return report

"""Curating prompts: scaffold a benchmark, add, tag, remove and import prompts.

These are the functions both the CLI and the TUI call.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

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


def make_prompt(bench: Benchmark, text: str, *, prompt_id: str | None = None,
                tags: list[str] | tuple[str, ...] = (), notes: str = "", **params) -> Prompt:
    taken = {p.id for p in bench.prompts}
    if prompt_id is not None and prompt_id in taken:
        raise WorkbenchError(f"{bench.prompts_path}: prompt id {prompt_id!r} already exists")
    record = {"id": prompt_id or slug_from_text(text, taken), "text": text, "tags": list(tags),
              "notes": notes, **{k: v for k, v in params.items() if v is not None}}
    try:
        return Prompt.model_validate(record)
    except ValidationError as exc:
        raise InvalidInput([
            Problem("prompt", _pydantic_message(e), field=".".join(map(str, e["loc"])))
            for e in exc.errors()
        ]) from None


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
    record = {**old.to_record(), **changes}
    try:
        new = Prompt.model_validate(record)
    except ValidationError as exc:
        raise InvalidInput([
            Problem(str(bench.prompts_path), _pydantic_message(e), field=".".join(map(str, e["loc"])))
            for e in exc.errors()
        ]) from None
    bench.prompts[[p.id for p in bench.prompts].index(prompt_id)] = new
    bench.save_prompts()
    return new


def remove_prompts(bench: Benchmark, prompt_ids: list[str]) -> list[Prompt]:
    wanted = set(prompt_ids)
    missing = sorted(wanted - {p.id for p in bench.prompts})
    if missing:
        raise NotFound(f"{bench.prompts_path}: no prompt with id {', '.join(map(repr, missing))}")
    removed = [p for p in bench.prompts if p.id in wanted]
    bench.prompts = [p for p in bench.prompts if p.id not in wanted]
    bench.save_prompts()
    return removed


@dataclass
class ImportReport:
    added: list[Prompt] = field(default_factory=list)
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)  # line, text, existing id
    problems: list[Problem] = field(default_factory=list)


def _split_tags(value: str) -> list[str]:
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
                tags=_split_tags(row.get("tags", "")) + [t for t in tags],
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

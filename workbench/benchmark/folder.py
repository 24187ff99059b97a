"""A benchmark folder on disk: strict loading, safe saving.

Loading collects every problem (file, line, field) before raising
:class:`~workbench.errors.InvalidInput`, so a user fixes them in one go.
Saving is atomic and refuses to overwrite a file that changed on disk since it
was loaded. ``benchmark.toml`` is edited through tomlkit so comments and layout
survive and changing one threshold is a one-line diff.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
import tomlkit.items
from pydantic import ValidationError

from workbench.benchmark.config import BenchmarkConfig, Threshold
from workbench.benchmark.prompts import Prompt
from workbench.benchmark.toml_lines import find_line
from workbench.errors import InvalidInput, NotFound, Problem
from workbench.safe_files import Fingerprint, dump_json_line, write_if_unchanged

CONFIG_FILE = "benchmark.toml"
PROMPTS_FILE = "prompts.jsonl"
RATINGS_FILE = "ratings.jsonl"
RUNS_DIR = "runs"
DECISIONS_DIR = "decisions"
CACHE_DIR = ".workbench-cache"


def _loc_text(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _pydantic_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def toml_problems(
    error: ValidationError, file: str, text: str, prefix: tuple[Any, ...] = ()
) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = prefix + tuple(item["loc"])
        problems.append(
            Problem(file=file, line=find_line(text, loc), field=_loc_text(loc),
                    message=_pydantic_message(item))
        )
    return problems


def parse_prompts(text: str, file: str) -> tuple[list[Prompt], list[Problem]]:
    """Parse prompts.jsonl text; every bad line becomes a Problem naming its line."""
    prompts: list[Prompt] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(file, f"not valid JSON: {exc.msg} (column {exc.colno})", number))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(file, "each line must be a JSON object", number))
            continue
        try:
            prompt = Prompt.model_validate(record)
        except ValidationError as exc:
            for item in exc.errors():
                problems.append(
                    Problem(file, _pydantic_message(item), number, _loc_text(item["loc"]) or None)
                )
            continue
        if prompt.id in first_line:
            problems.append(
                Problem(file, f"duplicate prompt id {prompt.id!r} (first on line {first_line[prompt.id]})",
                        number, "id")
            )
            continue
        first_line[prompt.id] = number
        prompts.append(prompt)
    return prompts, problems


def _lines_by_id(prompts: list[Prompt], text: str) -> dict[str, tuple[Prompt, str]]:
    """Each prompt with the line of ``text`` it was read from (by id; lines that do not parse,
    or name no id, are skipped: their prompts are written afresh)."""
    by_id = {p.id: p for p in prompts}
    out: dict[str, tuple[Prompt, str]] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        prompt_id = record.get("id") if isinstance(record, dict) else None
        if isinstance(prompt_id, str) and prompt_id in by_id and prompt_id not in out:
            out[prompt_id] = (by_id[prompt_id], line.rstrip("\r"))
    return out


@dataclass
class Benchmark:
    root: Path
    config: BenchmarkConfig
    prompts: list[Prompt]
    document: tomlkit.TOMLDocument
    config_fingerprint: Fingerprint
    prompts_fingerprint: Fingerprint
    _config_bytes: bytes = field(default=b"", repr=False)
    _prompts_bytes: bytes = field(default=b"", repr=False)
    #: each prompt as loaded, with its line in the file: a save writes an unchanged prompt's
    #: line back exactly as it was, so a team's git diff shows only what changed.
    _prompt_lines: dict[str, tuple[Prompt, str]] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------- paths
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def prompts_path(self) -> Path:
        return self.root / PROMPTS_FILE

    @property
    def ratings_path(self) -> Path:
        return self.root / RATINGS_FILE

    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS_DIR

    @property
    def decisions_dir(self) -> Path:
        return self.root / DECISIONS_DIR

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR

    # --------------------------------------------------------------- loading
    @classmethod
    def load(cls, root: Path | str, *, check_references: bool = True) -> "Benchmark":
        root = Path(root)
        config_path = root / CONFIG_FILE
        if not root.is_dir():
            raise NotFound(f"{root}: no such benchmark folder")
        if not config_path.is_file():
            raise NotFound(f"{config_path}: missing; is {root} a benchmark folder? (try: workbench init {root})")
        problems: list[Problem] = []
        config_file = str(config_path)
        config_bytes = config_path.read_bytes()
        try:
            config_text = config_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput([Problem(config_file, f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
        try:
            document = tomlkit.parse(config_text)
        except tomlkit.exceptions.ParseError as exc:
            raise InvalidInput([Problem(config_file, f"not valid TOML: {exc}", exc.line)]) from None
        config: BenchmarkConfig | None = None
        try:
            config = BenchmarkConfig.model_validate(document.unwrap())
        except ValidationError as exc:
            problems.extend(toml_problems(exc, config_file, config_text))

        prompts_path = root / PROMPTS_FILE
        prompts_bytes = prompts_path.read_bytes() if prompts_path.exists() else b""
        try:
            prompts_text = prompts_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(str(prompts_path), f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
            prompts_text = ""
        prompts, prompt_problems = parse_prompts(prompts_text, str(prompts_path))
        problems.extend(prompt_problems)

        if config is not None and check_references:
            from workbench.benchmark.checks import reference_problems

            problems.extend(reference_problems(config, config_file, config_text))
        if problems or config is None:
            # in reading order: file by file, line by line
            raise InvalidInput(sorted(problems, key=lambda p: (p.file, p.line or 0)))
        return cls(
            root=root,
            config=config,
            prompts=prompts,
            document=document,
            config_fingerprint=Fingerprint.of_bytes(config_bytes),
            prompts_fingerprint=Fingerprint.of_bytes(prompts_bytes if prompts_path.exists() else None),
            _config_bytes=config_bytes,
            _prompts_bytes=prompts_bytes,
            _prompt_lines=_lines_by_id(prompts, prompts_text),
        )

    # --------------------------------------------------------------- queries
    def prompt(self, prompt_id: str) -> Prompt:
        for prompt in self.prompts:
            if prompt.id == prompt_id:
                return prompt
        raise NotFound(f"{self.prompts_path}: no prompt with id {prompt_id!r}")

    def prompts_with_tag(self, tag: str | None) -> list[Prompt]:
        if tag is None:
            return list(self.prompts)
        return [p for p in self.prompts if tag in p.tags]

    def tags(self) -> list[str]:
        return sorted({t for p in self.prompts for t in p.tags})

    def prompt_tags(self) -> dict[str, tuple[str, ...]]:
        return {p.id: p.tags for p in self.prompts}

    def config_hash(self) -> str:
        return hashlib.sha256(self._config_bytes).hexdigest()

    def prompts_hash(self) -> str:
        return hashlib.sha256(self._prompts_bytes).hexdigest()

    # ---------------------------------------------------------------- saving
    def prompts_text(self) -> str:
        lines = []
        for prompt in self.prompts:
            loaded = self._prompt_lines.get(prompt.id)
            if loaded is not None and loaded[0] == prompt:
                lines.append(loaded[1])  # untouched: byte for byte as it was
            else:
                lines.append(dump_json_line(prompt.to_record()))
        return "".join(line + "\n" for line in lines)

    def save_prompts(self) -> None:
        data = self.prompts_text().encode("utf-8")
        self.prompts_fingerprint = write_if_unchanged(self.prompts_path, data, self.prompts_fingerprint)
        self._prompts_bytes = data
        self._prompt_lines = _lines_by_id(self.prompts, data.decode("utf-8"))

    def save_config(self) -> None:
        data = tomlkit.dumps(self.document).encode("utf-8")
        self.config_fingerprint = write_if_unchanged(self.config_path, data, self.config_fingerprint)
        self._config_bytes = data

    def _revalidate_document(self) -> None:
        text = tomlkit.dumps(self.document)
        try:
            self.config = BenchmarkConfig.model_validate(self.document.unwrap())
        except ValidationError as exc:
            raise InvalidInput(toml_problems(exc, str(self.config_path), text)) from None

    def set_threshold(
        self, scorer: str, *, min: float | None, max: float | None, tag: str | None = None
    ) -> Threshold | None:
        """Set (or clear, with both None) one scorer's bounds, for all prompts or one tag.

        Changes the in-memory config and TOML document; call :meth:`save_config` to write.
        Existing keys are updated in place, so the saved diff is one line per changed bound.
        """
        doc = self.document
        before = tomlkit.dumps(doc)
        try:
            self._edit_threshold(doc, scorer, min, max, tag)
            self._revalidate_document()
        except InvalidInput:
            self.document = tomlkit.parse(before)
            self._revalidate_document()
            raise
        return self.config.thresholds.get(scorer)

    def _edit_threshold(
        self, doc: tomlkit.TOMLDocument, scorer: str, min: float | None, max: float | None,
        tag: str | None,
    ) -> None:
        trailing: list[tuple[Any, Any]] = []
        if "thresholds" not in doc:
            doc.add(tomlkit.nl())
            doc["thresholds"] = tomlkit.table(is_super_table=True)
        thresholds = doc["thresholds"]
        if tag is None:
            if min is None and max is None:
                if scorer in thresholds:
                    del thresholds[scorer]
                return
            if scorer not in thresholds:
                trailing = _append_table(thresholds, scorer)
            target = thresholds[scorer]
        else:
            if scorer not in thresholds:
                raise InvalidInput([Problem(str(self.config_path),
                                            "set a threshold for all prompts before a per-tag override",
                                            field=f"thresholds.{scorer}")])
            table = thresholds[scorer]
            if "tags" not in table:
                table["tags"] = tomlkit.table(is_super_table=True)
            if min is None and max is None:
                if tag in table["tags"]:
                    del table["tags"][tag]
                return
            if tag not in table["tags"]:
                table["tags"][tag] = tomlkit.table()
            target = table["tags"][tag]
        for key, value in (("min", min), ("max", max)):
            if value is None:
                if key in target:
                    del target[key]
            elif key not in target or float(target[key]) != float(value):
                target[key] = float(value)  # untouched bounds keep their exact spelling
        target.value.body.extend(trailing)


def _append_table(parent: Any, name: str) -> list[tuple[Any, Any]]:
    """Add an empty ``[parent.name]`` after the last sub-table; returns the comments and blank lines
    that introduced what follows, taken out of that sub-table.

    tomlkit keeps comment lines and blank lines that precede the next section inside the
    previous table; a new table appended after them would sit under the wrong comment.
    """
    tables = [value for value in parent.values() if isinstance(value, tomlkit.items.Table)]
    trailing: list[tuple[Any, Any]] = []
    if tables:
        body = tables[-1].value.body
        while body and body[-1][0] is None and isinstance(
                body[-1][1], (tomlkit.items.Comment, tomlkit.items.Whitespace)):
            trailing.insert(0, body.pop())
        if trailing:
            body.append((None, tomlkit.items.Whitespace("\n")))
    parent[name] = tomlkit.table()
    return trailing  # the caller puts them back after the new table's keys

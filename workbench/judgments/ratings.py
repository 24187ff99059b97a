"""Human judgments in ``BENCH/ratings.jsonl``: ratings of one clip and pairwise preferences.

The file is append-only (one JSON record a line, fsynced). Two kinds of record:

* ``{"kind": "rating", "prompt_id", "model", "repeat", "run", "score" (1-5), "passed",
  "comment", "rater", "at"}``: at least one of ``score`` and ``passed``.
* ``{"kind": "preference", "prompt_id", "left": {"model", "repeat", "run"}, "right": {...},
  "choice": "left" | "right" | "tie", "rater", "comment", "at"}``: the side shown on the
  left is recorded so a viewer can blind and shuffle; the winner follows from ``choice``.

Reading is strict (every bad line is reported as file:line: field: message) except for a
record cut short by a crash during an append, which is skipped with a warning. A later
line by the same rater about the same clip (or the same pair of clips) supersedes an
earlier one; different raters are kept side by side and averaged by the readers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_serializer, field_validator,
    model_validator,
)

from workbench.people import person_name
from workbench.errors import InvalidInput, NotFound, Problem
from workbench.safe_files import append_jsonl

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark

# (model, prompt_id, repeat) -> run id: which run's clip a table shows for each item.
RunOf = Mapping[tuple[str, str, int], str]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _check_rater(value: str) -> str:
    if not value.strip():
        raise ValueError("rater is empty")
    if "\n" in value or "\r" in value:
        raise ValueError("rater must be on one line")
    return value


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @field_serializer("at", check_fields=False)
    def _dump_at(self, value: datetime) -> str:
        return _utc(value).isoformat().replace("+00:00", "Z")


class Rating(_Record):
    """One rater's verdict on one clip: a 1-5 score, a pass/fail, or both."""

    kind: Literal["rating"] = "rating"
    prompt_id: str = Field(min_length=1)
    model: str = Field(min_length=1)
    repeat: int = Field(default=0, ge=0)
    run: str | None = None
    score: int | None = Field(default=None, ge=1, le=5)
    passed: bool | None = None
    comment: str = ""
    rater: str
    at: datetime

    _rater = field_validator("rater")(_check_rater)
    _at = field_validator("at")(_utc)

    @model_validator(mode="after")
    def _some_verdict(self) -> "Rating":
        if self.score is None and self.passed is None:
            raise ValueError("a rating needs 'score' (1-5), 'passed' (true/false) or both")
        return self

    @property
    def item(self) -> tuple[str, str, int]:
        """(model, prompt_id, repeat): the clip this rating is about."""
        return (self.model, self.prompt_id, self.repeat)

    def to_record(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Side(BaseModel):
    """One clip of a pairwise comparison."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    model: str = Field(min_length=1)
    repeat: int = Field(default=0, ge=0)
    run: str | None = None


class Preference(_Record):
    """One rater's choice between two clips of the same prompt."""

    kind: Literal["preference"] = "preference"
    prompt_id: str = Field(min_length=1)
    left: Side
    right: Side
    choice: Literal["left", "right", "tie"]
    rater: str
    comment: str = ""
    at: datetime

    _rater = field_validator("rater")(_check_rater)
    _at = field_validator("at")(_utc)

    @model_validator(mode="after")
    def _two_clips(self) -> "Preference":
        if (self.left.model, self.left.repeat) == (self.right.model, self.right.repeat) \
                and self.left.run == self.right.run:
            raise ValueError("left and right are the same clip")
        return self

    @property
    def winner(self) -> Side | None:
        return {"left": self.left, "right": self.right}.get(self.choice)

    @property
    def loser(self) -> Side | None:
        return {"left": self.right, "right": self.left}.get(self.choice)

    @property
    def pair_key(self) -> tuple[str, str, frozenset[tuple[str, int]]]:
        """(rater, prompt, {clips}): the same rater comparing the same two clips again supersedes."""
        return (self.rater, self.prompt_id,
                frozenset({(self.left.model, self.left.repeat), (self.right.model, self.right.repeat)}))

    def to_record(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


Judgment = Union[Rating, Preference]
_JUDGMENT = TypeAdapter(Annotated[Judgment, Field(discriminator="kind")])


def _side_matches(run: str | None, item: tuple[str, str, int], run_of: RunOf | None) -> bool:
    """A judgment about a named run's clip counts only where the table shows that run."""
    if run is None or run_of is None or item not in run_of:
        return True
    return run_of[item] == run


@dataclass
class Judgments:
    """Every judgment in a ratings file, in file order, plus warnings about skipped lines."""

    ratings: list[Rating] = field(default_factory=list)
    preferences: list[Preference] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def current_ratings(self, run_of: RunOf | None = None) -> list[Rating]:
        """Ratings after supersession: the latest line per (rater, prompt, model, repeat).

        With ``run_of``, ratings that name a different run than the one shown for their
        clip are ignored first (ratings without a run always count).
        """
        latest: dict[tuple[str, str, str, int], Rating] = {}
        for rating in self.ratings:
            if not _side_matches(rating.run, rating.item, run_of):
                continue
            key = (rating.rater, rating.prompt_id, rating.model, rating.repeat)
            latest.pop(key, None)  # keep the dict in order of the latest line
            latest[key] = rating
        return list(latest.values())

    def current_preferences(self, run_of: RunOf | None = None) -> list[Preference]:
        """Preferences after supersession: the latest line per (rater, prompt, pair of clips)."""
        latest: dict[tuple[str, str, frozenset[tuple[str, int]]], Preference] = {}
        for pref in self.preferences:
            sides_ok = all(
                _side_matches(side.run, (side.model, pref.prompt_id, side.repeat), run_of)
                for side in (pref.left, pref.right)
            )
            if not sides_ok:
                continue
            latest.pop(pref.pair_key, None)
            latest[pref.pair_key] = pref
        return list(latest.values())


# ----------------------------------------------------------------------------- reading


def looks_torn(line: str, is_last_unterminated: bool) -> bool:
    """Whether an unparsable line is a record cut short by a crash mid-append.

    The last line without a newline is torn by definition. An earlier one is torn if it
    starts like a record but never closes: ``append_jsonl`` starts the next record on a
    fresh line, so a torn line can end up in the middle of the file.
    """
    if is_last_unterminated:
        return True
    stripped = line.strip()
    return stripped.startswith("{") and not stripped.endswith("}")


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("rating", "preference"):
        parts = parts[1:]
    return ".".join(parts) or None


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return "'kind' must be \"rating\" or \"preference\""
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")


def parse_judgments(text: str, file: str, *, strict: bool = False) -> Judgments:
    """Parse ratings.jsonl text. A bad line is skipped with a warning naming its line and field
    (one hand-edited line must not hide every other judgment); ``strict`` raises InvalidInput
    listing every bad line instead."""
    out = Judgments()
    problems: list[Problem] = []
    lines = text.split("\n")
    # text.split leaves "" after a final newline; a non-empty last piece had no newline.
    last_unterminated = len(lines) - 1 if lines and lines[-1] != "" else -1
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        number = index + 1
        try:
            record = _JUDGMENT.validate_json(line)
        except ValidationError as exc:
            errors = exc.errors()
            if errors and errors[0].get("type") == "json_invalid":
                if looks_torn(line, index == last_unterminated):
                    out.warnings.append(
                        f"{file}:{number}: incomplete record (an append was interrupted); skipped"
                    )
                else:
                    problems.append(Problem(file, f"not valid JSON: {errors[0].get('msg')}", number))
                continue
            for item in errors:
                problems.append(Problem(file, _message(item), number, _field(item["loc"])))
            continue
        if isinstance(record, Rating):
            out.ratings.append(record)
        else:
            out.preferences.append(record)
    if problems and strict:
        raise InvalidInput(problems)
    for line in sorted({p.line for p in problems}, key=lambda n: n or 0):
        said = "; ".join(f"{p.field}: {p.message}" if p.field else p.message
                         for p in problems if p.line == line)
        out.warnings.append(f"{file}:{line}: {said}; line skipped")
    return out


def load_judgments(path: Path | str, *, strict: bool = False) -> Judgments:
    """Load a ratings file; a missing file means no judgments yet (see parse_judgments)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Judgments()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput([Problem(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    return parse_judgments(text, str(path), strict=strict)


# ----------------------------------------------------------------------------- writing


def default_rater(explicit: str | None = None) -> str:
    """--rater, else $WORKBENCH_RATER, else the login name."""
    return person_name(explicit, flag="--rater", doing="rating")


def append_judgment(path: Path | str, judgment: Judgment) -> None:
    """Append one judgment to a ratings file (fsynced)."""
    append_jsonl(Path(path), judgment.to_record())


def _check_clip(bench: Benchmark, prompt_id: str, model: str, run: str | None) -> None:
    bench.prompt(prompt_id)  # raises NotFound naming the file
    models = bench.config.models
    if model not in models:
        raise NotFound(f"{bench.config_path}: no model {model!r} (models: {', '.join(models) or 'none'})")
    if run is None:
        return
    runs_dir = bench.runs_dir
    existing = sorted(p.name for p in runs_dir.iterdir()
                      if p.is_dir() and not p.name.startswith(".")) if runs_dir.is_dir() else []
    if run not in existing:
        raise NotFound(f"{bench.runs_dir}: no run {run!r} (runs: {', '.join(existing) or 'none yet'})")


def _build(cls: type[_Record], fields: dict[str, Any], where: str) -> Any:
    try:
        return cls.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(
            [Problem(where, _message(e), None, _field(e["loc"])) for e in exc.errors()]
        ) from None


def record_rating(
    bench: Benchmark, prompt_id: str, model: str, *, rater: str, repeat: int = 0, run: str | None = None,
    score: int | None = None, passed: bool | None = None, comment: str = "",
    at: datetime | None = None,
) -> Rating:
    """Check a rating against the benchmark (prompt, model, run exist), append it, return it."""
    _check_clip(bench, prompt_id, model, run)
    rating = _build(Rating, dict(
        prompt_id=prompt_id, model=model, repeat=repeat, run=run, score=score, passed=passed,
        comment=comment, rater=rater, at=at or utc_now(),
    ), "rating")
    append_judgment(bench.ratings_path, rating)
    return rating


def record_preference(
    bench: Benchmark, prompt_id: str, left: Side, right: Side, choice: str, *, rater: str,
    comment: str = "", at: datetime | None = None,
) -> Preference:
    """Check a preference against the benchmark, append it, return it."""
    for side in (left, right):
        _check_clip(bench, prompt_id, side.model, side.run)
    pref = _build(Preference, dict(
        prompt_id=prompt_id, left=left, right=right, choice=choice, rater=rater, comment=comment,
        at=at or utc_now(),
    ), "preference")
    append_judgment(bench.ratings_path, pref)
    return pref


def judgments_of(records: Iterable[Judgment]) -> Judgments:
    """Wrap in-memory judgments (e.g. from a viewer) the way load_judgments returns them."""
    out = Judgments()
    for record in records:
        (out.ratings if isinstance(record, Rating) else out.preferences).append(record)
    return out

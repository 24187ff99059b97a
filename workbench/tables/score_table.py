"""Every run's scores (and the human judgments) as one long polars frame, and per-prompt wide tables.

Long format: one row per clip x scorer with columns run, model, prompt_id, repeat, scorer,
version, value, error (and ``passed`` once thresholds are applied). Each clip
(model, prompt_id, repeat) comes from one run only: the newest run (run ids sort by time)
that has scores for it, among all runs or among the runs asked for.
"""

from __future__ import annotations

import io
import math
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.decide.thresholds import passed_column
from workbench.errors import InvalidInput, NotFound, Problem, WorkbenchError
from workbench.judgments.human_scores import (
    HUMAN_SCORER_NAMES, SCORE_SCHEMA, empty_scores, human_score_rows,
)
from workbench.judgments.ratings import load_judgments, looks_torn

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark

SCORES_FILE = "scores.jsonl"
CLIP = ["model", "prompt_id", "repeat"]
KEY = [*CLIP, "scorer"]
TABLE_COLUMNS = [*SCORE_SCHEMA, "passed"]


class ScoreRecord(BaseModel):
    """One line of ``runs/<run>/scores.jsonl`` (keys this module does not use are ignored)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    run: str | None = None
    model: str = Field(min_length=1)
    prompt_id: str = Field(min_length=1)
    repeat: int = Field(ge=0)
    scorer: str = Field(min_length=1)
    version: str = ""
    value: float | None = None
    error: str | None = None
    video_sha256: str | None = None


# ----------------------------------------------------------------------------- reading runs


def run_ids(bench: Benchmark) -> list[str]:
    """Every run folder of the benchmark, oldest first."""
    runs_dir: Path = bench.runs_dir
    if not runs_dir.is_dir():
        return []
    return sorted(p.name for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


FILE_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.Utf8, "prompt_id": pl.Utf8, "repeat": pl.Int64, "scorer": pl.Utf8, "version": pl.Utf8,
    "value": pl.Float64, "error": pl.Utf8,
}


def _file_frame(records: list[ScoreRecord]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model": [r.model for r in records],
            "prompt_id": [r.prompt_id for r in records],
            "repeat": [r.repeat for r in records],
            "scorer": [r.scorer for r in records],
            "version": [r.version for r in records],
            "value": [r.value if r.value is None or math.isfinite(r.value) else None for r in records],
            "error": [r.error for r in records],
        },
        schema=FILE_SCHEMA,
    )


def _parse_lines(text: str, path: Path, first_number: int, unterminated_last: bool,
                 warnings: list[str]) -> list[ScoreRecord]:
    """Validate lines one by one; every bad line is a Problem naming its line (raised together)."""
    records: list[ScoreRecord] = []
    problems: list[Problem] = []
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        number = first_number + index
        try:
            records.append(ScoreRecord.model_validate_json(line))
        except ValidationError as exc:
            errors = exc.errors()
            if errors[0].get("type") == "json_invalid":
                if looks_torn(line, unterminated_last and index == len(lines) - 1):
                    warnings.append(f"{path}:{number}: incomplete record (a write was interrupted); skipped")
                else:
                    problems.append(Problem(str(path), f"not valid JSON: {errors[0].get('msg')}", number))
                continue
            for item in errors:
                field = ".".join(str(p) for p in item["loc"]) or None
                message = "required key is missing" if item["type"] == "missing" else item["msg"]
                problems.append(Problem(str(path), message, number, field))
    if problems:
        raise InvalidInput(problems)
    return records


def _fast_frame(body: bytes) -> pl.DataFrame | None:
    """Complete lines read by polars in one go; None if anything looks off (the slow path explains)."""
    if not body or body.isspace():
        return pl.DataFrame(schema=FILE_SCHEMA)
    try:
        frame = pl.read_ndjson(io.BytesIO(body), schema=FILE_SCHEMA)
    except Exception:  # any parse problem: let the line-by-line reader name it
        return None
    names = pl.col("model", "prompt_id", "scorer")
    bad = frame.select(
        pl.any_horizontal(names.is_null() | names.str.len_chars().eq(0)).any()
        | pl.col("repeat").is_null().any()
        | (pl.col("repeat") < 0).any()
    ).item()
    if bad:
        return None
    return frame.with_columns(pl.col("version").fill_null(""))


def _read_scores_file(path: Path, warnings: list[str]) -> pl.DataFrame:
    """The latest record per (model, prompt, repeat, scorer) of one run's scores file.

    Complete lines go through polars' NDJSON reader; a trailing line without a newline
    (an interrupted write) and any file the fast reader rejects are read line by line,
    so problems are reported with their line numbers.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return pl.DataFrame(schema=FILE_SCHEMA)
    cut = data.rfind(b"\n") + 1
    frame = _fast_frame(data[:cut])
    if frame is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput([Problem(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
        frame = _file_frame(_parse_lines(text, path, 1, not text.endswith("\n"), warnings))
    elif cut < len(data):
        tail = data[cut:].decode("utf-8", errors="replace")
        first = data.count(b"\n", 0, cut) + 1
        frame = pl.concat([frame, _file_frame(_parse_lines(tail, path, first, True, warnings))])
    return frame.unique(subset=KEY, keep="last", maintain_order=True)


def load_scores(bench: Benchmark, runs: list[str] | None = None, warnings: list[str] | None = None) -> pl.DataFrame:
    """All scores as a long frame (columns :data:`SCORE_SCHEMA`), one run per clip.

    ``runs`` limits the runs considered (NotFound for a run that does not exist); for each
    clip the newest of them with scores for it is used. Problems that do not stop reading
    (an interrupted last line) are appended to ``warnings``.
    """
    warnings = warnings if warnings is not None else []
    existing = run_ids(bench)
    if runs:
        for run in runs:
            if run not in existing:
                raise NotFound(
                    f"{bench.runs_dir}: no run {run!r} (runs: {', '.join(existing) or 'none yet'})"
                )
        selected = sorted(set(runs))
    else:
        selected = existing
    frames = []
    for run in selected:
        part = _read_scores_file(bench.runs_dir / run / SCORES_FILE, warnings)
        if runs and part.is_empty():
            warnings.append(f"run {run} has no scores yet (run `workbench score {bench.root}`)")
        # the folder names the run, even if a file was copied from elsewhere
        frames.append(part.with_columns(pl.lit(run, dtype=pl.Utf8).alias("run")))
    if not frames:
        return empty_scores()
    frame = pl.concat(frames).select(list(SCORE_SCHEMA))
    if frame.is_empty():
        return frame
    frame = _drop_stale_versions(bench, frame, warnings)
    newest = frame.group_by(CLIP).agg(pl.col("run").max())
    return frame.join(newest, on=[*CLIP, "run"], how="semi", maintain_order="left")


def _drop_stale_versions(bench: Benchmark, frame: pl.DataFrame, warnings: list[str]) -> pl.DataFrame:
    """Keep each automated scorer's results at its current version only.

    A scorer's new version invalidates its own old results: comparing sharpness@1 for
    one model with sharpness@2 for another would compare two different measures.
    """
    from workbench.scorers.registry import available_scorers

    try:
        current = {name: info.version for name, info in
                   available_scorers(bench.config.scoring.external).items()}
    except WorkbenchError:
        return frame
    versions = pl.DataFrame({"scorer": list(current), "_current": list(current.values())},
                            schema={"scorer": pl.Utf8, "_current": pl.Utf8})
    marked = frame.join(versions, on="scorer", how="left", maintain_order="left")
    stale = marked.filter(pl.col("_current").is_not_null() & (pl.col("version") != pl.col("_current")))
    if stale.is_empty():
        return frame
    names = sorted({f"{r['scorer']}@{r['version']}" for r in stale.select("scorer", "version").iter_rows(named=True)})
    warnings.append(f"ignored {stale.height} result(s) of older scorer versions ({', '.join(names[:5])}"
                    f"{' ...' if len(names) > 5 else ''}): run `workbench score {bench.root}` to rescore")
    keep = pl.col("_current").is_null() | (pl.col("version") == pl.col("_current"))
    return marked.filter(keep).drop("_current")


# ----------------------------------------------------------------------------- the table


def _order(names: list[str], first: list[str], last: tuple[str, ...] = ()) -> list[str]:
    seen = set(first) | set(last)
    return [n for n in first if n in names] + sorted(n for n in names if n not in seen) + \
        [n for n in last if n in names]


def scorer_order(bench: Benchmark, scorers: list[str]) -> list[str]:
    """Configured scorers in config order, then other automated ones, then the human ones."""
    return _order(scorers, list(bench.config.scorers), HUMAN_SCORER_NAMES)


#: The last few tables read, by everything their contents depend on. Every screen of the
#: terminal workbench (and the gate, and alignment) reads the same table after each reload;
#: the first read serves the others. Frames are immutable, so sharing them is safe.
_READ: OrderedDict[tuple, tuple[pl.DataFrame, tuple[str, ...]]] = OrderedDict()
_READ_LOCK = threading.Lock()
_READ_KEEP = 4


def forget_read_tables() -> None:
    """Drop every table kept by :func:`load_table` (for measuring a first read)."""
    with _READ_LOCK:
        _READ.clear()


def _inputs_key(bench: Benchmark, runs: list[str] | None, tag: str | None, include_human: bool) -> tuple:
    """What a table depends on: the files read (by size and modification time) and the
    benchmark's prompts and configuration."""
    files: list[tuple] = []
    paths = [bench.runs_dir / run / name for run in run_ids(bench) for name in (SCORES_FILE, "journal.jsonl")]
    if include_human:
        paths.append(bench.ratings_path)
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            files.append((str(path), None, None))
        else:
            files.append((str(path), stat.st_size, stat.st_mtime_ns))
    prompts = tuple((p.id, p.tags) for p in bench.prompts)
    return (str(bench.root.resolve()), tuple(runs or ()), tag, include_human, tuple(files), prompts,
            bench.config.model_dump_json())


def load_table(
    bench: Benchmark, runs: list[str] | None = None, tag: str | None = None, include_human: bool = True,
    warnings: list[str] | None = None,
) -> pl.DataFrame:
    """Scores plus human rows for the benchmark's current prompts (those with ``tag``), with ``passed``
    from :func:`workbench.decide.thresholds.passed_column` (None where no threshold applies).

    Rows are ordered by prompt (benchmark order), model (config order), repeat and scorer.
    A table read before from the very same files and settings is returned again (with its
    warnings), not read twice.
    """
    warnings = warnings if warnings is not None else []
    key = _inputs_key(bench, runs, tag, include_human)
    with _READ_LOCK:  # a second reader waits for the first and takes its table
        if key in _READ:
            _READ.move_to_end(key)
            frame, said = _READ[key]
            warnings.extend(said)
            return frame
        said: list[str] = []
        frame = _read_table(bench, runs, tag, include_human, said)
        _READ[key] = (frame, tuple(said))
        while len(_READ) > _READ_KEEP:
            _READ.popitem(last=False)
    warnings.extend(said)
    return frame


def _read_table(bench: Benchmark, runs: list[str] | None, tag: str | None, include_human: bool,
                warnings: list[str]) -> pl.DataFrame:
    if tag is not None and tag not in bench.tags():
        raise NotFound(f"no prompt is tagged {tag!r} (tags: {', '.join(bench.tags()) or 'none'})")
    scores = load_scores(bench, runs, warnings)
    frames = [scores]
    if include_human:
        from workbench.judgments.carry_over import carry_over, journal_clip_keys

        judgments = load_judgments(bench.ratings_path)
        warnings.extend(judgments.warnings)
        run_of = {
            (m, p, r): run for m, p, r, run in
            scores.select([*CLIP, "run"]).unique().iter_rows()
        }
        judgments = carry_over(judgments, run_of, journal_clip_keys(bench))
        frames.append(human_score_rows(judgments, run_of))
    frame = pl.concat(frames) if len(frames) > 1 else frames[0]
    prompt_ids = [p.id for p in bench.prompts_with_tag(tag)]
    frame = frame.filter(pl.col("prompt_id").is_in(prompt_ids))
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("passed"))
    passed = passed_column(frame, bench.prompt_tags(), dict(bench.config.thresholds))
    frame = frame.with_columns(passed.alias("passed"))

    models = _order(frame.get_column("model").unique().to_list(), list(bench.config.models))
    scorers = scorer_order(bench, frame.get_column("scorer").unique().to_list())
    ranks = {
        "prompt_id": {p: i for i, p in enumerate(prompt_ids)},
        "model": {m: i for i, m in enumerate(models)},
        "scorer": {s: i for i, s in enumerate(scorers)},
    }
    sort_keys = [pl.col(c).replace_strict(r, return_dtype=pl.Int64) for c, r in ranks.items()]
    return frame.sort([sort_keys[0], sort_keys[1], pl.col("repeat"), sort_keys[2]]).select(TABLE_COLUMNS)


def wide_table(df: pl.DataFrame, scorers: list[str] | None = None) -> pl.DataFrame:
    """One row per (prompt, model), repeats pooled; per scorer S the columns
    ``S`` (mean value), ``S:passed`` and ``S:judged`` (repeats passing / with a verdict),
    ``S:errors`` (repeats where the scorer failed). Row order follows ``df``.
    """
    if scorers is None:
        scorers = list(dict.fromkeys(df.get_column("scorer").to_list()))
    if "passed" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Boolean).alias("passed"))
    rows = (
        df.with_row_index("_row")
        .group_by(["prompt_id", "model", "scorer"])
        .agg(
            pl.col("_row").min(),
            pl.col("value").mean().alias("mean"),
            pl.col("passed").cast(pl.Int64).sum().alias("passed"),
            pl.col("passed").is_not_null().sum().cast(pl.Int64).alias("judged"),
            pl.col("error").is_not_null().sum().cast(pl.Int64).alias("errors"),
        )
    )
    base = (
        df.with_row_index("_row").group_by(["prompt_id", "model"])
        .agg(pl.col("_row").min(), pl.col("repeat").n_unique().alias("repeats"))
    )
    out = base
    for scorer in scorers:
        part = rows.filter(pl.col("scorer") == scorer).select(
            "prompt_id", "model",
            pl.col("mean").alias(scorer),
            pl.col("passed").alias(f"{scorer}:passed"),
            pl.col("judged").alias(f"{scorer}:judged"),
            pl.col("errors").alias(f"{scorer}:errors"),
        )
        out = out.join(part, on=["prompt_id", "model"], how="left")
    return out.sort("_row").drop("_row")

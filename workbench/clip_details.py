"""Everything the prompt detail view shows about one prompt's clips, built from plain files.

For each model and repeat: the clip (video, thumbnails, run) and its scores against the
thresholds in force for the prompt's tags (from :class:`~workbench.clip_views.ScoreBoard`),
how it was generated (from the run's journal and manifest: provider, latency, cost, the
provider's job id, attempts and their errors, what was asked for and what came back),
and what people said about it (``ratings.jsonl``). Also: which clip a rater should judge
next, and thumbnails for a clip that was not scored yet.

Nothing here writes except :func:`make_thumbnails`, which writes PNGs where scoring
would have put them.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from workbench.benchmark.prompts import Prompt
from workbench.clip_views import ClipView, GridRow, ScoreBoard
from workbench.engine.cost import format_money
from workbench.engine.journal import JOURNAL_FILE, read_journal
from workbench.engine.manifest import read_manifest
from workbench.engine.runs import JobKey, records_from
from workbench.errors import WorkbenchError
from workbench.judging_queue import Clip, PairTask, RatingTask
from workbench.judgments.ratings import Judgments, Preference, Rating
from workbench.media.thumbnails import DEFAULT_COUNT
from workbench.run_scoring import thumbnails_dir
from workbench.tables.table_output import format_value

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark

#: request parameters worth showing, in this order
REQUEST_KEYS = ("duration", "resolution", "aspect_ratio", "fps")


# ----------------------------------------------------------------------------- generation


@dataclass(frozen=True)
class Generation:
    """How one clip was made, as its run's journal and manifest tell it."""

    run_id: str
    model: str
    prompt_id: str
    repeat: int
    status: str  # succeeded | failed | skipped | submitted | submitting | pending
    provider: str | None = None
    seed: int | None = None
    latency_s: float | None = None
    cost: float | None = None
    provider_job_id: str | None = None
    attempts: int = 0
    cached: bool = False
    error: str | None = None  # why there is no clip (failed, skipped, video missing)
    earlier_errors: tuple[str, ...] = ()  # failures before the last outcome (retried)
    requested: Mapping[str, Any] = field(default_factory=dict)  # only the parameters that were set
    produced: Mapping[str, Any] = field(default_factory=dict)  # width, height, fps, frames, duration
    adjustments: tuple[str, ...] = ()  # how the provider changed the request
    finished_at: str | None = None  # the journal time of the job's last event, as stored

    def asked_text(self) -> str:
        """``duration 4 s, resolution 1280x720`` or ``provider defaults``."""
        parts = []
        for key in REQUEST_KEYS:
            value = self.requested.get(key)
            if value is None:
                continue
            if key == "duration":
                parts.append(f"{value:g} s" if isinstance(value, (int, float)) else f"{value} s")
            elif key == "fps":
                parts.append(f"{value} fps")
            elif key == "aspect_ratio":
                parts.append(f"aspect {value}")
            else:
                parts.append(str(value))
        return ", ".join(parts) if parts else "provider defaults"

    def got_text(self) -> str:
        """``2.0 s, 320x180, 24 fps, 48 frames`` from what the provider reported ('' when nothing)."""
        got = self.produced
        parts = []
        if isinstance(got.get("duration"), (int, float)):
            parts.append(f"{got['duration']:.1f} s")
        if isinstance(got.get("width"), int) and isinstance(got.get("height"), int):
            parts.append(f"{got['width']}x{got['height']}")
        if isinstance(got.get("fps"), (int, float)):
            parts.append(f"{got['fps']:g} fps")
        if isinstance(got.get("frames"), int):
            parts.append(f"{got['frames']} frames")
        return ", ".join(parts)

    def cost_text(self) -> str:
        if self.cached:
            return "cached, no charge"
        return "-" if self.cost is None else format_money(self.cost)

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs to show, most useful first; empty values are left out."""
        rows: list[tuple[str, str]] = [("run", self.run_id)]
        if self.status != "succeeded":
            rows.append(("status", self.status))
        if self.error:
            rows.append(("error", self.error))
        rows.append(("latency", "-" if self.latency_s is None else f"{self.latency_s:.2f} s"))
        rows.append(("cost", self.cost_text()))
        if self.provider:
            rows.append(("provider", self.provider))
        if self.provider_job_id:
            rows.append(("job id", self.provider_job_id))
        if self.attempts > 1 or self.earlier_errors:
            rows.append(("attempts", str(self.attempts or len(self.earlier_errors) + 1)))
        for number, error in enumerate(self.earlier_errors, start=1):
            rows.append((f"retry {number}", error))
        rows.append(("asked", self.asked_text()))
        got = self.got_text()
        if got:
            rows.append(("got", got))
        if self.adjustments:
            rows.append(("adjusted", "; ".join(self.adjustments)))
        if self.seed is not None:
            rows.append(("seed", str(self.seed)))
        if self.finished_at:
            rows.append(("at", self.finished_at))
        return rows


def _produced(info: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    if not isinstance(info, dict):
        return {}, ()
    produced = {k: info[k] for k in ("width", "height", "fps", "frames", "duration")
                if isinstance(info.get(k), (int, float)) and not isinstance(info.get(k), bool)}
    adjustments = info.get("adjustments")
    adjusted = tuple(str(a) for a in adjustments) if isinstance(adjustments, list) else ()
    return produced, adjusted


def run_generations(bench: Benchmark | Path, run_id: str) -> dict[JobKey, Generation]:
    """How every job of one run went, from one read of its manifest and journal.

    A run folder without a readable manifest gives an empty mapping (the run was deleted
    or is being created); a torn journal line is skipped, as everywhere else.
    """
    root = Path(bench) if isinstance(bench, (str, Path)) else Path(bench.root)
    run_dir = root / "runs" / run_id
    manifest = read_manifest(run_dir) if run_dir.is_dir() else None
    if manifest is None:
        return {}
    contents = read_journal(run_dir / JOURNAL_FILE)
    configs = manifest.get("model_configs") if isinstance(manifest.get("model_configs"), dict) else {}

    failures: dict[JobKey, list[str]] = {}
    last: dict[JobKey, dict[str, Any]] = {}  # the last succeeded/failed/skipped event per job
    for event in contents.events:
        kind = event.get("event")
        model, prompt_id, repeat = event.get("model"), event.get("prompt_id"), event.get("repeat")
        if not (isinstance(model, str) and isinstance(prompt_id, str) and isinstance(repeat, int)):
            continue
        key = (model, prompt_id, repeat)
        if kind == "failed":
            failures.setdefault(key, []).append(str(event.get("error") or "failed"))
        if kind in ("succeeded", "failed", "skipped"):
            last[key] = event

    out: dict[JobKey, Generation] = {}
    for record in records_from(run_dir, manifest, contents):
        if record.status == "pending":
            continue
        key = record.id
        event = last.get(key, {})
        errors = failures.get(key, [])
        earlier = errors[:-1] if record.status == "failed" else errors
        produced, adjusted = _produced(event.get("info"))
        config = configs.get(record.model) if isinstance(configs, dict) else None
        provider = config.get("provider") if isinstance(config, dict) else None
        requested = {k: v for k, v in (record.requested or {}).items() if v is not None}
        job_id = record.provider_job_id or event.get("job_id")  # local providers name it on success
        out[key] = Generation(
            run_id=run_id, model=record.model, prompt_id=record.prompt_id, repeat=record.repeat,
            status=record.status, provider=str(provider) if provider else None, seed=record.seed,
            latency_s=record.latency_s, cost=record.cost, provider_job_id=str(job_id) if job_id else None,
            attempts=record.attempts, cached=record.cached, error=record.error,
            earlier_errors=tuple(earlier), requested=requested, produced=produced,
            adjustments=adjusted,
            finished_at=event.get("time") if isinstance(event.get("time"), str) else None,
        )
    return out


class GenerationIndex:
    """Generation records of a benchmark's runs, each run read at most once (thread-safe)."""

    def __init__(self, bench: Benchmark | Path) -> None:
        self.bench = bench
        self._runs: dict[str, dict[JobKey, Generation]] = {}
        self._lock = threading.Lock()

    def get(self, run_id: str | None, key: JobKey) -> Generation | None:
        if run_id is None:
            return None
        with self._lock:
            if run_id not in self._runs:
                self._runs[run_id] = run_generations(self.bench, run_id)
            return self._runs[run_id].get(key)


# ----------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class ScoreLine:
    """One scorer's result for one clip, with the bound it is held to."""

    scorer: str
    value: float | None
    bound: str  # e.g. "≥0.975", "≤0.3" or "≥0.9 #hands" (a tag's override); "" without a threshold
    passed: bool | None  # None without a threshold
    error: str | None
    direction: str = "none"  # higher | lower | none

    def value_text(self) -> str:
        if self.value is None:
            return "error" if self.error else "-"
        return format_value(self.value)


@dataclass(frozen=True)
class ClipJudgments:
    """What people said about one clip: this rater's latest rating and everyone's."""

    mine: Rating | None = None
    raters: int = 0  # raters with a current rating of this clip
    mean_score: float | None = None
    passes: int = 0
    fails: int = 0


@dataclass(frozen=True)
class ClipDetail:
    """One clip of the prompt (a model and a repeat) with everything the detail view shows."""

    view: ClipView
    scores: tuple[ScoreLine, ...]
    generation: Generation | None
    judgments: ClipJudgments = ClipJudgments()

    @property
    def model(self) -> str:
        return self.view.model

    @property
    def repeat(self) -> int:
        return self.view.repeat

    @property
    def key(self) -> JobKey:
        return (self.view.model, self.view.prompt_id, self.view.repeat)

    @property
    def can_be_judged(self) -> bool:
        """A person can only judge a clip that exists."""
        return self.view.video is not None and self.view.run_id is not None

    @property
    def failures(self) -> tuple[str, ...]:
        """``temporal_flicker 0.958 vs ≥0.975`` for every threshold this clip misses."""
        return tuple(f"{s.scorer} {s.value_text()} vs {s.bound}" for s in self.scores if s.passed is False)

    @property
    def passes_all(self) -> bool | None:
        """Every thresholded score passes (None when no threshold applies)."""
        verdicts = [s.passed for s in self.scores if s.passed is not None]
        return all(verdicts) if verdicts else None


@dataclass(frozen=True)
class ModelDetail:
    """One model's clips for the prompt, one per repeat, and its grid row (verdict over repeats)."""

    model: str
    clips: tuple[ClipDetail, ...]
    row: GridRow | None = None

    def clip(self, repeat: int) -> ClipDetail | None:
        for clip in self.clips:
            if clip.repeat == repeat:
                return clip
        return None


@dataclass(frozen=True)
class PromptDetail:
    """A prompt, its place in the benchmark and every model's clips."""

    prompt: Prompt
    position: int  # 0-based place in benchmark order
    total: int
    models: tuple[ModelDetail, ...]
    preferences: tuple[Preference, ...] = ()  # current preferences of every rater about this prompt

    @property
    def repeats(self) -> int:
        return max((len(m.clips) for m in self.models), default=0)

    def model(self, name: str) -> ModelDetail | None:
        for detail in self.models:
            if detail.model == name:
                return detail
        return None

    def clips_without_thumbnails(self) -> list[Path]:
        """Videos of this prompt that exist but have no thumbnails yet."""
        return [c.view.video for m in self.models for c in m.clips
                if c.view.video is not None and not c.view.thumbnails]


def bound_text(board: ScoreBoard, scorer: str, prompt_id: str) -> str:
    """The bound in force for ``scorer`` on this prompt, compactly: ``≥0.975``, ``≤0.3``,
    ``0.2–0.8``, with ``#tag`` when a tag override sets it; '' without a threshold."""
    threshold = board.thresholds.get(scorer)
    if threshold is None:
        return ""
    prompt = board.prompts.get(prompt_id)
    tags = prompt.tags if prompt is not None else ()
    bounds = threshold.for_tags(tags)
    if bounds.min is not None and bounds.max is not None:
        text = f"{bounds.min:g}–{bounds.max:g}"
    elif bounds.min is not None:
        text = f"≥{bounds.min:g}"
    elif bounds.max is not None:
        text = f"≤{bounds.max:g}"
    else:
        return ""
    tag = next((t for t in tags if t in threshold.tags), None)
    return f"{text} #{tag}" if tag else text


def _score_lines(board: ScoreBoard, view: ClipView) -> tuple[ScoreLine, ...]:
    lines = []
    for scorer in board.scorers:
        score = view.scores.get(scorer)
        if score is None:
            continue
        note = board.notes.get(scorer)
        lines.append(ScoreLine(
            scorer=scorer, value=score.value, bound=bound_text(board, scorer, view.prompt_id),
            passed=score.passed, error=score.error, direction=note.direction if note else "none",
        ))
    return tuple(lines)


def _run_of(board: ScoreBoard) -> dict[JobKey, str]:
    return {(v.model, v.prompt_id, v.repeat): v.run_id for views in board.clips.values()
            for v in views if v.run_id is not None}


def clip_judgments(judgments: Judgments, rater: str | None, run_of: Mapping[JobKey, str]
                   ) -> dict[JobKey, ClipJudgments]:
    """Per clip: ``rater``'s latest rating and a summary over every rater's current rating."""
    by_clip: dict[JobKey, list[Rating]] = {}
    for rating in judgments.current_ratings(run_of):
        by_clip.setdefault(rating.item, []).append(rating)
    out: dict[JobKey, ClipJudgments] = {}
    for key, ratings in by_clip.items():
        scores = [r.score for r in ratings if r.score is not None]
        out[key] = ClipJudgments(
            mine=next((r for r in reversed(ratings) if r.rater == rater), None),
            raters=len({r.rater for r in ratings}),
            mean_score=sum(scores) / len(scores) if scores else None,
            passes=sum(1 for r in ratings if r.passed is True),
            fails=sum(1 for r in ratings if r.passed is False),
        )
    return out


def prompt_detail(board: ScoreBoard, prompts: Sequence[Prompt], prompt_id: str,
                  generations: GenerationIndex | None = None, judgments: Judgments | None = None,
                  rater: str | None = None) -> PromptDetail:
    """The detail of one prompt; raises WorkbenchError when there is no such prompt."""
    order = [p.id for p in prompts]
    if prompt_id not in order:
        raise WorkbenchError(f"no prompt {prompt_id!r} in prompts.jsonl any more")
    prompt = prompts[order.index(prompt_id)]
    run_of = _run_of(board)
    said = clip_judgments(judgments, rater, run_of) if judgments is not None else {}
    models = []
    for model, views in board.clips_for(prompt_id):
        clips = []
        for view in views:
            key = (view.model, view.prompt_id, view.repeat)
            generation = generations.get(view.run_id, key) if generations is not None else None
            clips.append(ClipDetail(view, _score_lines(board, view), generation,
                                    said.get(key, ClipJudgments())))
        models.append(ModelDetail(model, tuple(clips), board.row(prompt_id, model)))
    preferences: tuple[Preference, ...] = ()
    if judgments is not None:
        preferences = tuple(p for p in judgments.current_preferences(run_of) if p.prompt_id == prompt_id)
    return PromptDetail(prompt, order.index(prompt_id), len(order), tuple(models), preferences)


# ----------------------------------------------------------------------------- judging


def board_clips(board: ScoreBoard, prompts: Sequence[Prompt]) -> list[Clip]:
    """Every clip with a video that the board shows, as judging tasks use them
    (benchmark order: prompt, model, repeat); thumbnails may be missing yet."""
    clips = []
    for prompt in prompts:
        for _model, views in board.clips_for(prompt.id):
            for view in views:
                if view.video is None or view.run_id is None:
                    continue
                clips.append(Clip(model=view.model, prompt_id=view.prompt_id, repeat=view.repeat,
                                  run=view.run_id, video=view.video, thumbnails=view.thumbnails))
    return clips


T = TypeVar("T", RatingTask, PairTask)


def next_to_judge(tasks: Sequence[T], judged: Mapping[Hashable, int], current: Hashable | None = None
                  ) -> T | None:
    """The first task in queue order that this rater has not judged yet, other than ``current``.

    ``judged`` holds the counts as they are now (the tasks' own counts are from when the
    queue was built); None when every task has been judged.
    """
    for task in tasks:
        if task.key != current and judged.get(task.key, task.judged) == 0:
            return task
    return None


def pair_for_prompt(tasks: Sequence[PairTask], judged: Mapping[Hashable, int], prompt_id: str,
                    repeat: int | None = None) -> PairTask | None:
    """The least compared pair of ``prompt_id`` (at ``repeat`` when given), queue order breaking ties."""
    best: PairTask | None = None
    best_count = 0
    for task in tasks:
        if task.prompt_id != prompt_id or (repeat is not None and task.left.repeat != repeat):
            continue
        count = judged.get(task.key, task.judged)
        if best is None or count < best_count:
            best, best_count = task, count
    return best


# ----------------------------------------------------------------------------- thumbnails


def make_thumbnails(video: Path, count: int = DEFAULT_COUNT) -> tuple[Path, ...]:
    """Decode ``video`` once and write ``count`` evenly spaced PNG thumbnails where scoring puts
    them (``<stem>.thumbs/00.png`` ...); returns their paths. Raises WorkbenchError naming the
    file when it cannot be decoded or the folder cannot be written."""
    from workbench.media.decode import NotAVideo, open_video
    from workbench.media.probe import error_reason
    from workbench.media.thumbnails import ThumbnailPicker, thumbnail_size, write_thumbnails

    video = Path(video)
    if count <= 0:
        return ()
    try:
        reader = open_video(video)
    except NotAVideo as exc:
        raise WorkbenchError(f"{video}: cannot make thumbnails: {exc.reason}") from None
    with reader:
        info = reader.info
        picker = ThumbnailPicker(count, thumbnail_size(info.width, info.height, info.sample_aspect),
                                 info.estimated_frames())
        try:
            for frame in reader.frames(threads=1):
                picker.offer(frame)
        except Exception as exc:  # noqa: BLE001 - a decoder failure is the file's problem
            raise WorkbenchError(f"{video}: cannot make thumbnails: {error_reason(exc)}") from None
    if picker.failure:
        raise WorkbenchError(f"{video}: cannot make thumbnails: {picker.failure}")
    images = picker.pick()
    if not images:
        raise WorkbenchError(f"{video}: cannot make thumbnails: no frame could be decoded")
    try:
        return tuple(write_thumbnails(thumbnails_dir(video), images))
    except OSError as exc:
        raise WorkbenchError(f"{thumbnails_dir(video)}: cannot write thumbnails "
                             f"({exc.strerror or exc})") from None

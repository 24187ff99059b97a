"""What a person should judge next: clips to rate one at a time and blind pairs to compare.

A clip is the newest succeeded video per (model, prompt, repeat), the same clip the tables
show, and only clips with thumbnails are offered (a person must see what they judge).
A pair is two clips of the same prompt and repeat from two different models.

Queues put what this rater has judged least first; within one count the order is a seeded
shuffle, so one seed always gives the same queue and different seeds give different ones.
For a pair, which model is shown on the left ("A") is drawn from the same seeded generator
and kept in the task, so the preference records exactly what was shown where.

:class:`JudgingQueue` walks a queue in memory: a judged or skipped task goes to the back,
so the rater goes round everything before seeing a task again.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from workbench.engine.runs import latest_job_records
from workbench.judgments.ratings import Judgments, Side
from workbench.run_scoring import thumbnails_dir

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark

ClipItem = tuple[str, str, int]  # (model, prompt_id, repeat)
PairKey = tuple[str, frozenset[tuple[str, int]]]  # (prompt_id, {(model, repeat), (model, repeat)})


@dataclass(frozen=True)
class Clip:
    """One generated video a person can judge, with its thumbnails (oldest frame first)."""

    model: str
    prompt_id: str
    repeat: int
    run: str
    video: Path
    thumbnails: tuple[Path, ...]

    @property
    def item(self) -> ClipItem:
        return (self.model, self.prompt_id, self.repeat)

    def side(self) -> Side:
        """This clip as one side of a preference (run included, so a newer clip is not confused)."""
        return Side(model=self.model, repeat=self.repeat, run=self.run)


@dataclass(frozen=True)
class ClipPool:
    """Every judgeable clip of a benchmark, plus how many videos lack thumbnails."""

    clips: list[Clip]
    without_thumbnails: int = 0

    @property
    def models(self) -> list[str]:
        """Models with at least one judgeable clip, in the order they first appear."""
        return list(dict.fromkeys(clip.model for clip in self.clips))


@dataclass(frozen=True)
class RatingTask:
    """Rate one clip; ``judged`` is how many ratings this rater already gave it."""

    clip: Clip
    judged: int = 0

    @property
    def key(self) -> ClipItem:
        return self.clip.item


@dataclass(frozen=True)
class PairTask:
    """Compare two clips of one prompt; ``left`` is shown as A, ``right`` as B."""

    prompt_id: str
    left: Clip
    right: Clip
    judged: int = 0

    @property
    def key(self) -> PairKey:
        return pair_key(self.prompt_id, (self.left.model, self.left.repeat),
                        (self.right.model, self.right.repeat))


def pair_key(prompt_id: str, one: tuple[str, int], other: tuple[str, int]) -> PairKey:
    """The same key for a pair whichever clip is on the left."""
    return (prompt_id, frozenset({one, other}))


# ----------------------------------------------------------------------------- the clips


def thumbnail_paths(video: Path) -> tuple[Path, ...]:
    """The PNG thumbnails scoring wrote beside ``video``, in frame order."""
    folder = thumbnails_dir(video)
    if not folder.is_dir():
        return ()
    return tuple(sorted(p for p in folder.glob("*.png") if p.is_file()))


def judgeable_clips(bench: Benchmark) -> ClipPool:
    """The newest clip per (model, prompt, repeat) for the benchmark's models and prompts.

    Clips are ordered by prompt (benchmark order), model (config order) and repeat.
    Videos without thumbnails (not scored yet) are counted, not offered.
    """
    models = list(bench.config.models)
    prompt_order = {p.id: i for i, p in enumerate(bench.prompts)}
    model_order = {m: i for i, m in enumerate(models)}
    clips: list[Clip] = []
    missing = 0
    for (model, prompt_id, repeat), (run, job) in latest_job_records(bench, models).items():
        if model not in model_order or prompt_id not in prompt_order:
            continue
        if job.status != "succeeded" or job.video is None:
            continue
        thumbs = thumbnail_paths(job.video)
        if not thumbs:
            missing += 1
            continue
        clips.append(Clip(model=model, prompt_id=prompt_id, repeat=repeat, run=run,
                          video=job.video, thumbnails=thumbs))
    clips.sort(key=lambda c: (prompt_order[c.prompt_id], model_order[c.model], c.repeat))
    return ClipPool(clips=clips, without_thumbnails=missing)


# ----------------------------------------------------------------------------- counts


def _same_run(recorded: str | None, shown: str) -> bool:
    """A judgment about another run's clip (since replaced) does not count for this one."""
    return recorded is None or recorded == shown


def rating_counts(judgments: Judgments, rater: str, clips: Iterable[Clip]) -> dict[ClipItem, int]:
    """How many rating lines ``rater`` wrote about each clip (every clip is a key)."""
    runs = {clip.item: clip.run for clip in clips}
    counts = dict.fromkeys(runs, 0)
    for rating in judgments.ratings:
        if rating.rater != rater or rating.item not in runs:
            continue
        if _same_run(rating.run, runs[rating.item]):
            counts[rating.item] += 1
    return counts


def comparison_pairs(clips: Iterable[Clip]) -> list[tuple[Clip, Clip]]:
    """Every pair of clips with the same prompt and repeat from two different models."""
    groups: dict[tuple[str, int], list[Clip]] = {}
    for clip in clips:
        groups.setdefault((clip.prompt_id, clip.repeat), []).append(clip)
    pairs = []
    for group in groups.values():
        for one, other in combinations(group, 2):
            if one.model != other.model:
                pairs.append((one, other))
    return pairs


def preference_counts(judgments: Judgments, rater: str, clips: Iterable[Clip]) -> dict[PairKey, int]:
    """How many preference lines ``rater`` wrote about each comparable pair (every pair is a key)."""
    clips = list(clips)
    runs = {clip.item: clip.run for clip in clips}
    counts = {pair_key(a.prompt_id, (a.model, a.repeat), (b.model, b.repeat)): 0
              for a, b in comparison_pairs(clips)}
    for pref in judgments.preferences:
        if pref.rater != rater:
            continue
        key = pair_key(pref.prompt_id, (pref.left.model, pref.left.repeat),
                       (pref.right.model, pref.right.repeat))
        if key not in counts:
            continue
        sides_ok = all(
            _same_run(side.run, runs[(side.model, pref.prompt_id, side.repeat)])
            for side in (pref.left, pref.right)
        )
        if sides_ok:
            counts[key] += 1
    return counts


# ----------------------------------------------------------------------------- queues


def rating_queue(clips: Iterable[Clip], judgments: Judgments, rater: str, seed: int) -> list[RatingTask]:
    """Every clip as a task, least rated by ``rater`` first, shuffled by ``seed`` within a count."""
    clips = list(clips)
    counts = rating_counts(judgments, rater, clips)
    tasks = [RatingTask(clip=clip, judged=counts[clip.item]) for clip in clips]
    random.Random(seed).shuffle(tasks)
    tasks.sort(key=lambda task: task.judged)  # stable: the shuffle decides within a count
    return tasks


def pair_queue(clips: Iterable[Clip], judgments: Judgments, rater: str, seed: int) -> list[PairTask]:
    """Every comparable pair as a blind task, least compared by ``rater`` first.

    The seed decides both the order within a count and, per pair, which clip is on the left.
    """
    clips = list(clips)
    counts = preference_counts(judgments, rater, clips)
    rng = random.Random(seed)
    tasks = []
    for one, other in comparison_pairs(clips):
        left, right = (one, other) if rng.random() < 0.5 else (other, one)
        task = PairTask(prompt_id=one.prompt_id, left=left, right=right)
        tasks.append(replace(task, judged=counts[task.key]))
    rng.shuffle(tasks)
    tasks.sort(key=lambda task: task.judged)
    return tasks


T = TypeVar("T", RatingTask, PairTask)


class JudgingQueue(Generic[T]):
    """A queue being worked through: the current task, skip, judged, and progress."""

    def __init__(self, tasks: Iterable[T]) -> None:
        self._tasks: list[T] = list(tasks)

    @property
    def current(self) -> T | None:
        return self._tasks[0] if self._tasks else None

    @property
    def total(self) -> int:
        return len(self._tasks)

    @property
    def judged(self) -> int:
        """Tasks this rater has judged at least once."""
        return sum(1 for task in self._tasks if task.judged > 0)

    @property
    def all_judged(self) -> bool:
        return bool(self._tasks) and self.judged == self.total

    def tasks(self) -> list[T]:
        return list(self._tasks)

    def skip(self) -> T | None:
        """Put the current task at the back without judging it; return the new current one."""
        if self._tasks:
            self._tasks.append(self._tasks.pop(0))
        return self.current

    def mark_judged(self) -> T | None:
        """Count a judgment of the current task, put it at the back; return the new current one."""
        if self._tasks:
            task = self._tasks.pop(0)
            self._tasks.append(replace(task, judged=task.judged + 1))
        return self.current

    def unmark(self, key: Hashable) -> None:
        """Take back one judgment of the task with ``key`` (its save failed)."""
        for index, task in enumerate(self._tasks):
            if task.key == key and task.judged > 0:
                self._tasks[index] = replace(task, judged=task.judged - 1)
                return

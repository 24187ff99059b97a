"""Judgments follow the clip, not the run: when a newer run shows the very same video for a
clip (the engine took it from the cache: same cache key), what people said about it in an
earlier run still counts. A clip made afresh is a new clip and starts unjudged."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from workbench.engine.runs import JobKey, load_run
from workbench.errors import WorkbenchError
from workbench.judgments.ratings import Judgments, RunOf

if TYPE_CHECKING:
    from workbench.benchmark.folder import Benchmark

#: same_clip(judged_run, shown_run, (model, prompt_id, repeat)) -> is it the same video?
SameClip = Callable[[str, str, JobKey], bool]


def journal_clip_keys(bench: Benchmark) -> SameClip:
    """Compare clips by the cache keys their runs' journals record (each journal read once)."""
    keys: dict[str, dict[JobKey, str]] = {}

    def key_of(run_id: str, item: JobKey) -> str | None:
        if run_id not in keys:
            try:
                record = load_run(bench, run_id)
            except (WorkbenchError, OSError):
                keys[run_id] = {}
            else:
                keys[run_id] = {job.id: job.key for job in record.jobs
                                if job.key and job.status == "succeeded"}
        return keys[run_id].get(item)

    def same_clip(judged_run: str, shown_run: str, item: JobKey) -> bool:
        judged = key_of(judged_run, item)
        return judged is not None and judged == key_of(shown_run, item)

    return same_clip


def carry_over(judgments: Judgments, run_of: RunOf, same_clip: SameClip) -> Judgments:
    """The judgments with each one about an earlier run's clip re-labelled with the run shown,
    where that run shows the same video; the others are left as they are."""

    def shown(run: str | None, item: JobKey) -> str | None:
        now = run_of.get(item)
        if run is None or now is None or now == run or not same_clip(run, now, item):
            return run
        return now

    ratings = []
    for rating in judgments.ratings:
        run = shown(rating.run, rating.item)
        ratings.append(rating if run == rating.run else rating.model_copy(update={"run": run}))
    preferences = []
    for pref in judgments.preferences:
        sides = {}
        for name in ("left", "right"):
            side = getattr(pref, name)
            run = shown(side.run, (side.model, pref.prompt_id, side.repeat))
            if run != side.run:
                sides[name] = side.model_copy(update={"run": run})
        preferences.append(pref.model_copy(update=sides) if sides else pref)
    return Judgments(ratings=ratings, preferences=preferences, warnings=list(judgments.warnings))

"""What to judge next: judgeable clips, blind pairs, fewest-judged-first seeded queues."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import MINIMAL_PROMPTS, MINIMAL_TOML
from workbench.benchmark.folder import Benchmark
from workbench.judging_queue import (
    Clip, JudgingQueue, comparison_pairs, judgeable_clips, pair_queue, preference_counts, rating_counts,
    rating_queue,
)
from workbench.judgments.ratings import Judgments, Preference, Rating, Side, judgments_of
from workbench.run_scoring import thumbnails_dir

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def scored(scored_bench: Path) -> Benchmark:
    return Benchmark.load(scored_bench)


def clip(model: str, prompt_id: str, repeat: int = 0, run: str = "run-1") -> Clip:
    return Clip(model=model, prompt_id=prompt_id, repeat=repeat, run=run,
                video=Path(f"/clips/{run}/{model}/{prompt_id}--r{repeat}.mp4"), thumbnails=())


def rating(model: str, prompt_id: str, rater: str = "ann", run: str | None = None, repeat: int = 0) -> Rating:
    return Rating(prompt_id=prompt_id, model=model, repeat=repeat, run=run, score=3, rater=rater, at=AT)


def preference(prompt_id: str, left: str, right: str, rater: str = "ann", run: str | None = None) -> Preference:
    return Preference(prompt_id=prompt_id, left=Side(model=left, run=run), right=Side(model=right, run=run),
                      choice="left", rater=rater, at=AT)


CLIPS = [clip(m, p) for p in ("hands-1", "smoke-1", "text-1") for m in ("old", "new")]


# ----------------------------------------------------------------------------- clips on disk


def test_judgeable_clips_are_the_scored_videos_in_benchmark_order(scored):
    pool = judgeable_clips(scored)
    assert [c.item for c in pool.clips] == [
        (m, p, 0) for p in ("hands-1", "smoke-1", "text-1") for m in ("old", "new")
    ]
    assert pool.models == ["old", "new"] and pool.without_thumbnails == 0
    for c in pool.clips:
        assert c.video.is_file() and c.video.parent.name == c.model
        assert [t.name for t in c.thumbnails] == [f"{i:02d}.png" for i in range(6)]
        assert all(t.is_file() for t in c.thumbnails)
        assert (scored.runs_dir / c.run).is_dir()


def test_videos_without_thumbnails_are_counted_not_offered(scored):
    video = next(c.video for c in judgeable_clips(scored).clips if c.item == ("new", "smoke-1", 0))
    shutil.rmtree(thumbnails_dir(video))
    pool = judgeable_clips(scored)
    assert pool.without_thumbnails == 1
    assert ("new", "smoke-1", 0) not in [c.item for c in pool.clips] and len(pool.clips) == 5


def test_no_runs_means_no_clips(tmp_path):
    (tmp_path / "benchmark.toml").write_text(MINIMAL_TOML)
    (tmp_path / "prompts.jsonl").write_text(MINIMAL_PROMPTS)
    pool = judgeable_clips(Benchmark.load(tmp_path))
    assert pool.clips == [] and pool.without_thumbnails == 0 and pool.models == []


# ----------------------------------------------------------------------------- pairs and counts


def test_pairs_are_same_prompt_and_repeat_from_different_models():
    clips = [clip(m, p, r) for p in ("hands-1", "smoke-1") for m in ("old", "new", "third") for r in (0, 1)]
    clips.append(clip("old", "text-1"))  # nothing to compare it with
    pairs = comparison_pairs(clips)
    assert len(pairs) == 2 * 2 * 3  # prompts x repeats x model pairs
    for one, other in pairs:
        assert one.prompt_id == other.prompt_id and one.repeat == other.repeat and one.model != other.model
    assert all(one.prompt_id != "text-1" for one, _ in pairs)


def test_counts_are_per_rater_and_ignore_other_runs():
    judgments = judgments_of([
        rating("old", "hands-1"), rating("old", "hands-1", run="run-1"), rating("new", "smoke-1"),
        rating("new", "text-1", rater="bob"),
        rating("old", "text-1", run="run-0"),  # about a clip that has since been regenerated
        preference("hands-1", "new", "old"), preference("hands-1", "old", "new", run="run-1"),
        preference("smoke-1", "old", "new", rater="bob"),
        preference("text-1", "old", "new", run="run-0"),
    ])
    counts = rating_counts(judgments, "ann", CLIPS)
    assert counts[("old", "hands-1", 0)] == 2 and counts[("new", "smoke-1", 0)] == 1
    assert counts[("new", "text-1", 0)] == 0 and counts[("old", "text-1", 0)] == 0
    assert sum(counts.values()) == 3 and len(counts) == 6
    pairs = preference_counts(judgments, "ann", CLIPS)
    assert sorted(pairs.values()) == [0, 0, 2]
    assert pairs[("hands-1", frozenset({("old", 0), ("new", 0)}))] == 2
    assert sum(preference_counts(judgments, "bob", CLIPS).values()) == 1


# ----------------------------------------------------------------------------- queues


def test_rating_queue_is_deterministic_for_a_seed_and_shuffled_across_seeds():
    orders = {seed: [t.key for t in rating_queue(CLIPS, Judgments(), "ann", seed)] for seed in range(6)}
    assert orders[3] == [t.key for t in rating_queue(CLIPS, Judgments(), "ann", 3)]
    assert all(sorted(order) == sorted(c.item for c in CLIPS) for order in orders.values())
    assert len({tuple(order) for order in orders.values()}) > 1


def test_pair_queue_is_deterministic_and_randomises_the_left_side():
    def shown(seed: int) -> list[tuple[str, str, str]]:
        return [(t.prompt_id, t.left.model, t.right.model) for t in pair_queue(CLIPS, Judgments(), "ann", seed)]

    assert shown(11) == shown(11)
    assert len(shown(11)) == 3
    left_models = {left for seed in range(20) for prompt, left, _ in shown(seed) if prompt == "hands-1"}
    assert left_models == {"old", "new"}
    for seed in range(5):
        for task in pair_queue(CLIPS, Judgments(), "ann", seed):
            assert task.left.prompt_id == task.right.prompt_id == task.prompt_id
            assert task.left.side() == Side(model=task.left.model, repeat=0, run="run-1")


def test_queues_put_what_this_rater_judged_least_first():
    judgments = judgments_of([
        rating("old", "hands-1"), rating("old", "hands-1"), rating("new", "smoke-1"),
        rating("old", "text-1", rater="bob"),
        preference("smoke-1", "new", "old"),
    ])
    for seed in range(5):
        tasks = rating_queue(CLIPS, judgments, "ann", seed)
        assert [t.judged for t in tasks] == [0, 0, 0, 0, 1, 2]
        assert tasks[-1].key == ("old", "hands-1", 0) and tasks[-2].key == ("new", "smoke-1", 0)
        assert ("old", "text-1", 0) in [t.key for t in tasks[:4]]  # bob's rating is not ann's
        pairs = pair_queue(CLIPS, judgments, "ann", seed)
        assert [p.judged for p in pairs] == [0, 0, 1] and pairs[-1].prompt_id == "smoke-1"


# ----------------------------------------------------------------------------- walking a queue


def test_judging_queue_walks_skips_and_counts_progress():
    tasks = rating_queue(CLIPS[:3], judgments_of([rating("old", "smoke-1")]), "ann", 5)
    queue = JudgingQueue(tasks)
    first, second, third = (t.key for t in tasks)
    assert third == ("old", "smoke-1", 0)  # the one already rated comes last
    assert (queue.judged, queue.total, queue.all_judged) == (1, 3, False)
    assert queue.current.key == first
    assert queue.skip().key == second  # skipped: to the back, still unjudged
    assert [t.key for t in queue.tasks()] == [second, third, first]
    assert queue.mark_judged().key == third
    assert queue.judged == 2
    assert queue.mark_judged().key == first
    assert queue.mark_judged().key == second
    assert queue.all_judged and [t.judged for t in queue.tasks()] == [1, 2, 1]
    queue.unmark(first)  # its save failed
    assert queue.judged == 2 and not queue.all_judged
    empty = JudgingQueue([])
    assert empty.current is None and empty.skip() is None and empty.mark_judged() is None
    assert (empty.judged, empty.total, empty.all_judged) == (0, 0, False)

"""What the prompt detail view shows: generation metadata from journals, scores against their
bounds, what people said, what to judge next, and thumbnails made on demand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import MEDIA, SCORED_TOML, build_scored_benchmark
from workbench.benchmark.folder import Benchmark
from workbench.clip_details import (
    GenerationIndex, bound_text, board_clips, make_thumbnails, next_to_judge, pair_for_prompt,
    prompt_detail, run_generations,
)
from workbench.clip_views import load_board
from workbench.engine.runs import list_runs
from workbench.errors import WorkbenchError
from workbench.judging_queue import pair_queue, rating_queue
from workbench.judgments.ratings import Side, load_judgments, record_preference, record_rating
from workbench.media.png import read_png
from workbench.run_scoring import thumbnails_dir

AT = "2026-03-04T05:06:07.000Z"


@pytest.fixture
def scored(scored_bench: Path) -> Benchmark:
    return Benchmark.load(scored_bench)


def journal_events(bench: Benchmark, run_id: str) -> list[dict]:
    return [json.loads(line) for line in (bench.runs_dir / run_id / "journal.jsonl").read_text().splitlines()
            if line.strip()]


# ----------------------------------------------------------------------------- generation


def test_generations_of_a_real_run_match_its_journal(scored):
    [info] = list_runs(scored)
    generations = run_generations(scored, info.run_id)
    succeeded = [e for e in journal_events(scored, info.run_id) if e["event"] == "succeeded"]
    assert len(generations) == len(succeeded) == 6
    for event in succeeded:
        found = generations[(event["model"], event["prompt_id"], event["repeat"])]
        assert found.status == "succeeded" and found.error is None
        assert found.provider == "synthetic"
        assert found.latency_s == pytest.approx(event["latency_s"])
        assert found.seed == event["seed"] and found.provider_job_id == event["job_id"]
        assert found.produced["width"] == event["info"]["width"]
        assert found.produced["frames"] == event["info"]["frames"]
        assert found.finished_at == event["time"]
        labels = dict(found.lines())
        assert labels["run"] == info.run_id and labels["provider"] == "synthetic"
        assert labels["latency"] == f"{event['latency_s']:.2f} s"
        assert labels["got"].startswith(f"{event['info']['duration']:.1f} s, "
                                        f"{event['info']['width']}x{event['info']['height']}")
        assert labels["asked"] == "provider defaults"  # no prompt of the tiny benchmark asks for more


def _write_run(root: Path, run_id: str, events: list[dict], models=("old", "new")) -> None:
    run_dir = root / "runs" / run_id
    (run_dir / "videos" / "old").mkdir(parents=True)
    (run_dir / "videos" / "old" / "hands-1--r0.mp4").write_bytes(b"placeholder")
    manifest = {
        "run_id": run_id, "status": "finished", "created": "2026-03-04T05:00:00.000Z",
        "models": list(models), "prompt_ids": ["hands-1", "smoke-1"], "repeats": 1,
        "model_configs": {m: {"provider": "hosted-x" if m == "old" else "synthetic"} for m in models},
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    (run_dir / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events)
                                           + '{"event": "failed", "model": "ol')  # a torn last line


def test_retries_cost_failures_and_skips_come_from_the_journal(tiny_bench):
    job = {"model": "old", "prompt_id": "hands-1", "repeat": 0}
    _write_run(tiny_bench, "run-a", [
        {"event": "run_started", "time": AT},
        {"event": "submitted", "time": AT, **job, "seed": 11, "key": "k1", "job_id": "prov-1", "charged": 0.25,
         "state": {}},
        {"event": "failed", "time": AT, **job, "error": "provider said: server busy (HTTP 503)",
         "phase": "poll", "resumable": False, "attempts": 1},
        {"event": "submitted", "time": AT, **job, "key": "k1", "job_id": "prov-2", "charged": 0.25, "state": {}},
        {"event": "succeeded", "time": "2026-03-04T05:09:00.000Z", **job, "key": "k1",
         "video": "videos/old/hands-1--r0.mp4", "cached": False, "attempts": 2, "latency_s": 41.5,
         "requested": {"duration": 4, "resolution": "1280x720", "fps": None},
         "info": {"width": 1280, "height": 720, "fps": 24, "frames": 96, "duration": 4.0,
                  "adjustments": ["fps 30 -> 24"]}},
        {"event": "failed", "time": AT, "model": "new", "prompt_id": "hands-1", "repeat": 0, "key": "k2",
         "error": "content policy: rejected", "phase": "submit", "resumable": False, "attempts": 1},
        {"event": "skipped", "time": AT, "model": "old", "prompt_id": "smoke-1", "repeat": 0, "reason": "budget"},
    ])
    found = run_generations(tiny_bench, "run-a")
    ok = found[("old", "hands-1", 0)]
    assert ok.status == "succeeded" and ok.error is None
    assert ok.cost == pytest.approx(0.5) and ok.cost_text() == "$0.50"
    assert ok.provider == "hosted-x" and ok.provider_job_id == "prov-2" and ok.attempts == 2
    assert ok.earlier_errors == ("provider said: server busy (HTTP 503)",)
    assert ok.requested == {"duration": 4, "resolution": "1280x720"}
    assert ok.asked_text() == "4 s, 1280x720"
    assert ok.got_text() == "4.0 s, 1280x720, 24 fps, 96 frames"
    assert ok.adjustments == ("fps 30 -> 24",) and ok.finished_at == "2026-03-04T05:09:00.000Z"
    lines = dict(ok.lines())
    assert lines["retry 1"] == "provider said: server busy (HTTP 503)" and lines["attempts"] == "2"
    assert lines["adjusted"] == "fps 30 -> 24" and lines["latency"] == "41.50 s"

    failed = found[("new", "hands-1", 0)]
    assert failed.status == "failed" and failed.error == "content policy: rejected"
    assert failed.earlier_errors == () and dict(failed.lines())["error"] == "content policy: rejected"
    skipped = found[("old", "smoke-1", 0)]
    assert skipped.status == "skipped" and skipped.error == "skipped: budget"
    assert ("new", "smoke-1", 0) not in found  # never started: nothing to tell


def test_a_missing_or_unreadable_run_has_no_generations(tiny_bench):
    assert run_generations(tiny_bench, "no-such-run") == {}
    broken = tiny_bench / "runs" / "broken"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{not json")
    assert run_generations(tiny_bench, "broken") == {}
    index = GenerationIndex(tiny_bench)
    assert index.get(None, ("old", "hands-1", 0)) is None
    assert index.get("broken", ("old", "hands-1", 0)) is None


# ----------------------------------------------------------------------------- a prompt's detail


def test_prompt_detail_has_every_models_clip_scores_bounds_and_generation(scored):
    board = load_board(scored)
    detail = prompt_detail(board, scored.prompts, "smoke-1", GenerationIndex(scored))
    assert detail.prompt.id == "smoke-1" and (detail.position, detail.total) == (1, 3)
    assert [m.model for m in detail.models] == ["old", "new"] and detail.repeats == 1
    table = scored.runs_dir / list_runs(scored)[0].run_id / "scores.jsonl"
    recorded = {(r["model"], r["scorer"]): r["value"] for r in map(json.loads, table.read_text().splitlines())
                if r["prompt_id"] == "smoke-1"}
    for model in detail.models:
        [clip] = model.clips
        assert clip.view.video.is_file() and len(clip.view.thumbnails) == 6 and clip.can_be_judged
        assert [s.scorer for s in clip.scores] == ["decodes", "sharpness", "temporal_flicker", "frozen_frames"]
        for line in clip.scores:
            assert line.value == pytest.approx(recorded[(model.model, line.scorer)])
        flicker = next(s for s in clip.scores if s.scorer == "temporal_flicker")
        assert flicker.bound == "≥0.9" and flicker.passed == (flicker.value >= 0.9)
        assert next(s for s in clip.scores if s.scorer == "sharpness").bound == ""
        assert clip.passes_all == flicker.passed
        assert clip.generation is not None and clip.generation.run_id == clip.view.run_id
        assert clip.generation.model == model.model and clip.generation.prompt_id == "smoke-1"
    assert detail.clips_without_thumbnails() == []


def test_a_tag_override_shows_as_the_bound_in_force(tmp_path):
    toml = SCORED_TOML + "\n[thresholds.temporal_flicker.tags.hands]\nmin = 0.999\n"
    root = build_scored_benchmark(tmp_path / "tagged", toml=toml)
    bench = Benchmark.load(root)
    board = load_board(bench)
    assert bound_text(board, "temporal_flicker", "hands-1") == "≥0.999 #hands"
    assert bound_text(board, "temporal_flicker", "smoke-1") == "≥0.9"
    assert bound_text(board, "sharpness", "smoke-1") == ""
    detail = prompt_detail(board, bench.prompts, "text-1")
    for model in detail.models:
        line = next(s for s in model.clips[0].scores if s.scorer == "temporal_flicker")
        assert line.bound == "≥0.999 #hands" and line.passed is (line.value >= 0.999)
        if line.passed is False:
            assert f"temporal_flicker {line.value_text()} vs ≥0.999 #hands" in model.clips[0].failures


def test_what_people_said_is_summarised_per_clip(scored):
    board = load_board(scored)
    run = board.clips[("hands-1", "old")][0].run_id
    record_rating(scored, "hands-1", "old", rater="ann", run=run, score=2, passed=False, comment="blurry")
    record_rating(scored, "hands-1", "old", rater="ann", run=run, score=4, passed=True)  # supersedes
    record_rating(scored, "hands-1", "old", rater="bob", run=run, score=5)
    record_preference(scored, "hands-1", Side(model="old", run=run), Side(model="new", run=run), "right",
                      rater="ann")
    judgments = load_judgments(scored.ratings_path)
    detail = prompt_detail(board, scored.prompts, "hands-1", None, judgments, "ann")
    old = detail.model("old").clip(0).judgments
    assert old.mine.score == 4 and old.mine.passed is True and old.raters == 2
    assert old.mean_score == pytest.approx(4.5) and (old.passes, old.fails) == (1, 0)
    new = detail.model("new").clip(0).judgments
    assert new.mine is None and new.raters == 0
    assert [p.choice for p in detail.preferences] == ["right"]
    bob = prompt_detail(board, scored.prompts, "hands-1", None, judgments, "bob")
    assert bob.model("old").clip(0).judgments.mine.score == 5


def test_an_unknown_prompt_is_a_clear_error(scored):
    with pytest.raises(WorkbenchError, match="no prompt 'gone-1'"):
        prompt_detail(load_board(scored), scored.prompts, "gone-1")


# ----------------------------------------------------------------------------- judging next


def test_next_to_judge_walks_the_queue_and_skips_what_is_judged(scored):
    board = load_board(scored)
    clips = board_clips(board, scored.prompts)
    assert [c.item for c in clips] == [(m, p, 0) for p in ("hands-1", "smoke-1", "text-1") for m in ("old", "new")]
    run = clips[0].run
    record_rating(scored, "hands-1", "old", rater="ann", run=run, score=3)
    judgments = load_judgments(scored.ratings_path)
    tasks = rating_queue(clips, judgments, "ann", seed=5)
    counts = {t.key: t.judged for t in tasks}
    first = next_to_judge(tasks, counts)
    assert first is tasks[0] and first.key != ("old", "hands-1", 0)
    assert next_to_judge(tasks, counts, current=first.key) is tasks[1]
    seen = []
    current = None
    while (task := next_to_judge(tasks, counts, current)) is not None:
        seen.append(task.key)
        counts[task.key] += 1
        current = task.key
    assert sorted(seen) == sorted(c.item for c in clips if c.item != ("old", "hands-1", 0))


def test_pair_for_prompt_is_the_least_compared_pair_shown_in_seeded_order(scored):
    board = load_board(scored)
    clips = board_clips(board, scored.prompts)
    judgments = load_judgments(scored.ratings_path)
    tasks = pair_queue(clips, judgments, "ann", seed=9)
    counts = {t.key: t.judged for t in tasks}
    pair = pair_for_prompt(tasks, counts, "text-1")
    assert pair.prompt_id == "text-1" and {pair.left.model, pair.right.model} == {"old", "new"}
    assert pair_for_prompt(tasks, counts, "text-1", repeat=1) is None
    assert pair_for_prompt(tasks, counts, "no-such-prompt") is None
    lefts = {pair_for_prompt(pair_queue(clips, judgments, "ann", seed=s), {}, "text-1").left.model
             for s in range(12)}
    assert lefts == {"old", "new"}  # the seed decides which model is A


# ----------------------------------------------------------------------------- thumbnails


def test_make_thumbnails_writes_where_scoring_would(tmp_path):
    video = tmp_path / "videos" / "m" / "p--r0.mp4"
    video.parent.mkdir(parents=True)
    shutil.copy(MEDIA / "example.mp4", video)
    paths = make_thumbnails(video, 4)
    assert [p.name for p in paths] == ["00.png", "01.png", "02.png", "03.png"]
    assert all(p.parent == thumbnails_dir(video) for p in paths)
    images = [read_png(p) for p in paths]
    assert all(max(i.shape[:2]) <= 160 and i.shape[2] == 3 for i in images)
    assert any((a != b).any() for a, b in zip(images, images[1:]))  # frames from different moments
    assert make_thumbnails(video, 2) and sorted(p.name for p in thumbnails_dir(video).iterdir()) == [
        "00.png", "01.png"]  # older numbered thumbnails beyond the new ones are removed


def test_make_thumbnails_of_a_broken_file_names_it(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    with pytest.raises(WorkbenchError, match="broken.mp4: cannot make thumbnails"):
        make_thumbnails(broken)
    assert not thumbnails_dir(broken).exists()

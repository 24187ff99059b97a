"""workbench.clip_views: the score browser's rows, clips and notes, built from real runs and scores."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import polars as pl
import pytest

from conftest import MINIMAL_PROMPTS, MINIMAL_TOML, build_scored_benchmark
from workbench.benchmark.folder import Benchmark
from workbench.clip_views import (
    MODEL_COLUMN, PROMPT_COLUMN, VERDICT_COLUMN, load_board, pick_thumbnails, row_key, scorer_notes,
    sort_rows,
)
from workbench.engine.runner import run_benchmark_sync
from workbench.scorers.registry import available_scorers
from workbench.tables.score_table import load_table, wide_table

BROKEN_MODEL = '''
[models.broken]
provider = "synthetic"
failure_rate = 1.0
'''


@pytest.fixture(scope="module")
def _two_repeats(tmp_path_factory) -> Path:
    """old and new with two repeats each, plus a model whose every job fails; run and scored."""
    toml = MINIMAL_TOML.replace('[models.old]', '[run]\nrepeats = 2\n\n[models.old]') + BROKEN_MODEL
    return build_scored_benchmark(tmp_path_factory.mktemp("views") / "tiny", toml)


@pytest.fixture
def scored(_two_repeats: Path, tmp_path: Path) -> Path:
    target = tmp_path / "tiny"
    shutil.copytree(_two_repeats, target)
    return target


def test_rows_match_the_score_table(_two_repeats: Path):
    bench = Benchmark.load(_two_repeats)
    board = load_board(bench)
    table = load_table(bench)
    wide = wide_table(table, ["sharpness", "temporal_flicker"])

    assert board.scorers == ("sharpness", "temporal_flicker")
    assert board.models == ("old", "new", "broken")
    assert [(r.prompt_id, r.model) for r in board.rows] == [
        (p, m) for p in ("hands-1", "smoke-1", "text-1") for m in ("old", "new", "broken")
    ]
    by_key = {r.key: r for r in board.rows}
    for row in wide.iter_rows(named=True):
        grid_row = by_key[row_key(row["prompt_id"], row["model"])]
        assert grid_row.repeats == row["repeats"]
        for scorer in board.scorers:
            cell = grid_row.cell(scorer)
            if row[scorer] is None:
                assert cell.value is None
            else:
                assert math.isclose(cell.value, row[scorer])
            assert (cell.passed, cell.judged, cell.errors) == (
                row[f"{scorer}:passed"], row[f"{scorer}:judged"], row[f"{scorer}:errors"])
    # the threshold (temporal_flicker min 0.9) judges each row; sharpness has none
    for row in board.rows:
        flicker = row.cell("temporal_flicker")
        if row.model == "broken":
            assert flicker.verdict == "fail" and flicker.value is None
        else:
            assert flicker.verdict == ("pass" if flicker.value >= 0.9 else "fail")
        assert row.cell("sharpness").verdict is None


def test_a_model_that_made_no_video_shows_why(_two_repeats: Path):
    board = load_board(Benchmark.load(_two_repeats))
    broken = [r for r in board.rows if r.model == "broken"]
    assert len(broken) == 3
    for row in broken:
        assert row.state == "no video"
        assert row.passes_all is False
        assert "synthetic failure" in row.error
        assert any("temporal_flicker missing" in f for f in row.failures)
        assert row.cell("sharpness").errors == 2 and "synthetic failure" in row.cell("sharpness").error
        for clip in board.clips[(row.prompt_id, "broken")]:
            assert clip.video is None and clip.thumbnails == () and clip.status == "failed"
            assert "synthetic failure" in clip.error


def test_clips_point_at_their_videos_thumbnails_and_scores(_two_repeats: Path):
    bench = Benchmark.load(_two_repeats)
    board = load_board(bench)
    table = load_table(bench)
    clips = dict(board.clips_for("smoke-1"))
    assert list(clips) == ["old", "new", "broken"]
    for model in ("old", "new"):
        views = clips[model]
        assert [v.repeat for v in views] == [0, 1]
        for view in views:
            assert view.video is not None and view.video.is_file()
            assert view.video.name == f"smoke-1--r{view.repeat}.mp4"
            assert len(view.thumbnails) == bench.config.scoring.thumbnails
            assert all(p.is_file() and p.suffix == ".png" for p in view.thumbnails)
            expected = table.filter((pl.col("model") == model) & (pl.col("prompt_id") == "smoke-1")
                                    & (pl.col("repeat") == view.repeat))
            assert view.run_id == expected.get_column("run")[0]
            assert list(view.scores) == ["sharpness", "temporal_flicker"]
            for record in expected.iter_rows(named=True):
                score = view.scores[record["scorer"]]
                assert score.value == record["value"] and score.passed == record["passed"]


def test_sorting_keeps_missing_values_last(_two_repeats: Path):
    board = load_board(Benchmark.load(_two_repeats))
    rows = list(board.rows)
    up = sort_rows(rows, "temporal_flicker")
    down = sort_rows(rows, "temporal_flicker", descending=True)
    values = [r.cell("temporal_flicker").value for r in up]
    assert values[-3:] == [None, None, None]
    assert values[:6] == sorted(values[:6])
    assert [r.cell("temporal_flicker").value for r in down][:6] == sorted(values[:6], reverse=True)
    assert all(r.model == "broken" for r in down[-3:])
    assert sort_rows(up, None) == rows
    assert sort_rows(rows, PROMPT_COLUMN, descending=True)[0].prompt_id == "text-1"
    assert [r.model for r in sort_rows(rows, MODEL_COLUMN)][:3] == ["broken"] * 3
    assert [r.passes_all for r in sort_rows(rows, VERDICT_COLUMN)][:3] == [False] * 3


def test_tag_filter_and_tag_counts(_two_repeats: Path):
    board = load_board(Benchmark.load(_two_repeats))
    assert board.tags() == [("hands", 2), ("smoke", 1), ("text", 1)]
    assert {r.prompt_id for r in board.rows_with_tag("hands")} == {"hands-1", "text-1"}
    assert {r.prompt_id for r in board.rows_with_tag("text")} == {"text-1"}
    assert len(board.rows_with_tag(None)) == 9


def test_threshold_text_uses_tag_overrides(scored: Path):
    bench = Benchmark.load(scored)
    bench.set_threshold("temporal_flicker", min=0.95, max=None, tag="smoke")
    board = load_board(bench)
    assert board.threshold_text("temporal_flicker", "hands-1") == "min 0.9"
    assert board.threshold_text("temporal_flicker", "smoke-1") == "min 0.95 (tag smoke)"
    assert board.threshold_text("sharpness", "smoke-1") == ""


def test_a_newer_run_that_is_not_scored_is_noted(scored: Path):
    bench = Benchmark.load(scored)
    scored_run = load_table(bench).get_column("run")[0]
    run_benchmark_sync(bench, models=["new"], repeats=1)
    board = load_board(bench)
    view = board.clips[("hands-1", "new")][0]
    assert view.run_id == scored_run  # the clip the scores belong to
    assert view.note is not None and "not scored yet" in view.note
    assert board.clips[("hands-1", "old")][0].note is None


def test_runs_without_scores_give_unscored_rows(tmp_path: Path):
    root = tmp_path / "tiny"
    root.mkdir()
    (root / "benchmark.toml").write_text(MINIMAL_TOML)
    (root / "prompts.jsonl").write_text(MINIMAL_PROMPTS)
    bench = Benchmark.load(root)
    empty = load_board(bench)
    assert empty.is_empty and not empty.has_runs
    run_benchmark_sync(bench, models=["old"])
    board = load_board(bench)
    assert [r.state for r in board.rows] == ["not scored"] * 3
    assert board.has_runs and not board.has_scores
    view = board.clips[("hands-1", "old")][0]
    assert view.video is not None and view.video.is_file() and view.thumbnails == ()


def test_human_judgments_become_columns(scored: Path):
    rating = ('{"kind": "rating", "prompt_id": "smoke-1", "model": "new", "repeat": 0, "run": null, '
              '"score": 4, "passed": true, "comment": "", "rater": "ana", "at": "2026-11-26T16:35:51Z"}\n')
    (scored / "ratings.jsonl").write_text(rating)
    board = load_board(Benchmark.load(scored))
    assert board.scorers == ("sharpness", "temporal_flicker", "human.rating", "human.pass")
    row = next(r for r in board.rows if r.key == row_key("smoke-1", "new"))
    assert row.cell("human.rating").value == 4.0 and row.cell("human.pass").value == 1.0
    assert board.clips[("smoke-1", "new")][0].scores["human.rating"].value == 4.0
    assert next(r for r in board.rows if r.key == row_key("smoke-1", "old")).cell("human.rating").value is None
    assert "raters" in board.notes["human.pass"].description


def test_scorer_notes_describe_every_column(_two_repeats: Path):
    bench = Benchmark.load(_two_repeats)
    warnings: list[str] = []
    notes = scorer_notes(bench, ["sharpness", "human.rating", "gone"], warnings)
    assert notes["sharpness"].description == available_scorers()["sharpness"].description
    assert notes["sharpness"].better() == "higher is better"
    assert "raters" in notes["human.rating"].description and notes["human.rating"].direction == "higher"
    assert notes["gone"].description == "not an installed scorer"
    assert warnings == []


def test_pick_thumbnails_spreads_over_the_clip():
    paths = [Path(f"{i:02d}.png") for i in range(6)]
    assert pick_thumbnails(paths, 6) == paths
    assert pick_thumbnails(paths, 10) == paths
    assert pick_thumbnails(paths, 2) == [paths[0], paths[5]]
    assert pick_thumbnails(paths, 3)[0] == paths[0] and pick_thumbnails(paths, 3)[-1] == paths[5]
    assert pick_thumbnails(paths, 1) == [paths[0]]
    assert pick_thumbnails([], 3) == [] and pick_thumbnails(paths, 0) == []

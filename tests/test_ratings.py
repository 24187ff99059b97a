"""ratings.jsonl: appending, strict reloading, supersession, torn lines, and human score rows."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from workbench.benchmark.folder import Benchmark
from workbench.errors import InvalidInput, NotFound
from workbench.judgments.human_scores import human_score_rows
from workbench.judgments.ratings import (
    Rating, Side, append_judgment, load_judgments, record_preference, record_rating,
)

TOML = '''name = "judged"
scorers = ["sharpness"]

[models.old]
provider = "synthetic"

[models.new]
provider = "synthetic"
'''
PROMPTS = (
    '{"id": "hands-1", "text": "A hand waves", "tags": ["hands"]}\n'
    '{"id": "smoke-1", "text": "Smoke rises", "tags": ["smoke"]}\n'
)
AT = datetime(2026, 11, 26, 16, 35, 51, tzinfo=timezone.utc)


@pytest.fixture
def bench(tmp_path: Path) -> Benchmark:
    root = tmp_path / "judged"
    root.mkdir()
    (root / "benchmark.toml").write_text(TOML)
    (root / "prompts.jsonl").write_text(PROMPTS)
    return Benchmark.load(root)


def value_of(rows: pl.DataFrame, scorer: str, model: str, prompt: str = "hands-1", repeat: int = 0) -> float:
    hit = rows.filter((pl.col("scorer") == scorer) & (pl.col("model") == model)
                      & (pl.col("prompt_id") == prompt) & (pl.col("repeat") == repeat))
    assert hit.height == 1, hit
    return hit.item(0, "value")


def test_append_and_reload_round_trip(bench):
    (bench.runs_dir / "20261126-163551-ab12").mkdir(parents=True)
    rating = record_rating(bench, "hands-1", "new", rater="ana", repeat=1, run="20261126-163551-ab12",
                           score=4, passed=True, comment="good hands", at=AT)
    pref = record_preference(bench, "hands-1", Side(model="old"), Side(model="new", repeat=1), "right",
                             rater="ana", at=AT)
    lines = bench.ratings_path.read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {"kind": "rating", "prompt_id": "hands-1", "model": "new", "repeat": 1,
                     "run": "20261126-163551-ab12", "score": 4, "passed": True, "comment": "good hands", "rater": "ana",
                     "at": "2026-11-26T16:35:51Z"}
    assert json.loads(lines[1])["left"] == {"model": "old", "repeat": 0, "run": None}
    loaded = load_judgments(bench.ratings_path)
    assert loaded.ratings == [rating]
    assert loaded.preferences == [pref]
    assert loaded.preferences[0].winner == Side(model="new", repeat=1)
    assert loaded.warnings == []


def test_missing_file_means_no_judgments(tmp_path):
    loaded = load_judgments(tmp_path / "ratings.jsonl")
    assert loaded.ratings == [] and loaded.preferences == []
    assert human_score_rows(loaded).is_empty()


def test_record_checks_prompt_model_and_run(bench):
    with pytest.raises(NotFound, match="no prompt with id 'nope'"):
        record_rating(bench, "nope", "new", rater="ana", score=3)
    with pytest.raises(NotFound, match=r"no model 'gpt'.*models: old, new"):
        record_rating(bench, "hands-1", "gpt", rater="ana", score=3)
    with pytest.raises(NotFound, match="no run 'r9'"):
        record_rating(bench, "hands-1", "new", rater="ana", score=3, run="r9")
    with pytest.raises(InvalidInput, match="needs 'score'"):
        record_rating(bench, "hands-1", "new", rater="ana")
    with pytest.raises(InvalidInput, match="score"):
        record_rating(bench, "hands-1", "new", rater="ana", score=6)
    assert not bench.ratings_path.exists()


def test_latest_line_of_a_rater_wins_and_raters_are_averaged(bench):
    record_rating(bench, "hands-1", "new", rater="ana", score=2, passed=False, at=AT)
    record_rating(bench, "hands-1", "new", rater="ana", score=5, passed=True, at=AT)  # supersedes
    record_rating(bench, "hands-1", "new", rater="ben", score=4, passed=False, at=AT)
    record_rating(bench, "hands-1", "new", rater="cy", passed=True, at=AT)  # verdict only
    record_rating(bench, "hands-1", "old", rater="ana", score=1, at=AT)  # a different clip
    loaded = load_judgments(bench.ratings_path)
    assert len(loaded.ratings) == 5
    assert len(loaded.current_ratings()) == 4
    rows = human_score_rows(loaded)
    assert value_of(rows, "human.rating", "new") == pytest.approx(4.5)  # ana 5, ben 4
    assert value_of(rows, "human.pass", "new") == pytest.approx(2 / 3)  # ana, cy pass; ben fails
    assert value_of(rows, "human.rating", "old") == 1.0
    assert rows.filter(pl.col("scorer") == "human.pass").height == 1  # old has no verdict


def test_preference_win_rate_counts_ties_half_and_skips_self_comparisons(bench):
    new, old = Side(model="new"), Side(model="old")
    record_preference(bench, "hands-1", new, old, "left", rater="ana", at=AT)  # new wins
    record_preference(bench, "hands-1", old, new, "right", rater="ben", at=AT)  # new wins (shown right)
    record_preference(bench, "hands-1", old, new, "tie", rater="cy", at=AT)
    record_preference(bench, "hands-1", old, Side(model="old", repeat=1), "left", rater="ana", at=AT)
    record_preference(bench, "smoke-1", Side(model="new", repeat=2), old, "right", rater="ana", at=AT)
    rows = human_score_rows(load_judgments(bench.ratings_path))
    prefs = rows.filter(pl.col("scorer") == "human.preference")
    assert set(prefs.get_column("repeat")) == {0}  # attached to repeat 0, per prompt
    assert value_of(rows, "human.preference", "new") == pytest.approx(2.5 / 3)
    assert value_of(rows, "human.preference", "old") == pytest.approx(0.5 / 3)
    assert value_of(rows, "human.preference", "old", "smoke-1") == 1.0
    assert value_of(rows, "human.preference", "new", "smoke-1") == 0.0


def test_same_rater_same_pair_again_supersedes_even_with_sides_swapped(bench):
    record_preference(bench, "hands-1", Side(model="new"), Side(model="old"), "left", rater="ana", at=AT)
    record_preference(bench, "hands-1", Side(model="new"), Side(model="old"), "right", rater="ana", at=AT)
    rows = human_score_rows(load_judgments(bench.ratings_path))
    assert value_of(rows, "human.preference", "old") == 1.0


def test_judgments_of_another_run_are_left_out(bench):
    for run in ("20261101-000000-aaaa", "20261102-000000-bbbb"):
        (bench.runs_dir / run).mkdir(parents=True)
    record_rating(bench, "hands-1", "new", rater="ana", score=1, run="20261101-000000-aaaa", at=AT)
    record_rating(bench, "hands-1", "new", rater="ben", score=5, run="20261102-000000-bbbb", at=AT)
    record_rating(bench, "hands-1", "new", rater="cy", score=3, at=AT)  # no run: always counts
    loaded = load_judgments(bench.ratings_path)
    shown = {("new", "hands-1", 0): "20261102-000000-bbbb"}
    rows = human_score_rows(loaded, shown)
    assert value_of(rows, "human.rating", "new") == 4.0
    assert rows.item(0, "run") == "20261102-000000-bbbb"
    assert value_of(human_score_rows(loaded), "human.rating", "new") == 3.0


def test_strict_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "ratings.jsonl"
    good = Rating(prompt_id="hands-1", model="new", score=3, rater="ana", at=AT).to_record()
    lines = [
        json.dumps(good),
        json.dumps({**good, "mood": "happy"}),
        json.dumps({**good, "score": 7}),
        json.dumps({k: v for k, v in good.items() if k != "kind"}),
        '{"kind": "rating", oops}',
        json.dumps({**good, "repeat": "1"}),
        json.dumps({"kind": "preference", "prompt_id": "hands-1", "left": {"model": "a"},
                    "right": {"model": "b", "seat": 2}, "choice": "up", "rater": "ana", "at": good["at"]}),
        json.dumps({**good, "score": None, "passed": None}),
    ]
    path.write_text("\n".join(lines) + "\n")
    lenient = load_judgments(path)  # readers skip bad lines, saying which and why
    assert len(lenient.ratings) == 1 and len(lenient.warnings) == 7
    assert all(w.endswith("line skipped") for w in lenient.warnings)
    assert any(w.startswith(f"{path}:3: score: ") for w in lenient.warnings)
    with pytest.raises(InvalidInput) as info:
        load_judgments(path, strict=True)
    found = [str(p) for p in info.value.problems]
    f = str(path)
    assert f"{f}:2: mood: unknown key" in found
    assert any(p.startswith(f"{f}:3: score: ") and "less than or equal to 5" in p for p in found)
    assert f"{f}:4: 'kind' must be \"rating\" or \"preference\"" in found
    assert any(p.startswith(f"{f}:5: not valid JSON") for p in found)
    assert any(p.startswith(f"{f}:6: repeat: ") for p in found)
    assert f"{f}:7: right.seat: unknown key" in found
    assert any(p.startswith(f"{f}:7: choice: ") for p in found)
    assert any(p.startswith(f"{f}:8: ") and "needs 'score'" in p for p in found)
    assert not any(p.startswith(f"{f}:1:") for p in found)


def test_torn_last_line_is_a_warning_and_survives_the_next_append(bench):
    record_rating(bench, "hands-1", "new", rater="ana", score=4, at=AT)
    full = Rating(prompt_id="smoke-1", model="old", score=2, rater="ana", at=AT).to_record()
    torn = json.dumps(full)[:37]
    with open(bench.ratings_path, "a") as handle:
        handle.write(torn)  # a crash mid-append: no closing brace, no newline
    loaded = load_judgments(bench.ratings_path)
    assert len(loaded.ratings) == 1
    assert loaded.warnings == [f"{bench.ratings_path}:2: incomplete record (an append was interrupted); skipped"]

    record_rating(bench, "smoke-1", "old", rater="ana", score=2, at=AT)
    assert bench.ratings_path.read_text().splitlines()[1] == torn  # now in the middle
    again = load_judgments(bench.ratings_path)
    assert [r.prompt_id for r in again.ratings] == ["hands-1", "smoke-1"]
    assert len(again.warnings) == 1 and ":2: incomplete record" in again.warnings[0]


def test_append_judgment_writes_one_line_per_record(tmp_path):
    path = tmp_path / "ratings.jsonl"
    for score in (1, 2, 3):
        append_judgment(path, Rating(prompt_id="p", model="m", score=score, rater="r", at=AT))
    assert [r.score for r in load_judgments(path).ratings] == [1, 2, 3]
    assert path.read_text().count("\n") == 3

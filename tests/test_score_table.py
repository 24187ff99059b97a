"""Reading runs' scores.jsonl into one long frame, joining human rows, pass/fail and wide tables."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from workbench.benchmark.folder import Benchmark
from workbench.errors import InvalidInput, NotFound
from workbench.judgments.ratings import Side, record_preference, record_rating
from workbench.tables.score_table import load_scores, load_table, run_ids, wide_table

TOML = '''name = "scored"
scorers = ["temporal_flicker", "sharpness"]

[models.old]
provider = "synthetic"

[models.new]
provider = "synthetic"

[thresholds.temporal_flicker]
min = 0.9

[thresholds.temporal_flicker.tags.smoke]
min = 0.7
'''
PROMPTS = (
    '{"id": "hands-1", "text": "A hand waves", "tags": ["hands"]}\n'
    '{"id": "smoke-1", "text": "Smoke rises", "tags": ["smoke"]}\n'
    '{"id": "text-1", "text": "A sign that reads OPEN", "tags": ["text", "hands"]}\n'
)
OLD_RUN = "20261101-090000-aaaa"
NEW_RUN = "20261126-163551-ab12"
AT = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def record(run: str, model: str, prompt: str, scorer: str, value: float | None, repeat: int = 0,
           error: str | None = None) -> dict:
    return {"run": run, "model": model, "prompt_id": prompt, "repeat": repeat, "scorer": scorer,
            "version": "1", "value": value, "error": error, "video_sha256": "0" * 64}


def write_scores(root: Path, run: str, records: list[dict], tail: str = "") -> Path:
    path = root / "runs" / run / "scores.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def make_bench(tmp_path: Path) -> Benchmark:
    root = tmp_path / "scored"
    root.mkdir()
    (root / "benchmark.toml").write_text(TOML)
    (root / "prompts.jsonl").write_text(PROMPTS)
    return Benchmark.load(root)


@pytest.fixture
def bench(tmp_path: Path) -> Benchmark:
    bench = make_bench(tmp_path)
    old = []
    for model, base in (("old", 0.85), ("new", 0.95)):
        for i, prompt in enumerate(("hands-1", "smoke-1", "text-1")):
            old.append(record(OLD_RUN, model, prompt, "temporal_flicker", base - 0.01 * i))
            old.append(record(OLD_RUN, model, prompt, "sharpness", 100.0 + i))
    write_scores(bench.root, OLD_RUN, old)
    # the newer run re-did one clip only; its first flicker record is superseded within the file
    write_scores(bench.root, NEW_RUN, [
        record(NEW_RUN, "new", "hands-1", "temporal_flicker", 0.10),
        record(NEW_RUN, "new", "hands-1", "temporal_flicker", 0.97),
        record(NEW_RUN, "new", "hands-1", "sharpness", None, error="decode failed at frame 3"),
    ])
    return bench


def cell(df: pl.DataFrame, model: str, prompt: str, scorer: str, column: str = "value"):
    hit = df.filter((pl.col("model") == model) & (pl.col("prompt_id") == prompt) & (pl.col("scorer") == scorer))
    assert hit.height == 1, hit
    return hit.item(0, column)


def test_newest_run_per_clip(bench):
    assert run_ids(bench) == [OLD_RUN, NEW_RUN]
    df = load_scores(bench)
    assert df.columns == ["run", "model", "prompt_id", "repeat", "scorer", "version", "value", "error"]
    assert df.height == 12  # 2 models x 3 prompts x 2 scorers, one run per clip
    assert cell(df, "new", "hands-1", "temporal_flicker", "run") == NEW_RUN
    assert cell(df, "new", "hands-1", "temporal_flicker") == 0.97  # the later line wins
    assert cell(df, "new", "hands-1", "sharpness") is None
    assert cell(df, "new", "hands-1", "sharpness", "error") == "decode failed at frame 3"
    assert cell(df, "new", "smoke-1", "temporal_flicker", "run") == OLD_RUN
    assert cell(df, "old", "hands-1", "temporal_flicker", "run") == OLD_RUN


def test_named_runs_only(bench):
    df = load_scores(bench, [OLD_RUN])
    assert set(df.get_column("run")) == {OLD_RUN}
    assert cell(df, "new", "hands-1", "temporal_flicker") == 0.95
    only_new = load_scores(bench, [NEW_RUN])
    assert only_new.height == 2 and set(only_new.get_column("model")) == {"new"}


def test_unknown_run_names_the_existing_ones(bench):
    with pytest.raises(NotFound) as info:
        load_scores(bench, ["20990101-000000-zzzz"])
    message = str(info.value)
    assert "no run '20990101-000000-zzzz'" in message
    assert OLD_RUN in message and NEW_RUN in message


def test_no_runs_gives_an_empty_frame(tmp_path):
    bench = make_bench(tmp_path)
    assert load_scores(bench).is_empty()
    assert load_table(bench).is_empty()
    with pytest.raises(NotFound, match="none yet"):
        load_scores(bench, ["x"])


def test_torn_last_line_is_skipped_with_a_warning(tmp_path):
    bench = make_bench(tmp_path)
    full = json.dumps(record(NEW_RUN, "old", "smoke-1", "sharpness", 3.0))
    path = write_scores(bench.root, NEW_RUN, [record(NEW_RUN, "old", "hands-1", "sharpness", 2.0)],
                        tail=full[:40])
    warnings: list[str] = []
    df = load_scores(bench, warnings=warnings)
    assert df.height == 1
    assert warnings == [f"{path}:2: incomplete record (a write was interrupted); skipped"]


def test_torn_line_in_the_middle_and_supersession_read_line_by_line(tmp_path):
    bench = make_bench(tmp_path)
    first = record(NEW_RUN, "old", "hands-1", "sharpness", 2.0)
    path = write_scores(bench.root, NEW_RUN, [first])
    with open(path, "a") as handle:  # a torn write, then the next append started on a fresh line
        handle.write(json.dumps(first)[:30] + "\n" + json.dumps({**first, "value": 5.0}) + "\n")
    warnings: list[str] = []
    df = load_scores(bench, warnings=warnings)
    assert df.get_column("value").to_list() == [5.0]
    assert warnings == [f"{path}:2: incomplete record (a write was interrupted); skipped"]


def test_missing_key_is_reported_even_when_the_json_is_fine(tmp_path):
    bench = make_bench(tmp_path)
    good = record(NEW_RUN, "old", "hands-1", "sharpness", 2.0)
    path = write_scores(bench.root, NEW_RUN, [good, {k: v for k, v in good.items() if k != "scorer"}])
    with pytest.raises(InvalidInput, match=f"{path}:2: scorer: required key is missing"):
        load_scores(bench)


def test_bad_score_lines_are_errors_with_line_numbers(tmp_path):
    bench = make_bench(tmp_path)
    good = record(NEW_RUN, "old", "hands-1", "sharpness", 2.0)
    path = write_scores(bench.root, NEW_RUN, [good, {**good, "value": "high"}, {**good, "repeat": -1}])
    with open(path, "a") as handle:
        handle.write("not json at all\n")
    with pytest.raises(InvalidInput) as info:
        load_scores(bench)
    found = [str(p) for p in info.value.problems]
    assert any(p.startswith(f"{path}:2: value: ") for p in found)
    assert any(p.startswith(f"{path}:3: repeat: ") for p in found)
    assert any(p.startswith(f"{path}:4: not valid JSON") for p in found)


def test_table_applies_thresholds_with_tag_overrides(bench):
    df = load_table(bench, include_human=False)
    assert df.columns[-1] == "passed"
    assert cell(df, "old", "hands-1", "temporal_flicker", "passed") is False  # 0.85 < 0.9
    assert cell(df, "old", "smoke-1", "temporal_flicker", "passed") is True  # 0.84 >= 0.7 (smoke override)
    assert cell(df, "new", "hands-1", "temporal_flicker", "passed") is True
    assert cell(df, "old", "hands-1", "sharpness", "passed") is None  # no threshold
    # rows in benchmark order: prompt, then model as configured, then the configured scorer order
    head = df.select("prompt_id", "model", "scorer").rows()[:4]
    assert head == [("hands-1", "old", "temporal_flicker"), ("hands-1", "old", "sharpness"),
                    ("hands-1", "new", "temporal_flicker"), ("hands-1", "new", "sharpness")]


def test_table_joins_human_rows_and_filters_by_tag(bench):
    record_rating(bench, "hands-1", "new", rater="ana", score=4, passed=True, run=NEW_RUN, at=AT)
    record_rating(bench, "hands-1", "new", rater="ben", score=2, passed=False, run=OLD_RUN, at=AT)  # not shown
    record_rating(bench, "smoke-1", "old", rater="ana", score=3, at=AT)
    record_preference(bench, "text-1", Side(model="old"), Side(model="new"), "right", rater="ana", at=AT)
    df = load_table(bench, tag="hands")
    assert set(df.get_column("prompt_id")) == {"hands-1", "text-1"}
    assert cell(df, "new", "hands-1", "human.rating") == 4.0
    assert cell(df, "new", "hands-1", "human.rating", "run") == NEW_RUN
    assert cell(df, "new", "hands-1", "human.pass") == 1.0
    assert cell(df, "new", "text-1", "human.preference") == 1.0
    assert cell(df, "old", "text-1", "human.preference") == 0.0
    assert df.filter(pl.col("prompt_id") == "text-1").get_column("scorer").to_list()[-1] == "human.preference"
    assert load_table(bench, tag="hands", include_human=False).filter(
        pl.col("scorer").str.starts_with("human.")).is_empty()
    with pytest.raises(NotFound, match="no prompt is tagged 'faces'"):
        load_table(bench, tag="faces")


def test_removed_prompts_are_left_out(bench):
    (bench.root / "prompts.jsonl").write_text(PROMPTS.splitlines(keepends=True)[0])
    df = load_table(Benchmark.load(bench.root))
    assert set(df.get_column("prompt_id")) == {"hands-1"}


def test_wide_table_pools_repeats(tmp_path):
    bench = make_bench(tmp_path)
    write_scores(bench.root, NEW_RUN, [
        record(NEW_RUN, "new", "hands-1", "temporal_flicker", 0.95, repeat=0),
        record(NEW_RUN, "new", "hands-1", "temporal_flicker", 0.85, repeat=1),
        record(NEW_RUN, "new", "hands-1", "temporal_flicker", 0.93, repeat=2),
        record(NEW_RUN, "new", "hands-1", "sharpness", 50.0, repeat=0),
        record(NEW_RUN, "new", "hands-1", "sharpness", None, repeat=1, error="boom"),
        record(NEW_RUN, "old", "smoke-1", "sharpness", 10.0, repeat=0),
    ])
    df = load_table(bench)
    wide = wide_table(df, ["temporal_flicker", "sharpness"])
    assert wide.select("prompt_id", "model", "repeats").rows() == [("hands-1", "new", 3), ("smoke-1", "old", 1)]
    first = wide.row(0, named=True)
    assert first["temporal_flicker"] == pytest.approx(0.91)
    assert (first["temporal_flicker:passed"], first["temporal_flicker:judged"]) == (2, 3)
    assert first["sharpness"] == 50.0 and first["sharpness:errors"] == 1
    assert first["sharpness:judged"] == 0
    second = wide.row(1, named=True)
    assert second["temporal_flicker"] is None and second["temporal_flicker:judged"] is None


def test_results_of_an_older_scorer_version_are_not_mixed_in(tmp_path):
    from workbench.benchmark.folder import Benchmark
    from workbench.scorers.registry import available_scorers
    from conftest import MINIMAL_PROMPTS, MINIMAL_TOML

    root = tmp_path / "b"
    root.mkdir()
    (root / "benchmark.toml").write_text(MINIMAL_TOML)
    (root / "prompts.jsonl").write_text(MINIMAL_PROMPTS)
    current = available_scorers()["sharpness"].version
    run = root / "runs" / "20260101-000000-aaaa"
    run.mkdir(parents=True)
    rows = [
        {"run": run.name, "model": "old", "prompt_id": "hands-1", "repeat": 0, "scorer": "sharpness",
         "version": "0-old", "value": 1.0, "error": None, "video_sha256": "x"},
        {"run": run.name, "model": "new", "prompt_id": "hands-1", "repeat": 0, "scorer": "sharpness",
         "version": current, "value": 2.0, "error": None, "video_sha256": "y"},
    ]
    (run / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    warnings: list[str] = []
    frame = load_scores(Benchmark.load(root), warnings=warnings)
    assert frame.select("model", "version").rows() == [("new", current)]
    assert any("sharpness@0-old" in w and "workbench score" in w for w in warnings)


def test_a_table_is_read_once_per_state_of_its_files_and_settings(scored_bench):
    """Every screen reads the same table after a reload: the second read returns the first's
    table (and its warnings); any change to the files or the benchmark reads afresh."""
    bench = Benchmark.load(scored_bench)
    said: list[str] = []
    first = load_table(bench, warnings=said)
    again: list[str] = []
    assert load_table(Benchmark.load(scored_bench), warnings=again) is first and again == said

    record_rating(bench, "hands-1", "old", rater="ana", score=3)  # ratings.jsonl changed
    rated = load_table(bench)
    assert rated is not first and "human.rating" in rated.get_column("scorer").to_list()

    (run,) = run_ids(bench)
    scores = scored_bench / "runs" / run / "scores.jsonl"
    scores.write_text(scores.read_text() + '{"model": "old", "prompt_id": "hands-1", "repeat": 0, "scorer":')
    torn: list[str] = []
    assert load_table(bench, warnings=torn) is not rated and torn  # an interrupted line, warned about

    bench.config.thresholds.clear()  # the settings changed: the passed column is read afresh
    assert load_table(bench).get_column("passed").is_null().all()

"""The results grid: one row a prompt, columns per (scorer, model), verdicts, filters and sorting,
checked against the score table and the threshold evaluator on benchmark folders written to disk."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.benchmark.folder import Benchmark
from workbench.decide.thresholds import ThresholdEvaluator
from workbench.results_grid import (
    CELL_EMPTY, CELL_ERROR, CELL_FAIL, CELL_PASS, CELL_PLAIN, PROMPT_COLUMN, VERDICT_GROUP,
    ResultFilter, ResultSort, build_results_grid,
)
from workbench.tables.score_table import load_table

sys.path.insert(0, str(Path(__file__).resolve().parent / "bench"))
from big_benchmark import RUN_ID, write_big_benchmark  # noqa: E402

SCORERS = ["decodes", "sharpness", "brightness", "clipped_shadows", "clipped_highlights", "black_frames",
           "colorfulness", "blockiness", "temporal_flicker"]


@pytest.fixture(scope="module")
def repeated(tmp_path_factory) -> Path:
    """120 prompts, 3 models, 9 scorers, 3 repeats per clip, 5 tags (module-wide: read-only)."""
    return write_big_benchmark(tmp_path_factory.mktemp("grid") / "bench", prompts=120, models=3,
                               scorers=9, tags=5, seed=3, repeats=3)


@pytest.fixture(scope="module")
def grid(repeated):
    return build_results_grid(Benchmark.load(repeated))


def long_table(root: Path) -> pl.DataFrame:
    return load_table(Benchmark.load(root))


def test_rows_are_prompts_and_columns_are_scorer_major(repeated, grid):
    bench = Benchmark.load(repeated)
    assert grid.prompt_ids == tuple(p.id for p in bench.prompts)
    assert grid.models == ("incumbent", "candidate", "weak")
    assert grid.groups == (VERDICT_GROUP, *SCORERS)
    assert [(c.group, c.model) for c in grid.columns] == [
        (g, m) for g in grid.groups for m in grid.models]
    assert [c.index for c in grid.columns] == list(range(grid.n_columns))
    assert grid.values.shape == grid.states.shape == (len(grid.columns), 120)
    assert grid.column_index("sharpness", "weak") == 2 * 3 + 2


def test_values_are_the_repeat_means_of_the_score_table(repeated, grid):
    table = long_table(repeated)
    means = table.group_by("prompt_id", "model", "scorer").agg(pl.col("value").mean())
    checked = 0
    for prompt_id, model, scorer, mean in means.iter_rows():
        column = grid.column_index(scorer, model)
        value = grid.value(column, grid.row_of(prompt_id))
        if mean is None:
            assert value is None
        else:
            assert value == pytest.approx(mean, rel=1e-12)
            checked += 1
    assert checked > 120 * 3 * len(SCORERS) * 0.95


def test_cell_verdicts_are_the_repeat_means_against_the_threshold_as_the_verdict_judges(repeated, grid):
    """A cell passes or fails as the prompt's verdict judges it (the repeats' mean against the
    bounds), so a cell never reads pass while its prompt fails on it; repeats that disagree
    among themselves mark the cell with *."""
    bench = Benchmark.load(repeated)
    table = long_table(repeated)
    evaluator = ThresholdEvaluator(table, bench.prompt_tags(), dict(bench.config.thresholds),
                                   models=list(grid.models))
    per_cell = table.group_by("prompt_id", "model", "scorer").agg(
        pl.col("passed").sum().alias("ok"), pl.col("passed").is_not_null().sum().alias("judged"),
        pl.col("error").is_not_null().sum().alias("errors"), pl.col("value").is_not_null().any().alias("any"))
    seen, starred = set(), 0
    for prompt_id, model, scorer, ok, judged, errors, any_value in per_cell.iter_rows():
        column, row = grid.column_index(scorer, model), grid.row_of(prompt_id)
        state = int(grid.states[column, row])
        if judged == 0:
            expected = CELL_PLAIN if any_value else (CELL_ERROR if errors else CELL_EMPTY)
        else:
            mean_ok = evaluator.scorer_passed(scorer)[grid.models.index(model), evaluator.prompt_ids.index(prompt_id)]
            expected = CELL_PASS if mean_ok else CELL_FAIL
            if 0 < ok < judged:
                assert grid.cell_text(column, row).rstrip("!").endswith("*"), (prompt_id, model, scorer)
                starred += 1
        assert state == expected, (prompt_id, model, scorer)
        seen.add(expected)
    assert {CELL_PLAIN, CELL_PASS, CELL_FAIL} <= seen and starred  # the fixture exercises them


def test_cell_text_shows_value_mark_disagreeing_repeats_and_errors(grid):
    column = grid.column_index("sharpness", "weak")
    mixed = int(np.flatnonzero((grid.passed[column] > 0) & (grid.passed[column] < grid.judged[column]))[0])
    assert grid.cell_text(column, mixed).rstrip("!")[-1] == "*"
    assert "repeats pass on their own; their mean decides" in grid.describe_cell(column, mixed)
    passing = int(np.flatnonzero(grid.states[column] == CELL_PASS)[0])
    assert grid.cell_text(column, passing).rstrip("*!").endswith("✓")
    plain = grid.column_index("brightness", "candidate")
    assert "✓" not in grid.cell_text(plain, 0) and "✗" not in grid.cell_text(plain, 0)
    # a repeat without video marks the cell with "!" and names the error
    errored = np.argwhere((grid.errors > 0) & ~np.isnan(grid.values))
    c, r = (int(v) for v in errored[0])
    assert grid.cell_text(c, r).endswith("!")
    assert grid.error(c, r).startswith("no video: synthetic failure")


def test_prompt_verdicts_match_the_threshold_evaluator(repeated, grid):
    bench = Benchmark.load(repeated)
    table = load_table(bench)
    evaluator = ThresholdEvaluator(table.filter(pl.col("scorer").is_in(SCORERS)), bench.prompt_tags(),
                                   dict(bench.config.thresholds), models=list(grid.models))
    report = evaluator.evaluate()
    assert report.prompt_ids == grid.prompt_ids
    assert np.array_equal(report.passed, grid.model_passed)
    for m, model in enumerate(grid.models):
        column = grid.column_index(VERDICT_GROUP, model)
        expected = np.where(report.passed[m], CELL_PASS, CELL_FAIL)
        assert np.array_equal(grid.states[column], expected)
    failing = [not all(report.prompt_passed(m, p) for m in grid.models) for p in grid.prompt_ids]
    assert grid.failing.tolist() == failing
    disagree = [len({report.prompt_passed(m, p) for m in grid.models}) == 2 for p in grid.prompt_ids]
    assert grid.disagree.tolist() == disagree
    assert 0 < sum(disagree) <= sum(failing) < 120


def test_failure_reasons_come_from_the_evaluator(grid):
    row = int(np.flatnonzero(grid.failing)[0])
    model = next(m for i, m in enumerate(grid.models) if not grid.model_passed[i, row])
    reasons = grid.failed_scorers(model, row)
    assert reasons and all(any(name in r for name in grid.thresholds) for r in reasons)
    text = grid.describe_cell(grid.column_index(VERDICT_GROUP, model), row)
    assert "✗ fail" in text and reasons[0] in text


def test_filters_by_tag_text_failing_and_disagreement(grid):
    ids, texts, tags = grid.prompt_ids, grid.prompt_texts, grid.prompt_tags

    def expect(keep) -> list[int]:
        return [i for i in range(grid.n_rows) if keep(i)]

    tag = grid.tags()[0][0]
    assert grid.rows(ResultFilter(tag=tag)).tolist() == expect(lambda i: tag in tags[i])
    assert grid.rows(ResultFilter(tag="no-such-tag")).tolist() == []
    words = "a cat"
    assert grid.rows(ResultFilter(text="A  CAT")).tolist() == expect(
        lambda i: all(w in f"{ids[i]}\n{texts[i]}".lower() for w in words.split()))
    assert grid.rows(ResultFilter(text="p0001")).tolist() == expect(lambda i: "p0001" in ids[i])
    assert grid.rows(ResultFilter(failing=True)).tolist() == np.flatnonzero(grid.failing).tolist()
    both = ResultFilter(tag=tag, failing=True, disagree=True)
    assert grid.rows(both).tolist() == expect(
        lambda i: tag in tags[i] and grid.failing[i] and grid.disagree[i])
    assert grid.rows().tolist() == list(range(grid.n_rows))
    assert ResultFilter(tag=tag, text="cat", failing=True).describe() == [f"tag {tag}", '"cat"', "failing"]
    assert not ResultFilter(text="   ").active


def test_sort_any_column_with_missing_values_last(grid):
    column = grid.column_index("sharpness", "incumbent")
    values = grid.values[column]
    for descending in (False, True):
        order = grid.sort_order(ResultSort(column, descending))
        assert sorted(order.tolist()) == list(range(grid.n_rows))
        shown = values[order]
        present = shown[~np.isnan(shown)]
        assert np.isnan(shown[len(present):]).all()  # missing last, either way
        steps = np.diff(present)
        assert (steps <= 0).all() if descending else (steps >= 0).all()
    verdict = grid.column_index(VERDICT_GROUP, "weak")
    order = grid.sort_order(ResultSort(verdict))
    first_pass = int(np.argmax(grid.model_passed[2][order]))
    assert not grid.model_passed[2][order][:first_pass].any()
    assert order[:first_pass].tolist() == sorted(order[:first_pass].tolist())  # ties: benchmark order
    by_id = grid.sort_order(ResultSort(PROMPT_COLUMN, True))
    assert [grid.prompt_ids[i] for i in by_id] == sorted(grid.prompt_ids, reverse=True)
    # a sorted, filtered view keeps the sort order among the kept rows
    rows = grid.rows(ResultFilter(failing=True), ResultSort(column, True))
    assert rows.tolist() == [i for i in grid.sort_order(ResultSort(column, True)) if grid.failing[i]]


def test_sort_cycles_ascending_descending_then_benchmark_order():
    sort = ResultSort().next_for(4)
    assert sort == ResultSort(4, False)
    assert sort.next_for(4) == ResultSort(4, True)
    assert sort.next_for(4).next_for(4) == ResultSort()
    assert ResultSort(4, True).next_for(PROMPT_COLUMN) == ResultSort(PROMPT_COLUMN, False)


def _scores_path(root: Path) -> Path:
    return root / "runs" / RUN_ID / "scores.jsonl"


def _append(root: Path, records: list[dict]) -> None:
    with _scores_path(root).open("a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")


def test_only_the_current_scorer_version_counts_and_later_lines_win(tmp_path):
    root = write_big_benchmark(tmp_path / "b", prompts=10, models=2, scorers=3, tags=2, seed=1)
    before = build_results_grid(Benchmark.load(root))
    column = before.column_index("sharpness", "candidate")
    base = {"run": RUN_ID, "model": "candidate", "prompt_id": "p00004", "repeat": 0, "scorer": "sharpness",
            "error": None, "video_sha256": None, "detail": None}
    # the newest line for a clip wins; an older scorer version's result is then not shown
    _append(root, [{**base, "version": "0", "value": 99999.0},
                   {**base, "prompt_id": "p00005", "version": "1", "value": 7.0}])
    grid = build_results_grid(Benchmark.load(root))
    assert before.value(column, 4) is not None and grid.value(column, 4) is None
    assert grid.value(column, 3) == before.value(column, 3)
    assert grid.value(column, 5) == 7.0
    assert grid.states[column, 5] == CELL_FAIL  # below the sharpness threshold (min 120)
    assert any("older scorer versions" in w for w in grid.warnings)


def test_human_ratings_become_a_column_and_unscored_prompts_stay_empty(tmp_path):
    root = write_big_benchmark(tmp_path / "b", prompts=6, models=2, scorers=2, tags=2)
    with (root / "prompts.jsonl").open("a") as out:
        out.write('{"id": "zz-new", "text": "A prompt added after the run", "tags": []}\n')
    (root / "ratings.jsonl").write_text(json.dumps({
        "kind": "rating", "prompt_id": "p00002", "model": "incumbent", "repeat": 0, "run": None, "score": 4,
        "passed": True, "comment": "", "rater": "ana", "at": "2026-11-26T16:35:51Z"}) + "\n")
    grid = build_results_grid(Benchmark.load(root))
    assert grid.groups[-2:] == ("human.rating", "human.pass")
    assert grid.value(grid.column_index("human.rating", "incumbent"), 2) == 4.0
    row = grid.row_of("zz-new")
    assert not grid.scored[:, row].any()
    assert (grid.states[:, row] == CELL_EMPTY).all()
    assert not grid.failing[row] and grid.cell_text(0, row) == "-"
    assert "no results yet" in grid.describe_cell(0, row)


def test_without_thresholds_there_is_no_verdict_and_nothing_fails(tmp_path):
    root = write_big_benchmark(tmp_path / "b", prompts=8, models=2, scorers=4, tags=2)
    text = (root / "benchmark.toml").read_text()
    cut = text.index("[thresholds.")
    (root / "benchmark.toml").write_text(text[:cut] + text[text.index("[gate]"):])
    grid = build_results_grid(Benchmark.load(root))
    assert VERDICT_GROUP not in grid.groups and not grid.has_thresholds
    assert not grid.failing.any() and not grid.disagree.any()
    assert set(np.unique(grid.states)) <= {CELL_PLAIN, CELL_ERROR}
    assert grid.rows(ResultFilter(failing=True)).tolist() == []


def test_a_benchmark_without_runs_has_no_scores(tiny_bench):
    grid = build_results_grid(Benchmark.load(tiny_bench))
    assert grid.n_rows == 3 and not grid.has_scores and not grid.has_runs
    assert grid.n_columns == 0 and grid.rows().tolist() == [0, 1, 2]


def test_big_benchmark_reads_like_any_other(tmp_path):
    """The generator writes the engine's formats: the run and its failed jobs read back."""
    from workbench.engine.runs import list_runs, load_run

    root = write_big_benchmark(tmp_path / "b", prompts=200, models=2, scorers=4, tags=3, seed=5)
    bench = Benchmark.load(root)
    [info] = list_runs(bench)
    assert info.run_id == RUN_ID and info.status == "finished" and info.jobs["total"] == 400
    record = load_run(bench, RUN_ID)
    failed = [j for j in record.jobs if j.status == "failed"]
    assert len(record.jobs) == 400 and 0 < len(failed) < 20
    assert all(j.error.startswith("synthetic failure") for j in failed)
    table = load_table(bench)
    assert table.height == 400 * 4 and table.filter(pl.col("error").is_not_null()).height == len(failed) * 4
    grid = build_results_grid(bench)
    assert all(grid.failing[grid.row_of(j.prompt_id)] for j in failed)  # no video fails the prompt


def test_a_threshold_on_a_scorer_no_longer_enabled_still_judges_and_is_shown(repeated, tmp_path):
    """Scores of a scorer taken out of `scorers` but still under a threshold decide verdicts in
    the core; the grid must judge by them too (not call every prompt a failure) and show them."""
    import shutil

    import tomlkit

    root = tmp_path / "bench"
    shutil.copytree(repeated, root)
    config = tomlkit.parse((root / "benchmark.toml").read_text())
    config["scorers"].remove("sharpness")
    (root / "benchmark.toml").write_text(tomlkit.dumps(config))
    bench = Benchmark.load(root)
    assert "sharpness" not in bench.config.scorers and "sharpness" in bench.config.thresholds
    grid = build_results_grid(bench)
    report = ThresholdEvaluator(load_table(bench), bench.prompt_tags(), dict(bench.config.thresholds),
                                models=list(grid.models)).evaluate()
    assert np.array_equal(report.passed, grid.model_passed)
    assert 0 < grid.model_passed.sum() < grid.model_passed.size
    assert grid.column_index("sharpness", grid.models[0]) is not None

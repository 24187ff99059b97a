"""Decision records: ranking for the contact sheet, the sheet itself, and writing records safely."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.benchmark.folder import Benchmark
from workbench.decide import contact_sheet as cs
from workbench.decide.contact_sheet import (
    SheetRow, pick_evenly, rank_differences, render_contact_sheet,
)
from workbench.decide.gate_inputs import evaluate_inputs, gather_gate_inputs, scorer_directions
from workbench.decide.records import (
    DecisionError, build_record, decider_name, final_decision, plan_contact_sheet,
    record_markdown, write_record,
)
from workbench.engine.runner import run_benchmark_sync
from workbench.media.png import read_png, write_png
from workbench.run_scoring import score_runs

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


# ----------------------------------------------------------------------------- ranking


def _frame(rows: list[tuple[str, str, str, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"model": [r[0] for r in rows], "prompt_id": [r[1] for r in rows],
         "repeat": [0] * len(rows), "scorer": [r[2] for r in rows], "value": [r[3] for r in rows]},
        schema={"model": pl.Utf8, "prompt_id": pl.Utf8, "repeat": pl.Int64, "scorer": pl.Utf8,
                "value": pl.Float64},
    )


def test_ranking_standardizes_each_scorer_and_respects_direction():
    # "big" is in large units; "err" is lower-is-better. Per scorer, diffs in the better direction:
    # big: p1 +100, p2 +400, p3 -100 ; err: p1 -0.3, p2 0, p3 +0.3 (candidate lower on p3)
    rows = []
    for pid, (b_inc, b_cand, e_inc, e_cand) in {
        "p1": (1000, 1100, 0.2, 0.5), "p2": (1000, 1400, 0.4, 0.4), "p3": (1000, 900, 0.6, 0.3),
    }.items():
        rows += [("inc", pid, "big", b_inc), ("cand", pid, "big", b_cand),
                 ("inc", pid, "err", e_inc), ("cand", pid, "err", e_cand)]
    rows += [("inc", "p4", "big", 5.0)]  # no candidate value: not ranked
    ranked = rank_differences(_frame(rows), ["p1", "p2", "p3", "p4"], ["big", "err"],
                              {"big": "higher", "err": "lower"}, "inc", "cand")
    # p2 has the largest raw difference on "big" alone; p1 and p3 tie (benchmark order wins)
    assert [r.prompt_id for r in ranked] == ["p2", "p1", "p3"]
    big_sd = np.std([100, 400, -100], ddof=1)
    err_sd = np.std([-0.3, 0.0, 0.3], ddof=1)
    by_id = {r.prompt_id: r for r in ranked}
    assert by_id["p1"].size == pytest.approx(100 / big_sd + 0.3 / err_sd)
    assert by_id["p2"].size == pytest.approx(400 / big_sd)
    assert by_id["p3"].size == pytest.approx(100 / big_sd + 0.3 / err_sd)
    assert by_id["p3"].lean == pytest.approx(-100 / big_sd + 0.3 / err_sd)
    assert by_id["p1"].differences == {"big": pytest.approx(100), "err": pytest.approx(-0.3)}
    assert "p4" not in by_id


def test_ranking_skips_scorers_without_a_direction_and_empty_tables():
    rows = [("inc", "p1", "x", 1.0), ("cand", "p1", "x", 2.0)]
    assert rank_differences(_frame(rows), ["p1"], ["x"], {"x": "none"}, "inc", "cand") == []
    assert rank_differences(_frame([]), ["p1"], ["x"], {"x": "higher"}, "inc", "cand") == []


def test_pick_evenly_spans_first_to_last():
    items = [Path(f"{i:02d}.png") for i in range(6)]
    assert [p.stem for p in pick_evenly(items, 3)] == ["00", "02", "05"]
    assert pick_evenly(items[:2], 3) == items[:2]
    assert pick_evenly(items, 1) == [items[3]]
    assert pick_evenly(items, 0) == []


# ----------------------------------------------------------------------------- the sheet


def _solid(path: Path, width: int, height: int, colour: tuple[int, int, int]) -> Path:
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[...] = colour
    write_png(path, image)
    return path


def test_sheet_layout_places_thumbnails_and_grey_placeholders(tmp_path):
    red = [_solid(tmp_path / f"r{i}.png", 40, 30, (200, 10, 10)) for i in range(6)]
    blue = [_solid(tmp_path / f"b{i}.png", 40, 30, (10, 10, 200)) for i in range(2)]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    rows = [
        SheetRow("p1", incumbent=red, candidate=blue, lean=1.0),  # candidate has 2 of 3
        SheetRow("p2", incumbent=[tmp_path / "missing.png"], candidate=[broken], lean=-1.0),
    ]
    sheet, layout = render_contact_sheet(rows, per_clip=3)
    # MARGIN + STRIP + GAP + 2 * (3 * 40 + 2 * GAP) + SIDE_GAP + MARGIN
    assert layout.width == 8 + 6 + 4 + 2 * (120 + 8) + 24 + 8 == 306
    # the second row has no readable thumbnail: default cell height 90
    assert layout.row_heights == (30, 90)
    assert layout.height == 8 + (4 + 30) + 12 + (4 + 90) + 8 == 156
    assert sheet.shape == (156, 306, 3)

    y, x = layout.cell_origin(0, "incumbent", 1)
    assert (sheet[y:y + 30, x:x + 40] == (200, 10, 10)).all()
    y, x = layout.cell_origin(0, "candidate", 1)
    assert (sheet[y:y + 30, x:x + 40] == (10, 10, 200)).all()
    for r, side, i in [(0, "candidate", 2), (1, "incumbent", 0), (1, "candidate", 0),
                       (1, "candidate", 2)]:
        y, x = layout.cell_origin(r, side, i)
        tile = sheet[y:y + layout.row_heights[r], x:x + 40]
        grey = (tile == cs.PLACEHOLDER_GREY).all(axis=2).mean()
        cross = (tile == cs.PLACEHOLDER_CROSS).all(axis=2).mean()
        assert grey > 0.6 and cross > 0.05 and grey + cross == pytest.approx(1.0)
    # colour bars above each side and the who-is-better strip
    top = layout.row_top(0)
    assert tuple(sheet[top, layout.side_left("incumbent") + 5]) == cs.INCUMBENT_COLOUR
    assert tuple(sheet[top, layout.side_left("candidate") + 5]) == cs.CANDIDATE_COLOUR
    assert tuple(sheet[top + 10, cs.MARGIN + 1]) == cs.BETTER_COLOUR
    assert tuple(sheet[layout.row_top(1) + 10, cs.MARGIN + 1]) == cs.WORSE_COLOUR


def test_large_thumbnails_are_shrunk_into_the_cell(tmp_path):
    big = [_solid(tmp_path / "big.png", 400, 200, (0, 200, 0))]
    tall = [_solid(tmp_path / "tall.png", 50, 100, (200, 200, 0))]
    sheet, layout = render_contact_sheet([SheetRow("p", big, tall)], per_clip=1)
    assert layout.cell_width == cs.MAX_CELL and layout.row_heights == (100,)
    assert sheet.shape == (layout.height, layout.width, 3)
    y, x = layout.cell_origin(0, "incumbent", 0)
    cell = sheet[y:y + 100, x:x + cs.MAX_CELL]
    assert (cell == (0, 200, 0)).all(axis=2).sum() == 160 * 80  # 400x200 -> 160x80, centred
    with pytest.raises(ValueError):
        render_contact_sheet([])


# ----------------------------------------------------------------------------- records


@pytest.fixture
def scored_tiny(tiny_bench: Path) -> Path:
    bench = Benchmark.load(tiny_bench)
    run_benchmark_sync(bench)
    score_runs(bench, workers=1)
    return tiny_bench


def _record(root: Path, **kwargs):
    bench = Benchmark.load(root)
    inputs = gather_gate_inputs(bench)
    result = evaluate_inputs(inputs)
    sheet = plan_contact_sheet(inputs)
    options = {"decider": "lee", "decided_at": WHEN, **kwargs}
    return bench, inputs, result, sheet, build_record(inputs, result, sheet, **options)


def test_record_holds_hashes_runs_versions_rules_and_statistics(scored_tiny):
    bench, inputs, result, sheet, record = _record(scored_tiny, note="first look")
    files = write_record(bench.decisions_dir, record, sheet)
    assert files.markdown.name == "2026-03-04-new-vs-old.md"
    saved = json.loads(files.json.read_text())
    assert saved == json.loads(json.dumps(record))
    inputs_part = saved["inputs"]
    assert inputs_part["benchmark_toml_sha256"] == \
        hashlib.sha256((scored_tiny / "benchmark.toml").read_bytes()).hexdigest()
    assert inputs_part["prompts_jsonl_sha256"] == \
        hashlib.sha256((scored_tiny / "prompts.jsonl").read_bytes()).hexdigest()
    (run,) = [p.name for p in (scored_tiny / "runs").iterdir()]
    assert inputs_part["runs"] == {"incumbent": [run], "candidate": [run]}
    assert inputs_part["scorer_versions"] == ["sharpness@1", "temporal_flicker@1"]
    assert inputs_part["workbench_version"]
    assert saved["decided_at"] == "2026-03-04T05:06:07Z" and saved["decided_by"] == "lee"
    assert saved["rules"]["thresholds"] == {"temporal_flicker": {"min": 0.9, "tags": {}}}
    assert saved["rules"]["gate"]["margin"] == 0.01
    assert saved["rules"]["directions"] == {"temporal_flicker": "higher"}
    assert saved["verdict"] == result.verdict and saved["reasons"] == list(result.reasons)
    assert saved["statistics"]["scorers"][0]["n"] == 3
    assert set(saved["statistics"]["tags"]) == {"hands", "smoke", "text"}
    assert saved["pass_rates"]["n_prompts"] == 3

    markdown = files.markdown.read_text()
    for fact in (inputs_part["benchmark_toml_sha256"], inputs_part["prompts_jsonl_sha256"], run,
                 "`sharpness@1`", "2026-03-04T05:06:07Z", "## Gate rules", "## Thresholds",
                 "## Threshold pass rates", "## Tags (primary scorers)", "> first look",
                 f"[{files.json.name}]({files.json.name})"):
        assert fact in markdown
    # the summary comes first, the tables after
    assert markdown.index("**Decision:") < markdown.index("| Scorer |")


def test_contact_sheet_has_one_row_per_prompt_with_placeholders_for_missing_clips(scored_tiny):
    (run_dir,) = (scored_tiny / "runs").iterdir()
    shutil.rmtree(run_dir / "videos" / "new" / "smoke-1--r0.thumbs")  # as if never scored
    bench, inputs, _, sheet, record = _record(scored_tiny)
    assert [r.prompt_id for r in sheet.rows] == [d.prompt_id for d in sheet.differences]
    assert sorted(r.prompt_id for r in sheet.rows) == ["hands-1", "smoke-1", "text-1"]
    smoke = next(i for i, r in enumerate(sheet.rows) if r.prompt_id == "smoke-1")
    assert sheet.rows[smoke].candidate == [] and len(sheet.rows[smoke].incumbent) == 6
    files = write_record(bench.decisions_dir, record, sheet)
    image = read_png(files.contact_sheet)
    _, layout = render_contact_sheet(sheet.rows)
    assert image.shape == (layout.height, layout.width, 3)
    assert len(layout.row_heights) == 3
    y, x = layout.cell_origin(smoke, "candidate", 0)
    tile = image[y:y + layout.row_heights[smoke], x:x + layout.cell_width]
    assert (tile == cs.PLACEHOLDER_GREY).all(axis=2).mean() > 0.6
    y, x = layout.cell_origin(smoke, "incumbent", 0)
    tile = image[y:y + layout.row_heights[smoke], x:x + layout.cell_width]
    assert (tile == cs.PLACEHOLDER_GREY).all(axis=2).mean() < 0.1  # a real thumbnail
    rows = json.loads(files.json.read_text())["contact_sheet"]["rows"]
    assert [r["row"] for r in rows] == [1, 2, 3]
    assert rows[smoke]["thumbnails"]["candidate"] == []


def test_records_never_overwrite_and_concurrent_writers_get_distinct_names(scored_tiny):
    bench, _, _, sheet, record = _record(scored_tiny)
    decisions = bench.decisions_dir
    decisions.mkdir()
    (decisions / "2026-03-04-new-vs-old.json").write_text("someone else's file\n")
    first = write_record(decisions, dict(record, contact_sheet=dict(record["contact_sheet"])), sheet)
    assert first.markdown.name == "2026-03-04-new-vs-old-2.md"  # the stray json keeps its name
    assert (decisions / "2026-03-04-new-vs-old.json").read_text() == "someone else's file\n"
    assert not (decisions / "2026-03-04-new-vs-old.md").exists()
    kept = first.markdown.read_bytes()

    barrier = threading.Barrier(4)
    written = []

    def writer() -> None:
        copy = json.loads(json.dumps(record))
        barrier.wait()
        written.append(write_record(decisions, copy, sheet).markdown.name)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(written) == [f"2026-03-04-new-vs-old-{n}.md" for n in (3, 4, 5, 6)]
    assert first.markdown.read_bytes() == kept
    for name in written:
        text = (decisions / name).read_text()
        assert text.startswith("# ") and f"({Path(name).stem}.png)" in text
        assert read_png(decisions / f"{Path(name).stem}.png").shape[2] == 3
    assert not [p for p in decisions.iterdir() if p.name.startswith(".")]  # no temp files left


def test_overrides_keep_both_verdicts():
    assert final_decision("hold", None, None) == ("hold", False)
    assert final_decision("hold", "ship", "marketing deadline") == ("ship", True)
    assert final_decision("inconclusive", "hold", "need more prompts") == ("hold", True)
    with pytest.raises(DecisionError, match="needs a note"):
        final_decision("hold", "ship", "  ")
    with pytest.raises(DecisionError, match="already ship"):
        final_decision("ship", "ship", "why")


def test_override_record_markdown_names_both(scored_tiny):
    bench = Benchmark.load(scored_tiny)
    inputs = gather_gate_inputs(bench, candidate="old", incumbent="new")
    result = evaluate_inputs(inputs)
    assert result.verdict == "hold"
    record = build_record(inputs, result, plan_contact_sheet(inputs), decider="lee",
                          decided_at=WHEN, note="ship anyway: old look\nsecond line",
                          override="ship")
    assert (record["verdict"], record["decision"], record["overridden"]) == ("hold", "ship", True)
    markdown = record_markdown(record)
    assert markdown.startswith("# Ship (override): `old` replaces `new`")
    assert "overriding the gate's verdict **hold**" in markdown
    assert "> ship anyway: old look\n> second line" in markdown
    assert "**Why the gate said hold:**" in markdown


def test_decider_and_directions(monkeypatch, tiny_bench):
    monkeypatch.setenv("WORKBENCH_RATER", "  sam ")
    assert decider_name(None) == "sam"
    assert decider_name("alex") == "alex"
    monkeypatch.delenv("WORKBENCH_RATER")
    assert decider_name(None)  # the login name
    directions = scorer_directions(Benchmark.load(tiny_bench))
    assert directions["human.rating"] == directions["human.pass"] == \
        directions["human.preference"] == "higher"
    assert directions["temporal_flicker"] == "higher" and directions["blockiness"] == "lower"

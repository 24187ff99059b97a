"""Scoring the clips of runs: rows appended once, failed jobs recorded, thumbnails beside videos."""

from __future__ import annotations

import csv
import io
import json
import sys

from workbench.benchmark.folder import Benchmark
from workbench.cli.main import main
from workbench.engine.runner import run_benchmark_sync
from workbench.run_scoring import score_runs


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_score_fills_the_table_once(tiny_bench, capsys):
    bench = Benchmark.load(tiny_bench)
    run_benchmark_sync(bench)
    run_dir = next((tiny_bench / "runs").iterdir())
    report = score_runs(bench, workers=1)
    assert report.scored == 6 and report.up_to_date == 0 and report.errors == 0
    rows = _rows(run_dir / "scores.jsonl")
    assert len(rows) == 6 * 2
    assert {r["scorer"] for r in rows} == {"sharpness", "temporal_flicker"}
    assert all(r["value"] is not None and r["video_sha256"] for r in rows)
    thumbs = sorted((run_dir / "videos" / "new").glob("hands-1--r0.thumbs/*.png"))
    assert len(thumbs) == 6

    again = score_runs(Benchmark.load(tiny_bench), workers=1)
    assert again.scored == 0 and again.up_to_date == 6
    assert len(_rows(run_dir / "scores.jsonl")) == 12

    capsys.readouterr()
    assert main(["table", str(tiny_bench), "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(table[0]) == ["prompt_id", "model", "repeat", "scorer", "value", "passed", "error"]
    flicker = [r for r in table if r["scorer"] == "temporal_flicker"]
    assert len(flicker) == 6 and all(r["passed"] in ("true", "false") for r in flicker)
    assert all(r["passed"] == "" for r in table if r["scorer"] == "sharpness")


def test_a_new_scorer_scores_only_what_is_missing(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    run_benchmark_sync(bench)
    score_runs(bench, workers=1)
    toml = tiny_bench / "benchmark.toml"
    toml.write_text(toml.read_text().replace('scorers = ["sharpness", "temporal_flicker"]',
                                             'scorers = ["sharpness", "temporal_flicker", "frozen_frames"]'))
    report = score_runs(Benchmark.load(tiny_bench), workers=1)
    assert report.scored == 6
    run_dir = next((tiny_bench / "runs").iterdir())
    frozen = [r for r in _rows(run_dir / "scores.jsonl") if r["scorer"] == "frozen_frames"]
    assert len(frozen) == 6


def test_failed_generations_are_recorded_as_errors(tiny_bench, capsys):
    toml = tiny_bench / "benchmark.toml"
    toml.write_text(toml.read_text().replace("flicker = 0.05", "flicker = 0.05\nfailure_rate = 1.0"))
    bench = Benchmark.load(tiny_bench)
    run_benchmark_sync(bench)
    report = score_runs(bench, workers=1)
    assert report.not_generated == 3 and report.scored == 3
    run_dir = next((tiny_bench / "runs").iterdir())
    failed = [r for r in _rows(run_dir / "scores.jsonl") if r["model"] == "old"]
    assert len(failed) == 6
    assert all(r["value"] is None and r["error"].startswith("no video:") for r in failed)
    assert score_runs(Benchmark.load(tiny_bench), workers=1).not_generated == 0


def test_score_cli_errors(tiny_bench, capsys):
    assert main(["score", str(tiny_bench)]) == 0
    assert "no runs yet" in capsys.readouterr().err
    assert main(["score", str(tiny_bench), "--run", "nope"]) == 2
    assert "no run 'nope'" in capsys.readouterr().err


def test_an_external_scorer_that_failed_is_retried_once_fixed(tiny_bench, tmp_path):
    script = tmp_path / "score.py"
    script.write_text("import json, sys\nsys.exit(3)\n")
    toml = tiny_bench / "benchmark.toml"
    toml.write_text(toml.read_text().replace(
        'scorers = ["sharpness", "temporal_flicker"]', 'scorers = ["sharpness", "ext"]')
        + f'\n[scoring.external.ext]\nargv = ["{sys.executable}", "{script}", "{{video}}"]\n')
    bench = Benchmark.load(tiny_bench)
    run_benchmark_sync(bench)
    score_runs(bench, workers=1)
    run_dir = next((tiny_bench / "runs").iterdir())
    assert all(r["error"] for r in _rows(run_dir / "scores.jsonl") if r["scorer"] == "ext")

    script.write_text('import json\nprint(json.dumps({"value": 0.5}))\n')
    report = score_runs(Benchmark.load(tiny_bench), workers=1)
    assert report.scored == 6
    latest = {(r["model"], r["prompt_id"], r["scorer"]): r for r in _rows(run_dir / "scores.jsonl")}
    assert all(r["value"] == 0.5 and r["error"] is None for k, r in latest.items() if k[2] == "ext")
    # and nothing is appended again once the outcome is unchanged
    before = len(_rows(run_dir / "scores.jsonl"))
    assert score_runs(Benchmark.load(tiny_bench), workers=1).up_to_date == 6
    assert len(_rows(run_dir / "scores.jsonl")) == before


def test_a_clip_that_is_not_a_video_is_recorded_once(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    run_benchmark_sync(bench)
    run_dir = next((tiny_bench / "runs").iterdir())
    video = run_dir / "videos" / "old" / "hands-1--r0.mp4"
    video.unlink()  # a hard link into the cache: replace it, do not write through it
    video.write_bytes(b"not a video at all")
    score_runs(bench, workers=1)
    count = len(_rows(run_dir / "scores.jsonl"))
    score_runs(Benchmark.load(tiny_bench), workers=1)
    assert len(_rows(run_dir / "scores.jsonl")) == count
    broken = [r for r in _rows(run_dir / "scores.jsonl") if r["prompt_id"] == "hands-1" and r["model"] == "old"]
    assert broken and all(r["error"] for r in broken)


def test_compliance_is_judged_against_what_the_clip_was_asked_to_be(tiny_bench):
    toml = tiny_bench / "benchmark.toml"
    toml.write_text(toml.read_text().replace('scorers = ["sharpness", "temporal_flicker"]',
                                             'scorers = ["compliance"]'))
    bench = Benchmark.load(tiny_bench)
    run_benchmark_sync(bench)
    run_dir = next((tiny_bench / "runs").iterdir())
    # after the run, someone asks for 9 s clips of hands-1: the existing clips were not asked that
    prompts = tiny_bench / "prompts.jsonl"
    prompts.write_text(prompts.read_text().replace('"id": "hands-1", "text": "A hand waves"',
                                                   '"id": "hands-1", "text": "A hand waves", "duration": 9'))
    score_runs(Benchmark.load(tiny_bench), runs=[run_dir.name], workers=1)
    rows = [r for r in _rows(run_dir / "scores.jsonl") if r["prompt_id"] == "hands-1"]
    assert len(rows) == 2 and all(r["value"] == 1.0 for r in rows), rows
    journal = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]
    assert all(e.get("requested") == {} for e in journal if e["event"] == "succeeded")

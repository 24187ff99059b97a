"""The `workbench table`, `rate`, `prefer` and `align` commands end to end on small benchmark folders."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.judgments.ratings import load_judgments

TOML = '''name = "cli"
scorers = ["temporal_flicker", "sharpness"]

[models.old]
provider = "synthetic"

[models.new]
provider = "synthetic"

[thresholds.temporal_flicker]
min = 0.9
'''
PROMPTS = (
    '{"id": "hands-1", "text": "A hand waves", "tags": ["hands"]}\n'
    '{"id": "smoke-1", "text": "Smoke rises", "tags": ["smoke"]}\n'
    '{"id": "text-1", "text": "A sign that reads OPEN", "tags": ["text", "hands"]}\n'
)
RUN = "20261126-163551-ab12"
# flicker per (model, prompt): old fails everywhere, new passes everywhere
FLICKER = {("old", "hands-1"): 0.81, ("old", "smoke-1"): 0.84, ("old", "text-1"): 0.87,
           ("new", "hands-1"): 0.93, ("new", "smoke-1"): 0.95, ("new", "text-1"): 0.97}
BUILTINS = ["decodes", "sharpness", "brightness", "clipped_shadows", "clipped_highlights", "black_frames",
            "colorfulness", "blockiness", "temporal_flicker", "frozen_frames", "motion", "motion_jerk",
            "scene_cuts", "compliance"]


def write_bench(tmp_path: Path, toml: str = TOML) -> Path:
    root = tmp_path / "cli"
    root.mkdir(parents=True)
    (root / "benchmark.toml").write_text(toml)
    (root / "prompts.jsonl").write_text(PROMPTS)
    return root


def write_scores(root: Path, records: list[dict]) -> None:
    path = root / "runs" / RUN / "scores.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def rec(model: str, prompt: str, scorer: str, value: float | None, error: str | None = None) -> dict:
    return {"run": RUN, "model": model, "prompt_id": prompt, "repeat": 0, "scorer": scorer, "version": "1",
            "value": value, "error": error, "video_sha256": "ab" * 32}


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    root = write_bench(tmp_path)
    records = []
    for (model, prompt), flicker in FLICKER.items():
        records.append(rec(model, prompt, "temporal_flicker", flicker))
        if (model, prompt) == ("new", "smoke-1"):
            records.append(rec(model, prompt, "sharpness", None, error="could not decode frame 12"))
        else:
            records.append(rec(model, prompt, "sharpness", 140.0 + 10 * len(records)))
    write_scores(root, records)
    return root


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------- table


def test_table_text_is_wide_and_marks_verdicts(bench, capsys):
    code, out, err = run_cli(capsys, "table", bench)
    assert code == 0
    lines = out.splitlines()
    assert all(len(line) <= 120 for line in lines)
    header = next(i for i, line in enumerate(lines) if line.startswith("prompt"))
    assert lines[header].split()[:2] == ["prompt", "model"]
    assert "temporal_" in lines[header - 1] and "flicker" in lines[header]  # names over two lines
    hands_old = next(line for line in lines if line.startswith("hands-1"))
    assert hands_old.split()[1:4] == ["old", "0.810", "✗"]
    new_smoke = [line for line in lines if " new " in f" {line} "][1]
    assert new_smoke.split()[:3] == ["new", "0.950", "✓"] and new_smoke.rstrip().endswith("error")
    assert "✓ pass, ✗ fail" in out
    assert f"3 prompts x 2 models from run {RUN}" in err


def test_table_blocks_fit_in_120_columns(tmp_path, capsys):
    root = write_bench(tmp_path, TOML.replace('["temporal_flicker", "sharpness"]', json.dumps(BUILTINS)))
    write_scores(root, [rec(m, p, s, 0.5 + i / 1000) for i, (m, p, s) in enumerate(
        (m, p, s) for (m, p) in FLICKER for s in BUILTINS)])
    code, out, _ = run_cli(capsys, "table", root)
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 120
    blocks = [i for i, line in enumerate(lines) if line.startswith("prompt ")]
    assert len(blocks) >= 2
    text = " ".join(lines)
    for name in ("decodes", "clipped_", "highlights", "compliance", "scene_", "cuts"):
        assert name in text
    narrow_code, narrow, _ = run_cli(capsys, "table", root, "--width", "80")
    assert narrow_code == 0 and max(len(line) for line in narrow.splitlines()) <= 80


def test_table_csv_is_long_with_exact_columns(bench, capsys):
    code, out, _ = run_cli(capsys, "table", bench, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0] == "prompt_id,model,repeat,scorer,value,passed,error"
    assert len(rows) == 12
    by_key = {(r["model"], r["prompt_id"], r["scorer"]): r for r in rows}
    assert by_key[("old", "hands-1", "temporal_flicker")]["passed"] == "false"
    assert by_key[("new", "hands-1", "temporal_flicker")]["passed"] == "true"
    assert by_key[("old", "hands-1", "sharpness")]["passed"] == ""
    failed = by_key[("new", "smoke-1", "sharpness")]
    assert failed["value"] == "" and failed["error"] == "could not decode frame 12"
    assert float(by_key[("old", "text-1", "temporal_flicker")]["value"]) == 0.87


def test_table_json_and_markdown(bench, capsys):
    code, out, _ = run_cli(capsys, "table", bench, "--format", "json", "--tag", "smoke")
    assert code == 0
    records = json.loads(out)
    assert {r["prompt_id"] for r in records} == {"smoke-1"}
    assert set(records[0]) == {"run", "model", "prompt_id", "repeat", "scorer", "version", "value",
                               "passed", "error"}
    code, out, _ = run_cli(capsys, "table", bench, "--format", "markdown")
    lines = out.splitlines()
    assert lines[0] == "| prompt | model | temporal_flicker | sharpness |"
    assert lines[1] == "|---|---|---:|---:|"
    assert lines[2] == "| hands-1 | old | 0.810 ✗ | 150 |"
    assert lines[3].startswith("|  | new | 0.930 ✓ |")


def test_table_without_scores_explains_what_to_do(tmp_path, capsys):
    root = write_bench(tmp_path)
    code, out, err = run_cli(capsys, "table", root)
    assert code == 0 and out == ""
    assert f"no scores yet: run `workbench run {root}` then `workbench score {root}`" in err
    code, out, _ = run_cli(capsys, "table", root, "--format", "csv")
    assert code == 0 and out == "prompt_id,model,repeat,scorer,value,passed,error\n"
    code, out, _ = run_cli(capsys, "table", root, "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_table_bad_run_or_tag_exits_2(bench, capsys):
    code, out, err = run_cli(capsys, "table", bench, "--run", "20200101-000000-0000")
    assert code == 2 and out == ""
    assert "no run '20200101-000000-0000'" in err and RUN in err
    code, _, err = run_cli(capsys, "table", bench, "--tag", "faces")
    assert code == 2 and "no prompt is tagged 'faces'" in err


# ----------------------------------------------------------------------------- rate / prefer


def test_rate_records_and_table_shows_it(bench, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RATER", "dana")
    code, out, _ = run_cli(capsys, "rate", bench, "hands-1", "new", "--score", "4", "--pass",
                           "--comment", "hands look right", "--run", RUN)
    assert code == 0
    assert out.strip() == f"rated hands-1 / new r0 ({RUN}): score 4, pass by dana"
    (rating,) = load_judgments(bench / "ratings.jsonl").ratings
    assert (rating.rater, rating.score, rating.passed, rating.run) == ("dana", 4, True, RUN)
    assert rating.comment == "hands look right"
    code, out, _ = run_cli(capsys, "rate", bench, "hands-1", "new", "--fail", "--rater", "eli")
    assert code == 0 and out.strip().endswith("fail by eli")

    code, out, _ = run_cli(capsys, "table", bench, "--format", "csv")
    rows = {(r["model"], r["prompt_id"], r["scorer"]): r for r in csv.DictReader(io.StringIO(out))}
    assert float(rows[("new", "hands-1", "human.rating")]["value"]) == 4.0
    assert float(rows[("new", "hands-1", "human.pass")]["value"]) == 0.5
    code, out, _ = run_cli(capsys, "table", bench, "--format", "csv", "--no-human")
    assert "human." not in out


def test_rate_rejects_bad_input_with_exit_2(bench, capsys):
    cases = [
        (["nope", "new", "--score", "3"], "no prompt with id 'nope'"),
        (["hands-1", "gpt", "--score", "3"], "no model 'gpt'"),
        (["hands-1", "new"], "give --score 1-5, --pass or --fail"),
        (["hands-1", "new", "--pass", "--run", "19990101-000000-0000"], "no run '19990101-000000-0000'"),
        (["hands-1", "new", "--pass", "--repeat", "-1"], "--repeat must be 0 or more"),
    ]
    for args, message in cases:
        code, _, err = run_cli(capsys, "rate", bench, *args, "--rater", "ana")
        assert code == 2, args
        assert message in err, (args, err)
        assert "Traceback" not in err
    for args in (["--score", "7"], ["--pass", "--fail"]):
        with pytest.raises(SystemExit) as info:
            main(["rate", str(bench), "hands-1", "new", *args])
        assert info.value.code == 2
    capsys.readouterr()
    assert not (bench / "ratings.jsonl").exists()


def test_prefer_records_sides_and_choice(bench, capsys):
    code, out, _ = run_cli(capsys, "prefer", bench, "smoke-1", "old", "new", "--choice", "right",
                           "--rater", "ana", "--right-repeat", "0")
    assert code == 0
    assert out.strip() == "recorded smoke-1: old r0 vs new r0: new r0 preferred by ana"
    (pref,) = load_judgments(bench / "ratings.jsonl").preferences
    assert (pref.left.model, pref.right.model, pref.choice) == ("old", "new", "right")
    code, _, err = run_cli(capsys, "prefer", bench, "smoke-1", "old", "old", "--choice", "tie", "--rater", "a")
    assert code == 2 and "same clip" in err
    code, _, err = run_cli(capsys, "prefer", bench, "smoke-1", "old", "sora", "--choice", "tie", "--rater", "a")
    assert code == 2 and "no model 'sora'" in err
    code, out, _ = run_cli(capsys, "table", bench, "--format", "json")
    prefs = {(r["model"]): r["value"] for r in json.loads(out) if r["scorer"] == "human.preference"}
    assert prefs == {"old": 0.0, "new": 1.0}


# ----------------------------------------------------------------------------- align


def rate_all(bench: Path, capsys) -> None:
    # ratings follow flicker exactly; people pass the clips with flicker >= 0.93
    for (model, prompt), flicker in FLICKER.items():
        score = {0.81: 1, 0.84: 2, 0.87: 3, 0.93: 4, 0.95: 5, 0.97: 5}[flicker]
        verdict = "--pass" if flicker >= 0.93 else "--fail"
        assert main(["rate", str(bench), prompt, model, "--score", str(score), verdict, "--rater", "ana"]) == 0
    capsys.readouterr()


def test_align_text_and_json(bench, capsys):
    rate_all(bench, capsys)
    code, out, err = run_cli(capsys, "align", bench, "--format", "json")
    assert code == 0, err
    rows = {r["scorer"]: r for r in json.loads(out)}
    flicker = rows["temporal_flicker"]
    assert flicker["n_rated"] == 6
    # ranks: flicker 1..6, scores 1,2,3,4,5,5 (a tie at the top)
    assert flicker["spearman"] == pytest.approx(0.9856, abs=1e-4)
    # 15 pairs: 14 concordant, 1 tied in y only: tau_b = 14 / sqrt(15 * 14)
    assert flicker["kendall"] == pytest.approx(14 / (15 * 14) ** 0.5)
    assert flicker["n_pass_labels"] == 6 and flicker["pass_agreement"] == 1.0
    assert flicker["threshold_used"] == ">= 0.9"
    assert flicker["direction"] == "higher" and flicker["sign_agrees"] is True
    suggestion = flicker["suggested"]
    assert suggestion["bound"] == "min" and suggestion["agreement"] == 1.0 and suggestion["n"] == 6
    assert 0.87 < suggestion["threshold"] <= 0.93
    sharp = rows["sharpness"]
    assert sharp["n_rated"] == 5 and sharp["pass_agreement"] is None

    code, out, _ = run_cli(capsys, "align", bench)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["scorer", "n", "spearman", "kendall", "pass", "agree", "threshold", "suggested"]
    flicker_line = next(line for line in lines if line.startswith("temporal_flicker"))
    assert flicker_line.split()[:5] == ["temporal_flicker", "6", "+0.99", "+0.97", "100%"]
    assert ">= 0.9 (100% of 6)" in flicker_line


def test_align_without_judgments_or_scores(tmp_path, bench, capsys):
    code, out, err = run_cli(capsys, "align", bench)
    assert code == 0 and "no human judgments yet" in err
    assert "0 rated items (need 3)" in out
    empty = write_bench(tmp_path / "other")
    code, out, err = run_cli(capsys, "align", empty)
    assert code == 0 and out == "" and "no scores yet" in err

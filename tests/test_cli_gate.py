"""``workbench gate``: verdicts and exit codes for CI, JSON output, records, overrides, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench.benchmark.folder import Benchmark
from workbench.cli.main import main
from workbench.decide.contact_sheet import DEFAULT_PER_CLIP, DEFAULT_ROWS
from workbench.engine.runner import run_benchmark_sync
from workbench.media.png import read_png
from workbench.run_scoring import score_runs

SMALL = dict(width=96, height=64, fps=12, duration=1.0)


def _model(name: str, **knobs: float) -> str:
    lines = [f"[models.{name}]", 'provider = "synthetic"']
    lines += [f"{k} = {v}" for k, v in {**SMALL, **knobs}.items()]
    return "\n".join(lines) + "\n"


GATE = '''
[thresholds.temporal_flicker]
min = 0.9

[gate]
incumbent = "old"
candidate = "new"
primary = ["temporal_flicker", "sharpness"]
margin = 0.001
min_prompts = 4
resamples = 1000
'''

TOML = (
    'name = "gate-test"\nscorers = ["sharpness", "temporal_flicker"]\n\n'
    + _model("old", flicker=0.08, blur=1.5) + "\n"
    + _model("new", flicker=0.0, blur=0.0) + "\n"
    + _model("broken", failure_rate=1.0)
    + GATE
)

PROMPTS = "".join(json.dumps(p) + "\n" for p in [
    {"id": "hands-1", "text": "A hand waves", "tags": ["hands"]},
    {"id": "smoke-1", "text": "Smoke rises from a chimney", "tags": ["smoke"]},
    {"id": "text-1", "text": "A sign that reads OPEN", "tags": ["text", "hands"]},
    {"id": "crowd-1", "text": "A crowd crosses a street", "tags": ["crowds"]},
    {"id": "ball-1", "text": "A red ball bounces on a wooden floor", "tags": ["physics", "smoke"]},
])


def _write_bench(root: Path, toml: str = TOML) -> Path:
    root.mkdir(parents=True)
    (root / "benchmark.toml").write_text(toml)
    (root / "prompts.jsonl").write_text(PROMPTS)
    return root


@pytest.fixture(scope="module")
def scored_master(tmp_path_factory) -> Path:
    root = _write_bench(tmp_path_factory.mktemp("gate") / "bench")
    bench = Benchmark.load(root)
    run_benchmark_sync(bench)
    score_runs(bench, workers=1)
    return root


@pytest.fixture
def scored(scored_master: Path, tmp_path: Path) -> Path:
    """A private copy of a benchmark run and scored once for this module."""
    target = tmp_path / "bench"
    shutil.copytree(scored_master, target)
    return target


def _gate(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["gate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _run_id(bench: Path) -> str:
    (run,) = [p.name for p in (bench / "runs").iterdir() if p.is_dir()]
    return run


def test_clear_improvement_ships_with_reasons_and_tables(scored, capsys):
    code, out, err = _gate(capsys, str(scored))
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("SHIP: new vs old (5 paired prompts of 5)")
    assert any(line.startswith("  - temporal_flicker improves by") for line in lines)
    header = next(line for line in lines if line.startswith("scorer"))
    for column in ("incumbent", "candidate", "difference", "95% CI", "W/T/L", "sign p"):
        assert column in header
    assert any(line.startswith("sharpness ") for line in lines)
    assert "per tag, temporal_flicker:" in lines and "per tag, sharpness:" in lines
    assert any(line.split()[:2] == ["hands", "2"] for line in lines)  # two prompts tagged hands
    assert "threshold pass rate: old 100% (5/5), new 100% (5/5)" in lines
    assert max(len(line) for line in lines) <= 100
    assert "Traceback" not in err


def test_the_reverse_comparison_holds_with_exit_1(scored, capsys):
    code, out, _ = _gate(capsys, str(scored), "--candidate", "old", "--incumbent", "new")
    assert code == 1
    assert out.startswith("HOLD: old vs new")
    assert "temporal_flicker is worse by" in out


def test_json_format_has_the_verdict_statistics_and_context(scored, capsys):
    code, out, _ = _gate(capsys, str(scored), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["verdict"] == data["decision"] == "ship"
    assert data["reasons"] and all(isinstance(r, str) for r in data["reasons"])
    scorers = {s["scorer"]: s for s in data["statistics"]["scorers"]}
    assert set(scorers) == {"temporal_flicker", "sharpness"}
    flicker = scorers["temporal_flicker"]
    for key in ("incumbent_mean", "candidate_mean", "mean_diff", "ci_low", "ci_high", "wins", "ties",
                "losses", "sign_test_p", "n"):
        assert key in flicker
    assert flicker["n"] == 5 and flicker["mean_diff"] > 0
    assert data["statistics"]["tags"]["hands"]["sharpness"]["n"] == 2
    run = _run_id(scored)
    assert data["inputs"]["runs"] == {"incumbent": [run], "candidate": [run]}
    assert data["inputs"]["scorer_versions"] == ["sharpness@1", "temporal_flicker@1"]
    assert data["pass_rates"]["models"]["new"]["passed"] == 5
    assert data["rules"]["gate"]["primary"] == ["temporal_flicker", "sharpness"]
    assert [c["outcome"] for c in data["checks"]].count("pass") == len(data["checks"])


def test_record_writes_markdown_json_and_png_and_never_overwrites(scored, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RATER", "casey")
    code, out, _ = _gate(capsys, str(scored), "--record", "--note", "steadier clips")
    assert code == 0
    decisions = scored / "decisions"
    first = sorted(decisions.iterdir())
    assert [p.suffix for p in first] == [".json", ".md", ".png"]
    stem = first[0].stem
    assert stem.endswith("-new-vs-old") and len(stem.split("-")[0]) == 4
    assert f"recorded: {decisions / (stem + '.md')}" in out
    before = {p.name: p.read_bytes() for p in first}

    code, _, _ = _gate(capsys, str(scored), "--record", "--decider", "robin")
    assert code == 0
    names = sorted(p.name for p in decisions.iterdir())
    assert names == sorted([*before, f"{stem}-2.json", f"{stem}-2.md", f"{stem}-2.png"])
    assert {n: (decisions / n).read_bytes() for n in before} == before

    record = json.loads((decisions / f"{stem}.json").read_text())
    assert record["decided_by"] == "casey" and record["note"] == "steadier clips"
    assert json.loads((decisions / f"{stem}-2.json").read_text())["decided_by"] == "robin"
    assert record["decision"] == record["verdict"] == "ship" and record["overridden"] is False
    assert record["files"] == {"markdown": f"{stem}.md", "json": f"{stem}.json",
                               "contact_sheet": f"{stem}.png"}
    rows = record["contact_sheet"]["rows"]
    assert len(rows) == DEFAULT_ROWS
    sizes = [r["standardized_difference"] for r in rows]
    assert sizes == sorted(sizes, reverse=True)
    for row in rows:  # every clip of both models was scored, so every row has thumbnails
        assert row["thumbnails"]["incumbent"] and row["thumbnails"]["candidate"]
        assert all((scored / t).is_file() for t in row["thumbnails"]["candidate"])

    markdown = (decisions / f"{stem}.md").read_text()
    assert markdown.startswith("# Ship: `new` replaces `old`")
    assert f"![Contact sheet: old on the left, new on the right]({stem}.png)" in markdown
    assert "> steadier clips" in markdown and "**casey**" in markdown
    for row in rows:
        assert f"`{row['prompt_id']}`" in markdown
    sheet = read_png(decisions / f"{stem}.png")
    assert sheet.shape[2] == 3 and sheet.shape[0] > sheet.shape[1] / 4
    # one row per prompt, 2 x DEFAULT_PER_CLIP thumbnails of 96 px across
    assert sheet.shape[1] > 2 * DEFAULT_PER_CLIP * 96


def test_override_needs_a_note_and_a_record(scored, capsys):
    code, _, err = _gate(capsys, str(scored), "--candidate", "old", "--incumbent", "new",
                         "--record", "--override", "ship")
    assert code == 2 and "--override ship needs --note" in err
    code, _, err = _gate(capsys, str(scored), "--override", "ship", "--note", "why")
    assert code == 2 and "add --record" in err
    code, _, err = _gate(capsys, str(scored), "--record", "--override", "ship", "--note", "why")
    assert code == 2 and "already ship" in err
    assert "Traceback" not in err
    assert not (scored / "decisions").exists()


def test_override_is_recorded_with_both_verdicts_and_sets_the_exit_code(scored, capsys):
    code, out, _ = _gate(capsys, str(scored), "--candidate", "old", "--incumbent", "new", "--record",
                         "--override", "ship", "--note", "legal needs the old look", "--decider", "kim",
                         "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["verdict"] == "hold" and data["decision"] == "ship" and data["overridden"] is True
    markdown = (scored / "decisions" / data["files"]["markdown"]).read_text()
    assert markdown.startswith("# Ship (override): `old` replaces `new`")
    assert "overriding the gate's verdict **hold**" in markdown
    assert "> legal needs the old look" in markdown and "**kim**" in markdown

    code, out, _ = _gate(capsys, str(scored), "--record", "--override", "hold", "--note", "wait for QA")
    assert code == 1
    assert "DECISION: HOLD (override of the gate's ship)" in out


@pytest.mark.parametrize("args, message", [
    (["--candidate", "nope"], "--candidate nope: unknown model"),
    (["--incumbent", "ghost"], "--incumbent ghost: unknown model"),
    (["--candidate", "old"], "the candidate and the incumbent are the same model ('old')"),
    (["--run", "20990101-000000-zzzz"], "no run '20990101-000000-zzzz'"),
])
def test_bad_input_exits_2_with_one_clear_line(scored, capsys, args, message):
    code, out, err = _gate(capsys, str(scored), *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_only_the_runs_asked_for_are_used(scored, capsys):
    run = _run_id(scored)
    code, out, _ = _gate(capsys, str(scored), "--run", run, "--format", "json")
    assert code == 0
    assert json.loads(out)["inputs"]["runs_requested"] == [run]


def test_a_benchmark_without_scores_is_inconclusive(tmp_path, capsys):
    bench = _write_bench(tmp_path / "fresh")
    code, out, err = _gate(capsys, str(bench))
    assert code == 1
    assert out.startswith("INCONCLUSIVE: new vs old (0 paired prompts of 5)")
    assert "there are no scores yet: run `workbench run" in out
    code, out, _ = _gate(capsys, str(bench), "--record")
    assert code == 1
    names = sorted(p.suffix for p in (bench / "decisions").iterdir())
    assert names == [".json", ".md"]  # nothing to show on a contact sheet
    markdown = next((bench / "decisions").glob("*.md")).read_text()
    assert markdown.startswith("# Inconclusive: `new` vs `old`")
    assert "No contact sheet" in markdown


def test_a_model_whose_every_clip_failed_is_inconclusive(scored, capsys):
    code, out, _ = _gate(capsys, str(scored), "--candidate", "broken", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["verdict"] == "inconclusive"
    assert any("no temporal_flicker scores for the candidate 'broken'" in r for r in data["reasons"])


def test_without_a_gate_section_the_models_must_be_named(tmp_path, capsys):
    toml = TOML[:TOML.index("[gate]")]
    bench = _write_bench(tmp_path / "nogate", toml)
    code, _, err = _gate(capsys, str(bench))
    assert code == 2
    assert "no [gate] section" in err and "--candidate and --incumbent" in err
    code, _, err = _gate(capsys, str(bench), "--candidate", "new")
    assert code == 2 and "pass --incumbent" in err


def test_without_a_gate_section_default_rules_apply(scored, capsys):
    toml = scored / "benchmark.toml"
    toml.write_text(toml.read_text()[:toml.read_text().index("[gate]")])
    code, out, _ = _gate(capsys, str(scored), "--candidate", "new", "--incumbent", "old")
    assert "no [gate] section: default rules" in out
    # the default minimum is 10 paired prompts and this benchmark has 5
    assert code == 1 and out.startswith("INCONCLUSIVE: new vs old")
    assert "the gate needs at least 10" in out


def test_human_ratings_can_decide_the_gate(scored, capsys):
    prompts = [p.id for p in Benchmark.load(scored).prompts]
    for prompt in prompts[:3]:
        for model, score in (("old", "2"), ("new", "4")):
            assert main(["rate", str(scored), prompt, model, "--score", score, "--rater", "ana"]) == 0
    toml = scored / "benchmark.toml"
    toml.write_text(toml.read_text().replace('primary = ["temporal_flicker", "sharpness"]',
                                             'primary = ["human.rating"]')
                    .replace("min_prompts = 4", "min_prompts = 3"))
    # people rated 3 of the prompts: the unrated ones are missing results, never a quiet ship
    code, out, _ = _gate(capsys, str(scored), "--format", "json")
    data = json.loads(out)
    assert data["verdict"] == "inconclusive" and code == 1
    assert any("missing human.rating results" in r and prompts[3] in r for r in data["reasons"])

    for prompt in prompts[3:]:
        for model, score in (("old", "2"), ("new", "4")):
            assert main(["rate", str(scored), prompt, model, "--score", score, "--rater", "ana"]) == 0
    code, out, _ = _gate(capsys, str(scored), "--format", "json")
    data = json.loads(out)
    (rating,) = data["statistics"]["scorers"]
    assert rating["scorer"] == "human.rating" and rating["direction"] == "higher"
    assert rating["n"] == len(prompts) and rating["mean_diff"] == pytest.approx(2.0)
    assert data["verdict"] == "ship" and code == 0

"""Loading, validating and saving benchmark folders."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from workbench.benchmark.folder import Benchmark
from workbench.cli.main import main
from workbench.errors import FileConflict, InvalidInput

from conftest import SAMPLE


def problems_of(root: Path) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        Benchmark.load(root)
    return [str(p) for p in info.value.problems]


def test_sample_benchmark_is_valid():
    bench = Benchmark.load(SAMPLE)
    assert len(bench.prompts) == 20
    assert bench.config.gate is not None
    assert {bench.config.gate.incumbent, bench.config.gate.candidate} <= set(bench.config.models)
    assert main(["validate", str(SAMPLE)]) == 0


def test_tiny_loads(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    assert [p.id for p in bench.prompts] == ["hands-1", "smoke-1", "text-1"]
    assert bench.prompt("text-1").seed == 7
    assert bench.config.thresholds["temporal_flicker"].min == 0.9
    assert [p.id for p in bench.prompts_with_tag("hands")] == ["hands-1", "text-1"]


def test_threshold_change_is_a_one_line_diff_and_keeps_comments(tiny_bench):
    before = (tiny_bench / "benchmark.toml").read_text()
    bench = Benchmark.load(tiny_bench)
    bench.set_threshold("temporal_flicker", min=0.95, max=None)
    bench.save_config()
    after = (tiny_bench / "benchmark.toml").read_text()
    diff = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert diff == ["-min = 0.9  # keep this comment", "+min = 0.95  # keep this comment"]
    assert "# a comment inside a model table" in after
    assert Benchmark.load(tiny_bench).config.thresholds["temporal_flicker"].min == 0.95


def test_new_threshold_and_tag_override_round_trip(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    bench.set_threshold("sharpness", min=10.0, max=None)
    bench.set_threshold("temporal_flicker", min=0.8, max=None, tag="hands")
    bench.save_config()
    again = Benchmark.load(tiny_bench)
    assert again.config.thresholds["sharpness"].min == 10.0
    assert again.config.thresholds["temporal_flicker"].for_tags(("hands",)).min == 0.8
    assert again.config.thresholds["temporal_flicker"].for_tags(("smoke",)).min == 0.9
    # clearing removes the table again
    again.set_threshold("sharpness", min=None, max=None)
    again.save_config()
    assert "sharpness" not in Benchmark.load(tiny_bench).config.thresholds


def test_invalid_threshold_edit_is_rolled_back(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    with pytest.raises(InvalidInput):
        bench.set_threshold("temporal_flicker", min=0.9, max=0.5)
    assert bench.config.thresholds["temporal_flicker"].min == 0.9
    assert bench.config.thresholds["temporal_flicker"].max is None


def test_prompts_round_trip_is_stable(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    bench.save_prompts()
    assert (tiny_bench / "prompts.jsonl").read_text() == bench.prompts_text()
    first = (tiny_bench / "prompts.jsonl").read_text()
    Benchmark.load(tiny_bench).save_prompts()
    assert (tiny_bench / "prompts.jsonl").read_text() == first
    keys = list(json.loads(first.splitlines()[2]))
    assert keys == ["id", "text", "tags", "notes", "seed"]


@pytest.mark.parametrize(
    "line, expected",
    [
        ('{"id": "hands-1", "text": "again"}', "prompts.jsonl:4: id: duplicate prompt id 'hands-1' (first on line 1)"),
        ('{"id": "ok-2", "text": "x", "colour": "red"}', "prompts.jsonl:4: colour: unknown key"),
        ('{"id": "Bad Slug", "text": "x"}', "prompts.jsonl:4: id: prompt id 'Bad Slug' is not a valid slug"),
        ('{"id": "empty", "text": "   "}', "prompts.jsonl:4: text: text is empty"),
        ('{"id": "broken", "text": ', "prompts.jsonl:4: not valid JSON"),
        ('["a list"]', "prompts.jsonl:4: each line must be a JSON object"),
        ('{"id": "r", "text": "x", "resolution": "big"}', "prompts.jsonl:4: resolution: resolution 'big'"),
        ('{"id": "t", "text": "x", "tags": ["Has Space"]}', "prompts.jsonl:4: tags: tag 'Has Space' is not valid"),
    ],
)
def test_prompt_errors_name_file_line_and_field(tiny_bench, line, expected):
    path = tiny_bench / "prompts.jsonl"
    path.write_text(path.read_text() + line + "\n")
    original = path.read_bytes()
    found = problems_of(tiny_bench)
    assert any(expected in p for p in found), found
    assert path.read_bytes() == original


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('min = 0.9  # keep this comment', 'min = 0.9\nmax = 0.5',
         "benchmark.toml:17: thresholds.temporal_flicker: min (0.9) is greater than max (0.5)"),
        ('candidate = "new"', 'candidate = "ghost"',
         "benchmark.toml:22: gate.candidate: model 'ghost' is not defined under [models]"),
        ('flicker = 0.01', 'flicker = 0.01\nwobble = 3',
         "benchmark.toml:16: models.new.wobble: unknown key"),
        ('description = "two models, three prompts"', 'description = "x"\ncolour = "red"',
         "benchmark.toml:4: colour: unknown key"),
        ('margin = 0.01', 'margin = -1', "benchmark.toml:24: gate.margin: Input should be greater than or equal to 0"),
        ('provider = "synthetic"\n# a comment', 'provider = "magic"\n# a comment',
         "benchmark.toml:9: models.old.provider: unknown provider 'magic'"),
        ('[thresholds.temporal_flicker]', '[thresholds.no_such_scorer]',
         "benchmark.toml:17: thresholds.no_such_scorer: unknown scorer 'no_such_scorer'"),
        ('name = "tiny"', 'name = "tiny', "benchmark.toml:2: not valid TOML"),
    ],
)
def test_config_errors_name_file_line_and_field(tiny_bench, old, new, expected):
    path = tiny_bench / "benchmark.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    found = problems_of(tiny_bench)
    assert any(expected in p for p in found), found


def test_validate_cli_exit_codes(tiny_bench, capsys):
    assert main(["validate", str(tiny_bench)]) == 0
    path = tiny_bench / "prompts.jsonl"
    path.write_text(path.read_text() + '{"id": "hands-1", "text": "dup"}\n{oops\n')
    original = path.read_bytes()
    assert main(["validate", str(tiny_bench)]) == 2
    err = capsys.readouterr().err
    assert "prompts.jsonl:4: id: duplicate prompt id 'hands-1'" in err
    assert "prompts.jsonl:5: not valid JSON" in err
    assert "Traceback" not in err
    assert path.read_bytes() == original


def test_validate_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "no such benchmark folder" in capsys.readouterr().err


def test_save_refuses_to_overwrite_someone_elses_edit(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    prompts = tiny_bench / "prompts.jsonl"
    prompts.write_text(prompts.read_text() + '{"id": "theirs", "text": "their prompt"}\n')
    theirs = prompts.read_bytes()
    bench.prompts = bench.prompts[:1]
    with pytest.raises(FileConflict, match="changed on disk"):
        bench.save_prompts()
    assert prompts.read_bytes() == theirs

    config = tiny_bench / "benchmark.toml"
    config.write_text(config.read_text() + "\n# their comment\n")
    bench.set_threshold("temporal_flicker", min=0.5, max=None)
    with pytest.raises(FileConflict):
        bench.save_config()
    assert config.read_text().endswith("# their comment\n")


def test_successive_saves_from_one_loader_work(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    bench.set_threshold("temporal_flicker", min=0.91, max=None)
    bench.save_config()
    bench.set_threshold("temporal_flicker", min=0.92, max=None)
    bench.save_config()
    bench.save_prompts()
    bench.save_prompts()
    assert Benchmark.load(tiny_bench).config.thresholds["temporal_flicker"].min == 0.92


def test_a_new_threshold_goes_above_the_comment_that_introduces_the_gate(tmp_path):
    import shutil

    root = tmp_path / "hc"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("runs", ".workbench-cache", "decisions"))
    bench = Benchmark.load(root)
    bench.set_threshold("sharpness", min=10.0, max=None)
    bench.save_config()
    text = (root / "benchmark.toml").read_text()
    new = text.index("[thresholds.sharpness]\nmin = 10.0\n")
    comment = text.index("# The release gate")
    assert new < comment < text.index("[gate]")
    assert "\n\n# The release gate" in text
    assert Benchmark.load(root).config.thresholds["sharpness"].min == 10.0


def test_an_untouched_bound_keeps_its_spelling(tiny_bench):
    path = tiny_bench / "benchmark.toml"
    path.write_text(path.read_text().replace("min = 0.9  # keep this comment", "min = 0.9\nmax = 1"))
    bench = Benchmark.load(tiny_bench)
    bench.set_threshold("temporal_flicker", min=0.95, max=1.0)
    bench.save_config()
    text = path.read_text()
    assert "min = 0.95\nmax = 1\n" in text


def test_saving_keeps_every_untouched_prompt_line_exactly_as_written(tiny_bench):
    """A team commits prompts.jsonl: a change to one prompt must be a one-line diff, whatever
    spacing, key order or number format the other lines were written with."""
    from workbench.benchmark.curation import add_prompt, update_prompt

    path = tiny_bench / "prompts.jsonl"
    handwritten = [
        '{"text": "A hand waves",   "id": "hands-1", "tags": ["hands"], "duration": 4}',
        '{"id":"smoke-1","text":"Smoke rises from a chimney","tags":["smoke"]}',
        '{"id": "text-1", "text": "A sign that reads OPEN", "tags": ["text"], "seed": 7, "fps": 24}',
    ]
    path.write_text("\n".join(handwritten) + "\n")
    bench = Benchmark.load(tiny_bench)
    add_prompt(bench, "A cat jumps onto a table", tags=["animals"])
    after_add = path.read_text().splitlines()
    assert after_add[:3] == handwritten and len(after_add) == 4

    bench = Benchmark.load(tiny_bench)
    update_prompt(bench, "smoke-1", tags=["smoke", "fluids"])
    lines = path.read_text().splitlines()
    changed = [i for i, (old, new) in enumerate(zip(after_add, lines)) if old != new]
    assert changed == [1] and json.loads(lines[1])["tags"] == ["smoke", "fluids"]

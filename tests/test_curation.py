"""Curating prompts from the command line and the core functions behind it."""

from __future__ import annotations

import json

import pytest

from workbench.benchmark.curation import import_prompts
from workbench.benchmark.folder import Benchmark
from workbench.cli.main import main
from workbench.errors import InvalidInput


def test_init_scaffolds_a_valid_benchmark(tmp_path, capsys):
    root = tmp_path / "mine"
    assert main(["init", str(root)]) == 0
    bench = Benchmark.load(root)
    assert bench.config.name == "mine"
    assert bench.prompts == []
    assert (root / ".gitignore").read_text().count(".workbench-cache") == 1
    assert main(["init", str(root)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_add_tag_rm_list(tiny_bench, capsys):
    b = str(tiny_bench)
    assert main(["prompts", b, "add", "Two dogs play tug of war with a rope", "--tag", "interaction",
                 "--duration", "3"]) == 0
    assert "added two-dogs-play-tug-of-war" in capsys.readouterr().out
    bench = Benchmark.load(tiny_bench)
    added = bench.prompt("two-dogs-play-tug-of-war")
    assert added.tags == ("interaction",) and added.duration == 3
    # the same text again is refused
    assert main(["prompts", b, "add", "two dogs  play tug of war with a rope"]) == 2
    assert "already prompt 'two-dogs-play-tug-of-war'" in capsys.readouterr().err

    assert main(["prompts", b, "tag", "hands-1", "smoke-1", "--add", "hard", "--remove", "hands"]) == 0
    bench = Benchmark.load(tiny_bench)
    assert bench.prompt("hands-1").tags == ("hard",)
    assert bench.prompt("smoke-1").tags == ("smoke", "hard")
    assert main(["prompts", b, "tag", "nope", "--add", "x"]) == 2
    assert "no prompt with id 'nope'" in capsys.readouterr().err

    capsys.readouterr()
    assert main(["prompts", b, "list", "--tag", "hard"]) == 0
    out = capsys.readouterr().out
    assert "hands-1" in out and "smoke-1" in out and "text-1" not in out

    assert main(["prompts", b, "rm", "smoke-1"]) == 0
    assert [p.id for p in Benchmark.load(tiny_bench).prompts] == ["hands-1", "text-1", "two-dogs-play-tug-of-war"]
    assert main(["prompts", b, "add", "x", "--resolution", "huge"]) == 2
    assert "resolution" in capsys.readouterr().err


def test_import_plain_text_reports_duplicates(tiny_bench, tmp_path, capsys):
    source = tmp_path / "new.txt"
    source.write_text("# ideas from the team\nA kite tangles in a tree\n\nA hand waves\n"
                      "a kite tangles in a TREE\nFireworks over a harbour\n")
    assert main(["prompts", str(tiny_bench), "import", str(source), "--tag", "imported"]) == 0
    captured = capsys.readouterr()
    assert "new.txt:4: duplicate of 'hands-1'" in captured.err
    assert "new.txt:5: duplicate of 'a-kite-tangles-in-a-tree'" in captured.err
    bench = Benchmark.load(tiny_bench)
    assert [p.id for p in bench.prompts][-2:] == ["a-kite-tangles-in-a-tree", "fireworks-over-a-harbour"]
    assert bench.prompt("fireworks-over-a-harbour").tags == ("imported",)


def test_import_csv_with_tags(tiny_bench, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text('text,tags,notes\n"A juggler keeps five balls in the air","hands; counting",tricky\n'
                      '"Smoke rises from a chimney",smoke,\n"Rain on a window at night",low-light|reflections,\n')
    report = import_prompts(Benchmark.load(tiny_bench), source)
    assert [p.id for p in report.added] == ["a-juggler-keeps-five-balls-in", "rain-on-a-window-at-night"]
    assert report.added[0].tags == ("hands", "counting") and report.added[0].notes == "tricky"
    assert report.added[1].tags == ("low-light", "reflections")
    assert report.duplicates == [(3, "Smoke rises from a chimney", "smoke-1")]
    lines = (tiny_bench / "prompts.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["id"] == "rain-on-a-window-at-night"


def test_import_csv_errors_save_nothing(tiny_bench, tmp_path):
    before = (tiny_bench / "prompts.jsonl").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,tags\nhello,x\n")
    with pytest.raises(InvalidInput, match="needs a 'text' column"):
        import_prompts(Benchmark.load(tiny_bench), bad)
    bad.write_text('text,tags\n"fine one",ok\n"bad tag","Not Valid!"\n')
    with pytest.raises(InvalidInput, match=r"bad.csv:3: tags: tag"):
        import_prompts(Benchmark.load(tiny_bench), bad)
    assert (tiny_bench / "prompts.jsonl").read_bytes() == before

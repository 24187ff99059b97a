"""Curating prompts from the command line and the core functions behind it (the TUI's too)."""

from __future__ import annotations

import json

import pytest

from workbench.benchmark.curation import (
    PARAM_KEYS, delete_prompts, duplicate_prompt, filter_prompts, format_params, import_prompts,
    parse_params, restore_prompts, suggest_copy_id, update_prompt,
)
from workbench.benchmark.folder import Benchmark
from workbench.cli.main import main
from workbench.errors import FileConflict, InvalidInput, WorkbenchError


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


# --------------------------------------------------------------------------- params

def test_params_as_key_value_lines_or_json():
    typed = ('# what the provider gets\nduration = 4\nresolution = 1280x720\n\naspect-ratio = "16:9"\n'
             "fps = 24\nnegative_prompt = blurry, extra fingers\n")
    assert parse_params(typed) == {"duration": 4, "resolution": "1280x720", "aspect_ratio": "16:9",
                                   "fps": 24, "negative_prompt": "blurry, extra fingers"}
    assert parse_params('{"duration": 2.5, "fps": null}') == {
        "duration": 2.5, "resolution": None, "aspect_ratio": None, "fps": None, "negative_prompt": None}
    assert parse_params("  \n") == {key: None for key in PARAM_KEYS}
    assert parse_params("duration =") == {key: None for key in PARAM_KEYS}  # empty: unset


@pytest.mark.parametrize(("typed", "expected"), [
    ("duration 4", "params:1: expected 'key = value'"),
    ("fps = 24\nspeed = 2", "params:2: speed: unknown param (known: duration, resolution"),
    ("seed = 3", "seed: unknown param"),
    ("fps = 24\n\nfps = 30", "params:3: fps: given twice (first on line 1)"),
    ('{"fps": 24,}', "params:1: not valid JSON"),
    ("{\"fps\": 24}\n", None),
])
def test_params_problems_name_the_line_and_key(typed, expected):
    if expected is None:
        assert parse_params(typed)["fps"] == 24
        return
    with pytest.raises(InvalidInput) as caught:
        parse_params(typed)
    assert expected in str(caught.value)


def test_bad_param_values_are_refused_naming_the_field(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    before = (tiny_bench / "prompts.jsonl").read_bytes()
    with pytest.raises(InvalidInput) as caught:
        update_prompt(bench, "hands-1", **parse_params("duration = -1\nresolution = huge"))
    fields = {p.field: p.message for p in caught.value.problems}
    assert set(fields) == {"duration", "resolution"}
    assert "greater than 0" in fields["duration"] and "1280x720" in fields["resolution"]
    assert (tiny_bench / "prompts.jsonl").read_bytes() == before


def test_format_params_reads_back_and_update_clears_params(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    edited = update_prompt(bench, "text-1", **parse_params('duration = 3\nnegative_prompt = "a \\"b\\""'))
    assert edited.duration == 3 and edited.negative_prompt == 'a "b"' and edited.seed == 7
    assert format_params(edited) == 'duration = 3\nnegative_prompt = "a \\"b\\""'
    assert parse_params(format_params(edited))["negative_prompt"] == 'a "b"'
    cleared = update_prompt(Benchmark.load(tiny_bench), "text-1", **parse_params(""))
    assert cleared.generation_params() == {}
    assert json.loads((tiny_bench / "prompts.jsonl").read_text().splitlines()[2]) == {
        "id": "text-1", "text": "A sign that reads OPEN", "tags": ["text", "hands"], "notes": "", "seed": 7}
    with pytest.raises(WorkbenchError, match="cannot change"):
        update_prompt(Benchmark.load(tiny_bench), "text-1", id="text-9")


# -------------------------------------------------------------------------- finding


def test_search_by_words_in_id_text_or_notes_combined_with_tags(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    update_prompt(bench, "smoke-1", notes="Watch the PLUME drift")
    prompts = Benchmark.load(tiny_bench).prompts
    ids = lambda found: [p.id for p in found]  # noqa: E731
    assert ids(filter_prompts(prompts, query="a")) == ["hands-1", "smoke-1", "text-1"]
    assert ids(filter_prompts(prompts, query="plume")) == ["smoke-1"]  # notes, any case
    assert ids(filter_prompts(prompts, query="TEXT-")) == ["text-1"]  # id
    assert ids(filter_prompts(prompts, query="sign open")) == ["text-1"]  # every word, any order
    assert ids(filter_prompts(prompts, query="sign smoke")) == []
    assert ids(filter_prompts(prompts, tag="hands", query="a")) == ["hands-1", "text-1"]
    assert ids(filter_prompts(prompts, tag="hands", query="sign")) == ["text-1"]
    assert ids(filter_prompts(prompts, tag="smoke", query="sign")) == []
    tag_free = [p.model_copy(update={"tags": ()}) if p.id == "smoke-1" else p for p in prompts]
    assert ids(filter_prompts(tag_free, untagged=True)) == ["smoke-1"]


# ------------------------------------------------------------------------ duplicate


def test_suggested_copy_ids(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    assert suggest_copy_id(bench, "hands-1") == "hands-2"
    bench.prompts.append(bench.prompt("hands-1").model_copy(update={"id": "hands-2"}))
    assert suggest_copy_id(bench, "hands-1") == "hands-3"
    bench.prompts.append(bench.prompt("hands-1").model_copy(update={"id": "dog"}))
    assert suggest_copy_id(bench, "dog") == "dog-2"
    assert suggest_copy_id(bench, "v10") == "v11"


def test_duplicate_goes_right_after_its_source(tiny_bench):
    bench = Benchmark.load(tiny_bench)
    with pytest.raises(InvalidInput, match="would generate exactly what prompt 'hands-1' does") as caught:
        duplicate_prompt(bench, "hands-1", tags=["other"])
    assert caught.value.problems[0].field == "text"
    with pytest.raises(InvalidInput, match="'smoke-1' already exists") as caught:
        duplicate_prompt(bench, "hands-1", prompt_id="smoke-1", seed=3)
    assert caught.value.problems[0].field == "id"
    copy = duplicate_prompt(bench, "hands-1", seed=3, notes="same text, another seed")
    assert copy.id == "hands-2" and copy.text == "A hand waves" and copy.tags == ("hands",)
    second = duplicate_prompt(Benchmark.load(tiny_bench), "hands-1", prompt_id="hands-wide",
                              text="A hand waves, wide shot", aspect_ratio="21:9")
    saved = [json.loads(line) for line in (tiny_bench / "prompts.jsonl").read_text().splitlines()]
    assert [r["id"] for r in saved] == ["hands-1", "hands-wide", "hands-2", "smoke-1", "text-1"]
    assert saved[2] == {"id": "hands-2", "text": "A hand waves", "tags": ["hands"],
                        "notes": "same text, another seed", "seed": 3}
    assert saved[1]["aspect_ratio"] == "21:9" and second.id == "hands-wide"
    with pytest.raises(InvalidInput, match="resolution"):
        duplicate_prompt(Benchmark.load(tiny_bench), "hands-1", resolution="big", seed=4)


# ------------------------------------------------------------------ delete, restore


def test_delete_then_restore_puts_prompts_back_where_they_were(tiny_bench):
    path = tiny_bench / "prompts.jsonl"
    original = path.read_bytes()
    bench = Benchmark.load(tiny_bench)
    deleted = delete_prompts(bench, ["text-1", "hands-1"])
    assert deleted.ids == ["hands-1", "text-1"]
    assert [p.id for p in Benchmark.load(tiny_bench).prompts] == ["smoke-1"]
    later = Benchmark.load(tiny_bench)
    add_prompt_line = '{"id": "kite-1", "text": "A kite", "tags": [], "notes": ""}\n'
    restored = restore_prompts(bench, deleted)  # the same loaded benchmark: saves over its own write
    assert [p.id for p in restored] == ["hands-1", "text-1"]
    assert path.read_bytes() == original
    # a copy loaded before the restore refuses to clobber it
    with pytest.raises(FileConflict):
        delete_prompts(later, ["smoke-1"])
    # restoring into a file that changed meanwhile keeps the other prompts, positions clamp
    path.write_text(path.read_text() + add_prompt_line)
    bench = Benchmark.load(tiny_bench)
    gone = delete_prompts(bench, ["smoke-1", "kite-1"])
    bench = Benchmark.load(tiny_bench)
    delete_prompts(bench, ["hands-1"])
    restore_prompts(bench, gone)
    assert [p.id for p in Benchmark.load(tiny_bench).prompts] == ["text-1", "smoke-1", "kite-1"]
    with pytest.raises(WorkbenchError, match="cannot restore 'smoke-1'"):
        restore_prompts(Benchmark.load(tiny_bench), gone)
    with pytest.raises(WorkbenchError, match="no prompt with id 'nope'"):
        delete_prompts(Benchmark.load(tiny_bench), ["nope"])


def test_split_tags_reads_tags_as_typed_or_listed():
    from workbench.benchmark.curation import split_tags

    assert split_tags("Hands, low-light;text | crowds  fluids") == ["hands", "low-light", "text", "crowds", "fluids"]
    assert split_tags(" , ;") == [] and split_tags("") == []


def test_a_copy_whose_seeds_meet_the_original_s_repeats_is_refused(tiny_bench):
    from workbench.benchmark.curation import duplicate_prompt

    config = tiny_bench / "benchmark.toml"
    config.write_text(config.read_text().replace("[models.", "[run]\nrepeats = 3\n\n[models.", 1))
    bench = Benchmark.load(tiny_bench)
    assert bench.config.run.repeats == 3 and bench.prompt("text-1").seed == 7
    with pytest.raises(InvalidInput) as refused:
        duplicate_prompt(bench, "text-1", seed=8)  # its repeat 0 is text-1's repeat 1
    assert "makes the same clips as prompt 'text-1'" in str(refused.value)
    copy = duplicate_prompt(bench, "text-1", seed=10)  # 10, 11, 12 meet none of 7, 8, 9
    assert copy.seed == 10 and [p.id for p in Benchmark.load(tiny_bench).prompts][3] == copy.id

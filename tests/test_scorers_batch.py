"""Batch scoring: parallel workers, the score cache and thumbnail regeneration."""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap

import pytest

import workbench.scorers.scoring as scoring
from workbench.benchmark.config import ExternalScorerConfig
from workbench.scorers.batch import ScoreJob, score_videos
from workbench.scorers.cache import CACHE_FILE
from workbench.scorers.registry import BUILTIN_SCORERS, UnknownScorer
from workbench.scorers.sharpness import SharpnessScorer

try:
    from test_scorers_clips import moving_clip
except ImportError:  # tests/ imported as a package
    from tests.test_scorers_clips import moving_clip

ALL = list(BUILTIN_SCORERS)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    return [moving_clip(folder / f"clip{i}.mp4", seconds=0.8, seed=i) for i in range(3)]


@pytest.fixture
def decodes(monkeypatch):
    """Counts decode passes; ``decodes.forbid()`` makes any decode fail the test."""

    class Counter:
        count = 0
        forbidden = False

        def forbid(self):
            self.forbidden = True

    counter = Counter()
    real = scoring.open_video

    def counting(path):
        if counter.forbidden:
            raise AssertionError(f"decoded {path} although every result was cached")
        counter.count += 1
        return real(path)

    monkeypatch.setattr(scoring, "open_video", counting)
    return counter


def jobs_for(clips, tmp_path, **kwargs):
    return [ScoreJob(path=c, thumbnails_dir=tmp_path / f"{c.stem}.thumbs", key=("k", i), **kwargs)
            for i, c in enumerate(clips)]


def cache_lines(cache_dir):
    return [json.loads(line) for line in (cache_dir / CACHE_FILE).read_text().splitlines()]


def values(results):
    return [[(s.name, s.version, s.value, s.error) for s in r.scores] for _, r in results]


def test_second_run_decodes_nothing(clips, tmp_path, decodes):
    cache = tmp_path / ".workbench-cache"
    jobs = jobs_for(clips, tmp_path, requested={"duration": 0.8})
    first = score_videos(jobs, scorers=ALL, cache_dir=cache, workers=1)
    assert decodes.count == 3
    assert len(cache_lines(cache)) == 3 * (len(ALL) + 1)  # every score + one thumbnail count
    decodes.forbid()
    seen = []
    second = score_videos(jobs, scorers=ALL, cache_dir=cache, workers=1,
                          on_result=lambda job, scores: seen.append(job.key))
    assert values(second) == values(first)
    assert [r.thumbnails for _, r in second] == [r.thumbnails for _, r in first]
    assert all(len(r.thumbnails) == 6 and r.sha256 == f.sha256 for (_, r), (_, f) in zip(second, first))
    assert seen == [("k", 0), ("k", 1), ("k", 2)]
    assert [job.key for job, _ in second] == seen
    assert len(cache_lines(cache)) == 3 * (len(ALL) + 1)  # nothing appended


def test_missing_thumbnail_is_regenerated_without_rescoring(clips, tmp_path, decodes):
    cache = tmp_path / "cache"
    jobs = jobs_for(clips[:1], tmp_path)
    (_, first), = score_videos(jobs, scorers=ALL, cache_dir=cache, workers=1)
    before = len(cache_lines(cache))
    first.thumbnails[3].unlink()
    (_, second), = score_videos(jobs, scorers=ALL, cache_dir=cache, workers=1)
    assert decodes.count == 2
    assert second.thumbnails[3].is_file()
    assert values([(None, second)]) == values([(None, first)])
    new = cache_lines(cache)[before:]
    assert [r["scorer"] for r in new] == ["@thumbnails"]


def test_changed_request_rescores_only_what_reads_it(clips, tmp_path, decodes):
    cache = tmp_path / "cache"
    score_videos(jobs_for(clips[:1], tmp_path, requested={"duration": 0.8}), scorers=ALL,
                 cache_dir=cache, workers=1)
    before = len(cache_lines(cache))
    (_, again), = score_videos(jobs_for(clips[:1], tmp_path, requested={"duration": 5}), scorers=ALL,
                               cache_dir=cache, workers=1)
    assert [r["scorer"] for r in cache_lines(cache)[before:]] == ["compliance"]
    assert again.value("compliance") == 0.0
    assert len(again.thumbnails) == 6  # kept from the first run, not rewritten


def test_new_scorer_version_invalidates_only_its_results(clips, tmp_path, decodes, monkeypatch):
    cache = tmp_path / "cache"
    jobs = jobs_for(clips[:1], tmp_path)
    score_videos(jobs, scorers=ALL, cache_dir=cache, workers=1)
    before = len(cache_lines(cache))
    monkeypatch.setattr(SharpnessScorer, "info", dataclasses.replace(SharpnessScorer.info, version="2"))
    (_, again), = score_videos(jobs, scorers=ALL, cache_dir=cache, workers=1)
    assert [(r["scorer"], r["version"]) for r in cache_lines(cache)[before:]] == [("sharpness", "2")]
    assert again.get("sharpness").version == "2" and again.value("sharpness") > 0
    assert decodes.count == 2


def test_non_video_errors_are_cached(tmp_path, decodes):
    bad = tmp_path / "empty.mp4"
    bad.write_bytes(b"")
    jobs = [ScoreJob(path=bad, thumbnails_dir=tmp_path / "empty.thumbs")]
    (_, first), = score_videos(jobs, scorers=ALL, cache_dir=tmp_path / "c", workers=1)
    assert first.error.startswith("not a video")
    decodes.forbid()
    (_, second), = score_videos(jobs, scorers=ALL, cache_dir=tmp_path / "c", workers=1)
    assert second.error == first.error
    assert values([(None, second)]) == values([(None, first)])
    assert second.thumbnails == []


def test_torn_cache_lines_are_ignored(clips, tmp_path, decodes):
    cache = tmp_path / "cache"
    jobs = jobs_for(clips[:1], tmp_path)
    score_videos(jobs, scorers=["brightness"], cache_dir=cache, workers=1)
    with open(cache / CACHE_FILE, "a") as handle:
        handle.write('{"sha256": "abc", "scorer": \n["not", "a", "record"]\n{"sha2')
    decodes.forbid()
    (_, again), = score_videos(jobs, scorers=["brightness"], cache_dir=cache, workers=1)
    assert again.value("brightness") > 0


def test_parallel_workers_match_inline(clips, tmp_path):
    inline = score_videos(jobs_for(clips, tmp_path / "a"), scorers=ALL, cache_dir=None, workers=1)
    seen = []
    parallel = score_videos(jobs_for(clips, tmp_path / "b"), scorers=ALL, cache_dir=tmp_path / "cache",
                            workers=2, on_result=lambda job, scores: seen.append(job.key))
    assert values(parallel) == values(inline)
    assert sorted(seen) == [("k", 0), ("k", 1), ("k", 2)]
    assert all(len(r.thumbnails) == 6 and r.thumbnails[0].is_file() for _, r in parallel)
    assert len(cache_lines(tmp_path / "cache")) == 3 * (len(ALL) + 1)


def test_unknown_scorer_fails_before_any_work(clips, tmp_path, decodes):
    with pytest.raises(UnknownScorer, match="unknown scorer 'sharpnes'"):
        score_videos(jobs_for(clips, tmp_path), scorers=["sharpnes"], cache_dir=tmp_path, workers=2)
    assert decodes.count == 0
    assert not (tmp_path / CACHE_FILE).exists()


def test_external_results_are_cached_per_prompt(clips, tmp_path):
    runs = tmp_path / "runs.log"
    script = tmp_path / "ext.py"
    script.write_text(textwrap.dedent(f'''
        import json, sys
        with open({str(runs)!r}, "a") as log:
            log.write(sys.argv[2] + "\\n")
        print(json.dumps({{"value": len(sys.argv[2])}}) if sys.argv[2] != "fail" else "garbage")
    '''))
    external = {"prompt_chars": ExternalScorerConfig(argv=[sys.executable, str(script), "{video}", "{prompt}"])}
    cache = tmp_path / "cache"

    def run(prompt):
        job = ScoreJob(path=clips[0], prompt_text=prompt)
        (_, result), = score_videos([job], scorers=["brightness", "prompt_chars"], cache_dir=cache,
                                    workers=1, external=external)
        return result

    assert run("a cat").value("prompt_chars") == 5
    assert run("a cat").value("prompt_chars") == 5
    assert run("a tall dog").value("prompt_chars") == 10
    assert run("fail").get("prompt_chars").error
    assert run("fail").get("prompt_chars").error  # errors of external programs are retried
    assert runs.read_text().split("\n")[:-1] == ["a cat", "a tall dog", "fail", "fail"]

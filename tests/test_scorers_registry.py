"""Scorer names and declarations: built-ins, entry-point plugins and external programs."""

from __future__ import annotations

import importlib.metadata
import os
import sys
import textwrap
import time

import pytest

from workbench.benchmark.config import ExternalScorerConfig
from workbench.errors import WorkbenchError
from workbench.scorers.plugins import ENTRY_POINT_GROUP
from workbench.scorers.registry import (
    BUILTIN_SCORERS,
    ScorerConfigError,
    UnknownScorer,
    available_scorers,
    resolve_scorers,
)
from workbench.scorers.scoring import score_video

try:
    from test_scorers_clips import moving_clip
except ImportError:  # tests/ imported as a package
    from tests.test_scorers_clips import moving_clip

EXPECTED_BUILTINS = [
    "decodes", "sharpness", "brightness", "clipped_shadows", "clipped_highlights", "black_frames",
    "colorfulness", "blockiness", "temporal_flicker", "frozen_frames", "motion", "motion_jerk",
    "scene_cuts", "compliance",
]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return moving_clip(tmp_path_factory.mktemp("registry") / "clip.mp4", seconds=0.6)


def test_builtins_declare_themselves():
    found = available_scorers()
    assert list(found)[: len(EXPECTED_BUILTINS)] == EXPECTED_BUILTINS
    for name in EXPECTED_BUILTINS:
        info = found[name]
        assert info.name == name and info.kind == "built-in"
        assert isinstance(info.version, str) and info.version
        assert info.direction in ("higher", "lower", "none")
        assert isinstance(info.unit, str)
        lo, hi = info.range
        assert lo is None or hi is None or lo < hi
        assert info.description and "\n" not in info.description
    assert found["brightness"].direction == "none"
    assert found["motion"].direction == "none"
    assert found["compliance"].inputs == ("requested",)
    assert found["sharpness"].inputs == ()


def test_unknown_scorer_is_a_clear_error(clip):
    with pytest.raises(UnknownScorer) as caught:
        resolve_scorers(["sharpness", "sharpnes", "clip_score"])
    message = str(caught.value)
    assert "unknown scorer 'sharpnes'" in message and "unknown scorer 'clip_score'" in message
    assert "built-in scorers: decodes, sharpness" in message
    assert isinstance(caught.value, WorkbenchError)
    with pytest.raises(UnknownScorer):
        score_video(clip, scorers=["nope"])


def test_external_name_may_not_shadow_a_builtin():
    config = ExternalScorerConfig(argv=["true"])
    with pytest.raises(ScorerConfigError, match="sharpness"):
        available_scorers({"sharpness": config})


# -- entry-point plugins ------------------------------------------------------------------

PLUGIN_MODULE = '''
import numpy as np
from workbench.scorers.base import Scorer, ScorerError, ScorerInfo, ScoreResult


class EdgeShare(Scorer):
    info = ScorerInfo(name="edge_share", version="3", direction="higher", unit="fraction",
                      range=(0.0, 1.0), description="share of strong horizontal luma steps", inputs=())

    def start(self, context):
        self.values = []

    def sample(self, frame):
        steps = np.abs(np.diff(frame.full_luma.astype(np.int16), axis=1))
        self.values.append(float((steps > 3).mean()))

    def finish(self, summary):
        if not self.values:
            raise ScorerError("no frame sampled")
        return ScoreResult(float(np.mean(self.values)), f"{len(self.values)} frames")


class PromptLength(Scorer):
    needs_frames = False
    info = ScorerInfo(name="prompt_length", version="1", direction="none", unit="chars",
                      range=(0.0, None), description="length of the prompt")

    def score_file(self, context):
        return len(context.prompt_text)


def make_prompt_length():
    return PromptLength()


class Crashes(Scorer):
    info = ScorerInfo(name="crashes", version="1", direction="higher", unit="", range=(None, None),
                      description="always fails")

    def update(self, frame):
        raise RuntimeError("bug in the plugin")


def unavailable():
    raise OSError("model weights not found")
unavailable.info = ScorerInfo(name="unavailable", version="1", direction="higher", unit="",
                              range=(None, None), description="needs a missing model")


class Misnamed(Scorer):
    info = ScorerInfo(name="other_name", version="1", direction="higher", unit="", range=(None, None),
                      description="declares another name")
'''


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    module = f"wb_plugin_{os.getpid()}_{time.monotonic_ns()}"
    (tmp_path / f"{module}.py").write_text(PLUGIN_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [
        importlib.metadata.EntryPoint(name, value, ENTRY_POINT_GROUP)
        for name, value in [
            ("edge_share", f"{module}:EdgeShare"),
            ("prompt_length", f"{module}:make_prompt_length"),
            ("crashes", f"{module}:Crashes"),
            ("unavailable", f"{module}:unavailable"),
            ("misnamed", f"{module}:Misnamed"),
            ("broken", "wb_no_such_module:Scorer"),
        ]
    ]
    points.append(importlib.metadata.EntryPoint("other", "x:y", "some.other.group"))
    real = importlib.metadata.entry_points

    def fake(**params):
        if params.get("group") == ENTRY_POINT_GROUP:
            return importlib.metadata.EntryPoints([p for p in points if p.group == ENTRY_POINT_GROUP])
        return real(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    return module


def test_plugins_are_listed(plugins):
    found = available_scorers()
    assert found["edge_share"].kind == "plugin" and found["edge_share"].version == "3"
    assert found["prompt_length"].unit == "chars"
    assert "broken" not in found and "misnamed" not in found and "other" not in found
    assert list(found)[: len(BUILTIN_SCORERS)] == EXPECTED_BUILTINS


def test_broken_plugins_give_reasons(plugins):
    with pytest.raises(UnknownScorer, match="'broken' is unavailable: .*failed to load: ModuleNotFoundError"):
        resolve_scorers(["broken"])
    with pytest.raises(UnknownScorer, match="declares the name 'other_name'"):
        resolve_scorers(["misnamed"])


def test_plugins_score_in_the_same_pass(plugins, clip):
    result = score_video(clip, scorers=["sharpness", "edge_share", "prompt_length", "crashes", "unavailable"],
                         prompt_text="a red fox")
    by_name = {s.name: s for s in result.scores}
    assert by_name["sharpness"].value > 0
    assert 0 < by_name["edge_share"].value < 1 and by_name["edge_share"].version == "3"
    assert by_name["prompt_length"].value == 9.0
    assert by_name["crashes"].value is None
    assert "internal error in crashes.update: RuntimeError: bug in the plugin" in by_name["crashes"].error
    assert "cannot create scorer: OSError: model weights not found" in by_name["unavailable"].error


# -- external programs ---------------------------------------------------------------------

SCRIPTS = {
    "good": '''
        import json, os, sys
        video, prompt = sys.argv[1], sys.argv[2]
        print("loading model...")  # chatter before the result is fine
        print(json.dumps({"value": os.path.getsize(video) / 1000, "detail": "prompt=" + prompt}))
    ''',
    "garbage": '''
        print("the score is high")
    ''',
    "reports": '''
        import json
        print(json.dumps({"error": "model weights missing"}))
    ''',
    "words": '''
        import json
        print(json.dumps({"value": "high"}))
    ''',
    "fails": '''
        import sys
        print("Traceback: something broke", file=sys.stderr)
        sys.exit(3)
    ''',
    "sleeps": '''
        import os, sys, time
        open(sys.argv[3], "w").write(str(os.getpid()))
        time.sleep(30)
        print('{"value": 1}')
    ''',
}


def external(tmp_path, name, timeout=20.0, extra=()):
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(SCRIPTS[name]))
    return ExternalScorerConfig(argv=[sys.executable, str(script), "{video}", "{prompt}", *extra],
                                timeout=timeout, direction="higher", description=f"test {name}")


def run_external(clip, configs, prompt="a red fox; $(rm -rf /)"):
    result = score_video(clip, scorers=list(configs), prompt_text=prompt, external=configs)
    return {s.name: s for s in result.scores}


def test_external_program_value_and_placeholders(tmp_path, clip):
    config = external(tmp_path, "good")
    got = run_external(clip, {"ext_good": config})["ext_good"]
    assert got.error is None
    assert got.value == pytest.approx(clip.stat().st_size / 1000)
    assert got.detail == "prompt=a red fox; $(rm -rf /)"  # passed verbatim, no shell
    info = available_scorers({"ext_good": config})["ext_good"]
    assert info.kind == "external" and info.version == "1" and info.description == "test good"


def test_external_program_bad_output(tmp_path, clip):
    configs = {n: external(tmp_path, n) for n in ("garbage", "reports", "words", "fails")}
    got = run_external(clip, configs)
    assert all(s.value is None for s in got.values())
    assert "printed no JSON object" in got["garbage"].error and "the score is high" in got["garbage"].error
    assert got["reports"].error.endswith("reported: model weights missing")
    assert 'no numeric "value"' in got["words"].error
    assert "exited with status 3: Traceback: something broke" in got["fails"].error


def test_external_program_timeout_kills_it(tmp_path, clip):
    pid_file = tmp_path / "pid"
    config = external(tmp_path, "sleeps", timeout=0.5, extra=(str(pid_file),))
    started = time.monotonic()
    got = run_external(clip, {"slow": config})["slow"]
    assert time.monotonic() - started < 10
    assert got.value is None and "timed out after 0.5s" in got.error
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_external_program_missing(tmp_path, clip):
    config = ExternalScorerConfig(argv=[str(tmp_path / "no-such-program"), "{video}"])
    got = run_external(clip, {"missing": config})["missing"]
    assert got.value is None and got.error.startswith("program not found:")


def test_external_scorers_are_skipped_for_non_videos(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    got = run_external(bad, {"ext_good": external(tmp_path, "good")})["ext_good"]
    assert got.value is None and got.error.startswith("not a video:")

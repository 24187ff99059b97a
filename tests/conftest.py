"""Shared fixtures: small benchmark folders written by the tests themselves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_benchmarks" / "hard-cases"
#: real-world clips (odd ones included) beside the checkout, or where the other media tests read them
MEDIA = next((p for p in (REPO.parent / "shared" / "media", Path("/work/shared/media")) if p.is_dir()),
             Path("/work/shared/media"))

MINIMAL_TOML = '''# A small benchmark for tests.
name = "tiny"
description = "two models, three prompts"

# enabled scorers
scorers = ["sharpness", "temporal_flicker"]

[models.old]
provider = "synthetic"
# a comment inside a model table
flicker = 0.05

[models.new]
provider = "synthetic"
flicker = 0.01

[thresholds.temporal_flicker]
min = 0.9  # keep this comment

[gate]
incumbent = "old"
candidate = "new"
primary = ["temporal_flicker"]
margin = 0.01
min_prompts = 2
'''

MINIMAL_PROMPTS = (
    '{"id": "hands-1", "text": "A hand waves", "tags": ["hands"], "notes": ""}\n'
    '{"id": "smoke-1", "text": "Smoke rises from a chimney", "tags": ["smoke"], "notes": ""}\n'
    '{"id": "text-1", "text": "A sign that reads OPEN", "tags": ["text", "hands"], "notes": "", "seed": 7}\n'
)


@pytest.fixture
def tiny_bench(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    root.mkdir()
    (root / "benchmark.toml").write_text(MINIMAL_TOML)
    (root / "prompts.jsonl").write_text(MINIMAL_PROMPTS)
    return root


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of the sample benchmark (without any runs a developer made)."""
    target = tmp_path / "hard-cases"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("runs", "decisions", ".workbench-cache",
                                                                  "ratings.jsonl"))
    return target


SCORED_TOML = MINIMAL_TOML.replace(
    'scorers = ["sharpness", "temporal_flicker"]',
    'scorers = ["decodes", "sharpness", "temporal_flicker", "frozen_frames"]')


def build_scored_benchmark(root: Path, toml: str = SCORED_TOML, prompts: str = MINIMAL_PROMPTS) -> Path:
    """Write a benchmark at ``root``, run it with the synthetic provider and score it."""
    from workbench.benchmark.folder import Benchmark
    from workbench.engine.runner import run_benchmark_sync
    from workbench.run_scoring import score_runs

    root.mkdir(parents=True)
    (root / "benchmark.toml").write_text(toml)
    (root / "prompts.jsonl").write_text(prompts)
    bench = Benchmark.load(root)
    run_benchmark_sync(bench)
    score_runs(bench, workers=1)
    return root


@pytest.fixture(scope="session")
def _scored_template(tmp_path_factory) -> Path:
    return build_scored_benchmark(tmp_path_factory.mktemp("scored") / "tiny")


@pytest.fixture
def scored_bench(_scored_template: Path, tmp_path: Path) -> Path:
    """A private copy of a run and scored benchmark: models old and new, prompts hands-1, smoke-1,
    text-1, scorers decodes, sharpness, temporal_flicker, frozen_frames."""
    target = tmp_path / "scored"
    shutil.copytree(_scored_template, target)
    return target

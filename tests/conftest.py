"""Shared fixtures: small benchmark folders written by the tests themselves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_benchmarks" / "hard-cases"
MEDIA = REPO.parent / "shared" / "media"

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

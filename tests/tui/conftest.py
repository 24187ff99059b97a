"""Fixtures for TUI tests: a small benchmark that has been run and scored once per session."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import MINIMAL_PROMPTS, MINIMAL_TOML  # noqa: E402

SIZE = (120, 40)


@pytest.fixture(scope="session")
def _scored_template(tmp_path_factory) -> Path:
    from workbench.benchmark.folder import Benchmark
    from workbench.engine.runner import run_benchmark_sync
    from workbench.run_scoring import score_runs

    root = tmp_path_factory.mktemp("scored") / "tiny"
    root.mkdir()
    (root / "benchmark.toml").write_text(MINIMAL_TOML.replace(
        'scorers = ["sharpness", "temporal_flicker"]',
        'scorers = ["decodes", "sharpness", "temporal_flicker", "frozen_frames"]'))
    (root / "prompts.jsonl").write_text(MINIMAL_PROMPTS)
    bench = Benchmark.load(root)
    run_benchmark_sync(bench)
    score_runs(bench, workers=1)
    return root


@pytest.fixture
def scored_bench(_scored_template: Path, tmp_path: Path) -> Path:
    """A private copy of a run and scored three-prompt, two-model benchmark (models old, new)."""
    target = tmp_path / "tiny"
    shutil.copytree(_scored_template, target)
    return target


@pytest.fixture
def fresh_bench(tmp_path: Path) -> Path:
    """A valid benchmark with prompts but no runs yet."""
    root = tmp_path / "fresh"
    root.mkdir()
    (root / "benchmark.toml").write_text(MINIMAL_TOML)
    (root / "prompts.jsonl").write_text(MINIMAL_PROMPTS)
    return root

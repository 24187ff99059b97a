"""Fixtures for TUI tests (``scored_bench`` and ``tiny_bench`` come from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def fresh_bench(tiny_bench: Path) -> Path:
    """A valid benchmark with prompts but no runs yet."""
    return tiny_bench

"""Writing small benchmark folders for engine tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tomlkit

from workbench.benchmark.folder import Benchmark
from workbench.providers import registry

FAKES = {
    "fake-local": "tests.engine_support.fake_local:FakeLocalProvider",
    "fake-remote": "tests.engine_support.fake_remote:FakeRemoteProvider",
}


def register_fakes() -> None:
    """Make the fake providers known by name (as if they were built in)."""
    registry._PROVIDERS.update(FAKES)


def unregister_fakes() -> None:
    for name in FAKES:
        registry._PROVIDERS.pop(name, None)


def write_bench(
    root: Path,
    models: dict[str, dict[str, Any]],
    prompts: list[dict[str, Any]] | int = 3,
    run: dict[str, Any] | None = None,
    name: str = "engine-test",
) -> Path:
    """A benchmark folder with these models and prompts (an int: that many simple prompts)."""
    root.mkdir(parents=True, exist_ok=True)
    doc = tomlkit.document()
    doc["name"] = name
    doc["scorers"] = []
    if run:
        doc["run"] = run
    doc["models"] = {model_id: dict(table) for model_id, table in models.items()}
    (root / "benchmark.toml").write_text(tomlkit.dumps(doc))
    if isinstance(prompts, int):
        prompts = [{"id": f"p{i:02d}", "text": f"prompt number {i}"} for i in range(prompts)]
    (root / "prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in prompts))
    return root


def load(root: Path) -> Benchmark:
    return Benchmark.load(root)

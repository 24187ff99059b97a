"""The examples in docs/FORMATS.md and README.md are real: each TOML block loads and validates."""

from __future__ import annotations

import json
import re

import pytest
import tomllib
from pydantic import ValidationError

from workbench.benchmark.checks import reference_problems
from workbench.benchmark.config import BenchmarkConfig
from workbench.benchmark.prompts import Prompt
from workbench.judgments.ratings import load_judgments
from workbench.providers.registry import provider_class

from conftest import REPO

DOCS = [REPO / "docs" / "FORMATS.md", REPO / "README.md"]


def blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for match in re.finditer(rf"```{language}\n(.*?)```", path.read_text(), re.S):
            found.append((path.name, match.group(1)))
    return found


TOML_BLOCKS = blocks("toml")


def test_there_are_examples_to_check():
    assert len(TOML_BLOCKS) >= 6


@pytest.mark.parametrize("index", range(len(TOML_BLOCKS)))
def test_toml_examples_validate(index):
    name, text = TOML_BLOCKS[index]
    data = tomllib.loads(text)
    if "name" not in data:  # a fragment: model tables only
        data = {"name": "example", **data}
    config = BenchmarkConfig.model_validate(data)
    problems = reference_problems(config, name, text)
    assert problems == [], problems
    for model in config.models.values():
        provider_class(model.provider).Params.model_validate(model.params)


def test_prompt_examples_validate():
    lines = [line for _, block in blocks("json") for line in block.splitlines() if '"text"' in line]
    assert len(lines) >= 2
    for line in lines:
        Prompt.model_validate(json.loads(line))


def test_rating_examples_load(tmp_path):
    lines = [line for _, block in blocks("json") for line in block.splitlines() if '"kind"' in line]
    assert len(lines) == 2
    path = tmp_path / "ratings.jsonl"
    path.write_text("\n".join(lines) + "\n")
    judgments = load_judgments(path)
    assert len(judgments.ratings) == 1 and len(judgments.preferences) == 1
    assert not judgments.warnings


def test_invalid_example_would_be_caught():
    with pytest.raises(ValidationError):
        BenchmarkConfig.model_validate({"name": "x", "colour": "red"})

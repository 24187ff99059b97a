"""The models behind ``benchmark.toml``: models, scorers, thresholds, gate rules.

Validation here is structural (types, unknown keys, min <= max). Cross-references
(a gate naming a model that does not exist, a provider's own parameters, scorer
names) are checked in :mod:`workbench.benchmark.checks`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SLUG_HELP = "use 1-64 characters: lower-case letters, digits, '-' and '_', starting with a letter or digit"


def check_slug(value: str, what: str = "id") -> str:
    if not isinstance(value, str) or not SLUG_RE.match(value):
        raise ValueError(f"{what} {value!r} is not a valid slug ({SLUG_HELP})")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(BaseModel):
    """One ``[models.<id>]`` table.

    The keys listed here are common to every provider; any other key is a
    parameter of the provider and is checked by that provider's own model.
    An API key never lives here: hosted providers take ``api_key_env``, the name
    of the environment variable that holds it.
    """

    model_config = ConfigDict(extra="allow")

    provider: str
    description: str = ""
    price_per_second: float | None = Field(default=None, ge=0)
    price_per_clip: float | None = Field(default=None, ge=0)
    max_concurrency: int | None = Field(default=None, ge=1)
    requests_per_minute: float | None = Field(default=None, gt=0)

    @property
    def params(self) -> dict[str, Any]:
        """The provider-specific parameters (everything but the common keys)."""
        return dict(self.model_extra or {})

    def estimated_cost(self, duration_s: float) -> float:
        cost = 0.0
        if self.price_per_clip:
            cost += self.price_per_clip
        if self.price_per_second:
            cost += self.price_per_second * duration_s
        return cost


class Bounds(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Bounds":
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def passes(self, value: float) -> bool:
        if self.min is not None and value < self.min:
            return False
        if self.max is not None and value > self.max:
            return False
        return True


class Threshold(Bounds):
    """``[thresholds.<scorer>]``: min and/or max, optionally overridden per tag."""

    tags: dict[str, Bounds] = Field(default_factory=dict)

    def for_tags(self, tags: list[str] | tuple[str, ...]) -> Bounds:
        """The bounds in force for a prompt with these tags.

        A tag override replaces the scorer's bounds. When several of the prompt's tags have
        overrides, the strictest applies (the highest min, the lowest max), so the order of
        a prompt's tags never changes its verdict.
        """
        matching = [self.tags[tag] for tag in tags if tag in self.tags]
        if not matching:
            return Bounds(min=self.min, max=self.max)
        mins = [b.min for b in matching if b.min is not None]
        maxes = [b.max for b in matching if b.max is not None]
        # model_construct: combined overrides may leave no passing value (min > max), which fails
        return Bounds.model_construct(min=max(mins) if mins else None, max=min(maxes) if maxes else None)


GateRule = Literal["superiority", "non-inferiority"]


class GateScorerRule(_Strict):
    margin: float | None = Field(default=None, ge=0)
    rule: GateRule | None = None
    tag_allowance: float | None = Field(default=None, ge=0)


class GateConfig(_Strict):
    """``[gate]``: when may the candidate replace the incumbent."""

    incumbent: str
    candidate: str
    primary: list[str] = Field(min_length=1)
    margin: float = Field(default=0.0, ge=0)
    rule: GateRule = "superiority"
    min_prompts: int = Field(default=10, ge=1)
    tag_allowance: float | None = Field(default=None, ge=0)
    pass_rate_must_not_fall: bool = True
    confidence: float = Field(default=0.95, gt=0, lt=1)
    resamples: int = Field(default=10_000, ge=100)
    seed: int = 0
    scorers: dict[str, GateScorerRule] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _distinct(self) -> "GateConfig":
        if self.incumbent == self.candidate:
            raise ValueError("incumbent and candidate are the same model")
        return self

    def margin_for(self, scorer: str) -> float:
        rule = self.scorers.get(scorer)
        return rule.margin if rule and rule.margin is not None else self.margin

    def rule_for(self, scorer: str) -> GateRule:
        rule = self.scorers.get(scorer)
        return rule.rule if rule and rule.rule is not None else self.rule

    def tag_allowance_for(self, scorer: str) -> float:
        rule = self.scorers.get(scorer)
        if rule and rule.tag_allowance is not None:
            return rule.tag_allowance
        if self.tag_allowance is not None:
            return self.tag_allowance
        return self.margin_for(scorer)


class ExternalScorerConfig(_Strict):
    """``[scoring.external.<name>]``: a program that scores one video and prints JSON."""

    argv: list[str] = Field(min_length=1)
    version: str = "1"
    direction: Literal["higher", "lower", "none"] = "higher"
    unit: str = ""
    description: str = ""
    timeout: float = Field(default=600.0, gt=0)


class ScoringConfig(_Strict):
    thumbnails: int = Field(default=6, ge=0, le=64)
    workers: int | None = Field(default=None, ge=1)
    external: dict[str, ExternalScorerConfig] = Field(default_factory=dict)


class RunConfig(_Strict):
    """``[run]``: defaults for ``workbench run``."""

    repeats: int = Field(default=1, ge=1, le=100)
    concurrency: int = Field(default=4, ge=1, le=1024)
    budget: float | None = Field(default=None, ge=0)


class BenchmarkConfig(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    scorers: list[str] = Field(default_factory=list)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    gate: GateConfig | None = None
    run: RunConfig = Field(default_factory=RunConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)

    @field_validator("models")
    @classmethod
    def _model_ids(cls, models: dict[str, ModelConfig]) -> dict[str, ModelConfig]:
        for model_id in models:
            check_slug(model_id, "model id")
        return models

    @field_validator("scorers")
    @classmethod
    def _unique_scorers(cls, scorers: list[str]) -> list[str]:
        seen: set[str] = set()
        for name in scorers:
            if name in seen:
                raise ValueError(f"scorer {name!r} is listed twice")
            seen.add(name)
        return scorers

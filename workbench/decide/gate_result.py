"""The gate's output: per-scorer and per-tag statistics, the checks, and the verdict."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from workbench.decide.thresholds import PassRates

Verdict = Literal["ship", "hold", "inconclusive"]
Outcome = Literal["pass", "fail", "inconclusive", "skipped"]
Rule = Literal["data", "margin", "tag", "pass_rate"]

DIFFERENCE_NOTE = (
    "differences are in the better direction: candidate - incumbent for scorers where "
    "higher is better, incumbent - candidate where lower is better; positive means the "
    "candidate is better"
)


def _num(value: float | None) -> float | None:
    """A JSON-safe float (NaN and infinities become None)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class PairedStats:
    """Candidate vs incumbent on one scorer, over prompts where both have a value."""

    scorer: str
    direction: Literal["higher", "lower"]
    tag: str | None
    n: int
    incumbent_mean: float | None
    candidate_mean: float | None
    mean_diff: float | None
    """Mean per-prompt difference in the better direction (positive = candidate better)."""
    ci_low: float | None
    ci_high: float | None
    confidence: float
    wins: int
    ties: int
    losses: int
    sign_p: float
    """Two-sided exact sign test p-value (ties dropped)."""

    @property
    def difference(self) -> str:
        return "candidate - incumbent" if self.direction == "higher" else "incumbent - candidate"

    def to_json(self) -> dict[str, Any]:
        return {
            "scorer": self.scorer,
            "tag": self.tag,
            "direction": self.direction,
            "difference": self.difference,
            "n": self.n,
            "incumbent_mean": _num(self.incumbent_mean),
            "candidate_mean": _num(self.candidate_mean),
            "mean_diff": _num(self.mean_diff),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
            "confidence": self.confidence,
            "wins": self.wins,
            "ties": self.ties,
            "losses": self.losses,
            "sign_test_p": _num(self.sign_p),
        }


@dataclass(frozen=True)
class GateCheck:
    """One rule applied to one scorer (and tag): what came out and why, in words."""

    rule: Rule
    outcome: Outcome
    message: str
    scorer: str | None = None
    tag: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "scorer": self.scorer,
            "tag": self.tag,
            "outcome": self.outcome,
            "message": self.message,
        }


@dataclass(frozen=True)
class GateResult:
    """The release gate's verdict with the evidence behind it."""

    verdict: Verdict
    reasons: tuple[str, ...]
    """Plain sentences: the failures (hold), the gaps (inconclusive) or why it passed (ship)."""
    candidate: str
    incumbent: str
    n_prompts: int
    """Prompts with values from both models on every primary scorer."""
    n_benchmark_prompts: int
    scorers: tuple[PairedStats, ...]
    tags: tuple[PairedStats, ...]
    pass_rates: PassRates | None
    checks: tuple[GateCheck, ...]
    config: Mapping[str, Any]

    @property
    def headline(self) -> str:
        """``"<verdict>: <first reason>"``."""
        return f"{self.verdict}: {self.reasons[0]}" if self.reasons else self.verdict

    def scorer_stats(self, scorer: str) -> PairedStats | None:
        return next((s for s in self.scorers if s.scorer == scorer), None)

    def tag_stats(self, tag: str, scorer: str) -> PairedStats | None:
        return next((s for s in self.tags if s.tag == tag and s.scorer == scorer), None)

    def to_json(self) -> dict[str, Any]:
        """A plain, JSON-safe dict with a stable key order."""
        by_tag: dict[str, dict[str, Any]] = {}
        for stats in sorted(self.tags, key=lambda s: s.tag or ""):
            by_tag.setdefault(stats.tag or "", {})[stats.scorer] = stats.to_json()
        rates = None
        if self.pass_rates is not None:
            rates = self.pass_rates.to_json()
            for model in rates["models"].values():
                model["rate"] = _num(model["rate"])
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "candidate": self.candidate,
            "incumbent": self.incumbent,
            "n_prompts": self.n_prompts,
            "n_benchmark_prompts": self.n_benchmark_prompts,
            "difference": DIFFERENCE_NOTE,
            "scorers": [s.to_json() for s in self.scorers],
            "tags": by_tag,
            "pass_rates": rates,
            "checks": [c.to_json() for c in self.checks],
            "config": dict(self.config),
        }

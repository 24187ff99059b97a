"""The paired release gate: may the candidate replace the incumbent?

Per prompt, repeats are averaged first; a prompt counts for a scorer only when both
models have a value for it. Differences are taken in the better direction
(candidate - incumbent where higher is better, incumbent - candidate where lower is
better), so a positive difference always means the candidate is better.

Rules, for each primary scorer:

* superiority: mean difference >= margin and the CI lower bound > 0;
* non-inferiority: the CI lower bound > -margin;
* no tag regresses past its allowance: a tag regresses when its mean difference is
  below -allowance and its CI upper bound is below 0 (tags with a single paired
  prompt are reported but not checked: one prompt has no spread to judge). A tag's
  interval comes from the same resampled prompts as the overall one (see
  :mod:`workbench.decide.paired_stats`);
* the candidate's overall threshold pass rate is not lower than the incumbent's
  (when ``pass_rate_must_not_fall`` and thresholds exist).

A missing model, a primary scorer without values, or fewer paired prompts than
``min_prompts`` makes the verdict inconclusive, never ship. Otherwise any failed rule
holds, and ship needs every rule to pass. Several primary scorers are each tested
at the full confidence level (no multiplicity correction): requiring all of them to
pass only makes shipping harder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from workbench.benchmark.config import GateConfig, Threshold
from workbench.decide import verdict_text as text
from workbench.decide.gate_result import GateCheck, GateResult, PairedStats, Verdict
from workbench.decide.paired_stats import BootstrapPlan, count_outcomes, sign_test_p
from workbench.decide.score_matrix import ScoreCube, build_cube, check_scores_frame, table_keys
from workbench.decide.thresholds import (
    PassRates,
    PromptTags,
    ThresholdEvaluator,
    as_threshold,
)
from workbench.errors import WorkbenchError

MIN_TAG_PROMPTS = 2
"""Tags with fewer paired prompts get statistics but no regression check."""


class GateConfigError(WorkbenchError):
    """The gate cannot be evaluated as configured (e.g. a primary scorer with no direction)."""


def _signs(
    primary: Sequence[str], directions: Mapping[str, str], present: set[str]
) -> dict[str, float]:
    """+1 / -1 per primary scorer with data; raises for scorers that cannot decide a gate."""
    signs: dict[str, float] = {}
    for scorer in primary:
        direction = directions.get(scorer)
        if direction == "none":
            raise GateConfigError(
                f"[gate] primary scorer '{scorer}' has direction 'none' (neither higher nor "
                "lower is better), so it cannot decide the gate; remove it from [gate].primary"
            )
        if direction is None:
            if scorer in present:
                raise GateConfigError(
                    f"[gate] primary scorer '{scorer}': its direction is unknown, so the gate "
                    "cannot tell better from worse; declare it 'higher' or 'lower'"
                )
            continue
        if direction not in ("higher", "lower"):
            raise GateConfigError(
                f"[gate] primary scorer '{scorer}': direction {direction!r} is not one of "
                "'higher', 'lower', 'none'"
            )
        signs[scorer] = 1.0 if direction == "higher" else -1.0
    return signs


class _StatsBuilder:
    """Collects paired samples, runs one batched bootstrap, then builds PairedStats.

    All vectors live on the same ``universe`` of prompts (those with a pair on at
    least one primary scorer), so one resample index matrix serves every scorer
    and tag.
    """

    def __init__(self, gate: GateConfig, universe: np.ndarray):
        self._universe = universe
        self._plan = BootstrapPlan(int(universe.sum()), gate.resamples, gate.seed,
                                   gate.confidence)
        self._pending: list[tuple[int, dict[str, Any]]] = []
        self.confidence = gate.confidence

    def add(self, scorer: str, direction: str, tag: str | None, inc: np.ndarray,
            cand: np.ndarray, sign: float, paired: np.ndarray) -> None:
        """``inc``/``cand`` are per-prompt values over all prompts; ``paired`` selects."""
        inc_p, cand_p = inc[paired], cand[paired]
        diffs = sign * (cand_p - inc_p)
        wins, ties, losses = count_outcomes(cand_p, inc_p, sign)
        n = len(diffs)
        fields = dict(
            scorer=scorer, direction=direction, tag=tag, n=n,
            incumbent_mean=float(inc_p.mean()) if n else None,
            candidate_mean=float(cand_p.mean()) if n else None,
            mean_diff=float(diffs.mean()) if n else None,
            confidence=self.confidence, wins=wins, ties=ties, losses=losses,
            sign_p=sign_test_p(wins, losses),
        )
        spread = np.full(len(inc), np.nan)
        spread[paired] = diffs
        self._pending.append((self._plan.add(spread[self._universe]), fields))

    def build(self) -> list[PairedStats]:
        intervals = self._plan.run()
        out = []
        for ticket, fields in self._pending:
            ci = intervals[ticket]
            out.append(PairedStats(ci_low=ci.low if ci else None,
                                   ci_high=ci.high if ci else None, **fields))
        return out


def _config_echo(gate: GateConfig, candidate: str, incumbent: str,
                 thresholds: Mapping[str, Threshold]) -> dict[str, Any]:
    echo = gate.model_dump(mode="json")
    echo["candidate"] = candidate
    echo["incumbent"] = incumbent
    return {
        "gate": echo,
        "thresholds": {
            name: t.model_dump(mode="json", exclude_none=True)
            for name, t in sorted(thresholds.items())
        },
    }


def evaluate_gate(
    scores: pl.DataFrame,
    tags: Mapping[str, Sequence[str]],
    gate: GateConfig,
    thresholds: Mapping[str, Threshold],
    directions: Mapping[str, str],
    candidate: str | None = None,
    incumbent: str | None = None,
) -> GateResult:
    """Run the release gate on a long-format scores table.

    ``candidate`` / ``incumbent`` override the models named in ``gate``.
    Raises :class:`GateConfigError` for a gate that cannot be evaluated as set up;
    missing data gives an ``inconclusive`` result instead.
    """
    check_scores_frame(scores)
    candidate = candidate or gate.candidate
    incumbent = incumbent or gate.incumbent
    if candidate == incumbent:
        raise GateConfigError(
            f"[gate]: the candidate and the incumbent are the same model ('{candidate}')"
        )
    primary = list(dict.fromkeys(gate.primary))
    thresholds = {name: as_threshold(name, t) for name, t in thresholds.items()}
    keys = table_keys(scores, tags)
    signs = _signs(primary, directions, set(keys.scorers))
    prompt_ids = keys.prompt_ids
    prompt_tags = PromptTags(prompt_ids, tags)
    models_in_table = keys.models
    # one layout for the gate's scorers and the thresholded ones (for pass rates)
    cube = build_cube(scores, [incumbent, candidate], prompt_ids,
                      list(dict.fromkeys([*primary, *thresholds])))

    checks: list[GateCheck] = []
    roles = (("incumbent", incumbent), ("candidate", candidate))
    absent_models = [(role, m) for role, m in roles if m not in models_in_table]
    for role, model in absent_models:
        listed = ", ".join(f"'{m}'" for m in models_in_table) or "none"
        checks.append(GateCheck("data", "inconclusive",
                                f"there are no scores for the {role} '{model}' "
                                f"(models with scores: {listed})"))

    paired_by_scorer = {}
    for s_index, scorer in enumerate(primary):
        inc_values, cand_values = cube.values[s_index]
        paired_by_scorer[scorer] = ~np.isnan(inc_values) & ~np.isnan(cand_values)
    universe = np.zeros(len(prompt_ids), dtype=bool)
    for scorer in signs:
        universe |= paired_by_scorer[scorer]
    builder = _StatsBuilder(gate, universe)
    decidable: list[str] = []
    all_paired = np.ones(len(prompt_ids), dtype=bool)
    for s_index, scorer in enumerate(primary):
        inc_values, cand_values = cube.values[s_index]
        paired = paired_by_scorer[scorer]
        all_paired &= paired
        if scorer not in signs:
            checks.append(GateCheck("data", "inconclusive",
                                    f"there are no {scorer} scores for either model",
                                    scorer=scorer))
            continue
        lacking = [(role, m) for (role, m), vals in zip(roles, (inc_values, cand_values))
                   if (role, m) not in absent_models and np.isnan(vals).all()]
        for role, model in lacking:
            checks.append(GateCheck("data", "inconclusive",
                                    f"there are no {scorer} scores for the {role} '{model}'",
                                    scorer=scorer))
        n = int(paired.sum())
        if n == 0:
            if not lacking and not absent_models:
                checks.append(GateCheck(
                    "data", "inconclusive",
                    f"no prompt has {scorer} scores from both models, so nothing can be compared",
                    scorer=scorer))
            continue
        direction = "higher" if signs[scorer] > 0 else "lower"
        sign = signs[scorer]
        builder.add(scorer, direction, None, inc_values, cand_values, sign, paired)
        for t_index, tag in enumerate(prompt_tags.tag_names):
            in_tag = paired & (prompt_tags.member[t_index] > 0)
            if in_tag.any():
                builder.add(scorer, direction, tag, inc_values, cand_values, sign, in_tag)
        if lacking or absent_models:
            continue
        missing = _missing_results(prompt_ids, tags, inc_values, cand_values, roles, scorer)
        if missing is not None:
            checks.append(missing)
            continue
        if n < gate.min_prompts:
            checks.append(GateCheck(
                "data", "inconclusive",
                f"only {n} prompt{'s' if n != 1 else ''} {'have' if n != 1 else 'has'} "
                f"{scorer} scores from both models; the gate needs at least {gate.min_prompts}",
                scorer=scorer))
            continue
        decidable.append(scorer)

    all_stats = builder.build()
    scorer_stats = tuple(s for s in all_stats if s.tag is None)
    tag_stats = tuple(s for s in all_stats if s.tag is not None)

    for scorer in decidable:
        overall = next(s for s in scorer_stats if s.scorer == scorer)
        checks.append(_margin_check(overall, gate))
        checks.extend(_tag_checks(scorer, [s for s in tag_stats if s.scorer == scorer], gate))

    pass_rates = None
    if not absent_models:
        pass_rates, rate_check = _pass_rate_check(cube, tags, gate, thresholds,
                                                  incumbent, candidate)
        if rate_check is not None:
            checks.append(rate_check)

    verdict = _verdict(checks)
    return GateResult(
        verdict=verdict,
        reasons=_reasons(verdict, checks),
        candidate=candidate,
        incumbent=incumbent,
        n_prompts=int(all_paired.sum()) if signs.keys() == set(primary) else 0,
        n_benchmark_prompts=len(prompt_ids),
        scorers=scorer_stats,
        tags=tag_stats,
        pass_rates=pass_rates,
        checks=tuple(checks),
        config=_config_echo(gate, candidate, incumbent, thresholds),
    )


def _missing_results(
    prompt_ids: Sequence[str], tags: Mapping[str, Sequence[str]], inc_values: np.ndarray,
    cand_values: np.ndarray, roles: Sequence[tuple[str, str]], scorer: str,
) -> GateCheck | None:
    """Inconclusive when a benchmark prompt lacks this scorer's result from either model.

    A failed generation or an unscored clip must not quietly shrink the comparison: the
    prompts it drops are often the hard ones. (Prompts no longer in the benchmark are
    ignored.)
    """
    in_benchmark = np.array([p in tags for p in prompt_ids], dtype=bool)
    gaps = []
    for (role, model), values in zip(roles, (inc_values, cand_values)):
        lacking = np.isnan(values) & in_benchmark
        if lacking.any():
            names = [p for p, gap in zip(prompt_ids, lacking) if gap]
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            gaps.append(f"the {role} '{model}' for {len(names)} prompt{'s' if len(names) != 1 else ''}"
                        f" ({shown})")
    if not gaps:
        return None
    return GateCheck("data", "inconclusive",
                     f"missing {scorer} results from {'; and from '.join(gaps)}: generate and score "
                     "them, or remove those prompts, before deciding", scorer=scorer)


def _margin_check(stats: PairedStats, gate: GateConfig) -> GateCheck:
    margin = gate.margin_for(stats.scorer)
    low, diff = stats.ci_low, stats.mean_diff
    if low is None or diff is None:  # no resample drew any of its prompts
        return GateCheck("margin", "inconclusive",
                         f"no confidence interval could be computed for {stats.scorer}",
                         scorer=stats.scorer)
    if gate.rule_for(stats.scorer) == "superiority":
        passed = diff >= margin and low > 0
        message = text.superiority(stats, margin, passed)
    else:
        passed = low > -margin
        message = text.non_inferiority(stats, margin, passed)
    return GateCheck("margin", "pass" if passed else "fail", message, scorer=stats.scorer)


def _tag_checks(scorer: str, per_tag: list[PairedStats], gate: GateConfig) -> list[GateCheck]:
    if not per_tag:
        return []
    allowance = gate.tag_allowance_for(scorer)
    checks: list[GateCheck] = []
    checked = too_small = 0
    for stats in per_tag:
        if stats.n < MIN_TAG_PROMPTS or stats.mean_diff is None or stats.ci_high is None:
            too_small += 1
            continue
        checked += 1
        if stats.mean_diff < -allowance and stats.ci_high < 0:
            checks.append(GateCheck("tag", "fail", text.tag_regression(stats, allowance),
                                    scorer=scorer, tag=stats.tag))
    if not checks:
        checks.append(GateCheck("tag", "pass",
                                text.tags_hold(scorer, allowance, checked, too_small),
                                scorer=scorer))
    return checks


def _pass_rate_check(
    cube: ScoreCube, tags: Mapping[str, Sequence[str]], gate: GateConfig,
    thresholds: Mapping[str, Threshold], incumbent: str, candidate: str,
) -> tuple[PassRates | None, GateCheck | None]:
    if not thresholds:
        if not gate.pass_rate_must_not_fall:
            return None, None
        return None, GateCheck("pass_rate", "skipped",
                               "no thresholds are set, so the pass-rate rule does not apply")
    rates = ThresholdEvaluator.from_cube(cube, tags, thresholds).pass_rates()
    if not gate.pass_rate_must_not_fall:
        return rates, None
    inc, cand = rates.passed[incumbent], rates.passed[candidate]
    passed = cand >= inc
    return rates, GateCheck("pass_rate", "pass" if passed else "fail",
                            text.pass_rate(inc, cand, rates.n_prompts, passed))


def _verdict(checks: Sequence[GateCheck]) -> Verdict:
    outcomes = {c.outcome for c in checks}
    if "inconclusive" in outcomes:
        return "inconclusive"
    if "fail" in outcomes:
        return "hold"
    if not any(c.rule == "margin" and c.outcome == "pass" for c in checks):
        return "inconclusive"  # never ship without a scorer that showed the improvement
    return "ship"


def _reasons(verdict: Verdict, checks: Sequence[GateCheck]) -> tuple[str, ...]:
    if verdict == "ship":
        return tuple(c.message for c in checks if c.outcome in ("pass", "skipped"))
    if verdict == "hold":
        return tuple(c.message for c in checks if c.outcome == "fail")
    first = [c.message for c in checks if c.outcome == "inconclusive"]
    return tuple(first + [c.message for c in checks if c.outcome == "fail"])

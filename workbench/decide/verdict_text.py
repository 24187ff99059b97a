"""Plain-words sentences for the gate: numbers to 3 significant digits."""

from __future__ import annotations

import math

from workbench.decide.gate_result import GateResult, PairedStats


def format_number(value: float | None) -> str:
    """3 significant digits, no exponent between 0.001 and 999,999; "n/a" when absent."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 1000:
        text = f"{value:.0f}"
    elif size >= 0.001:
        text = f"{value:.3g}"
        if "e" in text:  # .3g switches to exponents at 1000 after rounding
            text = f"{value:.0f}"
    else:
        text = f"{value:.2e}"
    return "0" if text in ("-0", "0.00e+00", "-0.00e+00") else text


def format_percent(rate: float | None) -> str:
    if rate is None:
        return "n/a"
    return f"{format_number(rate * 100)}%"


def signed(value: float | None) -> str:
    """A difference with its sign, e.g. ``+0.031`` (zero and missing values unsigned)."""
    text = format_number(value)
    return f"+{text}" if value is not None and value > 0 and text != "0" else text


def ci_range(stats: PairedStats) -> str:
    """The interval's bounds for a table cell, e.g. ``0.018 to 0.044``."""
    return f"{format_number(stats.ci_low)} to {format_number(stats.ci_high)}"


def wins_ties_losses(stats: PairedStats) -> str:
    """e.g. ``16/0/4``: the candidate's wins, ties and losses per prompt."""
    return f"{stats.wins}/{stats.ties}/{stats.losses}"


def interval(stats: PairedStats) -> str:
    """e.g. ``95% CI 0.018 to 0.044``."""
    return (
        f"{format_number(stats.confidence * 100)}% CI {format_number(stats.ci_low)} to "
        f"{format_number(stats.ci_high)}"
    )


def evidence(stats: PairedStats) -> str:
    """The bracket after a difference: direction note, interval and prompt count."""
    note = "lower is better; " if stats.direction == "lower" else ""
    prompts = f"{stats.n} prompt" if stats.n == 1 else f"{stats.n} prompts"
    return f"({note}{interval(stats)}, {prompts})"


def superiority(stats: PairedStats, margin: float, passed: bool) -> str:
    name, why, d = stats.scorer, evidence(stats), stats.mean_diff or 0.0
    if passed:
        if margin > 0:
            return (f"{name} improves by {format_number(d)} {why}, "
                    f"at least the margin {format_number(margin)}")
        return f"{name} improves by {format_number(d)} {why}; the whole interval is above zero"
    need = (f"an improvement of at least {format_number(margin)}" if margin > 0
            else "a clear improvement")
    if d < 0:
        return f"{name} is worse by {format_number(-d)} {why}; the gate needs {need}"
    if d == 0:
        return f"{name} does not change {why}; the gate needs {need}"
    if d < margin:
        return (f"{name} improves by only {format_number(d)} {why}, "
                f"below the margin {format_number(margin)}")
    return (f"{name} improves by {format_number(d)} {why}, but the interval reaches zero or "
            "below, so the improvement is not established")


def non_inferiority(stats: PairedStats, margin: float, passed: bool) -> str:
    name, why, d = stats.scorer, evidence(stats), stats.mean_diff or 0.0
    change = f"{'+' if d > 0 else ''}{format_number(d)}"
    if passed:
        return (f"{name} is not worse than the incumbent by more than the margin "
                f"{format_number(margin)}: difference {change} {why}")
    return (f"{name} may be worse than the incumbent by more than the margin "
            f"{format_number(margin)}: difference {change} {why}")


def tag_regression(stats: PairedStats, allowance: float) -> str:
    worse = format_number(-(stats.mean_diff or 0.0))
    return (
        f"the candidate is worse on tag '{stats.tag}' by {worse} {stats.scorer} "
        f"{evidence(stats)}, beyond the allowance {format_number(allowance)}"
    )


def tags_hold(scorer: str, allowance: float, checked: int, too_small: int) -> str:
    text = (f"no tag regresses on {scorer} beyond the allowance {format_number(allowance)} "
            f"({checked} tag{'s' if checked != 1 else ''} checked")
    if too_small:
        text += f"; {too_small} with a single paired prompt not checked"
    return text + ")"


def pass_rate(
    incumbent_passed: int, candidate_passed: int, n: int, passed: bool
) -> str:
    inc = format_percent(incumbent_passed / n if n else None)
    cand = format_percent(candidate_passed / n if n else None)
    if passed:
        return (f"the candidate's threshold pass rate ({cand}, {candidate_passed}/{n}) is not "
                f"lower than the incumbent's ({inc}, {incumbent_passed}/{n})")
    return (f"the candidate's threshold pass rate falls from {inc} ({incumbent_passed}/{n}) "
            f"to {cand} ({candidate_passed}/{n})")


def render_text(result: GateResult) -> str:
    """A short human-readable report: the verdict line, then one line per reason."""
    lines = [f"{result.verdict.upper()}: {result.candidate} vs {result.incumbent} "
             f"({result.n_prompts} paired prompts of {result.n_benchmark_prompts})"]
    lines += [f"  - {reason}" for reason in result.reasons]
    return "\n".join(lines)

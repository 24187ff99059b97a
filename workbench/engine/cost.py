"""What a run will cost before it starts, and the budget that caps what it may spend.

A clip's estimate is ``price_per_clip + price_per_second * duration`` where the
duration is the prompt's own or, failing that, the model's default. Money is
counted as spent when a hosted job is submitted (that is when providers bill),
so the budget is never overshot by jobs already in flight.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import WorkbenchError
from workbench.providers.base import Provider

#: Seconds assumed when neither the prompt nor the model says how long a clip is.
FALLBACK_DURATION = 5.0
#: Spending within this much of the budget still counts as within it (float noise).
EPSILON = 1e-9


class BudgetExceeded(WorkbenchError):
    """The run's estimate is over the budget given with --budget or [run].budget."""


def default_duration(provider_cls: type[Provider], params: Any) -> float:
    """The clip length a model makes when a prompt sets none."""
    for name in ("duration", "default_duration"):
        value = getattr(params, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
    value = getattr(provider_cls, "default_duration", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return FALLBACK_DURATION


def format_money(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"


class Budget:
    """Money committed by a run so far, against an optional cap."""

    def __init__(self, limit: float | None, spent: float = 0.0):
        self.limit = limit
        self.spent = spent

    def can_spend(self, amount: float) -> bool:
        if self.limit is None:
            return True
        return self.spent + amount <= self.limit + EPSILON

    def spend(self, amount: float) -> None:
        self.spent += amount

    def refund(self, amount: float) -> None:
        self.spent = max(0.0, self.spent - amount)


def check_estimate(estimate: float, budget: float | None, where: str) -> None:
    """Refuse a run whose estimate is over ``budget``."""
    if budget is not None and estimate > budget + EPSILON:
        raise BudgetExceeded(
            f"{where}: estimated cost {format_money(estimate)} is over the budget of "
            f"{format_money(budget)}; raise --budget, run fewer models or repeats, "
            "or run a subset with --model"
        )

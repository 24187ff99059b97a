"""How well each automated scorer agrees with people.

An item is one clip (prompt, model, repeat) that has both an automated value and a human
judgment. Per scorer we report Spearman's rho and Kendall's tau-b against the mean human
rating (ties handled with average ranks / the tau-b correction), and, where the scorer has
a threshold, the fraction of items where the scorer's pass/fail equals the people's
(majority of raters; an even split is no label). Fewer than 3 items gives no figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.benchmark.config import Bounds, Threshold
from workbench.judgments.human_scores import HUMAN_PASS, HUMAN_RATING

MIN_ITEMS = 3
ITEM = ["model", "prompt_id", "repeat"]


# ----------------------------------------------------------------------------- statistics


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks; tied values share the mean of the ranks they span."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # start index of each run of equal values
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    mean_rank = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(len(values), dtype=float)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's rho (Pearson correlation of average ranks); None if either side is constant."""
    rx, ry = average_ranks(x), average_ranks(y)
    rx -= rx.mean()
    ry -= ry.mean()
    denom = float(np.sqrt((rx * rx).sum() * (ry * ry).sum()))
    if denom == 0.0:
        return None
    return float((rx * ry).sum() / denom)


def _tie_pairs(values: np.ndarray) -> int:
    _, counts = np.unique(values, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def kendall_tau_b(x: np.ndarray, y: np.ndarray, block: int = 256) -> float | None:
    """Kendall's tau-b = (C - D) / sqrt((n0 - tx) (n0 - ty)); None if either side is constant.

    C - D is summed over all pairs in row blocks, so memory stays at ``block * n``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    n0 = n * (n - 1) // 2
    denom = float(np.sqrt(float(n0 - _tie_pairs(x)) * float(n0 - _tie_pairs(y))))
    if denom == 0.0:
        return None
    s = 0
    for start in range(0, n, block):
        stop = min(start + block, n)
        dx = np.sign(x[start:stop, None] - x[None, :])
        dy = np.sign(y[start:stop, None] - y[None, :])
        s += int((dx * dy).sum())
    return float(s / 2 / denom)  # every pair was counted twice (i,j) and (j,i)


# ----------------------------------------------------------------------------- per scorer


@dataclass(frozen=True)
class AlignmentRow:
    scorer: str
    n_rated: int
    spearman: float | None
    kendall: float | None
    n_pass_labels: int
    pass_agreement: float | None
    threshold_used: str | None
    note: str
    sign_agrees: bool | None = None


def describe_bounds(bounds: Bounds | Threshold) -> str:
    lo, hi = bounds.min, bounds.max
    if lo is not None and hi is not None:
        text = f"{lo:g}..{hi:g}"
    elif lo is not None:
        text = f">= {lo:g}"
    else:
        text = f"<= {hi:g}"
    if isinstance(bounds, Threshold) and bounds.tags:
        count = len(bounds.tags)
        text += f" (+{count} tag override{'s' if count != 1 else ''})"
    return text


def _bounds_passed(values: pl.Series, threshold: Threshold) -> pl.Series:
    return pl.Series([None if v is None else threshold.passes(v) for v in values], dtype=pl.Boolean)


def _human_table(human_df: pl.DataFrame) -> pl.DataFrame:
    rating = (human_df.filter(pl.col("scorer") == HUMAN_RATING)
              .group_by(ITEM).agg(pl.col("value").mean().alias("human_rating")))
    passing = (human_df.filter(pl.col("scorer") == HUMAN_PASS)
               .group_by(ITEM).agg(pl.col("value").mean().alias("human_pass_share")))
    joined = rating.join(passing, on=ITEM, how="full", coalesce=True)
    label = (pl.when(pl.col("human_pass_share") > 0.5).then(True)
             .when(pl.col("human_pass_share") < 0.5).then(False)
             .otherwise(None))
    return joined.with_columns(label.alias("human_pass"))


def _sign_note(rho: float | None, direction: str | None) -> tuple[bool | None, str]:
    if rho is None or direction not in ("higher", "lower") or rho == 0:
        return None, ""
    agrees = (rho > 0) == (direction == "higher")
    if agrees:
        return True, f"sign agrees with direction '{direction}'"
    return False, f"sign disagrees with direction '{direction}': people rank the other way"


def scorer_alignment(
    scores_df: pl.DataFrame,
    human_df: pl.DataFrame,
    thresholds: Mapping[str, Threshold],
    directions: Mapping[str, str] | None = None,
) -> list[AlignmentRow]:
    """One row per automated scorer in ``scores_df`` (scorers named ``human.*`` are skipped).

    Pass/fail comes from a ``passed`` column of ``scores_df`` if present (thresholds with
    their per-tag overrides already applied); otherwise from each scorer's base threshold.
    """
    human = _human_table(human_df)
    auto = scores_df.filter(~pl.col("scorer").str.starts_with("human.") & pl.col("value").is_not_null())
    rows: list[AlignmentRow] = []
    for scorer in sorted(auto.get_column("scorer").unique().to_list()):
        mine = auto.filter(pl.col("scorer") == scorer)
        mine = mine.group_by(ITEM).agg(
            pl.col("value").mean(),
            *([pl.col("passed").drop_nulls().first()] if "passed" in mine.columns else []),
        )
        threshold = thresholds.get(scorer)
        if "passed" not in mine.columns:
            mine = mine.with_columns(
                _bounds_passed(mine.get_column("value"), threshold).alias("passed")
                if threshold is not None else pl.lit(None, dtype=pl.Boolean).alias("passed")
            )
        items = mine.join(human, on=ITEM, how="inner")
        notes: list[str] = []

        rated = items.filter(pl.col("human_rating").is_not_null())
        n_rated = rated.height
        rho = tau = None
        if n_rated < MIN_ITEMS:
            notes.append(f"{n_rated} rated item{'s' if n_rated != 1 else ''} (need {MIN_ITEMS})")
        else:
            x = rated.get_column("value").to_numpy()
            y = rated.get_column("human_rating").to_numpy()
            rho, tau = spearman(x, y), kendall_tau_b(x, y)
            if rho is None:
                notes.append("constant values: no rank correlation")
        sign_agrees, sign_text = _sign_note(rho, (directions or {}).get(scorer))
        if sign_text:
            notes.append(sign_text)

        labelled = items.filter(pl.col("human_pass").is_not_null())
        agreement = None
        n_labels = 0
        if threshold is not None:
            judged = labelled.filter(pl.col("passed").is_not_null())
            n_labels = judged.height
            if n_labels < MIN_ITEMS:
                notes.append(f"{n_labels} pass/fail label{'s' if n_labels != 1 else ''} (need {MIN_ITEMS})")
            else:
                agree = judged.get_column("passed") == judged.get_column("human_pass")
                agreement = float(agree.cast(pl.Float64).mean())
        rows.append(AlignmentRow(
            scorer=scorer, n_rated=n_rated, spearman=rho, kendall=tau, n_pass_labels=n_labels,
            pass_agreement=agreement,
            threshold_used=describe_bounds(threshold) if threshold is not None else None,
            note="; ".join(notes), sign_agrees=sign_agrees,
        ))
    return rows


def pass_label_pairs(scores_df: pl.DataFrame, human_df: pl.DataFrame, scorer: str) -> tuple[np.ndarray, np.ndarray]:
    """(automated values, human majority pass labels) for the items of one scorer that have both."""
    human = _human_table(human_df).filter(pl.col("human_pass").is_not_null())
    mine = (scores_df.filter((pl.col("scorer") == scorer) & pl.col("value").is_not_null())
            .group_by(ITEM).agg(pl.col("value").mean()))
    items = mine.join(human, on=ITEM, how="inner").sort(ITEM)
    return (items.get_column("value").to_numpy().astype(float),
            items.get_column("human_pass").to_numpy().astype(bool))

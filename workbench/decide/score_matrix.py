"""Turn the long-format scores table into a dense ``values[scorer, model, prompt]`` array.

Repeats are averaged first: the value of (model, prompt, scorer) is the mean of
the non-missing values over that prompt's repeats. A repeat whose value is null
(the video or the scorer failed) or NaN is left out of the mean; when no repeat
has a value, the cell is NaN and counts as missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.errors import WorkbenchError

REQUIRED_COLUMNS = ("prompt_id", "model", "scorer", "value")


class ScoresTableError(WorkbenchError):
    """The scores table handed to the thresholds or the gate is not usable."""


def check_scores_frame(scores: pl.DataFrame) -> None:
    """Raise :class:`ScoresTableError` naming any required column that is absent."""
    if not isinstance(scores, pl.DataFrame):
        raise ScoresTableError(
            f"scores table: expected a polars DataFrame, got {type(scores).__name__}"
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in scores.columns]
    if missing:
        raise ScoresTableError(
            "scores table: missing column(s) " + ", ".join(repr(m) for m in missing)
            + f" (it has: {', '.join(scores.columns) or 'no columns'})"
        )


def clean_scores(scores: pl.DataFrame) -> pl.DataFrame:
    """Keys as strings and ``value`` as Float64 with NaN turned into null."""
    check_scores_frame(scores)
    try:
        return scores.select(
            pl.col("model").cast(pl.Utf8),
            pl.col("prompt_id").cast(pl.Utf8),
            pl.col("scorer").cast(pl.Utf8),
            pl.col("value").cast(pl.Float64).fill_nan(None),
        )
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise ScoresTableError(
            f"scores table: column 'value' must hold numbers or nulls ({exc})"
        ) from None


@dataclass(frozen=True)
class TableKeys:
    """The models, prompts and scorers of a scores table, found in one pass."""

    models: tuple[str, ...]
    """Sorted."""
    prompt_ids: tuple[str, ...]
    """Those in ``tags`` in their order, then any other scored prompt, sorted."""
    scorers: tuple[str, ...]
    """Sorted."""


def table_keys(scores: pl.DataFrame, tags: Mapping[str, Sequence[str]]) -> TableKeys:
    """Every model, prompt and scorer in the table (plus the prompts of ``tags``).

    Prompts that have tags but no scores are kept (they count as missing);
    scored prompts without an entry in ``tags`` are kept with no tags.
    """
    check_scores_frame(scores)
    found = scores.select(
        pl.col(name).cast(pl.Utf8).drop_nulls().unique().sort().implode()
        for name in ("model", "prompt_id", "scorer")
    ).row(0)
    models, prompts, scorers = (list(values) for values in found)
    known = list(dict.fromkeys(tags))
    seen = set(known)
    return TableKeys(
        models=tuple(models),
        prompt_ids=tuple(known + [p for p in prompts if p not in seen]),
        scorers=tuple(scorers),
    )


def prompt_order(scores: pl.DataFrame, tags: Mapping[str, Sequence[str]]) -> list[str]:
    """Every prompt: see :attr:`TableKeys.prompt_ids`."""
    return list(table_keys(scores, tags).prompt_ids)


def _index_column(name: str, keys: Sequence[str]) -> pl.Expr:
    mapping = {key: i for i, key in enumerate(keys)}
    return pl.col(name).replace_strict(mapping, default=-1, return_dtype=pl.Int64)


@dataclass(frozen=True)
class ScoreCube:
    """Per-prompt means in a dense array ``values[scorer, model, prompt]`` (NaN = missing)."""

    scorers: tuple[str, ...]
    models: tuple[str, ...]
    prompt_ids: tuple[str, ...]
    values: np.ndarray
    present_models: frozenset[str]
    errors: Mapping[tuple[str, str, str], str]

    def slab(self, scorer: str) -> np.ndarray:
        """``values[model, prompt]`` of one scorer."""
        return self.values[self.scorers.index(scorer)]


def build_cube(
    scores: pl.DataFrame,
    models: Sequence[str],
    prompt_ids: Sequence[str],
    scorers: Sequence[str],
) -> ScoreCube:
    """Average repeats and lay the result out densely; absent cells are NaN.

    ``errors`` maps (model, prompt_id, scorer) to the first error message seen for a
    cell that has no value at all, so a report can say why it is missing.
    """
    clean = clean_scores(scores)
    models = list(models)
    prompt_ids = list(prompt_ids)
    scorers = list(scorers)
    wanted = clean.filter(pl.col("model").is_in(models) & pl.col("scorer").is_in(scorers))
    present_models = frozenset(wanted.get_column("model").unique().to_list())
    means = (
        wanted.group_by("model", "prompt_id", "scorer")
        .agg(pl.col("value").mean())
        .with_columns(
            _index_column("scorer", scorers).alias("s"),
            _index_column("model", models).alias("m"),
            _index_column("prompt_id", prompt_ids).alias("p"),
        )
        .filter((pl.col("p") >= 0) & pl.col("value").is_not_null())
    )
    values = np.full((len(scorers), len(models), len(prompt_ids)), np.nan, dtype=np.float64)
    if means.height:
        values[
            means.get_column("s").to_numpy(),
            means.get_column("m").to_numpy(),
            means.get_column("p").to_numpy(),
        ] = means.get_column("value").to_numpy()
    values.setflags(write=False)
    return ScoreCube(
        scorers=tuple(scorers),
        models=tuple(models),
        prompt_ids=tuple(prompt_ids),
        values=values,
        present_models=present_models,
        errors=_cell_errors(scores, models, scorers, means),
    )


def _cell_errors(
    scores: pl.DataFrame, models: Iterable[str], scorers: Iterable[str], means: pl.DataFrame
) -> dict[tuple[str, str, str], str]:
    if "error" not in scores.columns:
        return {}
    failed = scores.select(
        pl.col("model").cast(pl.Utf8),
        pl.col("prompt_id").cast(pl.Utf8),
        pl.col("scorer").cast(pl.Utf8),
        pl.col("error").cast(pl.Utf8),
    ).filter(
        pl.col("error").is_not_null()
        & pl.col("model").is_in(list(models))
        & pl.col("scorer").is_in(list(scorers))
    )
    if not failed.height:
        return {}
    failed = failed.group_by("model", "prompt_id", "scorer", maintain_order=True).agg(
        pl.col("error").first()
    )
    has_value = means.select("model", "prompt_id", "scorer")
    failed = failed.join(has_value, on=["model", "prompt_id", "scorer"], how="anti")
    return {
        (m, p, s): e
        for m, p, s, e in failed.iter_rows()
    }

"""Human judgments as rows of the long score frame, so tables and the gate treat them like scorers.

Three human scorers:

* ``human.rating``: mean 1-5 score over raters, per clip (prompt, model, repeat).
* ``human.pass``: fraction of raters who said pass, per clip.
* ``human.preference``: the model's win rate on the prompt over all pairwise comparisons
  that involve it (a tie counts half). Comparisons are about a prompt, not a repeat, so
  the row is attached to repeat 0; comparisons of a model with itself are left out.

Each rater counts once per clip (their latest line); different raters are averaged.
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from workbench.judgments.ratings import Judgments, RunOf

HUMAN_RATING = "human.rating"
HUMAN_PASS = "human.pass"
HUMAN_PREFERENCE = "human.preference"
HUMAN_SCORER_NAMES = (HUMAN_RATING, HUMAN_PASS, HUMAN_PREFERENCE)
HUMAN_VERSION = "1"

SCORE_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.Utf8,
    "model": pl.Utf8,
    "prompt_id": pl.Utf8,
    "repeat": pl.Int64,
    "scorer": pl.Utf8,
    "version": pl.Utf8,
    "value": pl.Float64,
    "error": pl.Utf8,
}


def empty_scores() -> pl.DataFrame:
    return pl.DataFrame(schema=SCORE_SCHEMA)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def human_score_rows(judgments: Judgments, run_of: RunOf | None = None) -> pl.DataFrame:
    """The judgments as long-format score rows (columns as :data:`SCORE_SCHEMA`).

    ``run_of`` maps (model, prompt_id, repeat) to the run a table shows for that clip:
    judgments naming another run are skipped, and the row's ``run`` is that run.
    """
    scores: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    passes: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for rating in judgments.current_ratings(run_of):
        if rating.score is not None:
            scores[rating.item].append(float(rating.score))
        if rating.passed is not None:
            passes[rating.item].append(1.0 if rating.passed else 0.0)

    wins: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for pref in judgments.current_preferences(run_of):
        if pref.left.model == pref.right.model:
            continue
        left = (pref.left.model, pref.prompt_id, 0)
        right = (pref.right.model, pref.prompt_id, 0)
        left_share = {"left": 1.0, "right": 0.0, "tie": 0.5}[pref.choice]
        wins[left].append(left_share)
        wins[right].append(1.0 - left_share)

    rows: dict[str, list] = {name: [] for name in SCORE_SCHEMA}

    def add(scorer: str, table: dict[tuple[str, str, int], list[float]]) -> None:
        for (model, prompt_id, repeat), values in table.items():
            rows["run"].append(run_of.get((model, prompt_id, repeat)) if run_of else None)
            rows["model"].append(model)
            rows["prompt_id"].append(prompt_id)
            rows["repeat"].append(repeat)
            rows["scorer"].append(scorer)
            rows["version"].append(HUMAN_VERSION)
            rows["value"].append(_mean(values))
            rows["error"].append(None)

    add(HUMAN_RATING, scores)
    add(HUMAN_PASS, passes)
    add(HUMAN_PREFERENCE, wins)
    return pl.DataFrame(rows, schema=SCORE_SCHEMA)


def judgment_counts(judgments: Judgments, run_of: RunOf | None = None) -> dict[str, int]:
    """How many current judgments stand behind each human scorer (for summaries)."""
    ratings = judgments.current_ratings(run_of)
    prefs = [p for p in judgments.current_preferences(run_of) if p.left.model != p.right.model]
    return {
        HUMAN_RATING: sum(r.score is not None for r in ratings),
        HUMAN_PASS: sum(r.passed is not None for r in ratings),
        HUMAN_PREFERENCE: len(prefs),
    }

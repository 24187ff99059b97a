"""The decision record's contact sheet: the prompts where the two models differ most.

Prompts are ranked by the size of their standardized primary-scorer differences:
for each primary scorer, the prompt's difference (in the better direction, repeats
averaged) divided by the spread (standard deviation) of that scorer's differences
over all paired prompts, the absolute values summed over the primary scorers.

The sheet has one row per chosen prompt: a few evenly chosen thumbnails of the
incumbent's clip on the left, a gap with a thin vertical bar, the candidate's on the
right. A blue bar tops the incumbent's thumbnails and an orange one the
candidate's; a strip at the left edge of each row is green where the prompt's
standardized differences favour the candidate, red where they favour the incumbent. A thumbnail that is missing (the clip
failed or is not scored yet) or unreadable is drawn as a grey tile with a cross.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import polars as pl

from workbench.decide.score_matrix import build_cube
from workbench.media.png import read_png, write_png

DEFAULT_ROWS = 4
DEFAULT_PER_CLIP = 3
MAX_CELL = 160
DEFAULT_CELL = (160, 90)  # width, height when no thumbnail at all could be read

MARGIN = 8
GAP = 4
SIDE_GAP = 24
BAR = 4
ROW_GAP = 12
STRIP = 6

BACKGROUND = (24, 24, 24)
PLACEHOLDER_GREY = (128, 128, 128)
PLACEHOLDER_CROSS = (96, 96, 96)
INCUMBENT_COLOUR = (70, 130, 180)
CANDIDATE_COLOUR = (255, 140, 0)
BETTER_COLOUR = (46, 160, 67)
WORSE_COLOUR = (203, 36, 49)
EVEN_COLOUR = (110, 110, 110)
DIVIDER_COLOUR = (200, 200, 200)
ROW_RULE_COLOUR = (70, 70, 70)

Side = str  # "incumbent" | "candidate"
SIDES: tuple[Side, Side] = ("incumbent", "candidate")


# ----------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class PromptDifference:
    """How far apart the two models are on one prompt."""

    prompt_id: str
    size: float
    """Sum over primary scorers of |difference| / spread of that scorer's differences."""
    lean: float
    """The same sum with signs kept: positive when the candidate is better overall."""
    differences: Mapping[str, float | None]
    """Raw per-scorer differences in the better direction (None: not paired)."""


def rank_differences(
    scores: pl.DataFrame,
    prompt_ids: Sequence[str],
    primary: Sequence[str],
    directions: Mapping[str, str],
    incumbent: str,
    candidate: str,
) -> list[PromptDifference]:
    """Prompts with a pair on at least one primary scorer, largest standardized difference first.

    Scorers without a direction ("none" or unknown) are left out. Ties keep the
    benchmark's prompt order.
    """
    scorers = [s for s in dict.fromkeys(primary) if directions.get(s) in ("higher", "lower")]
    if not scorers or not prompt_ids or scores.height == 0:
        return []
    cube = build_cube(scores, [incumbent, candidate], list(prompt_ids), scorers)
    n = len(prompt_ids)
    size = np.zeros(n)
    lean = np.zeros(n)
    any_pair = np.zeros(n, dtype=bool)
    raw: dict[str, np.ndarray] = {}
    for index, scorer in enumerate(scorers):
        inc, cand = cube.values[index]
        sign = 1.0 if directions[scorer] == "higher" else -1.0
        diffs = sign * (cand - inc)
        paired = ~np.isnan(diffs)
        raw[scorer] = diffs
        if not paired.any():
            continue
        any_pair |= paired
        spread = float(np.std(diffs[paired], ddof=1)) if paired.sum() > 1 else 0.0
        if not spread > 0:
            spread = float(np.max(np.abs(diffs[paired])))
        if not spread > 0:
            continue  # every difference is zero: nothing to tell prompts apart
        z = np.where(paired, diffs / spread, 0.0)
        size += np.abs(z)
        lean += z
    ranked = sorted(np.flatnonzero(any_pair), key=lambda p: (-size[p], p))
    return [
        PromptDifference(
            prompt_id=prompt_ids[p],
            size=float(size[p]),
            lean=float(lean[p]),
            differences={s: (None if np.isnan(raw[s][p]) else float(raw[s][p])) for s in scorers},
        )
        for p in ranked
    ]


# ----------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class SheetRow:
    """One prompt on the sheet: each model's thumbnails (all of them; a few are picked)."""

    prompt_id: str
    incumbent: Sequence[Path]
    candidate: Sequence[Path]
    lean: float = 0.0
    """Positive when the candidate is better on this prompt (colours the row's strip)."""


def pick_evenly(paths: Sequence[Path], count: int) -> list[Path]:
    """``count`` items spread from the first to the last (all of them when there are fewer)."""
    items = list(paths)
    if count <= 0:
        return []
    if len(items) <= count:
        return items
    if count == 1:
        return [items[len(items) // 2]]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def load_thumbnail(path: Path) -> np.ndarray | None:
    """An RGB thumbnail, or None when it is missing or cannot be read."""
    try:
        image = read_png(path)
    except (OSError, ValueError, av.FFmpegError):
        return None
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        return None
    return image


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Shrink (nearest neighbour) to fit ``width`` x ``height``; never enlarge."""
    h, w = image.shape[:2]
    scale = min(1.0, width / w, height / h)
    if scale >= 1.0:
        return image
    new_w, new_h = max(1, int(w * scale)), max(1, int(h * scale))
    rows = np.minimum((np.arange(new_h) + 0.5) / scale, h - 1).astype(int)
    cols = np.minimum((np.arange(new_w) + 0.5) / scale, w - 1).astype(int)
    return image[rows][:, cols]


@dataclass(frozen=True)
class SheetLayout:
    """Where everything goes; sizes in pixels."""

    per_clip: int
    cell_width: int
    row_heights: tuple[int, ...]
    """Height of each row's thumbnail cells (its tallest thumbnail)."""

    @property
    def side_width(self) -> int:
        return self.per_clip * self.cell_width + (self.per_clip - 1) * GAP

    @property
    def width(self) -> int:
        return MARGIN + STRIP + GAP + 2 * self.side_width + SIDE_GAP + MARGIN

    @property
    def height(self) -> int:
        rows = len(self.row_heights)
        return 2 * MARGIN + sum(BAR + h for h in self.row_heights) + max(0, rows - 1) * ROW_GAP

    def row_top(self, row: int) -> int:
        """The y of a row's colour bars (its cells start ``BAR`` below)."""
        return MARGIN + sum(BAR + h for h in self.row_heights[:row]) + row * ROW_GAP

    def side_left(self, side: Side) -> int:
        left = MARGIN + STRIP + GAP
        return left if side == "incumbent" else left + self.side_width + SIDE_GAP

    def cell_origin(self, row: int, side: Side, index: int) -> tuple[int, int]:
        """(y, x) of the top-left corner of one thumbnail cell."""
        return (self.row_top(row) + BAR,
                self.side_left(side) + index * (self.cell_width + GAP))


def _placeholder(width: int, height: int) -> np.ndarray:
    tile = np.empty((height, width, 3), dtype=np.uint8)
    tile[...] = PLACEHOLDER_GREY
    steps = max(width, height) * 2
    t = np.linspace(0.0, 1.0, steps)
    ys = np.round(t * (height - 1)).astype(int)
    xs = np.round(t * (width - 1)).astype(int)
    for dx in (0, 1):  # two pixels thick
        x = np.minimum(xs + dx, width - 1)
        tile[ys, x] = PLACEHOLDER_CROSS
        tile[ys, width - 1 - x] = PLACEHOLDER_CROSS
    return tile


def _strip_colour(lean: float) -> tuple[int, int, int]:
    if lean > 0:
        return BETTER_COLOUR
    if lean < 0:
        return WORSE_COLOUR
    return EVEN_COLOUR


def render_contact_sheet(
    rows: Sequence[SheetRow], per_clip: int = DEFAULT_PER_CLIP
) -> tuple[np.ndarray, SheetLayout]:
    """The sheet as an ``H x W x 3`` uint8 array, and its layout. Needs at least one row."""
    if not rows:
        raise ValueError("a contact sheet needs at least one row")
    if per_clip < 1:
        raise ValueError("per_clip must be at least 1")
    images: list[dict[Side, list[np.ndarray | None]]] = []
    for row in rows:
        picked: dict[Side, list[np.ndarray | None]] = {}
        for side in SIDES:
            chosen = [load_thumbnail(p) for p in pick_evenly(getattr(row, side), per_clip)]
            picked[side] = chosen + [None] * (per_clip - len(chosen))
        images.append(picked)
    loaded = [img for picked in images for side in SIDES for img in picked[side] if img is not None]
    cell_width = min(MAX_CELL, max((img.shape[1] for img in loaded), default=DEFAULT_CELL[0]))
    heights = []
    for picked in images:
        found = [img for side in SIDES for img in picked[side] if img is not None]
        tallest = max((_fit(img, cell_width, MAX_CELL).shape[0] for img in found), default=0)
        heights.append(tallest or min(DEFAULT_CELL[1], MAX_CELL))
    layout = SheetLayout(per_clip=per_clip, cell_width=cell_width, row_heights=tuple(heights))

    sheet = np.empty((layout.height, layout.width, 3), dtype=np.uint8)
    sheet[...] = BACKGROUND
    for r, (row, picked) in enumerate(zip(rows, images)):
        top, cell_h = layout.row_top(r), layout.row_heights[r]
        sheet[top:top + BAR + cell_h, MARGIN:MARGIN + STRIP] = _strip_colour(row.lean)
        for side, colour in zip(SIDES, (INCUMBENT_COLOUR, CANDIDATE_COLOUR)):
            left = layout.side_left(side)
            sheet[top:top + BAR, left:left + layout.side_width] = colour
            for i, image in enumerate(picked[side]):
                y, x = layout.cell_origin(r, side, i)
                if image is None:
                    sheet[y:y + cell_h, x:x + cell_width] = _placeholder(cell_width, cell_h)
                    continue
                fitted = _fit(image, cell_width, cell_h)
                h, w = fitted.shape[:2]
                oy, ox = y + (cell_h - h) // 2, x + (cell_width - w) // 2
                sheet[oy:oy + h, ox:ox + w] = fitted
        divider = layout.side_left("candidate") - SIDE_GAP // 2 - 1
        sheet[top:top + BAR + cell_h, divider:divider + 2] = DIVIDER_COLOUR
        if r + 1 < len(rows):
            rule = top + BAR + cell_h + ROW_GAP // 2
            sheet[rule:rule + 1, MARGIN:layout.width - MARGIN] = ROW_RULE_COLOUR
    return sheet, layout


def write_contact_sheet(path: Path, rows: Sequence[SheetRow],
                        per_clip: int = DEFAULT_PER_CLIP) -> SheetLayout:
    """Render the sheet and save it as a PNG (atomically); returns its layout."""
    sheet, layout = render_contact_sheet(rows, per_clip)
    write_png(Path(path), sheet)
    return layout

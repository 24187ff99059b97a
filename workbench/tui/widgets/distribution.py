"""A per-model strip histogram of one scorer's values with its threshold marked.

One row per model: each cell is a bin of the value axis (log-spaced when positive values span a
wide ratio), drawn as a block whose height is the number of prompts in the bin, coloured by
whether those prompts pass the scorer's own threshold (all pass / all fail / some of each). Under the rows, ``▲`` marks the
bounds being edited and ``△`` the saved ones, then the axis ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual.widget import Widget

BLOCKS = "▁▂▃▄▅▆▇█"
EMPTY = "·"
LABEL_WIDTH = 12
MIN_BINS = 8


@dataclass(frozen=True)
class DistributionRow:
    """One model's repeat-averaged values (NaN: missing) and, per value, whether it passes."""

    label: str
    values: np.ndarray
    passes: np.ndarray | None = None


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def axis_extent(rows: Sequence[DistributionRow], marks: Sequence[float | None]) -> tuple[float, float] | None:
    """The value range to draw: every value and mark, padded so a mark at an end stays visible."""
    pieces = [r.values[np.isfinite(r.values)] for r in rows]
    pieces.append(np.array([m for m in marks if m is not None and math.isfinite(m)], dtype=float))
    every = np.concatenate(pieces) if pieces else np.array([])
    if every.size == 0:
        return None
    lo, hi = float(every.min()), float(every.max())
    span = hi - lo
    if span <= 0:
        span = max(abs(lo) * 0.1, 1e-6)
        return lo - span, hi + span
    return lo - span * 0.02, hi + span * 0.02


def bin_of(values: np.ndarray, lo: float, hi: float, bins: int, log: bool = False) -> np.ndarray:
    """The bin index (0..bins-1) of each value on the axis lo..hi (log-spaced with ``log``)."""
    if log:
        values, lo, hi = np.log10(np.maximum(values, lo)), math.log10(lo), math.log10(hi)
    position = (values - lo) / (hi - lo) * bins
    return np.clip(np.floor(position), 0, bins - 1).astype(int)


LOG_RATIO = 30.0
"""Values spanning more than this ratio (all positive) are drawn on a log axis."""


def wants_log(rows: Sequence[DistributionRow], marks: Sequence[float | None]) -> bool:
    """Whether a log axis reads better: every value and mark positive, spanning a wide ratio."""
    pieces = [r.values[np.isfinite(r.values)] for r in rows]
    pieces.append(np.array([m for m in marks if m is not None and math.isfinite(m)], dtype=float))
    every = np.concatenate(pieces)
    if every.size < 2 or every.min() <= 0:
        return False
    return float(every.max() / every.min()) >= LOG_RATIO


def log_extent(rows: Sequence[DistributionRow], marks: Sequence[float | None]) -> tuple[float, float]:
    pieces = [r.values[np.isfinite(r.values)] for r in rows]
    pieces.append(np.array([m for m in marks if m is not None and math.isfinite(m)], dtype=float))
    every = np.concatenate(pieces)
    lo, hi = math.log10(float(every.min())), math.log10(float(every.max()))
    pad = (hi - lo) * 0.02
    return 10 ** (lo - pad), 10 ** (hi + pad)


class Distribution(Widget):
    """Strip histograms of one scorer, one row per model, with the bounds marked."""

    DEFAULT_CSS = """
    Distribution {
        height: auto;
        width: 1fr;
    }
    Distribution > .distribution--pass { color: $success; }
    Distribution > .distribution--fail { color: $error; }
    Distribution > .distribution--mixed { color: $warning; }
    Distribution > .distribution--plain { color: $accent; }
    Distribution > .distribution--empty { color: $text-disabled; }
    Distribution > .distribution--mark { color: $text; text-style: bold; }
    Distribution > .distribution--saved { color: $text-muted; }
    Distribution > .distribution--label { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "distribution--pass", "distribution--fail", "distribution--mixed", "distribution--plain",
        "distribution--empty", "distribution--mark", "distribution--saved", "distribution--label",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self._rows: list[DistributionRow] = []
        self._bounds: tuple[float | None, float | None] = (None, None)
        self._saved: tuple[float | None, float | None] = (None, None)
        self._suffixes: list[str] = []

    def show(
        self,
        rows: Sequence[DistributionRow],
        bounds: tuple[float | None, float | None],
        saved: tuple[float | None, float | None] = (None, None),
        suffixes: Sequence[str] | None = None,
    ) -> None:
        """Draw these rows; ``bounds`` are marked ▲, ``saved`` bounds △ (where they differ)."""
        self._rows = list(rows)
        self._bounds = bounds
        self._saved = saved
        self._suffixes = list(suffixes) if suffixes is not None else [""] * len(self._rows)
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        return len(self._rows) + 2 if self._rows else 1

    def _style(self, name: str):  # noqa: ANN202
        return self.get_component_rich_style(f"distribution--{name}")

    def render(self) -> Text:
        if not self._rows:
            return Text("no values", style=self._style("label"))
        marks = [*self._bounds, *self._saved]
        extent = axis_extent(self._rows, marks)
        if extent is None:
            return Text("no values for any model", style=self._style("label"))
        log = wants_log(self._rows, marks)
        lo, hi = log_extent(self._rows, marks) if log else extent
        width = max(self.content_size.width, 20)
        label_w = min(LABEL_WIDTH, max(len(r.label) for r in self._rows))
        suffix_w = max((len(s) for s in self._suffixes), default=0)
        bins = max(MIN_BINS, width - label_w - 1 - (suffix_w + 1 if suffix_w else 0))
        counts = [np.bincount(bin_of(r.values[np.isfinite(r.values)], lo, hi, bins, log), minlength=bins)
                  for r in self._rows]
        tallest = max(int(c.max()) for c in counts) or 1
        text = Text(no_wrap=True, overflow="crop")
        for row, count, suffix in zip(self._rows, counts, self._suffixes):
            text.append(f"{row.label[:label_w]:<{label_w}} ", self._style("label"))
            finite = np.isfinite(row.values)
            passing = None
            if row.passes is not None:
                index = bin_of(row.values[finite], lo, hi, bins, log)
                passing = np.bincount(index, weights=row.passes[finite].astype(float), minlength=bins)
            for b in range(bins):
                n = int(count[b])
                if n == 0:
                    text.append(EMPTY, self._style("empty"))
                    continue
                block = BLOCKS[min(len(BLOCKS) - 1, math.ceil(n / tallest * len(BLOCKS)) - 1)]
                if passing is None:
                    kind = "plain"
                else:
                    ok = int(round(passing[b]))
                    kind = "pass" if ok == n else "fail" if ok == 0 else "mixed"
                text.append(block, self._style(kind))
            if suffix_w:
                text.append(f" {suffix:>{suffix_w}}", self._style("label"))
            text.append("\n")
        text.append(self._marks_line(lo, hi, bins, label_w, log))
        text.append("\n")
        text.append(self._axis_line(lo, hi, bins, label_w, log))
        return text

    def _marks_line(self, lo: float, hi: float, bins: int, label_w: int, log: bool) -> Text:
        cells = [(" ", None)] * bins
        for saved in self._saved:
            if saved is not None and saved not in self._bounds:
                cells[int(bin_of(np.array([saved]), lo, hi, bins, log)[0])] = ("△", "saved")
        for bound in self._bounds:
            if bound is not None:
                cells[int(bin_of(np.array([bound]), lo, hi, bins, log)[0])] = ("▲", "mark")
        line = Text(f"{'bounds':<{label_w}} ", self._style("label"), no_wrap=True)
        for char, kind in cells:
            line.append(char, self._style(kind) if kind else None)
        return line

    def _axis_line(self, lo: float, hi: float, bins: int, label_w: int, log: bool) -> Text:
        left, right = _fmt(lo), _fmt(hi)
        middle = "log scale" if log else ""
        gap = max(2, bins - len(left) - len(right) - len(middle))
        middle = f"{' ' * (gap // 2)}{middle}{' ' * (gap - gap // 2)}"
        return Text(f"{'':<{label_w}} {left}{middle}{right}", self._style("label"), no_wrap=True)

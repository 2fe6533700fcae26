"""Static bounds on transformed values: a single breach, or N consecutive breaches.

Both work on the whole 2-D array at once; comparisons with NaN are False, so a missing value
is never flagged and always breaks a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from detectors import validate
from detectors.base import Cell, Scan, run_lengths
from detectors.transforms import is_percent_change, transform_label
from detectors.wording import (
    format_threshold,
    format_value,
    freq_word,
    ordinal,
    period_noun,
)

Direction = Literal["above", "below"]


def _beyond(values: pd.DataFrame, direction: Direction, threshold: float) -> np.ndarray:
    """Strictly beyond the threshold on the given side; NaN is never beyond."""
    array = values.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return array < threshold if direction == "below" else array > threshold


def _frame(values: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(mask, index=values.index, columns=values.columns)


@dataclass(frozen=True, slots=True)
class Threshold:
    """Fires wherever the value is beyond the threshold."""

    kind: ClassVar[str] = "threshold"
    direction: Direction
    threshold: float

    def __post_init__(self) -> None:
        validate.direction(self.kind, self.direction)
        threshold = validate.finite_number(self.kind, "threshold", self.threshold)
        object.__setattr__(self, "threshold", threshold)

    def mask(self, values: pd.DataFrame) -> pd.DataFrame:
        """True where the value is strictly beyond the threshold."""
        return _frame(values, self.scan(values).mask)

    def scan(self, values: pd.DataFrame) -> Scan:
        """Mask and the constant reference; no extra evidence."""
        mask = _beyond(values, self.direction, self.threshold)
        reference = np.broadcast_to(np.float64(self.threshold), mask.shape)
        return Scan(mask=mask, reference=reference, evidence={})

    def params(self) -> dict[str, Any]:
        """Direction and threshold, for finding details."""
        return {"direction": self.direction, "threshold": self.threshold}

    def describe(self, cell: Cell) -> str:
        """Sentence such as: X fell 20.3% YoY in 2014-12, below the -20% threshold."""
        percent = is_percent_change(cell.transform)
        label = transform_label(cell.transform, cell.period.freq)
        return (
            f"{cell.subject} {format_value(cell.value, label, percent=percent)} in {cell.period}, "
            f"{self.direction} the {format_threshold(self.threshold, percent=percent)} threshold."
        )


@dataclass(frozen=True, slots=True)
class Consecutive:
    """Fires once the value has been beyond the threshold for `count` periods in a row."""

    kind: ClassVar[str] = "consecutive"
    direction: Direction
    threshold: float
    count: int

    def __post_init__(self) -> None:
        validate.direction(self.kind, self.direction)
        threshold = validate.finite_number(self.kind, "threshold", self.threshold)
        object.__setattr__(self, "threshold", threshold)
        object.__setattr__(self, "count", validate.positive_int(self.kind, "count", self.count))

    def run_lengths(self, values: pd.DataFrame) -> pd.DataFrame:
        """Length of the beyond-threshold run ending at each cell (0 where not beyond)."""
        runs = run_lengths(_beyond(values, self.direction, self.threshold))
        return pd.DataFrame(runs, index=values.index, columns=values.columns)

    def mask(self, values: pd.DataFrame) -> pd.DataFrame:
        """True where the run ending at that period is at least `count` long."""
        return _frame(values, self.scan(values).mask)

    def scan(self, values: pd.DataFrame) -> Scan:
        """Mask, constant reference and the run length at every cell."""
        runs = run_lengths(_beyond(values, self.direction, self.threshold))
        reference = np.broadcast_to(np.float64(self.threshold), runs.shape)
        return Scan(mask=runs >= self.count, reference=reference, evidence={"run": runs})

    def params(self) -> dict[str, Any]:
        """Direction, threshold and count, for finding details."""
        return {"direction": self.direction, "threshold": self.threshold, "count": self.count}

    def describe(self, cell: Cell) -> str:
        """Sentence such as: X fell 21.6% YoY in 2015-03, the 5th consecutive monthly decline
        below -5%.
        """
        percent = is_percent_change(cell.transform)
        label = transform_label(cell.transform, cell.period.freq)
        run = ordinal(int(cell.details["run"]))
        return (
            f"{cell.subject} {format_value(cell.value, label, percent=percent)} in {cell.period}, "
            f"the {run} consecutive {self._streak_noun(cell, percent)} {self.direction} "
            f"{format_threshold(self.threshold, percent=percent)}."
        )

    def _streak_noun(self, cell: Cell, percent: bool) -> str:
        """Say "monthly decline" or "monthly rise" only when every value in the run did so.

        Levels, or a run of small rises below +5%, get the neutral period noun ("month").
        """
        freq = cell.period.freq
        if percent and self.direction == "below" and self.threshold <= 0:
            return f"{freq_word(freq)} decline"
        if percent and self.direction == "above" and self.threshold >= 0:
            return f"{freq_word(freq)} rise"
        return period_noun(freq)

"""Static bounds on transformed values: a single breach, a band, N consecutive breaches, or N
breaches among the last M periods.

All work on the whole 2-D array at once; comparisons with NaN are False, so a missing value is
never flagged, always breaks a run and never counts towards N of M.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from detectors import validate
from detectors.base import Cell, Scan, run_lengths
from detectors.errors import DetectorConfigError
from detectors.findings import FindingKind
from detectors.lazy import lazy
from detectors.transforms import bound_phrase, value_kind, value_phrase
from detectors.wording import freq_word, period_name, period_noun, run_phrase, window_phrase, window_tally

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")

Direction = Literal["above", "below"]
BandDirection = Literal["above", "below", "outside"]


def _beyond(values: pd.DataFrame, direction: Direction, threshold: float) -> np.ndarray:
    """Strictly beyond the threshold on the given side; NaN is never beyond."""
    array = values.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return array < threshold if direction == "below" else array > threshold


def _frame(values: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(mask, index=values.index, columns=values.columns)


def _reading(cell: Cell) -> str:
    return value_phrase(cell.value, cell.transform, cell.period.freq, **cell.transform_params)


def window_counts(flags: np.ndarray, window: int) -> np.ndarray:
    """How many of the last `window` rows (this one included) are True, down each column.

    A cumulative count minus the same count `window` rows earlier: two passes, any window.
    """
    totals = np.cumsum(flags, axis=0, dtype=np.int32)
    counts = np.empty_like(totals)
    counts[:window] = totals[:window]
    np.subtract(totals[window:], totals[:-window], out=counts[window:])
    return counts


@dataclass(frozen=True, slots=True)
class Threshold:
    """Fires wherever the value is beyond the threshold, or outside the `lower`..`upper` band."""

    kind: ClassVar[str] = "threshold"
    finding_kind: ClassVar[FindingKind] = "condition"
    direction: BandDirection
    threshold: float | None = None
    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        validate.choice(self.kind, "direction", self.direction, ("above", "below", "outside"))
        if self.direction == "outside":
            self._check_band()
            return
        if self.threshold is None:
            raise DetectorConfigError(f"{self.kind}: missing parameter(s) 'threshold'")
        for name in ("lower", "upper"):
            if getattr(self, name) is not None:
                raise DetectorConfigError(f"{self.kind}.{name} only applies to direction 'outside'")
        threshold = validate.finite_number(self.kind, "threshold", self.threshold)
        object.__setattr__(self, "threshold", threshold)

    def _check_band(self) -> None:
        if self.threshold is not None:
            raise DetectorConfigError(
                f"{self.kind}.threshold does not apply to direction 'outside'; use lower and upper"
            )
        missing = [name for name in ("lower", "upper") if getattr(self, name) is None]
        if missing:
            raise DetectorConfigError(
                f"{self.kind}: direction 'outside' needs parameter(s) {', '.join(map(repr, missing))}"
            )
        lower = validate.finite_number(self.kind, "lower", self.lower)
        upper = validate.finite_number(self.kind, "upper", self.upper)
        if not lower < upper:
            raise DetectorConfigError(
                f"{self.kind}.lower must be below {self.kind}.upper, got {lower} and {upper}"
            )
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    def mask(self, values: pd.DataFrame) -> pd.DataFrame:
        """True where the value is strictly beyond the threshold (or strictly outside the band)."""
        return _frame(values, self.scan(values).mask)

    def scan(self, values: pd.DataFrame) -> Scan:
        """Mask and the breached bound as reference; no extra evidence."""
        if self.direction == "outside":
            lower, upper = self._band()
            array = values.to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                low = array < lower
                mask = low | (array > upper)
            return Scan(mask=mask, reference=np.where(low, lower, upper), evidence={})
        mask = _beyond(values, self.direction, self._level())
        reference = np.broadcast_to(np.float64(self._level()), mask.shape)
        return Scan(mask=mask, reference=reference, evidence={})

    def _level(self) -> float:
        return cast(float, self.threshold)  # checked in __post_init__ for above/below

    def _band(self) -> tuple[float, float]:
        return cast(float, self.lower), cast(float, self.upper)  # checked for outside

    def params(self) -> dict[str, Any]:
        """Direction and threshold (or the band), for finding details."""
        if self.direction == "outside":
            return {"direction": self.direction, "lower": self.lower, "upper": self.upper}
        return {"direction": self.direction, "threshold": self.threshold}

    def describe(self, cell: Cell) -> str:
        """Sentence such as: X fell 20.3% YoY in December 2014, below the -20% threshold.

        Or, for a band: X fell 12.0% YoY in February 2015, outside the -10% to +10% band.
        """
        if self.direction == "outside":
            lower, upper = (bound_phrase(b, cell.transform) for b in self._band())
            return (f"{cell.subject} {_reading(cell)} in {period_name(cell.period)}, "
                    f"outside the {lower} to {upper} band.")
        threshold = bound_phrase(self._level(), cell.transform)
        return (
            f"{cell.subject} {_reading(cell)} in {period_name(cell.period)}, "
            f"{self.direction} the {threshold} threshold."
        )


@dataclass(frozen=True, slots=True)
class Consecutive:
    """Fires once the value has been beyond the threshold for `count` periods in a row, or, with
    `window`, for at least `count` of the last `window` periods (gaps count as not beyond).
    """

    kind: ClassVar[str] = "consecutive"
    finding_kind: ClassVar[FindingKind] = "condition"
    direction: Direction
    threshold: float
    count: int
    window: int | None = None

    def __post_init__(self) -> None:
        validate.direction(self.kind, self.direction)
        threshold = validate.finite_number(self.kind, "threshold", self.threshold)
        object.__setattr__(self, "threshold", threshold)
        object.__setattr__(self, "count", validate.positive_int(self.kind, "count", self.count))
        if self.window is not None:
            window = validate.positive_int(self.kind, "window", self.window)
            if window < self.count:
                raise DetectorConfigError(
                    f"{self.kind}.window must be >= count ({self.count}), got {window}"
                )
            object.__setattr__(self, "window", window)

    def run_lengths(self, values: pd.DataFrame) -> pd.DataFrame:
        """Length of the beyond-threshold run ending at each cell (0 where not beyond)."""
        runs = run_lengths(_beyond(values, self.direction, self.threshold))
        return pd.DataFrame(runs, index=values.index, columns=values.columns)

    def mask(self, values: pd.DataFrame) -> pd.DataFrame:
        """True where the run ending at that period is at least `count` long (or, with `window`,
        where at least `count` of the last `window` periods were beyond).
        """
        return _frame(values, self.scan(values).mask)

    def scan(self, values: pd.DataFrame) -> Scan:
        """Mask, constant reference and the run length (or the hits in the window) at every cell."""
        beyond = _beyond(values, self.direction, self.threshold)
        reference = np.broadcast_to(np.float64(self.threshold), beyond.shape)
        if self.window is not None:
            hits = window_counts(beyond, self.window)
            return Scan(mask=hits >= self.count, reference=reference, evidence={"hits": hits})
        runs = run_lengths(beyond)
        return Scan(mask=runs >= self.count, reference=reference, evidence={"run": runs})

    def params(self) -> dict[str, Any]:
        """Direction, threshold, count (and window when set), for finding details."""
        params: dict[str, Any] = {
            "direction": self.direction,
            "threshold": self.threshold,
            "count": self.count,
        }
        if self.window is not None:
            params["window"] = self.window
        return params

    def describe(self, cell: Cell) -> str:
        """Sentence such as: X fell 21.6% YoY in March 2015, the 5th consecutive monthly decline
        below -5%. With a window: X fell 6.0% YoY in March 2015, the 4th decline below -5% in the
        last 6 months.
        """
        bound = bound_phrase(self.threshold, cell.transform)
        if self.window is not None:
            return self._describe_window(cell, bound)
        noun = self._streak_noun(cell)
        noun = f"{freq_word(cell.period.freq)} {noun}" if noun in ("decline", "rise") else noun
        return (
            f"{cell.subject} {_reading(cell)} in {period_name(cell.period)}, "
            f"{run_phrase(int(cell.details['run']), noun, self.direction, bound)}."
        )

    def _describe_window(self, cell: Cell, bound: str) -> str:
        hits = int(cell.details["hits"])
        noun = period_noun(cell.period.freq)
        last = f"the last {self.window} {noun}s" if self.window != 1 else f"the last {noun}"
        value = cell.value
        beyond = value < self.threshold if self.direction == "below" else value > self.threshold
        if beyond:
            return (
                f"{cell.subject} {_reading(cell)} in {period_name(cell.period)}, "
                f"{window_phrase(hits, self._streak_noun(cell), self.direction, bound, last)}."
            )
        opening = (
            f"{cell.subject} has no value for {period_name(cell.period)}"
            if np.isnan(value)
            else f"{cell.subject} {_reading(cell)} in {period_name(cell.period)}"
        )
        return f"{opening}; {window_tally(hits, last, self.direction, bound)}."

    def _streak_noun(self, cell: Cell) -> str:
        """Say "decline" or "rise" only when every counted value was a change of that sign.

        Levels, shares, or small rises below +5% get the neutral period noun ("month").
        """
        change = value_kind(cell.transform) in ("percent_change", "change")
        if change and self.direction == "below" and self.threshold <= 0:
            return "decline"
        if change and self.direction == "above" and self.threshold >= 0:
            return "rise"
        return period_noun(cell.period.freq)

"""What every detector offers, and the run-length helper they share.

A detector scans a whole transformed panel at once (numpy on the 2-D array) and returns a
Scan: where it fires, the reference it compared against, and per-cell evidence such as run
lengths. Findings are built afterwards only for the cells a caller selects, which keeps the
hot path vectorized and the wording out of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeAlias

from detectors.findings import FindingKind
from detectors.lazy import lazy

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")


class CellValues:
    """A panel-shaped array that has values at a few cells and `fill` everywhere else.

    Event detectors report evidence only where they found something (a break, the newest
    period after it); writing it into dense panel-sized arrays cost more than finding it.
    Indexing with a pair of integer arrays (what `evaluate` does) looks the cells up;
    anything else (`np.asarray`, slices) works on the dense array, built on demand."""

    __slots__ = ("_fill", "_keys", "_values", "dtype", "shape")

    def __init__(self, shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
                 fill: Any = math.nan) -> None:
        self.shape = shape
        values = np.asarray(values)
        self.dtype = values.dtype
        keys = np.asarray(rows, dtype=np.int64) * shape[1] + np.asarray(cols, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        last = np.r_[keys[1:] != keys[:-1], True] if len(keys) else np.zeros(0, dtype=bool)
        self._keys, self._values, self._fill = keys[last], values[last], fill  # a cell set twice: the last

    @property
    def ndim(self) -> int:
        return 2

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, tuple) and len(index) == 2 and all(
                isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in index):
            rows, cols = (np.asarray(i, dtype=np.int64) for i in index)
            wanted = rows * self.shape[1] + cols
            at = np.minimum(np.searchsorted(self._keys, wanted), max(len(self._keys) - 1, 0))
            found = self._keys[at] == wanted if len(self._keys) else np.zeros(len(wanted), dtype=bool)
            out = np.full(len(wanted), self._fill, dtype=self.dtype)
            out[found] = self._values[at[found]]
            return out
        return np.asarray(self)[index]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        dense = np.full(self.shape, self._fill, dtype=self.dtype)
        dense.reshape(-1)[self._keys] = self._values
        return dense if dtype is None else dense.astype(dtype)


Evidence: TypeAlias = "np.ndarray | CellValues"  # per cell, aligned with the panel


@dataclass(frozen=True, slots=True)
class Scan:
    """Whole-panel output of a detector, aligned with the panel's (rows, columns).

    `latest`, when given, is where scope "latest" looks instead of `mask`: an event detector
    marks each break in `mask` and, while a break is recent, the newest period in `latest`.
    `periods` is evidence holding panel rows, reported in findings as period strings.
    """

    mask: np.ndarray
    reference: Evidence
    evidence: Mapping[str, Evidence]
    latest: np.ndarray | None = None
    periods: Mapping[str, Evidence] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Cell:
    """One flagged cell, with what a summary sentence needs to speak of it."""

    subject: str
    period: pd.Period
    value: float
    reference: float
    transform: str
    details: Mapping[str, Any]
    transform_params: Mapping[str, Any] = field(default_factory=dict)


class Detector(Protocol):
    """A pure, parameterised test over a transformed panel.

    `finding_kind` says whether its findings are conditions (they hold while the data says
    so) or events (they happen once, like a break). What else it needs (a clock, the previous
    vintage) is declared in the registry (`detectors/registry.py`).
    """

    kind: ClassVar[str]
    finding_kind: ClassVar[FindingKind]

    def mask(self, values: pd.DataFrame) -> pd.DataFrame:
        """Boolean frame, True where the detector fires."""
        ...

    def scan(self, values: pd.DataFrame) -> Scan:
        """Mask, reference and per-cell evidence in one vectorized pass."""
        ...

    def params(self) -> dict[str, Any]:
        """The parameters, as plain values for finding details."""
        ...

    def describe(self, cell: Cell) -> str:
        """One plain-language sentence about a flagged cell."""
        ...


class ClockedDetector(Detector, Protocol):
    """A detector whose verdict depends on the date (late data): registered with
    `Needs.CLOCK`, it is given the caller's clock reading, so the detector itself stays pure.
    """

    def scan(self, values: pd.DataFrame, now: date | None = None) -> Scan:
        """Mask, reference and evidence as of `now` (a date or datetime)."""
        ...


class Windowed(Detector, Protocol):
    """A causal detector that reads a bounded number of periods before each flag (registered
    with `windowed=True`)."""

    def lookback(self, freq: Any) -> int:
        """Periods before t that the flag at t reads."""
        ...


def run_lengths(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at each cell, counted down each column.

    One pass down the rows, each a whole-row operation: run = (run above + 1) where True,
    else 0. Rows are few (periods) and wide (series), so the Python loop costs nothing. A
    column-major array (a DataFrame's values) is walked down its columns by a compiled loop
    instead, in memory order, and the runs come out column-major too.
    """
    flags = np.asarray(flags, dtype=bool)
    if flags.ndim == 2 and flags.flags.f_contiguous and not flags.flags.c_contiguous:
        from detectors.runs_kernel import column_runs

        columns = np.empty(flags.shape, dtype=np.int32, order="F")
        column_runs(flags, columns)
        return columns
    runs = np.empty(flags.shape, dtype=np.int32)  # a run is at most the number of periods
    above = np.zeros(flags.shape[1:], dtype=np.int32)
    for row in range(flags.shape[0]):
        out = runs[row]
        np.add(above, 1, out=out)
        np.multiply(out, flags[row], out=out)
        above = out
    return runs


def last_valid_rows(raw: np.ndarray) -> np.ndarray:
    """Row of the last non-NaN value in each column, -1 where a column is all NaN."""
    valid = ~np.isnan(raw)
    if raw.shape[0] == 0:
        return np.full(raw.shape[1], -1, dtype=np.int64)
    last = raw.shape[0] - 1 - np.argmax(valid[::-1], axis=0)
    return np.where(valid.any(axis=0), last, -1)

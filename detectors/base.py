"""What every detector offers, and the run-length helper they share.

A detector scans a whole transformed panel at once (numpy on the 2-D array) and returns a
Scan: where it fires, the reference it compared against, and per-cell evidence such as run
lengths. Findings are built afterwards only for the cells a caller selects, which keeps the
hot path vectorized and the wording out of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class Scan:
    """Whole-panel output of a detector, aligned with the panel's (rows, columns)."""

    mask: np.ndarray
    reference: np.ndarray
    evidence: Mapping[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class Cell:
    """One flagged cell, with what a summary sentence needs to speak of it."""

    subject: str
    period: pd.Period
    value: float
    reference: float
    transform: str
    details: Mapping[str, Any]


class Detector(Protocol):
    """A pure, parameterised test over a transformed panel."""

    kind: ClassVar[str]

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


def run_lengths(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at each cell, counted down each column.

    Vectorized reset trick: each False row records its own (1-based) position, a running
    maximum carries the last reset down the column, and the run is the distance to it.
    """
    flags = np.asarray(flags, dtype=bool)
    rows = np.arange(1, flags.shape[0] + 1).reshape((-1,) + (1,) * (flags.ndim - 1))
    resets = np.where(flags, 0, rows)
    last_reset = np.maximum.accumulate(resets, axis=0) if flags.shape[0] else resets
    return (rows - last_reset).astype(np.int64)

"""Materiality guards: a flagged period counts only where the flow is large enough to matter.

A US$ 20,000 flow that halved is a 50% fall and, at HS-6 depth, thousands of such cells flag
every month. A rule's guards say what must hold at a period, in the series' own unit, for
its flag to be a finding:

- `min_level`: the series' trailing mean over the last `LEVEL_WINDOW` periods (the period
  itself included, missing periods left out) reaches it;
- `min_change`: the absolute change of the level against the comparison period (a year
  back for year-on-year rules, the period before otherwise) reaches it.

Pure: raw levels in, a boolean mask out. The detectors never see guards; `evaluate` applies
the mask to what a detector flagged, so a guarded-out period is not a finding and breaks a
run of flags like any unflagged period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from detectors.lazy import lazy
from detectors.panel import periods_per_year

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

LEVEL_WINDOW = 12  # periods averaged for `min_level`


def comparison_lag(transform: str, freq: object) -> int:
    """Periods back that a rule's change is measured against: a year for `yoy_pct`, one
    period for every other transform."""
    return periods_per_year(freq) if transform == "yoy_pct" else 1


@dataclass(frozen=True, slots=True)
class Materiality:
    """A rule's guards; None leaves a guard off. `lag` is the comparison period, in rows."""

    min_level: float | None = None
    min_change: float | None = None
    lag: int = 1

    @property
    def active(self) -> bool:
        return self.min_level is not None or self.min_change is not None

    def level_ok(self, raw: np.ndarray) -> np.ndarray:
        """Where the trailing mean level reaches `min_level` (all True without the guard)."""
        if self.min_level is None:
            return np.ones(raw.shape, dtype=bool)
        return trailing_mean(raw, LEVEL_WINDOW) >= self.min_level

    def change_ok(self, raw: np.ndarray) -> np.ndarray:
        """Where |level - level `lag` periods back| reaches `min_change`; a period without a
        comparison value fails the guard (its change is unknown)."""
        if self.min_change is None:
            return np.ones(raw.shape, dtype=bool)
        change = np.full(raw.shape, np.nan)
        if self.lag < raw.shape[0]:
            change[self.lag:] = raw[self.lag:] - raw[:-self.lag]
        with np.errstate(invalid="ignore"):
            return np.abs(change) >= self.min_change

    def passes(self, raw: np.ndarray) -> np.ndarray:
        """Where every guard holds."""
        ok = self.level_ok(raw)
        if self.min_change is not None:
            ok &= self.change_ok(raw)
        return ok


def trailing_mean(raw: np.ndarray, window: int) -> np.ndarray:
    """Mean of the non-missing values among each cell's last `window` rows (itself
    included), NaN where there are none; by cumulative sums, one pass over the array."""
    filled = np.where(np.isnan(raw), 0.0, raw)
    counts = (~np.isnan(raw)).astype(np.int64)
    sums = np.cumsum(filled, axis=0)
    ns = np.cumsum(counts, axis=0)
    if window < raw.shape[0]:
        sums[window:] = sums[window:] - sums[:-window].copy()
        ns[window:] = ns[window:] - ns[:-window].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ns > 0, sums / np.maximum(ns, 1), np.nan)

"""Revisions: a published figure that moved between two vintages of the same panel.

Official statistics get revised after first publication. A desk wants to hear when a figure
it acted on moved materially ("March 2015 was revised from -3.1% to -4.0% YoY"). The
detector compares the transformed panel before and after a fetch, so a revision of a level
shows up in the YoY it feeds (this year's and next year's), as readers see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from detectors import validate
from detectors.base import Cell, Scan
from detectors.errors import DetectorConfigError
from detectors.findings import Finding, FindingKind
from detectors.guards import Materiality
from detectors.lazy import lazy
from detectors.panel import check_panel
from detectors.transforms import apply_transform, bound_phrase, transform_label, value_kind
from detectors.wording import format_level, period_name

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")


@dataclass(frozen=True, slots=True)
class Revision:
    """Flags a published value whose transformed figure moved by more than `threshold`
    (percentage points for percent transforms, source units for levels)."""

    kind: ClassVar[str] = "revision"
    finding_kind: ClassVar[FindingKind] = "event"

    threshold: float = 0.0

    def __post_init__(self) -> None:
        threshold = validate.finite_number(self.kind, "threshold", self.threshold)
        if threshold < 0:
            raise DetectorConfigError(f"revision.threshold must be >= 0, got {self.threshold}")

    def params(self) -> dict[str, Any]:
        return {"threshold": float(self.threshold)}

    def mask(self, values: pd.DataFrame) -> pd.DataFrame:
        raise TypeError("the revision detector compares two vintages: call find(before, after)")

    def scan(self, values: pd.DataFrame) -> Scan:
        raise TypeError("the revision detector compares two vintages: call find(before, after)")

    def describe(self, cell: Cell) -> str:
        return str(cell.details.get("sentence", ""))

    def find(
        self,
        before: pd.DataFrame,
        after: pd.DataFrame,
        *,
        rule: str,
        transform: str,
        severity: str,
        subjects: Mapping[str, str] | None = None,
        transform_params: Mapping[str, Any] | None = None,
        materiality: Materiality | None = None,
    ) -> list[Finding]:
        """One finding per series: its largest revision beyond the threshold (an event keyed
        by the revised period). `before` and `after` are panels of the same series.
        `materiality` (the rule's guards): `min_level` holds the series' trailing mean level at
        the revised period to it, `min_change` the largest revision of the series' level (in
        its unit) between the two vintages, so a revision of a small flow, or a small revision,
        is not a finding."""
        check_panel(before)
        check_panel(after)
        params = dict(transform_params or {})
        index = before.index.union(after.index)
        old = apply_transform(transform, before.reindex(index), **params).reindex(columns=after.columns)
        new = apply_transform(transform, after.reindex(index), **params)
        a, b = old.to_numpy(dtype=float), new.to_numpy(dtype=float)
        moved = np.abs(b - a)
        moved = np.where(np.isfinite(moved), moved, -1.0)  # a figure that (dis)appeared is not a revision
        if materiality is not None and materiality.active:
            levels_then = before.reindex(index).reindex(columns=after.columns).to_numpy(dtype=float)
            moved = _guarded(moved, levels_then, after.reindex(index).to_numpy(dtype=float), materiality)
        findings = []
        label = transform_label(transform, index.freq, **params)
        for j, series in enumerate(after.columns.tolist()):
            i = int(np.argmax(moved[:, j])) if len(index) else 0
            if not len(index) or moved[i, j] <= self.threshold or moved[i, j] < 0:
                continue
            period = index[i]
            subject = (subjects or {}).get(str(series), str(series))
            unit = f" {label}" if label and value_kind(transform) != "level" else ""
            sentence = (f"{subject}: {period_name(period)} was revised from "
                        f"{_figure(a[i, j], transform)} to {_figure(b[i, j], transform)}{unit}.")
            details = {"transform": transform, "threshold": float(self.threshold),
                       "break_period": str(period), "before": float(a[i, j]), "after": float(b[i, j]),
                       "held_for": 1}
            findings.append(Finding(rule=rule, series=str(series), period=after[series].last_valid_index()
                                    or period, kind="event", severity=severity, value=float(b[i, j]),
                                    reference=float(a[i, j]), details=details, summary=sentence))
        return findings


def _guarded(moved: np.ndarray, before: np.ndarray, after: np.ndarray,
             materiality: Materiality) -> np.ndarray:
    """`moved` with the cells the guards remove set to -1 (never a revision)."""
    ok = materiality.level_ok(after)
    if materiality.min_change is not None:
        with np.errstate(invalid="ignore"):
            size = np.nanmax(np.where(np.isfinite(after - before), np.abs(after - before), 0.0), axis=0,
                             initial=0.0)
        ok &= (size >= materiality.min_change)[np.newaxis, :]
    return np.where(ok, moved, -1.0)


def _figure(x: float, transform: str) -> str:
    """-3.1%, +2.5%, 3,012.6: one decimal, the sign shown for changes."""
    if value_kind(transform) == "level":
        return format_level(x)
    return bound_phrase(round(x, 1), transform)

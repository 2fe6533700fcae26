"""Run one rule (transform + detector) over a panel and turn flagged cells into findings.

The detector scans the whole panel once; Finding objects are built only for the selected
cells: each series' newest observation ("latest", what the daemon alerts on) or every
flagged cell ("all", for backtests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from detectors.base import Cell, Detector, run_lengths
from detectors.findings import Finding
from detectors.panel import check_panel
from detectors.transforms import apply_transform

Scope = Literal["latest", "all"]


def latest_periods(panel: pd.DataFrame) -> dict[str, pd.Period]:
    """Newest period with a non-NaN value per series; series with no data are absent."""
    check_panel(panel)
    rows = _last_valid_rows(panel.to_numpy(dtype=float))
    return {
        str(series): panel.index[row]
        for series, row in zip(panel.columns, rows, strict=True)
        if row >= 0
    }


def _last_valid_rows(raw: np.ndarray) -> np.ndarray:
    """Row of the last non-NaN value in each column, -1 where a column is all NaN."""
    valid = ~np.isnan(raw)
    if raw.shape[0] == 0:
        return np.full(raw.shape[1], -1, dtype=np.int64)
    last = raw.shape[0] - 1 - np.argmax(valid[::-1], axis=0)
    return np.where(valid.any(axis=0), last, -1)


def _selected_cells(raw: np.ndarray, mask: np.ndarray, scope: Scope) -> tuple[np.ndarray, ...]:
    """(rows, cols) of the flagged cells the scope asks about."""
    if scope == "all":
        return np.nonzero(mask)
    rows = _last_valid_rows(raw)
    cols = np.flatnonzero(rows >= 0)
    rows = rows[cols]
    hit = mask[rows, cols]
    return rows[hit], cols[hit]


def evaluate(
    panel: pd.DataFrame,
    *,
    rule: str,
    transform: str,
    detector: Detector,
    severity: str,
    subjects: Mapping[str, str] | None = None,
    scope: Scope = "latest",
) -> list[Finding]:
    """Findings of `detector` on `transform(panel)`, sorted by (series, period).

    `details["held_for"]` counts the consecutive flagged periods ending at the finding's
    period, so the alert book can honour `for: N` in reference periods.
    """
    if scope not in ("latest", "all"):
        raise ValueError(f"scope must be 'latest' or 'all', got {scope!r}")
    check_panel(panel)
    values = apply_transform(transform, panel)
    scan = detector.scan(values)
    rows, cols = _selected_cells(panel.to_numpy(dtype=float), scan.mask, scope)
    if len(rows) == 0:
        return []
    names = [str(c) for c in panel.columns]
    order = np.lexsort((rows, np.asarray(names, dtype=object)[cols]))
    rows, cols = rows[order], cols[order]
    # Gather every selected cell with one fancy-index per array, as plain Python numbers.
    periods = panel.index[rows]
    value = values.to_numpy(dtype=float)[rows, cols].tolist()
    reference = scan.reference[rows, cols].tolist()
    held_for = run_lengths(scan.mask)[rows, cols].tolist()
    evidence = {name: array[rows, cols].tolist() for name, array in scan.evidence.items()}
    params = detector.params()
    subjects = subjects or {}
    findings = []
    for k, (period, j) in enumerate(zip(periods, cols.tolist(), strict=True)):
        series = names[j]
        details: dict[str, Any] = {
            "transform": transform,
            **params,
            **{name: cells[k] for name, cells in evidence.items()},
            "held_for": held_for[k],
        }
        cell = Cell(
            subject=subjects.get(series, series),
            period=period,
            value=value[k],
            reference=reference[k],
            transform=transform,
            details=details,
        )
        findings.append(
            Finding(
                rule=rule,
                series=series,
                period=period,
                kind="condition",
                severity=severity,
                value=value[k],
                reference=reference[k],
                details=details,
                summary=detector.describe(cell),
            )
        )
    return findings

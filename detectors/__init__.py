"""Pure detectors: a panel in, findings out. No clock, no I/O, inputs never mutated.

`KINDS` (in `registry.py`) maps a config `kind` to its class and declares what it needs
besides a panel; `build_detector` validates parameters by name so a bad rule fails at load
time with a message naming the parameter.
"""

from __future__ import annotations

from detectors.base import Cell, Detector, Scan
from detectors.changepoint import Changepoint
from detectors.errors import DetectorConfigError
from detectors.evaluate import evaluate, latest_periods
from detectors.findings import Finding
from detectors.panel import PanelError, check_panel, periods_per_year
from detectors.registry import DETECTORS, KINDS, DetectorKind, Needs, build_detector, kind_of, needs
from detectors.revision import Revision
from detectors.robust import HistoryShortfall, RobustZ
from detectors.staleness import Staleness
from detectors.threshold import Consecutive, Threshold
from detectors.transforms import (
    TRANSFORMS,
    UnknownTransformError,
    apply_transform,
    check_transform,
    is_percent_change,
    transform_label,
    value_kind,
)

__all__ = [
    "DETECTORS",
    "KINDS",
    "TRANSFORMS",
    "Cell",
    "Changepoint",
    "Consecutive",
    "Detector",
    "DetectorConfigError",
    "DetectorKind",
    "Finding",
    "HistoryShortfall",
    "Needs",
    "PanelError",
    "Revision",
    "RobustZ",
    "Scan",
    "Staleness",
    "Threshold",
    "UnknownTransformError",
    "apply_transform",
    "build_detector",
    "check_panel",
    "check_transform",
    "evaluate",
    "is_percent_change",
    "kind_of",
    "latest_periods",
    "needs",
    "periods_per_year",
    "transform_label",
    "value_kind",
]

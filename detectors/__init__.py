"""Pure detectors: a panel in, findings out. No clock, no I/O, inputs never mutated.

`DETECTORS` maps a config `kind` to its class; `build_detector` validates parameters by
name so a bad rule fails at load time with a message naming the parameter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from detectors.base import Cell, Detector, Scan
from detectors.changepoint import Changepoint
from detectors.errors import DetectorConfigError
from detectors.evaluate import evaluate, latest_periods
from detectors.findings import Finding
from detectors.panel import PanelError, check_panel, periods_per_year
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

DETECTORS: Mapping[str, type] = MappingProxyType(
    {
        "threshold": Threshold,
        "consecutive": Consecutive,
        "robust_z": RobustZ,
        "staleness": Staleness,
        "changepoint": Changepoint,
        "revision": Revision,
    }
)


def build_detector(kind: str, params: Mapping[str, Any]) -> Detector:
    """Construct the detector registered as `kind` from config parameters."""
    if kind not in DETECTORS:
        known = ", ".join(sorted(DETECTORS))
        raise DetectorConfigError(f"unknown detector kind {kind!r}; known kinds: {known}")
    cls = DETECTORS[kind]
    fields = dataclasses.fields(cls)
    names = {f.name for f in fields}
    unknown = sorted(set(params) - names, key=str)
    if unknown:
        raise DetectorConfigError(
            f"{kind}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(names))}"
        )
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in params]
    if missing:
        raise DetectorConfigError(f"{kind}: missing parameter(s) {', '.join(map(repr, missing))}")
    detector: Detector = cls(**params)
    return detector


__all__ = [
    "DETECTORS",
    "TRANSFORMS",
    "Cell",
    "Changepoint",
    "Consecutive",
    "Detector",
    "DetectorConfigError",
    "Finding",
    "HistoryShortfall",
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
    "latest_periods",
    "periods_per_year",
    "transform_label",
    "value_kind",
]

"""The detector registry: config `kind` -> class, and what each kind needs besides a panel.

Capabilities are declared here, by kind, rather than read off the detector object: a caller
learns from the registry whether a detector takes the evaluation time (`Needs.CLOCK`) or the
panel as it stood before a fetch's revisions (`Needs.PREVIOUS`), and whether its flag at a
period reads data up to that period only (`causal`: backtests replay it fast, and scope
"latest" scores only the newest rows it looks back over).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

from detectors.base import Detector
from detectors.changepoint import Changepoint
from detectors.errors import DetectorConfigError
from detectors.revision import Revision
from detectors.robust import RobustZ
from detectors.staleness import Staleness
from detectors.threshold import Consecutive, Threshold


class Needs(Enum):
    """An input a detector takes besides the transformed panel."""

    CLOCK = "clock"  # the evaluation time: its verdict is about data that did not arrive
    PREVIOUS = "previous"  # the panel before this fetch's revisions: it compares two vintages


@dataclass(frozen=True, slots=True)
class DetectorKind:
    cls: type
    needs: frozenset[Needs] = frozenset()
    causal: bool = False  # the flag at t reads data up to t only
    windowed: bool = False  # reads a bounded number of periods before t (`Windowed.lookback`)


KINDS: Mapping[str, DetectorKind] = MappingProxyType(
    {
        "threshold": DetectorKind(Threshold, causal=True),
        "consecutive": DetectorKind(Consecutive, causal=True),
        "robust_z": DetectorKind(RobustZ, causal=True, windowed=True),
        "staleness": DetectorKind(Staleness, frozenset({Needs.CLOCK})),
        "changepoint": DetectorKind(Changepoint),
        "revision": DetectorKind(Revision, frozenset({Needs.PREVIOUS})),
    }
)

DETECTORS: Mapping[str, type] = MappingProxyType({kind: entry.cls for kind, entry in KINDS.items()})


def kind_of(detector: Detector) -> DetectorKind:
    """The registration of a built detector (every detector class names its `kind`)."""
    return KINDS[detector.kind]


def needs(detector: Detector, need: Needs) -> bool:
    return need in kind_of(detector).needs


def build_detector(kind: str, params: Mapping[str, Any]) -> Detector:
    """Construct the detector registered as `kind` from config parameters."""
    if kind not in KINDS:
        known = ", ".join(sorted(KINDS))
        raise DetectorConfigError(f"unknown detector kind {kind!r}; known kinds: {known}")
    cls = KINDS[kind].cls
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

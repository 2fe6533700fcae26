"""Finding: what a detector reports about one series at one reference period."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from detectors.lazy import lazy

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")


FindingKind = Literal["condition", "event"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation worth alerting on.

    A condition holds for as long as the data says so (the alert book counts how many periods
    it held); an event happens once (one alert per break). `details` is copied into a
    read-only mapping so a finding can be shared across threads and stages without surprises.
    """

    rule: str
    series: str
    period: pd.Period
    kind: FindingKind
    severity: str
    value: float
    reference: float
    details: Mapping[str, Any]
    summary: str

    def __post_init__(self) -> None:
        if self.kind not in ("condition", "event"):
            raise ValueError(f"finding kind must be 'condition' or 'event', got {self.kind!r}")
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

"""What a backtest reports for each alert: its transitions to firing and to resolved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from detectors.contributions import Drivers


@dataclass(frozen=True, slots=True)
class Event:
    """A transition to firing or resolved, and who the routing tree would have told."""

    rule: str
    series: str
    labels: Mapping[str, str]
    period: pd.Period
    status: str
    value: float
    threshold: float
    receivers: tuple[str, ...]
    severity: str
    since: pd.Period
    episode: int
    notify: bool
    summary: str
    drivers: Drivers | None = None  # a firing parent's contributors along the rule's `drill`
    folded_into: str | None = None  # the parent whose message would have said it (`fold_children`)

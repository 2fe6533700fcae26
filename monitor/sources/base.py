"""What every source returns: the long frame, plus the problems it skipped over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

LONG_COLUMNS = ("series", "period", "value")


class SourceError(Exception):
    """A source that could not produce data at all; `reason` is a short metrics label."""

    def __init__(self, source: str, reason: str, message: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"source {source!r}: {message}")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The long frame (columns series, period, value and labels) and skipped-row notes.

    A bad row or cell is skipped and reported here instead of failing the whole source,
    so one broken series never hides the others."""

    frame: pd.DataFrame
    problems: Sequence[str] = field(default_factory=tuple)


class Source(Protocol):
    name: str

    def fetch(self) -> FetchResult:
        """Everything the source currently publishes (the store works out what changed)."""
        ...


def empty_long_frame() -> pd.DataFrame:
    return pd.DataFrame({"series": pd.Series(dtype=str), "period": pd.Series(dtype="period[M]"),
                         "value": pd.Series(dtype=float)})

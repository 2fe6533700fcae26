"""What every source returns: the long frame, plus the problems it skipped over."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import pandas as pd

from monitor.labels import normalise_labels, series_id
from monitor.periods import period_dtype

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

    def fetch(self, now: datetime | None = None) -> FetchResult:
        """Everything the source currently publishes (the store works out what changed).

        `now` is the caller's clock, for sources whose query depends on the date (the
        latest period to ask for); sources never read the clock themselves."""
        ...


def empty_long_frame() -> pd.DataFrame:
    return pd.DataFrame({"series": pd.Series(dtype=str), "period": pd.Series(dtype="period[M]"),
                         "value": pd.Series(dtype=float)})


@dataclass(frozen=True, slots=True)
class Observation:
    """One value as a source read it, before label normalisation."""

    labels: Mapping[str, str]
    period: pd.Period
    value: float


def long_frame(observations: Iterable[Observation], frequency: str, source: str) -> pd.DataFrame:
    """Observations -> the long frame: labels normalised (each distinct set once), series
    ids derived, a `source` label added; a repeated (series, period) keeps the last value."""
    normalised: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    rows = []
    for obs in observations:
        key = tuple(sorted({**obs.labels, "source": source}.items()))
        if key not in normalised:
            labels = normalise_labels(dict(key))
            normalised[key] = {"series": series_id(labels), **labels}
        rows.append((normalised[key], obs.period, obs.value))
    if not rows:
        return empty_long_frame()
    label_keys = sorted({k for labels, _, _ in rows for k in labels} - {"series"})
    frame = pd.DataFrame({
        "series": [labels["series"] for labels, _, _ in rows],
        "period": pd.array([period for _, period, _ in rows], dtype=period_dtype(frequency)),
        "value": [float(value) for _, _, value in rows],
        **{key: [labels.get(key) for labels, _, _ in rows] for key in label_keys},
    })
    frame = frame.drop_duplicates(["series", "period"], keep="last")
    return frame.sort_values(["series", "period"], kind="stable").reset_index(drop=True)

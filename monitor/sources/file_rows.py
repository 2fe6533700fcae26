"""Rows of a file source after parsing: one row per series and period (repeats reported with
the lines that give them, in the words `tradewatch detect` uses), and categorical labels
without the categories no row uses any more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.store.frames import grouped_and_increasing

ROW = "_row"  # the table row each frame row came from, while the frame is being built


@dataclass(frozen=True, slots=True)
class Repeat:
    """One series and period that several rows of a file give: the rows' positions in the
    table, in file order."""

    series: str
    period: str
    positions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Places:
    """How a file's rows are named in problems: CSV lines and Excel rows by the number an
    editor shows (the header is 1), JSON records and Parquet rows counted from 1."""

    location: str
    first: int  # the number of the table's first row
    unit: str  # line, row or record
    inline: bool  # `f.csv:7` rather than `f.parquet row 7`

    @classmethod
    def of(cls, location: str, fmt: str, skip_rows: int = 0) -> Places:
        if fmt in ("csv", "excel"):
            return cls(location, 2 + skip_rows, "line" if fmt == "csv" else "row", True)
        return cls(location, 1, "record" if fmt == "json" else "row", False)

    def at(self, position: int) -> str:
        number = position + self.first
        return f"{self.location}:{number}" if self.inline else f"{self.location} {self.unit} {number}"

    def all(self, positions: Iterable[int]) -> str:
        return f"{self.unit}s " + ", ".join(str(p + self.first) for p in positions)


def repeat_problem(location: str, key: str, places: str) -> str:
    """The one wording of a repeated row, for the file source and `tradewatch detect`:
    `f.csv: series a, period 2001-10 appears on lines 2, 4`."""
    return f"{location}: {key} appears on {places}"


def last_of_duplicates(frame: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, list[Repeat], int]:
    """Keep the last row of each (series, period), in file order; the first `limit` repeated
    (series, period) with the table rows that give each (the frame's ROW column), and how
    many repeat in all, so a repeat is reported with its lines, never merged silently."""
    if frame.empty:
        return frame.reset_index(drop=True), [], 0
    series = frame["series"]
    codes = (np.asarray(series.cat.codes, dtype=np.int64) if isinstance(series.dtype, pd.CategoricalDtype)
             else pd.factorize(series)[0].astype(np.int64))
    ordinals = np.asarray(frame["period"].array.asi8, dtype=np.int64)
    low = int(ordinals.min())
    if grouped_and_increasing(codes, ordinals):  # series by series, oldest first: nothing repeats
        return frame.reset_index(drop=True), [], 0
    key = pd.Series(codes * (int(ordinals.max()) - low + 1) + (ordinals - low))
    earlier = key.duplicated(keep="last").to_numpy()
    if not earlier.any():
        return frame.reset_index(drop=True), [], 0
    involved = np.flatnonzero(key.duplicated(keep=False).to_numpy())
    table_rows = np.asarray(frame[ROW].to_numpy(), dtype=np.int64)[involved]
    groups = pd.DataFrame({"key": key.to_numpy()[involved], "row": table_rows, "at": involved})
    firsts = groups.groupby("key", sort=False)["row"].min().sort_values(kind="stable")
    repeats = []
    for group_key in firsts.index[:limit]:
        members = groups[groups["key"] == group_key]
        at = int(members["at"].iloc[0])
        repeats.append(Repeat(str(frame["series"].iloc[at]), str(frame["period"].iloc[at]),
                              tuple(sorted(int(r) for r in members["row"]))))
    return frame[~earlier].reset_index(drop=True), repeats, len(firsts)


def without_unused(column: pd.Series) -> pd.Series:
    """remove_unused_categories, by counting rather than sorting millions of codes."""
    codes = np.asarray(column.cat.codes, dtype=np.int64)
    used = np.bincount(codes[codes >= 0], minlength=len(column.cat.categories)) > 0
    if used.all():
        return column
    renumber = np.r_[np.cumsum(used) - 1, -1]
    categories = column.cat.categories[used]
    return pd.Series(pd.Categorical.from_codes(renumber[codes], categories=categories), index=column.index)

"""Rows of a file source after parsing: one row per series and period (repeats reported),
and categorical labels without the categories no row uses any more."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitor.store.frames import grouped_and_increasing


def last_of_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[int, str] | None]:
    """Keep the last row of each (series, period), in file order; say how many repeated and
    the first, so a repeat is reported, never merged silently."""
    if frame.empty:
        return frame.reset_index(drop=True), None
    series = frame["series"]
    codes = (np.asarray(series.cat.codes, dtype=np.int64) if isinstance(series.dtype, pd.CategoricalDtype)
             else pd.factorize(series)[0].astype(np.int64))
    ordinals = np.asarray(frame["period"].array.asi8, dtype=np.int64)
    low = int(ordinals.min())
    if grouped_and_increasing(codes, ordinals):  # series by series, oldest first: nothing repeats
        return frame.reset_index(drop=True), None
    key = codes * (int(ordinals.max()) - low + 1) + (ordinals - low)
    earlier = pd.Series(key).duplicated(keep="last").to_numpy()
    if not earlier.any():
        return frame.reset_index(drop=True), None
    first = int(np.flatnonzero(earlier)[0])
    shown = f"series {frame['series'].iloc[first]} period {frame['period'].iloc[first]}"
    return frame[~earlier].reset_index(drop=True), (int(earlier.sum()), shown)


def without_unused(column: pd.Series) -> pd.Series:
    """remove_unused_categories, by counting rather than sorting millions of codes."""
    codes = np.asarray(column.cat.codes, dtype=np.int64)
    used = np.bincount(codes[codes >= 0], minlength=len(column.cat.categories)) > 0
    if used.all():
        return column
    renumber = np.r_[np.cumsum(used) - 1, -1]
    categories = column.cat.categories[used]
    return pd.Series(pd.Categorical.from_codes(renumber[codes], categories=categories), index=column.index)

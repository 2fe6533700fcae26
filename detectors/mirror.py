"""Mirror gaps: a flow against its mirror (China's exports to Russia against Russia's imports
from China; a CIF figure against a FOB one).

Analysts who follow re-routing and reporting gaps watch how far two customs services
disagree about the same trade, and how fast that gap moves. `mirror_gap` gives, per series,
the percent by which its mirror exceeds it, (mirror - own) / own x 100, and with `change: N`
the change of that gap over N periods, in percentage points. Pure: a panel in, a panel out;
the mirror series come as context columns, as a `share` transform's parents do. Whether the
two sides are in one unit is the caller's to check (monitor/evaluation.py refuses a rule
that mixes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from detectors.errors import DetectorConfigError
from detectors.lazy import lazy
from detectors.panel import PanelError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")


def mirror_pairs(mirror: str | Mapping[str, str], columns: Any) -> dict[str, str]:
    """series -> its mirror: a mapping as given, or one series id mirrored by every column."""
    if isinstance(mirror, str):
        return {str(c): mirror for c in columns if str(c) != mirror}
    return dict(mirror)


def mirror_gap(panel: pd.DataFrame, *, mirror: str | Mapping[str, str], change: int = 0) -> pd.DataFrame:
    """Percent by which each series' mirror exceeds it (NaN without a mirror, or where the
    series is zero or missing); with `change`, the gap's change over that many periods."""
    values = panel.to_numpy(dtype=float)
    columns = panel.columns
    pairs = mirror_pairs(mirror, columns.tolist())
    absent = sorted({m for m in pairs.values() if m not in columns})
    if absent:
        raise PanelError(f"mirror_gap.mirror: series not in the panel: {', '.join(map(repr, absent))}")
    out = np.full(values.shape, np.nan)
    for j, name in enumerate(columns.tolist()):
        other = pairs.get(str(name))
        if other is None:
            continue
        own, theirs = values[:, j], values[:, columns.get_loc(other)]
        with np.errstate(divide="ignore", invalid="ignore"), np.errstate(over="ignore"):
            out[:, j] = np.where(own != 0.0, (theirs - own) / own * 100.0, np.nan)
    out[~np.isfinite(out)] = np.nan  # NaN, never inf, as every transform
    if change:
        moved = np.full(out.shape, np.nan)
        if change < len(out):
            moved[change:] = out[change:] - out[:-change]
        out = moved
    return pd.DataFrame(out, index=panel.index, columns=columns)


def check_mirror(name: str, param: str, value: Any) -> str | dict[str, str]:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping) and value and all(
            isinstance(k, str) and isinstance(v, str) and k and v and k != v for k, v in value.items()):
        return dict(value)
    raise DetectorConfigError(f"{name}.{param} must be a series id or a mapping of series id to the id of "
                              f"its mirror (another series), got {value!r}")


def check_change(name: str, param: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DetectorConfigError(f"{name}.{param} must be a whole number of periods >= 0, got {value!r}")
    return value

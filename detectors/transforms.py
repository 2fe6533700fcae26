"""Transforms: turn a panel of raw levels into the values a detector compares.

Each transform takes a panel (plus keyword parameters for the few that have them) and returns a
new DataFrame with the same index and columns. Shifts are by position, which is correct because
a checked panel has every period between its first and last row. Anything undefined (a missing
or zero base, a gap inside a window, the log of a non-positive value, an overflow) is NaN rather
than inf: a detector never sees an infinite value.

`check_transform` validates parameters at config load time with messages that name them;
`value_kind`, `transform_label`, `value_phrase` and `bound_phrase` say how the values read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from detectors import validate
from detectors.blocks import over_blocks
from detectors.errors import DetectorConfigError
from detectors.lazy import lazy
from detectors.panel import FreqLike, PanelError, freq_code, periods_per_year
from detectors.wording import (
    format_change,
    format_level,
    format_level_change,
    format_percent_level,
    format_percent_threshold,
    format_signed_level,
    period_noun,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")

Transform: TypeAlias = "Callable[..., pd.DataFrame]"
ValueKind = Literal["level", "change", "percent_change", "percent_level"]
_COLUMN_BLOCK = 4096  # series per task in the compiled transforms: a few MB, shared by the threads


class UnknownTransformError(KeyError, ValueError):
    """A transform name that is not in TRANSFORMS (a lookup miss and a bad value at once)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _frame(values: np.ndarray, panel: pd.DataFrame) -> pd.DataFrame:
    """Wrap a result, turning every non-finite value (overflow included) into NaN."""
    values[~np.isfinite(values)] = np.nan
    return pd.DataFrame(values, index=panel.index, columns=panel.columns)


def _lagged(values: np.ndarray, lag: int) -> np.ndarray:
    """The values `lag` rows earlier, NaN where that is before the first row."""
    base = np.full_like(values, np.nan)
    if lag < len(values):
        base[lag:] = values[: len(values) - lag]
    return base


def level(panel: pd.DataFrame) -> pd.DataFrame:
    """The raw values, as a new frame so callers never alias the input."""
    values = panel.to_numpy(dtype=float, copy=True)
    return pd.DataFrame(values, index=panel.index, columns=panel.columns)


def diff(panel: pd.DataFrame) -> pd.DataFrame:
    """Change on the previous period in the series' own units (x_t - x_{t-1})."""
    current = panel.to_numpy(dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return _frame(current - _lagged(current, 1), panel)


def mom_pct(panel: pd.DataFrame) -> pd.DataFrame:
    """Percent change on the previous period (month, quarter or year, by the panel's freq)."""
    return _pct_change(panel, lag=1)


def yoy_pct(panel: pd.DataFrame) -> pd.DataFrame:
    """Percent change on the same period a year earlier; removes seasonality in trade data."""
    return _pct_change(panel, lag=periods_per_year(panel.index.freq))


def _pct_change(panel: pd.DataFrame, *, lag: int) -> pd.DataFrame:
    """One compiled pass over the panel (`detectors.transforms_kernel`), blocks of columns on a
    few threads: the numpy form made five panel-sized temporaries, a large share of a scan."""
    from detectors.transforms_kernel import pct_change

    current = panel.to_numpy(dtype=float)
    out = np.empty(current.shape, order="F")  # column-major, as a DataFrame keeps it: no copy

    def run(lo: int, hi: int) -> None:
        pct_change(current[:, lo:hi], lag, out[:, lo:hi])

    over_blocks(current.shape[1], _COLUMN_BLOCK, run)
    return pd.DataFrame(out, index=panel.index, columns=panel.columns, copy=False)


def log(panel: pd.DataFrame) -> pd.DataFrame:
    """Natural log, so that equal differences mean equal ratios; non-positive values are NaN."""
    values = panel.to_numpy(dtype=float)
    out = np.full_like(values, np.nan)
    with np.errstate(invalid="ignore"):
        np.log(values, out=out, where=values > 0)
    return _frame(out, panel)


def rolling_sum(panel: pd.DataFrame, *, window: int | None = None) -> pd.DataFrame:
    """Sum of the last `window` periods (default: one year), smoothing out single months.

    A window with a gap is NaN: a partial sum would look like a collapse.
    """
    return _rolling(panel, window, mean=False)


def rolling_mean(panel: pd.DataFrame, *, window: int | None = None) -> pd.DataFrame:
    """Mean of the last `window` periods (default: one year); a window with a gap is NaN."""
    return _rolling(panel, window, mean=True)


def _rolling(panel: pd.DataFrame, window: int | None, *, mean: bool) -> pd.DataFrame:
    k = window or periods_per_year(panel.index.freq)
    values = panel.to_numpy(dtype=float)
    out = np.full_like(values, np.nan)
    rows = len(values)
    if k <= rows:
        # Adding one shifted slice per lag sums each window left to right, as a plain loop would.
        acc = values[: rows - k + 1].copy()
        with np.errstate(over="ignore", invalid="ignore"):
            for j in range(1, k):
                acc += values[j : rows - k + 1 + j]
            out[k - 1 :] = acc / k if mean else acc
    return _frame(out, panel)


def _year_starts(index: pd.PeriodIndex) -> np.ndarray:
    """True at each row that is the first period of its calendar year.

    The first row counts only if the period before it belongs to another year, so a panel that
    starts mid-year never pretends to know that year's earlier months.
    """
    years = np.asarray(index.year)
    starts = np.ones(len(index), dtype=bool)
    starts[1:] = years[1:] != years[:-1]
    if len(index):
        starts[0] = (index[0] - 1).year != index[0].year
    return starts


def ytd_sum(panel: pd.DataFrame) -> pd.DataFrame:
    """Cumulative sum within each calendar year, as many customs offices publish it.

    After a gap the rest of that year is NaN (its total is unknown); the next year starts afresh.
    """
    values = panel.to_numpy(dtype=float)
    out = np.full_like(values, np.nan)
    bounds = [*np.flatnonzero(_year_starts(panel.index)).tolist(), len(values)]
    with np.errstate(over="ignore", invalid="ignore"):
        for start, stop in pairwise(bounds):
            np.cumsum(values[start:stop], axis=0, out=out[start:stop])
    return _frame(out, panel)


def from_ytd(panel: pd.DataFrame) -> pd.DataFrame:
    """Monthly (or quarterly) values from cumulative year-to-date releases.

    The first period of a year is its own YTD value; later ones are the difference with the
    previous period, so a missing release makes the next period NaN as well.
    """
    values = panel.to_numpy(dtype=float)
    base = _lagged(values, 1)
    base[_year_starts(panel.index)] = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        return _frame(values - base, panel)


def share(panel: pd.DataFrame, *, parent: str | Mapping[str, str]) -> pd.DataFrame:
    """Each series as a percent of its parent: one series id for all, or a child -> parent map.

    Series without a parent in the mapping are NaN; a parent id missing from the panel is an
    error rather than a silent column of NaN. A zero or missing parent value gives NaN.
    """
    values = panel.to_numpy(dtype=float)
    columns = panel.columns
    if isinstance(parent, str):
        parents = pd.Index([parent] * len(columns), dtype=object)
    else:
        parents = pd.Index(pd.Series(columns, dtype=object).map(dict(parent)), dtype=object)
    position = columns.get_indexer(parents)
    has_parent = parents.notna()
    absent = sorted({str(p) for p in parents[has_parent & (position < 0)]})
    if absent:
        raise PanelError(f"share.parent: series not in the panel: {', '.join(map(repr, absent))}")
    if isinstance(parent, str):
        base = values[:, position[:1]]  # one column, broadcast: no copy of the whole panel
    else:
        base = values[:, np.where(has_parent, position, 0)]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = 100.0 * (values / base)
    out[np.broadcast_to(base == 0.0, out.shape)] = np.nan
    out[:, ~np.asarray(has_parent)] = np.nan
    return _frame(out, panel)


@dataclass(frozen=True, slots=True)
class _Param:
    required: bool
    check: Callable[[str, str, Any], Any]


def _window(name: str, param: str, value: Any) -> int:
    return validate.positive_int(name, param, value)


def _parent(name: str, param: str, value: Any) -> str | dict[str, str]:
    if isinstance(value, str) and value:
        return value
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items())
    ):
        return dict(value)
    raise DetectorConfigError(
        f"{name}.{param} must be a series id or a mapping of series id to parent id, got {value!r}"
    )


_WINDOW = {"window": _Param(required=False, check=_window)}

from detectors.mirror import check_change, check_mirror, mirror_gap  # noqa: E402  (it imports no transform)

TRANSFORMS: Mapping[str, Transform] = MappingProxyType(
    {
        "level": level,
        "diff": diff,
        "mom_pct": mom_pct,
        "yoy_pct": yoy_pct,
        "log": log,
        "rolling_sum": rolling_sum,
        "rolling_mean": rolling_mean,
        "ytd_sum": ytd_sum,
        "from_ytd": from_ytd,
        "share": share,
        "mirror_gap": mirror_gap,
    }
)
_PARAMS: Mapping[str, Mapping[str, _Param]] = MappingProxyType(
    {
        "rolling_sum": _WINDOW,
        "rolling_mean": _WINDOW,
        "share": {"parent": _Param(required=True, check=_parent)},
        "mirror_gap": {"mirror": _Param(required=True, check=check_mirror),
                       "change": _Param(required=False, check=check_change)},
    }
)
_KINDS: Mapping[str, ValueKind] = MappingProxyType(
    {"diff": "change", "mom_pct": "percent_change", "yoy_pct": "percent_change", "share": "percent_level",
     "mirror_gap": "change"}
)
_PERIOD_ON_PERIOD = {"M": "MoM", "Q": "QoQ", "Y": "YoY"}


def _known(name: str) -> str:
    if name not in TRANSFORMS:
        known = ", ".join(sorted(TRANSFORMS))
        raise UnknownTransformError(f"unknown transform {name!r}; known transforms: {known}")
    return name


def check_transform(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validated, normalised parameters for transform `name`; errors name the parameter."""
    spec = _PARAMS.get(_known(name), {})
    given = dict(params or {})
    unknown = sorted(set(given) - set(spec), key=str)
    if unknown:
        known = f"known: {', '.join(sorted(spec))}" if spec else f"{name} takes no parameters"
        raise DetectorConfigError(f"{name}: unknown parameter(s) {', '.join(map(repr, unknown))}; {known}")
    missing = [param for param, p in spec.items() if p.required and param not in given]
    if missing:
        raise DetectorConfigError(f"{name}: missing parameter(s) {', '.join(map(repr, missing))}")
    return {param: spec[param].check(name, param, value) for param, value in given.items()}


def apply_transform(name: str, panel: pd.DataFrame, **params: Any) -> pd.DataFrame:
    """Look a transform up by its config name, check its parameters and apply it."""
    checked = check_transform(name, params)
    return TRANSFORMS[name](panel, **checked)


def value_kind(name: str) -> ValueKind:
    """How values read: a level, a change in level, a percent change or a percent level."""
    return _KINDS.get(_known(name), "level")


def is_percent_change(name: str) -> bool:
    """Whether values are percent changes (worded "fell 3.2%") rather than levels."""
    return value_kind(name) == "percent_change"


def transform_label(name: str, freq: FreqLike = "M", **params: Any) -> str:
    """Short label for sentences: "YoY", "MoM"/"QoQ", "12-month sum", "" for levels."""
    _known(name)
    if name == "yoy_pct":
        return "YoY"
    if name in ("mom_pct", "diff"):
        return _PERIOD_ON_PERIOD[freq_code(freq)]
    if name in ("rolling_sum", "rolling_mean"):
        window = params.get("window") or periods_per_year(freq)
        return f"{window}-{period_noun(freq)} {'sum' if name == 'rolling_sum' else 'average'}"
    return {"log": "log", "ytd_sum": "year to date", "share": "share",
            "mirror_gap": "points of mirror gap"}.get(name, "")


def value_phrase(x: float, name: str, freq: FreqLike = "M", **params: Any) -> str:
    """The "<subject> ..." predicate for a transformed value, in the words its kind calls for.

    "fell 21.6% YoY", "fell 120.5 MoM", "stood at 3,456.1", "stood at 45,000 (12-month sum)",
    "stood at 12.3% of the total".
    """
    kind = value_kind(name)
    label = transform_label(name, freq, **params)
    if kind == "percent_change":
        return format_change(x, label)
    if kind == "change":
        return format_level_change(x, label)
    if kind == "percent_level":
        return f"stood at {format_level(x)}% of the total"
    return f"stood at {format_level(x)}" + (f" ({label})" if label else "")


def bound_phrase(x: float, name: str) -> str:
    """A threshold in the values' own units: "-5%", "+100", "3,000", "15%"."""
    kind = value_kind(name)
    if kind == "percent_change":
        return format_percent_threshold(x)
    if kind == "change":
        return format_signed_level(x)
    if kind == "percent_level":
        return format_percent_level(x)
    return format_level(x)

"""The CSV `tradewatch detect` reads, as a checked panel. Periods go through the same reader
as the file source (`monitor.periods`), so `2001M10`, `200110`, `Oct 2001` and `2001-10-01`
mean one month everywhere; a bad period or a repeated row is reported with its line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.periods import PERIOD_HINT, infer_frequency, pandas_freq, parse_period

if TYPE_CHECKING:
    import pandas as pd

_SHOWN = 5  # problems listed before "... and N more"


class InputError(ValueError):
    """The input file or the parameters cannot be used; the message says why."""


def read_panel(source: Path | Any) -> pd.DataFrame:
    """A checked panel from a wide or long CSV; gaps between periods become NaN rows."""
    import pandas as pd

    from detectors import check_panel
    from monitor.sources.file_rows import Places, repeat_problem

    name = str(source) if isinstance(source, Path) else "<stdin>"
    frame = pd.read_csv(source, dtype={"period": str, "series": str}, keep_default_na=False,
                        na_values=[""])
    long = {"series", "period", "value"} <= set(frame.columns)
    if "period" not in frame.columns:
        raise InputError("the CSV needs a 'period' column (wide) or 'series,period,value' columns (long)")
    texts = frame.pop("period").astype(str).str.strip()
    if texts.empty:
        raise InputError("the CSV has no rows")
    frequency = infer_frequency(texts.tolist())
    if frequency is None:
        raise InputError(f"{name}:2: cannot read period {texts.iloc[0]!r}: {PERIOD_HINT}")
    periods = [parse_period(text, frequency) for text in texts]
    bad = [f"{name}:{row + 2}: cannot read period {text!r} as {_WORD[frequency]}"
           for row, (text, period) in enumerate(zip(texts, periods, strict=True)) if period is None]
    _raise(bad, PERIOD_HINT)
    index = pd.PeriodIndex(periods, freq=pandas_freq(frequency))
    keys = pd.DataFrame({"series": frame["series"].to_numpy(), "period": index}) if long \
        else pd.DataFrame({"period": index})
    repeated = keys[keys.duplicated(keep=False).to_numpy()]
    lines: dict[tuple[Any, ...], list[int]] = {}
    for row, key in zip(repeated.index, repeated.itertuples(index=False, name=None), strict=True):
        lines.setdefault(key, []).append(int(row))
    places = Places.of(name, "csv")  # the file source's words for the same rows
    _raise([repeat_problem(name, ", ".join(f"{column} {value}" for column, value in zip(keys.columns, key,
                                                                                       strict=True)),
                           places.all(rows)) for key, rows in lines.items()],
           "each period may appear once per series; remove or merge the repeated rows")
    try:
        values = frame.apply(pd.to_numeric, errors="raise").astype(float) if not long \
            else pd.to_numeric(frame["value"], errors="raise").astype(float)
    except ValueError as exc:
        raise InputError(f"non-numeric value in the CSV: {exc}") from None
    if long:
        table = pd.DataFrame({"series": frame["series"].astype(str).to_numpy(), "period": index,
                              "value": values.to_numpy()})
        wide = table.pivot(index="period", columns="series", values="value")
    else:
        wide = values
        wide.index = index
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.sort_index()
    wide = wide.reindex(pd.period_range(wide.index[0], wide.index[-1], freq=index.freq))
    wide.columns.name = None
    check_panel(wide)
    return wide


_WORD = {"M": "a month", "Q": "a quarter", "A": "a year"}


def _raise(problems: list[str], hint: str) -> None:
    if not problems:
        return
    shown = problems[:_SHOWN] + ([f"... and {len(problems) - _SHOWN} more"] if len(problems) > _SHOWN else [])
    raise InputError("\n".join(shown) + f"\n({hint})")

"""CSV, Excel, JSON and Parquet files by path, http(s) URL or `demo://` (the embedded demo data).

Desks keep trade figures in whatever shape the publisher released them: `;` separators,
thousands separators, decimal commas, month names, "2015M03", China customs' combined
January+February release. The config describes the shape; nothing is guessed silently.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitor.config import FileSource as FileSourceConfig
from monitor.labels import normalise_labels, series_id
from monitor.periods import PeriodSpan, pandas_freq, parse_period_span, period_dtype
from monitor.sources.base import FetchResult, SourceError, empty_long_frame
from monitor.sources.http import HttpClient, RetryPolicy

DEMO_SCHEME = "demo://"
_MAX_REPORTED = 20


class FileSource:
    """Reads a whole file each poll; with `replay`, reveals it one period per poll."""

    def __init__(self, config: FileSourceConfig, location: str) -> None:
        self.name = config.name
        self.config = config
        self.location = location
        self._polls = 0
        self._http = HttpClient(config.name, timeout=config.timeout.total_seconds(),
                                retry=RetryPolicy.of(config.retry))

    def fetch(self, now: datetime | None = None) -> FetchResult:
        """The whole file (`now` is unused: a file says what it holds)."""
        raw = self._read_bytes()
        table = self._parse_table(raw)
        frame, problems = to_long_frame(table, self.config, self.location)
        if self.config.replay is not None:
            frame = self._replay_window(frame)
        return FetchResult(frame, tuple(problems))

    def _replay_window(self, frame: pd.DataFrame) -> pd.DataFrame:
        assert self.config.replay is not None
        start = pd.Period(self.config.replay.start, freq=pandas_freq(self.config.frequency))
        visible_until = start + self._polls
        self._polls += 1
        return frame[frame["period"] <= visible_until].reset_index(drop=True)

    def _read_bytes(self) -> bytes:
        location = self.location
        if location.startswith(("http://", "https://")):
            return self._http.get(location).content
        try:
            return _local_path(location).read_bytes()
        except FileNotFoundError:
            raise SourceError(self.name, "not_found", f"file not found: {location}") from None
        except OSError as exc:
            raise SourceError(self.name, "io", f"cannot read {location}: {exc.strerror}") from None

    def _parse_table(self, raw: bytes) -> pd.DataFrame:
        fmt = self.config.format or _format_from_name(self.location)
        skip = self.config.skip_rows
        try:
            if fmt == "csv":
                return pd.read_csv(io.BytesIO(raw), sep=self.config.separator, dtype=str,
                                   keep_default_na=False, skipinitialspace=True, skiprows=skip)
            if fmt == "excel":
                return _read_excel(raw, self.config.sheet, skip)
            if fmt == "json":
                return pd.read_json(io.BytesIO(raw), dtype=False).astype(str)
            return pd.read_parquet(io.BytesIO(raw)).astype(str)  # ImportError without pyarrow
        except (ValueError, KeyError, pd.errors.ParserError, OSError, ImportError) as exc:
            detail = str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
            raise SourceError(self.name, "parse",
                              f"cannot parse {self.location} as {fmt}: {detail}") from None


def _read_excel(raw: bytes, sheet: str | int | None, skip_rows: int) -> pd.DataFrame:
    """Cells keep their type: numbers stay numbers (separators only apply to text cells),
    whole floats become ints so that an HS code 8456.0 reads as 8456."""
    try:
        table = pd.read_excel(io.BytesIO(raw), sheet_name=0 if sheet is None else sheet,
                              dtype=object, engine="openpyxl", skiprows=skip_rows,
                              keep_default_na=False)
    except zipfile.BadZipFile as exc:  # not an .xlsx (an old .xls, an HTML error page)
        raise ValueError(f"not an Excel .xlsx workbook ({exc})") from None
    table.columns = [str(c).strip() for c in table.columns]
    return table.map(_excel_cell)


def _excel_cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return "" if value is None else value


def _local_path(location: str) -> Path:
    if location.startswith(DEMO_SCHEME):
        name = location.removeprefix(DEMO_SCHEME)
        return Path(str(resources.files("monitor.demo").joinpath(name)))
    return Path(location.removeprefix("file://"))


def _format_from_name(location: str) -> str:
    lowered = location.lower().split("?")[0]
    for ext, fmt in ((".parquet", "parquet"), (".json", "json"), (".xlsx", "excel"), (".xlsm", "excel")):
        if lowered.endswith(ext):
            return fmt
    return "csv"


def to_long_frame(
    table: pd.DataFrame, config: FileSourceConfig, location: str
) -> tuple[pd.DataFrame, list[str]]:
    """A raw table of strings -> the long frame; bad rows are skipped and described."""
    problems: list[str] = []
    needed = [config.period_column, *config.label_columns.values()]
    needed += [config.value_column] if config.value_column else list(config.columns or {})
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SourceError(config.name, "parse", f"{location}: missing column(s) {', '.join(missing)}; "
                          f"the file has {', '.join(map(str, table.columns))}")
    line = pd.Series(np.arange(len(table)) + 2 + config.skip_rows, index=table.index)  # header: 1
    spans = _parse_periods(table[config.period_column], config.frequency)
    periods = spans.map(lambda span: None if span is None else span.last)
    for index in periods.index[periods.isna()]:
        problems.append(f"{location}:{line[index]}: cannot read period "
                        f"{table.at[index, config.period_column]!r} in column {config.period_column}")
    parts = []
    if config.columns is not None:
        for column, labels in config.columns.items():
            parts.append(_series_part(table, column, spans, line, {**config.labels, **labels},
                                      {}, config, location, problems))
    else:
        assert config.value_column is not None
        parts.append(_series_part(table, config.value_column, spans, line, config.labels,
                                  config.label_columns, config, location, problems))
    frame = pd.concat(parts, ignore_index=True) if parts else empty_long_frame()
    for key, allowed in config.include.items():
        wanted = [normalise_labels({key: value})[key] for value in allowed]  # Germany -> DEU
        frame = frame[frame[key].isin(wanted)] if key in frame else frame.iloc[0:0]
    frame = frame.drop_duplicates(["series", "period"], keep="last").reset_index(drop=True)
    if len(problems) > _MAX_REPORTED:
        problems = [*problems[:_MAX_REPORTED], f"... and {len(problems) - _MAX_REPORTED} more"]
    return frame, problems


def _series_part(
    table: pd.DataFrame,
    value_column: str,
    spans: pd.Series,
    line: pd.Series,
    constant_labels: dict[str, str],
    label_columns: dict[str, str],
    config: FileSourceConfig,
    location: str,
    problems: list[str],
) -> pd.DataFrame:
    periods = spans.map(lambda span: None if span is None else span.last)
    values, blank = _numbers(table[value_column], config.thousands, config.decimal)
    for index in values.index[values.isna() & ~blank & periods.notna()]:
        problems.append(f"{location}:{line[index]}: value {table.at[index, value_column]!r} "
                        f"in column {value_column} is not a number")
    keep = values.notna() & periods.notna()
    labels = pd.DataFrame(index=table.index[keep])
    for key, value in constant_labels.items():
        labels[key] = value
    for key, column in label_columns.items():
        labels[key] = table.loc[keep, column].astype(str)
    labels["source"] = config.name
    # Normalise each distinct label combination once, not once per row.
    label_keys = list(labels.columns)
    combos = labels.drop_duplicates()
    normalised = {
        tuple(row): normalise_labels(dict(zip(label_keys, row, strict=True)))
        for row in combos.itertuples(index=False)
    }
    rows = [normalised[tuple(row)] for row in labels.itertuples(index=False)]
    out = pd.DataFrame(rows, index=labels.index, columns=label_keys) if rows else labels
    out.insert(0, "series", [series_id(r) for r in rows] if rows else pd.Series(dtype=str))
    out.insert(1, "period", pd.array(list(periods[keep]), dtype=period_dtype(config.frequency)))
    out.insert(2, "value", values[keep].astype(float))
    out = out.reset_index(drop=True)
    counts = np.array([span.count for span in spans[keep]], dtype=int)
    if config.combined == "split" and (counts > 1).any():
        out = _split_combined(out, counts)
    return out


def _numbers(column: pd.Series, thousands: str | None, decimal: str) -> tuple[pd.Series, pd.Series]:
    """Values as floats, and which cells are deliberately empty (missing-value markers).

    Separators apply to text only: a number cell from a spreadsheet is already a number."""
    is_number = column.map(lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool))
    text = column.astype(str).str.strip()
    as_text = ~is_number
    if thousands:
        text = text.where(~as_text, text.str.replace(thousands, "", regex=False))
    if decimal != ".":
        text = text.where(~as_text, text.str.replace(decimal, ".", regex=False))
    values = pd.to_numeric(text, errors="coerce")
    blank = text.isna() | text.isin(["", "nan", "NaN", "NA", "..", "...", "…", "-", ":"])
    return values, blank


def _split_combined(out: pd.DataFrame, counts: np.ndarray) -> pd.DataFrame:
    """Divide a several-month figure evenly over its months (asked for with `combined:
    split`; by default the figure stays whole at its last month, since an even split
    invents the monthly pattern)."""
    out = out.assign(value=out["value"] / counts)
    earlier = []
    for offset in range(1, int(counts.max())):
        rows = out[counts > offset].copy()
        rows["period"] = rows["period"] - offset
        earlier.append(rows)
    return pd.concat([*earlier[::-1], out], ignore_index=True).sort_values(
        "period", kind="stable").reset_index(drop=True)


def _parse_periods(column: pd.Series, frequency: str) -> pd.Series:
    """Parse each distinct period label once; unparsable ones become None (reported)."""
    cache: dict[str, PeriodSpan | None] = {}

    def parse(value: Any) -> PeriodSpan | None:
        text = str(value)
        if text not in cache:
            cache[text] = parse_period_span(text, frequency)
        return cache[text]

    return column.map(parse).astype(object)

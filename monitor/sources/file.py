"""CSV, JSON and Parquet files by path, http(s) URL or `demo://` (the embedded demo data)."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from monitor.config import FileSource as FileSourceConfig
from monitor.labels import normalise_labels, series_id
from monitor.periods import pandas_freq, period_dtype
from monitor.sources.base import FetchResult, SourceError, empty_long_frame

DEMO_SCHEME = "demo://"
_MAX_REPORTED = 20


class FileSource:
    """Reads a whole file each poll; with `replay`, reveals it one period per poll."""

    def __init__(self, config: FileSourceConfig, location: str) -> None:
        self.name = config.name
        self.config = config
        self.location = location
        self._polls = 0

    def fetch(self) -> FetchResult:
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
            try:
                response = httpx.get(location, timeout=self.config.timeout.total_seconds(),
                                     follow_redirects=True)
            except httpx.TimeoutException:
                raise SourceError(self.name, "timeout", f"timed out reading {location}") from None
            except httpx.HTTPError as exc:
                raise SourceError(self.name, "http", f"cannot read {location}: {exc}") from None
            if response.status_code != 200:
                raise SourceError(self.name, "http",
                                  f"{location} answered HTTP {response.status_code}")
            return response.content
        try:
            return _local_path(location).read_bytes()
        except FileNotFoundError:
            raise SourceError(self.name, "not_found", f"file not found: {location}") from None
        except OSError as exc:
            raise SourceError(self.name, "io", f"cannot read {location}: {exc.strerror}") from None

    def _parse_table(self, raw: bytes) -> pd.DataFrame:
        fmt = self.config.format or _format_from_name(self.location)
        try:
            if fmt == "csv":
                return pd.read_csv(io.BytesIO(raw), sep=self.config.separator, dtype=str,
                                   keep_default_na=False, skipinitialspace=True)
            if fmt == "json":
                return pd.read_json(io.BytesIO(raw), dtype=False).astype(str)
            return pd.read_parquet(io.BytesIO(raw)).astype(str)  # ImportError without pyarrow
        except (ValueError, pd.errors.ParserError, OSError, ImportError) as exc:
            raise SourceError(self.name, "parse", f"cannot parse {self.location} as {fmt}: {exc}") from None


def _local_path(location: str) -> Path:
    if location.startswith(DEMO_SCHEME):
        name = location.removeprefix(DEMO_SCHEME)
        return Path(str(resources.files("monitor.demo").joinpath(name)))
    return Path(location.removeprefix("file://"))


def _format_from_name(location: str) -> str:
    lowered = location.lower().split("?")[0]
    for ext, fmt in ((".parquet", "parquet"), (".json", "json")):
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
    line = pd.Series(np.arange(len(table)) + 2, index=table.index)  # header is line 1
    periods = _parse_periods(table[config.period_column], config.frequency)
    for index in periods.index[periods.isna()]:
        problems.append(f"{location}:{line[index]}: cannot read period "
                        f"{table.at[index, config.period_column]!r} in column {config.period_column}")
    parts = []
    if config.columns is not None:
        for column, labels in config.columns.items():
            parts.append(_series_part(table, column, periods, line, {**config.labels, **labels},
                                      {}, config, location, problems))
    else:
        assert config.value_column is not None
        parts.append(_series_part(table, config.value_column, periods, line, config.labels,
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
    periods: pd.Series,
    line: pd.Series,
    constant_labels: dict[str, str],
    label_columns: dict[str, str],
    config: FileSourceConfig,
    location: str,
    problems: list[str],
) -> pd.DataFrame:
    text = table[value_column].astype(str).str.strip()
    if config.thousands:
        text = text.str.replace(config.thousands, "", regex=False)
    values = pd.to_numeric(text, errors="coerce")
    blank = text.isna() | text.isin(["", "nan", "NaN", "NA", "..", "...", "…", "-", ":"])
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
    return out.reset_index(drop=True)


def _parse_periods(column: pd.Series, frequency: str) -> pd.Series:
    """Parse each distinct period string once; unparsable ones become NaN (reported)."""
    mapping = {}
    freq = pandas_freq(frequency)
    for text in column.unique():
        try:
            mapping[text] = pd.Period(str(text).strip(), freq=freq)
        except (ValueError, TypeError):
            mapping[text] = None
    return column.map(mapping)

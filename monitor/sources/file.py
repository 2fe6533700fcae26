"""CSV, Excel, JSON and Parquet files by path, http(s) URL or `demo://` (the embedded demo data).

Desks keep trade figures in whatever shape the publisher released them: `;` separators,
thousands separators, decimal commas, month names, "2015M03", China customs' combined
January+February release. The config describes the shape; nothing is guessed silently.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitor.config import FileSource as FileSourceConfig
from monitor.labels import normalise_label, series_id
from monitor.periods import pandas_freq, parse_period_span, read_period
from monitor.sources.base import FetchResult, SourceError, empty_long_frame
from monitor.sources.file_rows import ROW, Places, last_of_duplicates, repeat_problem, without_unused
from monitor.sources.http import HttpClient, RetryPolicy

DEMO_SCHEME = "demo://"
_MAX_REPORTED = 20


class FileSource:
    """Reads a whole file each poll; with `replay`, reveals it one period per poll."""

    def __init__(self, config: FileSourceConfig, location: str, *, secrets: Iterable[str] = ()) -> None:
        self.name = config.name
        self.config = config
        self.location = location
        self._polls = 0
        self._http = HttpClient(config.name, timeout=config.timeout.total_seconds(),
                                retry=RetryPolicy.of(config.retry), secrets=secrets,
                                max_response_bytes=config.max_response_bytes)
        self._shown = self._http.redact(location)

    def fetch(self, now: datetime | None = None) -> FetchResult:
        """The whole file (`now` is unused: a file says what it holds)."""
        raw = self._read_bytes()
        table = self._parse_table(raw)
        fmt = self.config.format or _format_from_name(self.location)
        frame, problems = to_long_frame(table, self.config, self._shown, fmt)
        if self.config.replay is not None:
            frame = self._replay_window(frame)
        return FetchResult(frame, tuple(problems))

    def _replay_window(self, frame: pd.DataFrame) -> pd.DataFrame:
        assert self.config.replay is not None
        start = read_period(self.config.replay.start).asfreq(pandas_freq(self.config.frequency), how="start")
        visible_until = start + self._polls
        self._polls += 1
        return frame[frame["period"] <= visible_until].reset_index(drop=True)

    def _read_bytes(self) -> bytes:
        if self.location.startswith(("http://", "https://")):
            return self._http.get(self.location).content
        try:
            return _local_path(self.location).read_bytes()
        except FileNotFoundError:
            raise SourceError(self.name, "not_found", f"file not found: {self._shown}") from None
        except OSError as exc:
            raise SourceError(self.name, "io", f"cannot read {self._shown}: {exc.strerror}") from None

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
            return _read_parquet(raw)
        except (ValueError, KeyError, pd.errors.ParserError, OSError, ImportError) as exc:
            detail = str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
            raise SourceError(self.name, "parse",
                              f"cannot parse {self._shown} as {fmt}: {detail}") from None


def _read_parquet(raw: bytes) -> pd.DataFrame:
    """Columns keep their types (numbers stay numbers); text columns come out categorical,
    read as dictionaries, so millions of repeated labels are not millions of strings."""
    import pyarrow as pa  # ImportError without pyarrow
    import pyarrow.parquet as pq

    schema = pq.read_schema(io.BytesIO(raw))
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return pq.read_table(io.BytesIO(raw), read_dictionary=text).to_pandas(split_blocks=True)


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
        return Path(str(resources.files("monitor.demo").joinpath(location.removeprefix(DEMO_SCHEME))))
    return Path(location.removeprefix("file://"))


def _format_from_name(location: str) -> str:
    lowered = location.lower().split("?")[0]
    for ext, fmt in ((".parquet", "parquet"), (".json", "json"), (".xlsx", "excel"), (".xlsm", "excel")):
        if lowered.endswith(ext):
            return fmt
    return "csv"


def to_long_frame(
    table: pd.DataFrame, config: FileSourceConfig, location: str, fmt: str = "csv"
) -> tuple[pd.DataFrame, list[str]]:
    """A raw table -> the long frame; bad rows are skipped and described, rows that repeat a
    series and period are reported with their lines (the last of them is kept).

    Labels are normalised once per distinct combination and periods parsed once per distinct
    spelling, then spread over the rows as codes: a file of 24 million rows holds only
    100,000 combinations and 240 periods. Series and label columns come out categorical."""
    problems: list[str] = []
    places = Places.of(location, fmt, config.skip_rows)
    needed = [config.period_column, *config.label_columns.values()]
    needed += [config.value_column] if config.value_column else list(config.columns or {})
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SourceError(config.name, "parse", f"{location}: missing column(s) {', '.join(missing)}; "
                          f"the file has {', '.join(map(str, table.columns))}")
    periods = _parse_periods(table[config.period_column], config.frequency)
    for position in np.flatnonzero(periods.codes < 0).tolist():
        problems.append(f"{places.at(position)}: cannot read period "
                        f"{table[config.period_column].iloc[position]!r} in column {config.period_column}")
    parts = []
    if config.columns is not None:
        for column, labels in config.columns.items():
            parts.append(_series_part(table, column, periods, {**config.labels, **labels},
                                      {}, config, places, problems))
    else:
        assert config.value_column is not None
        parts.append(_series_part(table, config.value_column, periods, config.labels,
                                  config.label_columns, config, places, problems))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0] if parts \
        else empty_long_frame().assign(**{ROW: np.empty(0, dtype=np.int32)})
    rows = len(frame)
    for key, allowed in config.include.items():
        wanted = [normalise_label(key, value) for value in allowed]  # Germany -> DEU
        frame = frame[frame[key].isin(wanted)] if key in frame else frame.iloc[0:0]
    # room for the repeats and a count of the rest within the problems reported
    frame, repeats, repeated = last_of_duplicates(frame, max(1, _MAX_REPORTED - 1 - len(problems)))
    problems += [repeat_problem(location, f"series {r.series}, period {r.period}", places.all(r.positions))
                 + "; the last is kept" for r in repeats]
    if repeated > len(repeats):
        problems.append(f"{location}: {repeated - len(repeats)} more series and periods appear on several "
                        f"{places.unit}s; the last of each is kept")
    frame = frame.drop(columns=ROW)
    if len(frame) < rows:  # rows were dropped: so may some labels
        frame = frame.assign(**{c: without_unused(frame[c]) for c in frame.columns
                                if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    if len(problems) > _MAX_REPORTED:
        problems = [*problems[:_MAX_REPORTED], f"... and {len(problems) - _MAX_REPORTED} more"]
    return frame, problems


@dataclass(frozen=True, slots=True)
class _Periods:
    """A period column parsed: a code per row (-1: unreadable), and per code the ordinal of
    the last period the label covers and how many periods it covers."""

    codes: np.ndarray
    last: np.ndarray
    count: np.ndarray
    freq: str


def _series_part(
    table: pd.DataFrame,
    value_column: str,
    periods: _Periods,
    constant_labels: dict[str, str],
    label_columns: dict[str, str],
    config: FileSourceConfig,
    places: Places,
    problems: list[str],
) -> pd.DataFrame:
    values, blank = _numbers(table[value_column], config.thousands, config.decimal)
    dated = periods.codes >= 0
    number = values.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(number)
    for position in np.flatnonzero(missing & ~blank.to_numpy(dtype=bool) & dated).tolist():
        problems.append(f"{places.at(position)}: value "
                        f"{table[value_column].iloc[position]!r} in column {value_column} is not a number")
    keep = ~missing & dated
    rows = None if keep.all() else np.flatnonzero(keep)  # None: every row (no copies)
    size = len(number) if rows is None else len(rows)
    sources: dict[str, str | tuple[str]] = {key: value for key, value in constant_labels.items()}
    sources.update({key: (column,) for key, column in label_columns.items()})
    sources["source"] = config.name
    codes, texts = _label_codes(table, rows, sources)
    combo, combos = _combinations([c for c in codes.values() if c is not None], size)
    keys = list(sources)
    # Each label is normalised once per distinct text, then looked up per combination.
    per_key = [_texts_at(codes[key], [normalise_label(key, t) for t in texts[key]], combos) for key in keys]
    label_keys = tuple(keys)
    normalised = [(row, _series_id(label_keys, row)) for row in zip(*per_key, strict=True)]
    series, names = pd.factorize(pd.Index([sid for _, sid in normalised], dtype=object))
    period_codes = periods.codes if rows is None else periods.codes[rows]
    per_column: dict[str, tuple[np.ndarray, Any]] = {"series": (series, names)}
    for k, key in enumerate(keys):
        per_column[key] = pd.factorize(pd.Index([row[k] for row, _ in normalised], dtype=object))
    spread = _categoricals(per_column, combo)
    columns: dict[str, Any] = {
        "series": spread.pop("series"),
        "period": pd.PeriodIndex.from_ordinals(periods.last[period_codes], freq=periods.freq).array,
        "value": number if rows is None else number[rows],
        **spread,
        ROW: np.arange(len(number), dtype=np.int32) if rows is None else rows.astype(np.int32),
    }
    out = pd.DataFrame(columns)
    counts = periods.count[period_codes]
    if config.combined == "split" and (counts > 1).any():
        out = _split_combined(out, counts)
    return out


@lru_cache(maxsize=1 << 18)
def _series_id(keys: tuple[str, ...], row: tuple[str, ...]) -> str:
    """A combination's series id; remembered, because every fetch of a source brings the
    same combinations again."""
    return series_id(dict(zip(keys, row, strict=True)))


def _texts_at(codes: np.ndarray | None, texts: list[str], rows: np.ndarray) -> list[str]:
    """The label text of each of the given rows."""
    if codes is None:
        return [texts[0]] * len(rows)
    return np.asarray(texts, dtype=object)[codes[rows]].tolist()


def _categoricals(per_column: dict[str, tuple[np.ndarray, Any]], combo: np.ndarray
                  ) -> dict[str, pd.Categorical]:
    """Categorical columns from each column's code per combination and its categories: the
    codes of every row are spread in one compiled pass per integer width (the smallest that
    holds each column's categories), not one gather per column."""
    from monitor.sources.file_kernel import spread_codes

    widths: dict[type[np.signedinteger[Any]], list[str]] = {}
    for name, (_, categories) in per_column.items():
        n = len(categories)
        widths.setdefault(np.int8 if n < 127 else np.int16 if n < 32_000 else np.int32, []).append(name)
    out: dict[str, pd.Categorical] = {}
    for dtype, names in widths.items():
        table: np.ndarray = np.stack([per_column[name][0].astype(dtype) for name in names])
        rows: np.ndarray = np.empty((len(names), len(combo)), dtype=dtype)
        spread_codes(table, combo, rows)
        for k, name in enumerate(names):
            categories = pd.Index(per_column[name][1], dtype=object)
            out[name] = pd.Categorical.from_codes(rows[k], categories=categories, validate=False)
    return {name: out[name] for name in per_column}


def _label_codes(table: pd.DataFrame, rows: np.ndarray | None, sources: dict[str, str | tuple[str]]
                 ) -> tuple[dict[str, np.ndarray | None], dict[str, list[str]]]:
    """Per label: a code for each kept row (None for a constant label: one text for all)
    and the text of each code."""
    codes: dict[str, np.ndarray | None] = {}
    texts: dict[str, list[str]] = {}
    for key, spec in sources.items():
        if isinstance(spec, str):
            codes[key], texts[key] = None, [spec]
            continue
        column = table[spec[0]]
        if isinstance(column.dtype, pd.CategoricalDtype):  # Parquet text: codes are there already
            found, uniques = np.asarray(column.cat.codes), column.cat.categories
            found = found if rows is None else found[rows]
        else:
            found, uniques = pd.factorize(column if rows is None else column.iloc[rows], use_na_sentinel=True)
        names = [str(u) for u in uniques]
        codes[key] = np.where(found < 0, len(names), found) if len(found) and found.min() < 0 else found
        texts[key] = [*names, "nan"]  # a missing cell reads as text "nan", as it always has
    return codes, texts


def _combinations(codes: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """A code per row for each distinct combination of label codes, and one row of each
    (any row: all rows of a combination have the same labels)."""
    if not codes:  # every label constant: one combination
        return np.zeros(size, dtype=np.int32), np.zeros(1 if size else 0, dtype=np.int64)
    combined = np.zeros(size, dtype=np.int64)
    bound = 1
    for part in codes:
        width = int(part.max()) + 1 if len(part) else 1
        if bound >= (1 << 62) // width:  # renumber before it overflows
            combined = pd.factorize(combined)[0].astype(np.int64)
            bound = int(combined.max(initial=0)) + 1
        combined *= width
        combined += part
        bound *= width
    if bound <= max(4 * size, 1 << 20):  # a table of every possible combination: no hashing
        from monitor.sources.file_kernel import number_combinations

        combo = np.empty(size, dtype=np.int32)
        return combo, number_combinations(combined, bound, combo)
    combo = pd.factorize(combined)[0]
    rows = np.zeros(int(combo.max(initial=-1)) + 1, dtype=np.int64)
    rows[combo] = np.arange(size)
    return combo, rows


def _numbers(column: pd.Series, thousands: str | None, decimal: str) -> tuple[pd.Series, pd.Series]:
    """Values as floats, and which cells are deliberately empty (missing-value markers).

    Separators apply to text only: a number cell from a spreadsheet is already a number."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.astype(float)  # a typed column (Parquet): nothing to parse
        return values, values.isna()
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        is_number = pd.Series(False, index=column.index)  # text only (CSV)
    else:
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


def _parse_periods(column: pd.Series, frequency: str) -> _Periods:
    """Parse each distinct period label once; unparsable ones get code -1 (reported)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        found, uniques = np.asarray(column.cat.codes), column.cat.categories
    else:
        found, uniques = pd.factorize(column, use_na_sentinel=True)
    spans = [parse_period_span(str(u), frequency) for u in uniques]
    freq = pandas_freq(frequency)
    ok = np.array([span is not None for span in spans] + [False])
    last = np.array([span.last.ordinal if span is not None else 0 for span in spans] + [0], dtype=np.int64)
    count = np.array([span.count if span is not None else 0 for span in spans] + [0], dtype=np.int64)
    codes = np.where(found < 0, len(spans), found)
    codes = np.where(ok[codes], codes, -1)
    return _Periods(codes, last, count, freq)

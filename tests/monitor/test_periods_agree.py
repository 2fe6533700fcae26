"""One period reader for every path: the file source, `tradewatch detect`, backtest windows
and the config read each spelling as the same period; a repeated row is reported by both
with the same words and all of its lines (records of JSON, rows of Parquet and Excel)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from monitor.backtest.timeline import Window
from monitor.config import FileSource as FileSourceConfig
from monitor.detect_input import InputError, read_panel
from monitor.periods import label_frequency, read_period
from monitor.sources.file import FileSource

FORMS = {
    "2001M10": "2001-10", "200110": "2001-10", "2001-10": "2001-10", "2001-10-01": "2001-10",
    "Oct 2001": "2001-10", "October 2001": "2001-10", "2001/10": "2001-10", "10/2001": "2001-10",
    "2001Q3": "2001Q3", "2001-Q3": "2001Q3", "Q3 2001": "2001Q3", "2001": "2001",
}


def _file_source_period(tmp_path: Path, label: str) -> pd.Period:
    frequency = label_frequency(label)
    assert frequency is not None
    path = tmp_path / "f.csv"
    path.write_text(f"period,x\n\"{label}\",1.5\n")
    config = FileSourceConfig.model_validate({
        "kind": "file", "name": "f", "path": str(path), "frequency": frequency,
        "labels": {"reporter": "CHN", "partner": "RUS", "commodity": "TOTAL"},
        "columns": {"x": {"flow": "export"}}})
    result = FileSource(config, str(path)).fetch()
    assert result.problems == ()
    (period,) = result.frame["period"].tolist()
    return period


def _detect_period(tmp_path: Path, label: str) -> pd.Period:
    path = tmp_path / "d.csv"
    path.write_text(f"period,x\n\"{label}\",1.5\n")
    return read_panel(path).index[0]


@pytest.mark.parametrize(("label", "expected"), FORMS.items())
def test_every_path_reads_a_spelling_as_the_same_period(tmp_path: Path, label: str, expected: str) -> None:
    want = pd.Period(expected)
    assert _file_source_period(tmp_path, label) == want
    assert _detect_period(tmp_path, label) == want
    assert read_period(label) == want  # backtest --from/--to and replay.start
    assert Window(label, None).bounds("M")[0] is not None


def test_detect_names_the_line_of_a_bad_period(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("period,x\n2001M10,1\n2001M11,2\n2001M13,3\n200112,4\n")
    with pytest.raises(InputError, match=r"d.csv:4: cannot read period '2001M13' as a month"):
        read_panel(path)


def test_detect_reports_repeated_rows_of_a_long_file(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("series,period,value\na,2001-10,1\nb,2001-10,2\na,2001M10,3\n")
    with pytest.raises(InputError, match=r"series a, period 2001-10 appears on lines 2, 4"):
        read_panel(path)


def _file_source(path: Path, **extra: object) -> FileSource:
    config = FileSourceConfig.model_validate({
        "kind": "file", "name": "f", "path": str(path), "labels": {"reporter": "CHN", "partner": "RUS"},
        "columns": {"x": {"flow": "export"}}, **extra})
    return FileSource(config, str(path))


def test_detect_and_the_file_source_name_the_same_repeated_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("period,x\n2001-10,1\n2001-11,5\n2001M10,2\n200110,3\n")
    result = _file_source(path).fetch()
    assert dict(zip(result.frame["period"].astype(str), result.frame["value"], strict=True)) == {
        "2001-10": 3.0, "2001-11": 5.0}  # the last of lines 2, 4 and 5 is kept
    assert result.problems == (f"{path}: series chn-rus/export, period 2001-10 appears on lines 2, 4, 5; "
                               "the last is kept",)
    with pytest.raises(InputError) as raised:
        read_panel(path)
    assert str(raised.value).startswith(f"{path}: period 2001-10 appears on lines 2, 4, 5\n")


def test_a_repeat_is_told_once_per_series_and_period_with_every_line(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("skipped title\nperiod,x,y\n2001-11,1,2\n2001-10,3,4\n2001-11,5,6\n")
    config = FileSourceConfig.model_validate({
        "kind": "file", "name": "f", "path": str(path), "labels": {"reporter": "CHN"}, "skip_rows": 1,
        "columns": {"x": {"partner": "RUS", "flow": "export"}, "y": {"partner": "DEU", "flow": "export"}}})
    result = FileSource(config, str(path)).fetch()
    assert sorted(result.problems) == [
        f"{path}: series chn-deu/export, period 2001-11 appears on lines 3, 5; the last is kept",
        f"{path}: series chn-rus/export, period 2001-11 appears on lines 3, 5; the last is kept"]
    assert sorted(result.frame["value"].tolist()) == [3.0, 4.0, 5.0, 6.0]


def test_repeated_records_of_a_json_file_are_numbered_as_records(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps([{"period": "2001-10", "x": 1}, {"period": "2001-11", "x": 2},
                                {"period": "Oct 2001", "x": 3}]))
    result = _file_source(path).fetch()
    assert result.problems == (f"{path}: series chn-rus/export, period 2001-10 appears on records 1, 3; "
                               "the last is kept",)
    assert sorted(result.frame["value"].tolist()) == [2.0, 3.0]


def test_repeated_rows_of_a_parquet_file_are_numbered_as_rows(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pd.DataFrame({"period": ["2001-10", "2001-11", "2001-12", "2001-11"],
                  "x": [1.0, 2.0, 3.0, 4.0]}).to_parquet(path, index=False)
    result = _file_source(path).fetch()
    assert result.problems == (f"{path}: series chn-rus/export, period 2001-11 appears on rows 2, 4; "
                               "the last is kept",)
    assert sorted(result.frame["value"].tolist()) == [1.0, 3.0, 4.0]


def test_repeated_rows_of_a_workbook_are_numbered_as_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    pd.DataFrame({"period": ["2001-10", "2001-10"], "x": [1.0, 2.0]}).to_excel(path, index=False)
    result = _file_source(path).fetch()
    assert result.problems == (f"{path}: series chn-rus/export, period 2001-10 appears on rows 2, 3; "
                               "the last is kept",)
    assert result.frame["value"].tolist() == [2.0]


def test_a_combined_release_and_a_month_it_covers_are_a_repeat(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('period,x\n2024-01/02,10\n2024-01,4\n')
    result = _file_source(path, combined="split").fetch()
    assert result.problems == (f"{path}: series chn-rus/export, period 2024-01 appears on lines 2, 3; "
                               "the last is kept",)


def test_many_repeats_are_counted_past_the_first_twenty(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    months = [f"2001-{m:02d}" for m in range(1, 13)] + [f"2002-{m:02d}" for m in range(1, 13)]
    path.write_text("period,x\n" + "".join(f"{m},1\n" for m in months * 2))
    problems = _file_source(path).fetch().problems
    assert problems[0].endswith("period 2001-01 appears on lines 2, 26; the last is kept")
    assert len(problems) == 20 and all("appears on lines" in p for p in problems[:19])
    assert problems[-1] == (f"{path}: 5 more series and periods appear on several lines; "
                            "the last of each is kept")

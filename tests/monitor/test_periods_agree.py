"""One period reader for every path: the file source, `tradewatch detect`, backtest windows
and the config read each spelling as the same period."""

from __future__ import annotations

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


def test_file_source_reports_repeated_rows(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("period,x\n2001-10,1\n2001M10,2\n")
    config = FileSourceConfig.model_validate({
        "kind": "file", "name": "f", "path": str(path), "labels": {"reporter": "CHN", "partner": "RUS"},
        "columns": {"x": {"flow": "export"}}})
    result = FileSource(config, str(path)).fetch()
    assert result.frame["value"].tolist() == [2.0]
    assert any("1 rows repeat a series and period" in p for p in result.problems)

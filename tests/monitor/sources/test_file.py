"""The file source: CSV, JSON and Parquet by path, URL or demo://, into the long frame."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from monitor.config import FileSource as FileSourceConfig
from monitor.sources.base import FetchResult, SourceError
from monitor.sources.file import FileSource, to_long_frame

RUSSIA_CHINA = "demo://russia_china_monthly_2006_2021_russian_fcs.csv"
EUROSTAT = "demo://eurostat_comext_eu_exports_to_russia_monthly_2019_2024.csv"

USA_CHINA = """\
Month;Exports;Imports;Balance
January 2001;1,187.5;8,427.5;-7,240.0
February 2001;1,289.8;6,375.6;-5,085.8
March 2001;..;7,590.2;-5,734.4
Someday;1;2;3
April 2001;12x;;1
May 2001;1,456.1;8,765.4;-7,309.3
"""


def config(**fields: Any) -> FileSourceConfig:
    return FileSourceConfig.model_validate({"kind": "file", "name": "src", **fields})


def rosstat(**fields: Any) -> FileSourceConfig:
    return config(
        name="rosstat_russia_china",
        path=RUSSIA_CHINA,
        labels={"reporter": "RUS", "partner": "CHN", "commodity": "TOTAL", "unit": "USD_M"},
        columns={"ru_exports_to_cn_musd": {"flow": "export"},
                 "ru_imports_from_cn_musd": {"flow": "import"}},
        **fields,
    )


def eurostat(**fields: Any) -> FileSourceConfig:
    return config(
        name="eurostat",
        path=EUROSTAT,
        value_column="value_eur",
        label_columns={"reporter": "reporter", "partner": "partner", "flow": "flow"},
        labels={"commodity": "TOTAL", "unit": "EUR"},
        **fields,
    )


def fetch(cfg: FileSourceConfig, location: str | None = None) -> FetchResult:
    return FileSource(cfg, cfg.path if location is None else location).fetch()


def value(frame: pd.DataFrame, series: str, period: str) -> float:
    rows = frame[(frame["series"] == series) & (frame["period"] == pd.Period(period, "M"))]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


def periods(frame: pd.DataFrame, series: str) -> list[str]:
    return [str(p) for p in frame.loc[frame["series"] == series, "period"]]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the wide demo file -----------------------------------------------------------------------


def test_wide_demo_file() -> None:
    result = fetch(rosstat())
    frame = result.frame
    assert result.problems == ()
    assert list(frame.columns) == [
        "series", "period", "value", "reporter", "partner", "commodity", "unit", "flow", "source",
    ]
    assert frame["period"].dtype == pd.PeriodDtype("M")
    assert frame["value"].dtype == "float64"
    assert frame["series"].value_counts().to_dict() == {
        "rus-chn/export/total": 192, "rus-chn/import/total": 192,
    }
    exports = periods(frame, "rus-chn/export/total")
    assert exports[0] == "2006-01" and exports[-1] == "2021-12"
    assert exports == [str(p) for p in pd.period_range("2006-01", "2021-12", freq="M")]
    assert value(frame, "rus-chn/export/total", "2006-01") == 1197.01099
    assert value(frame, "rus-chn/import/total", "2006-01") == 640.29537
    assert value(frame, "rus-chn/export/total", "2014-09") == 2934.40627
    assert value(frame, "rus-chn/import/total", "2014-10") == 4653.612
    assert value(frame, "rus-chn/export/total", "2021-12") == 6788.77988
    assert value(frame, "rus-chn/import/total", "2021-12") == 8216.73826
    imports = frame[frame["series"] == "rus-chn/import/total"].iloc[0].to_dict()
    assert imports == {
        "series": "rus-chn/import/total", "period": pd.Period("2006-01", "M"),
        "value": 640.29537, "reporter": "RUS", "partner": "CHN", "commodity": "TOTAL",
        "unit": "USD_M", "flow": "import", "source": "rosstat_russia_china",
    }


def test_fetch_reads_the_file_each_time() -> None:
    source = FileSource(rosstat(), RUSSIA_CHINA)
    first, second = source.fetch(), source.fetch()
    pd.testing.assert_frame_equal(first.frame, second.frame)


def test_column_labels_override_constant_labels() -> None:
    cfg = rosstat().model_copy(update={"columns": {"ru_exports_to_cn_musd": {"partner": "Japan"}},
                                       "labels": {"reporter": "RU", "flow": "X"}})
    frame = fetch(cfg).frame
    assert frame["series"].unique().tolist() == ["rus-jpn/export"]
    assert value(frame, "rus-jpn/export", "2006-01") == 1197.01099


# --- the long demo file -----------------------------------------------------------------------


def test_long_demo_file_with_include() -> None:
    result = fetch(eurostat(include={"reporter": ["EU27", "DEU"]}))
    frame = result.frame
    assert result.problems == ()
    assert sorted(frame["series"].unique()) == ["deu-rus/export/total", "eu27-rus/export/total"]
    for series in ("deu-rus/export/total", "eu27-rus/export/total"):
        assert periods(frame, series) == [
            str(p) for p in pd.period_range("2019-01", "2024-08", freq="M")
        ]
    assert value(frame, "eu27-rus/export/total", "2019-01") == 5981189318.0
    assert value(frame, "eu27-rus/export/total", "2022-02") == 7270260126.0
    assert value(frame, "eu27-rus/export/total", "2022-03") == 3862268233.0
    assert value(frame, "deu-rus/export/total", "2019-01") == 1842341015.0
    assert value(frame, "deu-rus/export/total", "2024-08") == 628069989.0
    row = frame[frame["series"] == "deu-rus/export/total"].iloc[0].to_dict()
    assert row == {
        "series": "deu-rus/export/total", "period": pd.Period("2019-01", "M"),
        "value": 1842341015.0, "commodity": "TOTAL", "unit": "EUR", "reporter": "DEU",
        "partner": "RUS", "flow": "export", "source": "eurostat",
    }


def test_include_accepts_the_files_own_spelling() -> None:
    frame = fetch(eurostat(include={"reporter": ["Germany"], "flow": ["X"]})).frame
    assert frame["series"].unique().tolist() == ["deu-rus/export/total"]
    assert len(frame) == 68


def test_include_on_a_label_that_does_not_exist_selects_nothing() -> None:
    frame = fetch(eurostat(include={"hs_code": ["8458"]})).frame
    assert frame.empty
    assert list(frame.columns)[:3] == ["series", "period", "value"]


def test_long_demo_file_keeps_every_reporter_apart() -> None:
    frame = fetch(eurostat()).frame
    counts = frame["series"].value_counts()
    assert len(counts) == 32
    assert counts["gbr-rus/export/total"] == 13
    assert counts["mlt-rus/export/total"] == 49
    assert counts["cyp-rus/export/total"] == 67
    assert "2022-04" not in periods(frame, "cyp-rus/export/total")
    # "European Union" (its composition at the time, with the UK in 2019) is not EU27_2020.
    assert value(frame, "eu-rus/export/total", "2019-01") == 6190128493.0
    assert value(frame, "eu27-rus/export/total", "2019-01") == 5981189318.0
    assert value(frame, "ea-rus/export/total", "2019-01") == 4727003349.0
    assert value(frame, "ea20-rus/export/total", "2019-01") == 4735449926.0
    assert len(frame) == 2101


# --- replay -----------------------------------------------------------------------------------


def test_replay_reveals_one_more_period_per_fetch() -> None:
    source = FileSource(rosstat(replay={"start": "2014-09"}), RUSSIA_CHINA)
    first = source.fetch().frame
    assert first["series"].value_counts().to_dict() == {
        "rus-chn/export/total": 105, "rus-chn/import/total": 105,
    }
    assert periods(first, "rus-chn/import/total")[-1] == "2014-09"
    second = source.fetch().frame
    assert len(second) == 212
    assert periods(second, "rus-chn/export/total")[-1] == "2014-10"
    assert value(second, "rus-chn/import/total", "2014-10") == 4653.612
    third = source.fetch().frame
    assert periods(third, "rus-chn/export/total")[-1] == "2014-11"


def test_replay_stops_growing_at_the_end_of_the_data(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "period,v\n2020-01,1\n2020-02,2\n2020-03,3\n")
    source = FileSource(config(path=str(path), value_column="v",
                               replay={"start": "2020-02"}), str(path))
    seen = [[str(p) for p in source.fetch().frame["period"]] for _ in range(4)]
    assert seen == [
        ["2020-01", "2020-02"],
        ["2020-01", "2020-02", "2020-03"],
        ["2020-01", "2020-02", "2020-03"],
        ["2020-01", "2020-02", "2020-03"],
    ]


def test_replay_starting_before_the_data(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "period,v\n2020-01,1\n2020-02,2\n")
    source = FileSource(config(path=str(path), value_column="v",
                               replay={"start": "2019-12"}), str(path))
    assert source.fetch().frame.empty
    assert source.fetch().frame["value"].tolist() == [1.0]


def test_replay_quarterly(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", "period,v\n2020Q1,1\n2020Q2,2\n2020Q3,3\n")
    source = FileSource(config(path=str(path), value_column="v", frequency="Q",
                               replay={"start": "2020Q1"}), str(path))
    assert [str(p) for p in source.fetch().frame["period"]] == ["2020Q1"]
    assert [str(p) for p in source.fetch().frame["period"]] == ["2020Q1", "2020Q2"]


# --- CSV dialects, bad rows and missing values -----------------------------------------------


def usa_china(path: Path) -> FileSourceConfig:
    return config(
        name="census", path=str(path), separator=";", thousands=",", period_column="Month",
        labels={"reporter": "US", "partner": "China", "commodity": "total"},
        columns={"Exports": {"flow": "exports"}, "Imports": {"flow": "M"}},
    )


def test_semicolons_thousands_and_month_names(tmp_path: Path) -> None:
    path = write(tmp_path, "usa-china.csv", USA_CHINA)
    result = fetch(usa_china(path))
    frame = result.frame
    assert sorted(frame["series"].unique()) == ["usa-chn/export/total", "usa-chn/import/total"]
    assert periods(frame, "usa-chn/export/total") == ["2001-01", "2001-02", "2001-05"]
    assert periods(frame, "usa-chn/import/total") == ["2001-01", "2001-02", "2001-03", "2001-05"]
    assert frame.loc[frame["series"] == "usa-chn/export/total", "value"].tolist() == [
        1187.5, 1289.8, 1456.1,
    ]
    assert frame.loc[frame["series"] == "usa-chn/import/total", "value"].tolist() == [
        8427.5, 6375.6, 7590.2, 8765.4,
    ]
    assert set(frame["reporter"]) == {"USA"} and set(frame["partner"]) == {"CHN"}
    assert set(frame["commodity"]) == {"TOTAL"} and set(frame["source"]) == {"census"}


def test_bad_rows_are_skipped_and_reported_by_line(tmp_path: Path) -> None:
    path = write(tmp_path, "usa-china.csv", USA_CHINA)
    assert fetch(usa_china(path)).problems == (
        f"{path}:5: cannot read period 'Someday' in column Month",
        f"{path}:6: value '12x' in column Exports is not a number",
    )


@pytest.mark.parametrize("missing", ["", " ", "..", "...", "-", ":", "NA", "nan", "…"])
def test_missing_value_markers_are_not_problems(tmp_path: Path, missing: str) -> None:
    path = write(tmp_path, "m.csv", f"period,v\n2020-01,1\n2020-02,{missing}\n2020-03,3\n")
    result = fetch(config(path=str(path), value_column="v"))
    assert result.problems == ()
    assert [str(p) for p in result.frame["period"]] == ["2020-01", "2020-03"]


def test_short_rows_are_missing_values(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "period,a,b\n2020-01,1\n2020-02,2,5\n")
    result = fetch(config(path=str(path), columns={"a": {"flow": "X"}, "b": {"flow": "M"}}))
    assert result.problems == ()
    assert result.frame[["series", "value"]].to_dict("list") == {
        "series": ["export", "export", "import"], "value": [1.0, 2.0, 5.0],
    }


def test_a_bad_cell_does_not_hide_other_series(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "period,a,b\n2020-01,oops,1\n2020-02,2,x2\n")
    result = fetch(config(path=str(path), columns={"a": {"flow": "X"}, "b": {"flow": "M"}}))
    assert result.problems == (
        f"{path}:2: value 'oops' in column a is not a number",
        f"{path}:3: value 'x2' in column b is not a number",
    )
    assert result.frame[["series", "value"]].to_dict("list") == {
        "series": ["export", "import"], "value": [2.0, 1.0],
    }


def test_many_problems_are_summarised(tmp_path: Path) -> None:
    rows = [f"2020-{month:02d},x{month}" for month in range(1, 13)]
    rows += [f"bad{i},1" for i in range(13)]
    path = write(tmp_path, "m.csv", "period,v\n" + "\n".join(rows) + "\n")
    result = fetch(config(path=str(path), value_column="v"))
    assert result.frame.empty
    assert len(result.problems) == 21
    assert result.problems[0] == f"{path}:14: cannot read period 'bad0' in column period"
    assert result.problems[12] == f"{path}:26: cannot read period 'bad12' in column period"
    assert result.problems[13] == f"{path}:2: value 'x1' in column v is not a number"
    assert result.problems[19] == f"{path}:8: value 'x7' in column v is not a number"
    assert result.problems[20] == "... and 5 more"


def test_duplicate_rows_keep_the_last(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "period,v\n2020-01,1\n2020-01,2\n2020-02,3\n")
    frame = fetch(config(path=str(path), value_column="v")).frame
    assert frame["value"].tolist() == [2.0, 3.0]


def test_quarterly_and_annual_periods(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", "period,v\n2020Q4,1\n2021Q1,2\n")
    frame = fetch(config(path=str(path), value_column="v", frequency="Q")).frame
    assert frame["period"].dtype == pd.PeriodDtype("Q")
    assert frame["period"].tolist() == [pd.Period("2020Q4", "Q"), pd.Period("2021Q1", "Q")]
    path = write(tmp_path, "a.csv", "year,v\n2020,1\n 2021 ,2\n")
    frame = fetch(config(path=str(path), value_column="v", frequency="A",
                         period_column="year")).frame
    assert frame["period"].dtype == pd.PeriodDtype("Y")
    assert frame["period"].tolist() == [pd.Period("2020", "Y"), pd.Period("2021", "Y")]


def test_labels_from_columns_are_normalised(tmp_path: Path) -> None:
    path = write(tmp_path, "l.csv", (
        "period,from,to,dir,hs,v\n"
        "2020-01,Russia,CN,X,all,1\n"
        "2020-01,Russian Federation,China,imports,8458,2\n"
    ))
    frame = fetch(config(path=str(path), value_column="v", label_columns={
        "reporter": "from", "partner": "to", "flow": "dir", "commodity": "hs"})).frame
    assert frame.drop(columns=["period", "value"]).to_dict("records") == [
        {"series": "rus-chn/export/total", "reporter": "RUS", "partner": "CHN",
         "flow": "export", "commodity": "TOTAL", "source": "src"},
        {"series": "rus-chn/import/8458", "reporter": "RUS", "partner": "CHN",
         "flow": "import", "commodity": "8458", "source": "src"},
    ]


# --- failures of the whole source ---------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(SourceError) as caught:
        fetch(config(name="nope", path=str(path), value_column="v"))
    assert caught.value.reason == "not_found"
    assert caught.value.source == "nope"
    assert str(caught.value) == f"source 'nope': file not found: {path}"


def test_missing_demo_file() -> None:
    with pytest.raises(SourceError) as caught:
        fetch(config(path="demo://nope.csv", value_column="v"))
    assert caught.value.reason == "not_found"
    assert str(caught.value) == "source 'src': file not found: demo://nope.csv"


def test_file_url(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "period,v\n2020-01,1.5\n")
    result = fetch(config(path=f"file://{path}", value_column="v"))
    assert result.frame["value"].tolist() == [1.5]


def test_directory_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        fetch(config(path=str(tmp_path), value_column="v"))
    assert caught.value.reason == "io"
    assert str(caught.value) == f"source 'src': cannot read {tmp_path}: Is a directory"


def test_missing_column_names_it_and_lists_the_files_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "usa-china.csv", USA_CHINA)
    cfg = usa_china(path).model_copy(
        update={"columns": {"Exports": {}, "Exprots": {}}, "label_columns": {"x": "Partner"}})
    with pytest.raises(SourceError) as caught:
        fetch(cfg)
    assert caught.value.reason == "parse"
    assert str(caught.value) == (
        f"source 'census': {path}: missing column(s) Partner, Exprots; "
        "the file has Month, Exports, Imports, Balance"
    )


def test_missing_period_column(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "date,v\n2020-01,1\n")
    with pytest.raises(SourceError) as caught:
        fetch(config(path=str(path), value_column="v"))
    assert str(caught.value) == (
        f"source 'src': {path}: missing column(s) period; the file has date, v"
    )


def test_wrong_separator_shows_the_single_column(tmp_path: Path) -> None:
    path = write(tmp_path, "usa-china.csv", USA_CHINA)
    cfg = usa_china(path).model_copy(update={"separator": ","})
    with pytest.raises(SourceError, match=r"missing column\(s\) Month, Exports, Imports; "
                                          r"the file has Month;Exports;Imports;Balance"):
        fetch(cfg)


def test_empty_file_is_a_parse_error(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.csv", "")
    with pytest.raises(SourceError) as caught:
        fetch(config(path=str(path), value_column="v"))
    assert caught.value.reason == "parse"
    assert str(caught.value) == (
        f"source 'src': cannot parse {path} as csv: No columns to parse from file"
    )


# --- JSON and Parquet -------------------------------------------------------------------------


def test_json_records(tmp_path: Path) -> None:
    records = [
        {"period": "2020-01", "value": 1.5, "reporter": "DE", "flow": "X"},
        {"period": "2020-02", "value": None, "reporter": "DE", "flow": "X"},
        {"period": "2020-03", "value": 3, "reporter": "DE", "flow": "X"},
        {"period": "2020-01", "value": 7.25, "reporter": "France", "flow": "X"},
    ]
    path = write(tmp_path, "data.json", json.dumps(records))
    result = fetch(config(path=str(path), value_column="value",
                          label_columns={"reporter": "reporter", "flow": "flow"}))
    assert result.problems == ()
    assert result.frame[["series", "period", "value"]].to_dict("list") == {
        "series": ["deu/export", "deu/export", "fra/export"],
        "period": [pd.Period("2020-01", "M"), pd.Period("2020-03", "M"),
                   pd.Period("2020-01", "M")],
        "value": [1.5, 3.0, 7.25],
    }


def test_json_bad_value_is_reported(tmp_path: Path) -> None:
    records = [{"period": "2020-01", "v": "abc"}, {"period": "2020-02", "v": 2}]
    path = write(tmp_path, "data.json", json.dumps(records))
    result = fetch(config(path=str(path), value_column="v"))
    assert result.frame["value"].tolist() == [2.0]
    assert result.problems == (f"{path} record 1: value 'abc' in column v is not a number",)


def test_format_given_explicitly(tmp_path: Path) -> None:
    path = write(tmp_path, "data.txt", json.dumps([{"period": "2020-01", "v": 4}]))
    result = fetch(config(path=str(path), value_column="v", format="json"))
    assert result.frame["value"].tolist() == [4.0]


def test_invalid_json(tmp_path: Path) -> None:
    path = write(tmp_path, "data.json", "{not json")
    with pytest.raises(SourceError) as caught:
        fetch(config(path=str(path), value_column="v"))
    assert caught.value.reason == "parse"
    assert str(caught.value).startswith(f"source 'src': cannot parse {path} as json: ")


def test_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "data.parquet"
    pd.DataFrame({"period": ["2020-01", "2020-02"], "v": [1.5, None],
                  "who": ["RU", "RU"]}).to_parquet(path)
    result = fetch(config(path=str(path), value_column="v", label_columns={"reporter": "who"}))
    assert result.problems == ()
    assert result.frame[["series", "period", "value"]].to_dict("list") == {
        "series": ["rus"], "period": [pd.Period("2020-01", "M")], "value": [1.5],
    }


def test_parquet_without_an_engine_is_a_source_error(tmp_path: Path) -> None:
    for engine in ("pyarrow", "fastparquet"):
        try:
            __import__(engine)
        except ImportError:
            continue
        pytest.skip(f"{engine} is installed")
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(SourceError) as caught:
        fetch(config(path=str(path), value_column="v"))
    assert caught.value.reason == "parse"
    assert str(caught.value).startswith(
        f"source 'src': cannot parse {path} as parquet: Unable to find a usable engine"
    )


# --- to_long_frame on its own -----------------------------------------------------------------


def test_to_long_frame_from_a_table_of_strings() -> None:
    table = pd.DataFrame({
        "period": ["2020-01", "2020-02", "20x0-03"],
        "value": ["1", "2.5", "3"],
        "partner": ["CN", "CN", "CN"],
    })
    cfg = config(path="t.csv", value_column="value", label_columns={"partner": "partner"},
                 labels={"reporter": "RUS", "flow": "import"})
    frame, problems = to_long_frame(table, cfg, "t.csv")
    assert problems == ["t.csv:4: cannot read period '20x0-03' in column period"]
    assert frame.to_dict("records") == [
        {"series": "rus-chn/import", "period": pd.Period("2020-01", "M"), "value": 1.0,
         "reporter": "RUS", "flow": "import", "partner": "CHN", "source": "src"},
        {"series": "rus-chn/import", "period": pd.Period("2020-02", "M"), "value": 2.5,
         "reporter": "RUS", "flow": "import", "partner": "CHN", "source": "src"},
    ]


def test_to_long_frame_with_nothing_usable() -> None:
    table = pd.DataFrame({"period": ["x"], "value": ["1"]})
    frame, problems = to_long_frame(table, config(path="t.csv", value_column="value"), "t.csv")
    assert problems == ["t.csv:2: cannot read period 'x' in column period"]
    assert frame.empty
    assert list(frame.columns) == ["series", "period", "value", "source"]
    assert frame["period"].dtype == pd.PeriodDtype("M")
    assert frame["value"].dtype == "float64"


# --- over HTTP --------------------------------------------------------------------------------


CSV_BODY = b"period,v\n2020-01,1.5\n2020-02,2.5\n"


class _Server:
    def __init__(self) -> None:
        release = threading.Event()
        self.release = release

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/slow"):
                    release.wait(10)
                if self.path.startswith(("/data.csv", "/slow", "/download")):
                    body = CSV_BODY
                    self.send_response(200)
                elif self.path.startswith("/data.json"):
                    body = json.dumps([{"period": "2020-03", "v": 3}]).encode()
                    self.send_response(200)
                else:
                    body = b"not here"
                    self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client may have given up waiting
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    running = _Server()
    yield running
    running.close()


def test_http_csv(server: _Server) -> None:
    url = f"{server.url}/data.csv"
    result = fetch(config(path=url, value_column="v", timeout="1s"))
    assert result.problems == ()
    assert result.frame[["series", "period", "value"]].to_dict("list") == {
        "series": ["source=src", "source=src"],
        "period": [pd.Period("2020-01", "M"), pd.Period("2020-02", "M")],
        "value": [1.5, 2.5],
    }


def test_http_format_from_the_url_path(server: _Server) -> None:
    result = fetch(config(path=f"{server.url}/data.json?v=1", value_column="v", timeout="1s"))
    assert result.frame["value"].tolist() == [3.0]


def test_http_not_found(server: _Server) -> None:
    url = f"{server.url}/missing.csv"
    with pytest.raises(SourceError) as caught:
        fetch(config(path=url, value_column="v", timeout="1s"))
    assert caught.value.reason == "http_4xx"
    assert str(caught.value) == f"source 'src': {url} answered HTTP 404"


def test_http_timeout(server: _Server) -> None:
    url = f"{server.url}/slow.csv"
    with pytest.raises(SourceError) as caught:
        fetch(config(path=url, value_column="v", timeout="1s", retry={"attempts": 1}))
    assert caught.value.reason == "timeout"
    assert str(caught.value) == f"source 'src': timed out reading {url}"


def test_http_connection_refused(server: _Server) -> None:
    url = f"{server.url}/data.csv"
    server.close()
    with pytest.raises(SourceError) as caught:
        fetch(config(path=url, value_column="v", timeout="1s", retry={"attempts": 1}))
    assert caught.value.reason == "connect"
    assert str(caught.value).startswith(f"source 'src': cannot read {url}: ")


# --- the real US-China file, Excel, period spellings, combined releases ---------------------

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_the_real_census_file_loads_with_config_alone() -> None:
    path = FIXTURES / "usa-china-trade-data.csv"
    cfg = config(name="census", path=str(path), separator=";", thousands=",", period_column="Month",
                 labels={"reporter": "USA", "partner": "CHN", "commodity": "TOTAL", "unit": "USD_M"},
                 columns={"Exports": {"flow": "export"}, "Imports": {"flow": "import"},
                          "Balance": {"flow": "balance"}})
    result = fetch(cfg)
    frame = result.frame
    assert result.problems == ()
    assert frame["series"].value_counts().to_dict() == {
        "usa-chn/export/total": 228, "usa-chn/import/total": 228, "usa-chn/balance/total": 228,
    }
    assert periods(frame, "usa-chn/export/total") == [
        str(p) for p in pd.period_range("2001-01", "2019-12", freq="M")]
    assert value(frame, "usa-chn/export/total", "2001-01") == 1187.5
    assert value(frame, "usa-chn/import/total", "2001-01") == 8427.5
    assert value(frame, "usa-chn/balance/total", "2001-01") == -7240.0
    assert value(frame, "usa-chn/export/total", "2019-12") == 8901.2
    assert value(frame, "usa-chn/import/total", "2019-12") == 33418.1
    assert value(frame, "usa-chn/balance/total", "2019-12") == -24517.0


@pytest.mark.parametrize(("label", "frequency", "expected"), [
    ("2015-03", "M", "2015-03"), ("2015/03", "M", "2015-03"), ("2015.03", "M", "2015-03"),
    ("March 2015", "M", "2015-03"), ("Mar 2015", "M", "2015-03"), ("Sept 2015", "M", "2015-09"),
    ("201503", "M", "2015-03"), ("2015M03", "M", "2015-03"), ("2015-M3", "M", "2015-03"),
    ("03/2015", "M", "2015-03"), ("2015-03-01", "M", "2015-03"), ("2015-03-01 00:00:00", "M", "2015-03"),
    ("2015-Q1", "Q", "2015Q1"), ("2015Q1", "Q", "2015Q1"), ("Q1 2015", "Q", "2015Q1"),
    ("2015", "A", "2015"),
])
def test_period_spellings(tmp_path: Path, label: str, frequency: str, expected: str) -> None:
    path = write(tmp_path, "p.csv", f"period;v\n{label};1\n")
    result = fetch(config(path=str(path), value_column="v", separator=";", frequency=frequency))
    assert result.problems == ()
    assert [str(p) for p in result.frame["period"]] == [expected]


@pytest.mark.parametrize("label", ["2015.1", "2015", "2015-13", "Smarch 2015", "2015-Q5"])
def test_ambiguous_or_wrong_months_are_reported_not_guessed(tmp_path: Path, label: str) -> None:
    path = write(tmp_path, "p.csv", f"period;v\n{label};1\n")
    result = fetch(config(path=str(path), value_column="v", separator=";"))
    assert result.frame.empty
    assert result.problems == (f"{path}:2: cannot read period {label!r} in column period",)


NEWS = "period,cn_exports_usd_m\n2023-12,11000\n2024-01/02,22000\n2024-03,12500\nJan-Feb 2025,20000\n"


def test_a_combined_january_february_release_is_kept_whole_at_february(tmp_path: Path) -> None:
    path = write(tmp_path, "gacc.csv", NEWS)
    frame = fetch(config(path=str(path), columns={"cn_exports_usd_m": {"flow": "export"}})).frame
    assert [str(p) for p in frame["period"]] == ["2023-12", "2024-02", "2024-03", "2025-02"]
    assert frame["value"].tolist() == [11000.0, 22000.0, 12500.0, 20000.0]


def test_a_combined_release_is_split_evenly_only_on_request(tmp_path: Path) -> None:
    path = write(tmp_path, "gacc.csv", NEWS)
    frame = fetch(config(path=str(path), columns={"cn_exports_usd_m": {"flow": "export"}},
                         combined="split")).frame
    assert [str(p) for p in frame["period"]] == [
        "2023-12", "2024-01", "2024-02", "2024-03", "2025-01", "2025-02"]
    assert frame["value"].tolist() == [11000.0, 11000.0, 11000.0, 12500.0, 10000.0, 10000.0]


def test_decimal_comma_and_dot_thousands(tmp_path: Path) -> None:
    path = write(tmp_path, "de.csv", "Monat;Wert\n2020-01;1.234,5\n2020-02;-0,25\n")
    frame = fetch(config(path=str(path), value_column="Wert", period_column="Monat", separator=";",
                         thousands=".", decimal=",")).frame
    assert frame["value"].tolist() == [1234.5, -0.25]


def test_thousands_and_decimal_must_differ() -> None:
    with pytest.raises(ValueError, match="'thousands' and 'decimal' are both ','"):
        config(path="x.csv", value_column="v", thousands=",", decimal=",")


def write_workbook(path: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("Trade")
    sheet.append(["China's exports to Russia by HS heading, USD"])  # a title row
    sheet.append(["Month", "HS", "Value", "Comment"])
    sheet.append(["January 2024", 8458, 1234567.5, "prelim"])
    sheet.append([datetime(2024, 2, 1), 8458, 2345678, None])
    sheet.append(["2024M03", "8458", "3,456,789.25", None])  # a text cell with separators
    sheet.append(["2024-04", 8458.0, None, None])  # not published yet
    sheet.append(["2024-05", 8458, "n/a", None])
    book.save(path)


def test_excel_sheet_with_a_title_row(tmp_path: Path) -> None:
    path = tmp_path / "gacc.xlsx"
    write_workbook(path)
    result = fetch(config(path=str(path), sheet="Trade", skip_rows=1, period_column="Month",
                          value_column="Value", label_columns={"commodity": "HS"}, thousands=",",
                          labels={"reporter": "CN", "partner": "RU", "flow": "X"}))
    assert result.frame[["series", "period", "value"]].to_dict("list") == {
        "series": ["chn-rus/export/8458"] * 3,
        "period": [pd.Period("2024-01", "M"), pd.Period("2024-02", "M"), pd.Period("2024-03", "M")],
        "value": [1234567.5, 2345678.0, 3456789.25],
    }
    assert result.problems == (f"{path}:7: value 'n/a' in column Value is not a number",)


def test_excel_unknown_sheet_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "gacc.xlsx"
    write_workbook(path)
    with pytest.raises(SourceError) as caught:
        fetch(config(path=str(path), sheet="Trades", value_column="Value"))
    assert caught.value.reason == "parse"
    assert str(caught.value) == (
        f"source 'src': cannot parse {path} as excel: Worksheet named 'Trades' not found")


def test_excel_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = write(tmp_path, "old.xlsx", "<html>error page</html>")
    with pytest.raises(SourceError) as caught:
        fetch(config(path=str(path), value_column="Value"))
    assert caught.value.reason == "parse"
    assert "not an Excel .xlsx workbook" in str(caught.value)


def test_file_by_url_is_retried_after_a_server_error(local_server: Any) -> None:
    from tests.monitor.httpserver import Reply

    local_server.route("/gacc.csv", Reply(502, b"bad gateway"), Reply(200, NEWS.encode()))
    cfg = config(path=f"{local_server.url}/gacc.csv", columns={"cn_exports_usd_m": {"flow": "export"}},
                 retry={"attempts": 2, "backoff": "10ms"})
    assert fetch(cfg).frame["value"].tolist() == [11000.0, 22000.0, 12500.0, 20000.0]
    assert len(local_server.to("/gacc.csv")) == 2

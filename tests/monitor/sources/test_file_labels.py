"""Large files: labels normalised per distinct combination and periods parsed per distinct
spelling give the same long frame whatever the file format, row order or column types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from monitor.config import FileSource as FileSourceConfig
from monitor.sources.file import FileSource

ROWS = [  # reporter spelled three ways, a commodity code, a period spelled two ways
    ("RU", "China", "X", 8458, "2020-01", 1.0),
    ("RUS", "CN", "exports", 8458, "Feb 2020", 2.0),
    ("Russia", "CHN", "M", 8458, "2020-01", 3.0),
    ("RU", "CN", "X", 8501, "2020-02", None),
    ("RU", "CN", "X", 8458, "2020-01", 1.5),  # a repeat of the first row: the later one counts
]


def config(path: Path, **fields: Any) -> FileSourceConfig:
    return FileSourceConfig.model_validate({
        "kind": "file", "name": "big", "path": str(path), "value_column": "value",
        "label_columns": {"reporter": "rep", "partner": "par", "flow": "flow", "commodity": "hs"},
        "labels": {"unit": "USD"}, **fields})


def table() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["rep", "par", "flow", "hs", "period", "value"])


def rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in frame[["series", "period", "value", "reporter", "partner", "flow", "commodity",
                                     "unit", "source"]].astype(object).itertuples(index=False)]


EXPECTED = [
    ("rus-chn/export/8458", pd.Period("2020-02", "M"), 2.0, "RUS", "CHN", "export", "8458", "USD", "big"),
    ("rus-chn/import/8458", pd.Period("2020-01", "M"), 3.0, "RUS", "CHN", "import", "8458", "USD", "big"),
    ("rus-chn/export/8458", pd.Period("2020-01", "M"), 1.5, "RUS", "CHN", "export", "8458", "USD", "big"),
]


def test_csv_and_typed_parquet_give_the_same_frame(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    table().to_csv(tmp_path / "data.csv", index=False)
    table().to_parquet(tmp_path / "data.parquet")  # hs stays an integer column, value a float one
    from_csv = FileSource(config(tmp_path / "data.csv"), str(tmp_path / "data.csv")).fetch().frame
    from_parquet = FileSource(config(tmp_path / "data.parquet"), str(tmp_path / "data.parquet")).fetch().frame
    assert rows(from_csv) == EXPECTED
    assert rows(from_parquet) == EXPECTED
    assert isinstance(from_parquet["series"].dtype, pd.CategoricalDtype)
    assert sorted(from_parquet["series"].cat.categories) == ["rus-chn/export/8458", "rus-chn/import/8458"]


def test_a_filter_leaves_no_unused_labels(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    table().to_parquet(tmp_path / "data.parquet")
    frame = FileSource(config(tmp_path / "data.parquet", include={"flow": ["imports"]}),
                       str(tmp_path / "data.parquet")).fetch().frame
    assert rows(frame) == [EXPECTED[1]]
    assert list(frame["series"].cat.categories) == ["rus-chn/import/8458"]
    assert list(frame["flow"].cat.categories) == ["import"]

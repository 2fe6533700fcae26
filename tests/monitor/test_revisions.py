"""Revisions end to end: a revised figure fires a revision rule and explains a resolution."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.app import App
from monitor.config import load_config
from tests.conftest import ROSSTAT_IMPORTS, truncate_csv

CONFIG = """
store: {path: state.db}
sources:
""" + ROSSTAT_IMPORTS + """rules:
  - name: sharp_fall
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -20}
  - name: revised
    transform: {kind: yoy_pct}
    detector: {kind: revision, threshold: 1.0}
    severity: info
"""


def revise(path: Path, period: str, column: int, value: float) -> None:
    lines = path.read_text().splitlines()
    for index, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == period:
            cells[column] = str(value)
            lines[index] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def test_a_revision_fires_a_revision_alert_and_explains_the_resolution(
    write_config: Callable[[str], Path], russia_china_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncate_csv(russia_china_csv, "2015-03")  # imports 3012.55243 (-21.6% YoY against 3842.39159)
    app = App(load_config(write_config(CONFIG)))
    app.run_once()
    assert capsys.readouterr().out.splitlines() == [
        "Russia's imports from China: down 21.6% YoY in March 2015 · warning · Russia's imports from "
        "China fell 21.6% YoY in March 2015, below the -20% threshold."]
    revise(russia_china_csv, "2015-03", 2, 3200.0)  # -16.7% YoY: no longer below -20%
    app.run_once()
    assert capsys.readouterr().out.splitlines() == [
        "Resolved · Russia's imports from China: back above -20% YoY · warning · After a revision "
        "(March 2015 from 3,012.6 to 3,200), Russia's imports from China fell 16.7% YoY in March 2015; "
        "sharp_fall no longer holds.",
        "Russia's imports from China: March 2015 revised up · info · Russia's imports from China: "
        "March 2015 was revised from -21.6% to -16.7% YoY.",
    ]
    history = app.store.vintages("rus-chn/import/total")
    march = history[history["period"] == "2015-03"]["value"].tolist()
    assert march == [3012.55243, 3200.0]  # both vintages kept
    app.run_once()  # nothing new: the revision event resolves quietly, nothing is sent
    assert capsys.readouterr().out == ""
    app.store.close()


def test_a_small_revision_is_below_the_threshold(
    write_config: Callable[[str], Path], russia_china_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncate_csv(russia_china_csv, "2015-03")
    app = App(load_config(write_config(CONFIG)))
    app.run_once()
    capsys.readouterr()
    revise(russia_china_csv, "2015-03", 2, 3020.0)  # -21.4% YoY: moved 0.2 points
    app.run_once()
    assert capsys.readouterr().out == ""
    app.store.close()


def test_units_are_never_mixed_in_one_series(
    write_config: Callable[[str], Path], russia_china_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    truncate_csv(russia_china_csv, "2015-03")
    path = write_config(CONFIG)
    app = App(load_config(path))
    app.run_once()
    app.store.close()
    path.write_text(CONFIG.replace("unit: USD_M", "unit: CNY_M"))
    truncate_csv(russia_china_csv, "2015-02")
    revise(russia_china_csv, "2015-02", 2, 1.0)
    app = App(load_config(path))
    app.run_once()
    app.store.close()
    assert "series rus-chn/import/total is stored in unit 'USD_M'; refusing values in 'CNY_M'" in caplog.text
    history = app.store.vintages("rus-chn/import/total")
    assert 1.0 not in history["value"].tolist()

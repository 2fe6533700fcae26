"""Mirror gaps: China's exports to Russia against Russia's imports from China, the gap's
change as a rule watches it, and a rule that mixes units refusing to run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detectors import DetectorConfigError, apply_transform, check_transform
from monitor.cli import main

CONFIG = """
store: {{path: tw.db}}
sources:
  - name: customs
    kind: file
    path: mirror.csv
    frequency: M
    period_column: period
    value_column: value
    label_columns: {{reporter: reporter, partner: partner, flow: flow, unit: unit}}
    labels: {{commodity: TOTAL}}
rules:
  - name: gap_widens
    select: {{reporter: CHN}}
    transform: {{kind: mirror_gap, mirror: {{chn-rus/export/total: rus-chn/import/total}}, change: 12}}
    detector: {{kind: threshold, direction: above, threshold: 10.0}}
notify:
  receivers: [{{name: console, console: {{}}}}]
  route: {{receiver: console, group_wait: 0s}}
"""


def test_the_gap_and_its_change_in_points() -> None:
    index = pd.period_range("2020-01", periods=3, freq="M")
    panel = pd.DataFrame({"x": [100.0, 100.0, 0.0], "m": [110.0, 130.0, 5.0]}, index=index)
    gap = apply_transform("mirror_gap", panel, mirror={"x": "m"})
    assert gap["x"].tolist()[:2] == [10.0, 30.0] and np.isnan(gap["x"].iloc[2])  # no gap on a zero flow
    assert gap["m"].isna().all()  # the mirror itself has no mirror here
    moved = apply_transform("mirror_gap", panel, mirror={"x": "m"}, change=1)
    assert np.isnan(moved["x"].iloc[0]) and moved["x"].iloc[1] == 20.0
    with pytest.raises(DetectorConfigError, match=r"mirror_gap\.change must be a whole number"):
        check_transform("mirror_gap", {"mirror": "m", "change": -1})
    with pytest.raises(DetectorConfigError, match="mirror_gap: missing parameter"):
        check_transform("mirror_gap", {})


def _write(tmp_path: Path, mirror_unit: str) -> Path:
    rows = ["period,reporter,partner,flow,unit,value"]
    for k, period in enumerate(pd.period_range("2020-01", "2021-03", freq="M")):
        fob = 4000.0 + 10 * k
        cif = fob * (1.05 if period < pd.Period("2021-03", freq="M") else 1.25)  # the gap jumps in March 2021
        rows += [f"{period},CHN,RUS,export,USD_M,{fob}", f"{period},RUS,CHN,import,{mirror_unit},{cif}"]
    (tmp_path / "mirror.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "tradewatch.yaml"
    path.write_text(CONFIG.format())
    return path


def test_a_widening_gap_fires(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["once", "--config", str(_write(tmp_path, "USD_M")), "--log-level", "error"]) == 0
    fired = [line for line in capsys.readouterr().out.splitlines() if " · " in line]
    assert len(fired) == 1 and fired[0].startswith("China's exports to Russia")
    assert "March 2021" in fired[0]  # 5% to 25% in a year: 20 points


def test_a_gap_between_units_refuses_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["once", "--config", str(_write(tmp_path, "EUR")), "--log-level", "error"]) == 0
    captured = capsys.readouterr()
    assert " · " not in captured.out
    assert ("rule gap_widens refuses to start: series chn-rus/export/total has unit USD_M but its mirror "
            "rus-chn/import/total has unit EUR") in captured.err


TWO_SOURCES = """
sources:
  - name: gacc
    kind: file
    path: china.csv
    frequency: M
    period_column: period
    labels: {{reporter: CN, partner: RU, commodity: TOTAL, unit: USD_M}}
    columns: {{exports_to_russia: {{flow: X}}}}
  - name: fcs
    kind: file
    path: russia.csv
    frequency: M
    period_column: period
    value_column: value
    label_columns: {{flow: flow}}
    labels: {{reporter: RUS, partner: CHN, commodity: TOTAL{russia_unit}}}
rules:
  - name: gap_widens
    transform: {{kind: mirror_gap, mirror: {mirror}, change: 12}}
    detector: {{kind: threshold, direction: above, threshold: 10.0}}
"""


@pytest.mark.parametrize("mirror", ["{chn-rus/export/total: rus-chn/import/total}", "rus-chn/import/total"])
def test_check_refuses_a_mirror_gap_between_units_the_config_names(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], mirror: str) -> None:
    path = tmp_path / "tradewatch.yaml"
    path.write_text(TWO_SOURCES.format(russia_unit=", unit: EUR_M", mirror=mirror))
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert (f"{path}:20: rules[0].transform.mirror: rule gap_widens: series chn-rus/export/total has unit "
            "USD_M (source gacc) but its mirror rus-chn/import/total has unit EUR_M (source fcs); a mirror "
            "gap compares figures in one unit (convert one side at the source)") in err
    assert "Traceback" not in err


def test_units_known_only_from_data_are_left_to_the_evaluation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tradewatch.yaml"
    for russia_unit in ("", ", unit: USD_M"):  # unknown until the data says; or the same unit
        path.write_text(TWO_SOURCES.format(russia_unit=russia_unit,
                                           mirror="{chn-rus/export/total: rus-chn/import/total}"))
        assert main(["check", "--config", str(path)]) == 0, capsys.readouterr().err
    assert main(["check", "--config", str(_write(tmp_path, "EUR"))]) == 0  # units from label columns

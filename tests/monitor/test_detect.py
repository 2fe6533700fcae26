"""`tradewatch detect`: a detector over a file, no config; and the TCPD stdin protocol."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detectors import Changepoint
from monitor.cli import main

REPO = Path(__file__).resolve().parents[2]
DEMO_CSV = REPO / "monitor" / "demo" / "russia_china_monthly_2006_2021_russian_fcs.csv"
WIGGLE = [1.0, -1.0, -1.0, 1.0]


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRADEWATCH_CONFIG": "/nonexistent/tradewatch.yaml"}  # detect must not read it
    return subprocess.run(
        [sys.executable, "-m", "monitor", "detect", *args],
        input=stdin, capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )  # fmt: skip


def _step_values() -> list[float | None]:
    values: list[float | None] = [(100.0 if t < 30 else 60.0) + WIGGLE[t % 4] for t in range(60)]
    values[10] = None
    return values


def test_tcpd_protocol_prints_the_first_index_of_each_new_regime() -> None:
    payload = json.dumps({"values": _step_values(), "time": list(range(60))})
    done = _cli("changepoint", "--format", "tcpd", stdin=payload)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [30]


def test_tcpd_uses_the_daemon_defaults(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(size=300)) + np.where(np.arange(300) > 170, 25.0, 0.0)
    monkeypatch.setattr(sys, "stdin", _Stdin(json.dumps({"values": values.tolist(), "time": []})))
    assert main(["detect", "changepoint", "--format", "tcpd"]) == 0
    index = pd.period_range("2000-01", periods=300, freq="M")
    expected = np.flatnonzero(Changepoint().mask(pd.DataFrame({"s": values}, index=index))["s"]).tolist()
    assert json.loads(capsys.readouterr().out) == expected
    assert expected  # the step is there to be found


def test_table_for_a_wide_csv_with_params_and_transform() -> None:
    done = _cli(
        "threshold", "--param", "direction=below", "--param", "threshold=-20",
        "--input", str(DEMO_CSV), "--transform", "yoy_pct",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("2014-12") and "imports" in ln)
    assert line.split() == [
        "2014-12", "ru_imports_from_cn_musd", "ru_imports_from_cn_musd", "fell", "20.3%", "YoY", "in",
        "December", "2014,", "below", "the", "-20%", "threshold.",
    ]  # fmt: skip


def test_json_for_a_long_csv_with_gaps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["series,period,value,unit"]
    for t, v in enumerate(_step_values()):
        period = pd.Period("2015-01", "M") + t
        if v is not None:
            rows.append(f"chn-rus/export/total,{period},{v},USD")
    rows.append("flat,2015-01,1.0,USD")
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows) + "\n")
    assert (
        main(["detect", "changepoint", "--param", "cost=l2", "--input", str(path), "--format", "json"]) == 0
    )
    (finding,) = json.loads(capsys.readouterr().out)
    assert finding["series"] == "chn-rus/export/total"
    assert finding["period"] == "2017-07"
    assert finding["kind"] == "event"
    assert finding["details"]["break_period"] == "2017-07"
    assert finding["details"]["before"] == pytest.approx(100.0, abs=0.05)
    assert finding["summary"].startswith("chn-rus/export/total shifted down 40% in July 2017: from ")


def test_no_findings_and_stdin_csv(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", DEMO_CSV.open())
    assert main(["detect", "threshold", "--param", "direction=above", "--param", "threshold=1e12",
                 "--input", "-"]) == 0  # fmt: skip
    assert capsys.readouterr().out == "no findings\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--input", str(DEMO_CSV)], "unknown detector kind 'nope'"),
        (["changepoint", "--param", "cost=l9", "--input", str(DEMO_CSV)], "changepoint.cost must be"),
        (
            ["changepoint", "--param", "penalty", "--input", str(DEMO_CSV)],
            "--param expects K=V, got 'penalty'",
        ),
        (["changepoint"], "--input FILE is required"),
        (["changepoint", "--input", "/nonexistent.csv"], "No such file"),
        (["changepoint", "--input", str(DEMO_CSV), "--transform", "cube"], "unknown transform 'cube'"),
        (["changepoint", "--format", "tcpd", "--input", str(DEMO_CSV)], "reads its series from stdin"),
    ],
)
def test_usage_errors_exit_2_with_a_reason(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["detect", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tradewatch detect: ") and message in err


def test_bad_csv_shapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "nope.csv": ("a,b\n1,2\n", "needs a 'period' column"),
        "weekly.csv": ("period,x\n2020-W01,1\n", "cannot read period '2020-W01'"),
        "text.csv": ("period,x\n2020-01,abc\n", "non-numeric"),
        "dupe.csv": ("period,x\n2020-01,1\n2020-01,2\n", "period 2020-01 appears on lines 2, 3"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert main(["detect", "threshold", "--param", "direction=above", "--param", "threshold=0",
                     "--input", str(path)]) == 2  # fmt: skip
        assert message in capsys.readouterr().err, name


def test_quarterly_csv_and_missing_periods_become_gaps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.csv"
    path.write_text("period,x\n2020Q1,5\n2020Q2,6\n2020Q4,7\n")
    assert main(["detect", "threshold", "--param", "direction=above", "--param", "threshold=0",
                 "--input", str(path), "--format", "json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert [f["period"] for f in out] == ["2020Q1", "2020Q2", "2020Q4"]
    assert all(math.isfinite(f["value"]) for f in out)


class _Stdin:
    """Enough of a text stream for json.load."""

    def __init__(self, text: str) -> None:
        self.text = text

    def read(self) -> str:
        return self.text

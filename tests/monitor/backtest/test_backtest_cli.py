"""`tradewatch backtest` from argv: JSON events, sweeps, reports, errors and the progress bar."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from monitor.backtest.progress import ProgressBar
from monitor.backtest.timeline import format_period
from monitor.cli import main
from monitor.periods import PERIOD_HINT

WINDOW = ["--from", "2014-01", "--to", "2016-12"]
PERIOD = re.compile(r"^\d{4}(-\d{2}|-Q[1-4])?$")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["backtest", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_events_carry_what_a_receiver_would_get(rc_config: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--config", str(rc_config), *WINDOW, "--format", "json"], capsys)
    assert code == 0 and err == ""  # quiet: no progress bar, no notes
    events = json.loads(out)
    assert len(events) == 16
    for event in events:
        assert {"rule", "series", "labels", "period", "status", "value", "threshold",
                "receivers"} <= set(event)
        assert isinstance(event["rule"], str) and isinstance(event["series"], str)
        assert PERIOD.match(event["period"]) and PERIOD.match(event["since"])
        assert event["status"] in ("firing", "resolved")
        assert isinstance(event["value"], float) and isinstance(event["threshold"], float)
        assert all(isinstance(r, str) for r in event["receivers"]) and event["receivers"]
        assert event["labels"]["alertname"] == event["rule"]
        assert event["labels"]["series"] == event["series"]
        assert event["labels"]["team"] == "policy"
    first = events[0]
    assert (first["rule"], first["series"], first["period"], first["status"]) == (
        "sharp", "rus-chn/import/total", "2014-12", "firing")
    assert round(first["value"], 1) == -20.3 and first["threshold"] == -20.0
    assert first["summary"].startswith("Russia's imports from China fell 20.3% YoY in December 2014")


def test_table_output_summarises_each_rule(rc_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--config", str(rc_config), *WINDOW, "--rule", "decline"], capsys)
    assert code == 0
    lines = out.splitlines()
    row = next(line for line in lines if line.startswith("decline "))
    # 3 alerts over 2 series x 3 years; exports 2015-03..05 (3) and 2015-11..2016-02 (4),
    # imports 2015-03..2016-04 (14): mean 7.0 periods.
    assert row.split() == ["decline", "2", "3", "0", "7.0", "0.50"]
    assert "removed by guards" not in out  # no rule has guards
    assert "window: 2014-01 to 2016-12" in lines
    assert not any(line.startswith("sharp ") for line in lines)


def test_a_sweep_gives_one_row_per_value_and_looser_thresholds_fire_more(
        rc_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = ["-40", "-30", "-20", "-10", "-5"]  # below: each looser than the one before
    code, out, _ = run(["--config", str(rc_config), *WINDOW, "--format", "json",
                        "--set", f"rules.sharp.detector.threshold={','.join(values)}"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert [row["set"]["rules.sharp.detector.threshold"] for row in rows] == [-40, -30, -20, -10, -5]
    assert {row["rule"] for row in rows} == {"sharp"}  # only the rule the sweep changes
    alerts = [row["alerts"] for row in rows]
    assert alerts == sorted(alerts) and alerts[0] < alerts[-1]
    assert rows[2]["alerts"] == 5  # the configured -20: as the plain backtest says


def test_a_sweep_of_a_guard_reports_the_alerts_it_removed(
        rc_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # million USD: Russia-China flows run at a few thousand a month, a 20% fall at several hundred
    code, out, _ = run(["--config", str(rc_config), *WINDOW, "--format", "json",
                        "--set", "rules.sharp.min_change=0,400,800,5000"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert [row["set"]["rules.sharp.min_change"] for row in rows] == [0, 400, 800, 5000]
    unguarded = 5  # the plain backtest's alerts of `sharp` (see the threshold sweep)
    for row in rows:
        assert row["alerts"] + row["removed_by_guards"]["min_change"] == unguarded
    alerts = [row["alerts"] for row in rows]
    assert alerts[0] == unguarded and alerts[-1] == 0  # no monthly change reaches 5 bn
    assert alerts == sorted(alerts, reverse=True) and len(set(alerts)) > 2


def test_both_guards_are_accounted_in_the_table(rc_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--config", str(rc_config), *WINDOW, "--rule", "sharp",
                        "--set", "rules.sharp.min_level=3000", "--set", "rules.sharp.min_change=400"], capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if line.lstrip().startswith("3000"))
    assert "min_level" in row and "min_change" in row and "all" in row


def test_several_sets_sweep_every_combination(rc_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--config", str(rc_config), *WINDOW, "--set", "rules.decline.detector.count=3,5",
                        "--set", "rules.decline.detector.threshold=-5,-10,-20"], capsys)
    assert code == 0
    table = out[out.index("rules.decline.detector.count"):].splitlines()
    assert table[0].split()[:3] == ["rules.decline.detector.count", "rules.decline.detector.threshold",
                                    "rule"]
    assert [line.split()[:2] for line in table[1:]] == [
        ["3", "-5"], ["3", "-10"], ["3", "-20"], ["5", "-5"], ["5", "-10"], ["5", "-20"]]


@pytest.mark.parametrize(("override", "message"), [
    ("rules.nope.detector.threshold=-3", "--set rules.nope.detector.threshold=-3: no rules item named "
                                         "'nope' (known names: decline, sharp)"),
    ("rules.sharp.detector.threshold=-3,low", "--set rules.sharp.detector.threshold=low gives an "
                                              "invalid config"),
    ("rules.sharp.detectr.threshold=-3", "unknown key 'detectr'"),
    ("rules.sharp.for=0", "rules[1].for: Input should be greater than or equal to 1"),
    ("rules.sharp.detector.threshold", "expected PATH=VALUE"),
])
def test_a_bad_set_exits_2_naming_the_override(rc_config: Path, capsys: pytest.CaptureFixture[str],
                                               override: str, message: str) -> None:
    code, out, err = run(["--config", str(rc_config), "--set", override], capsys)
    assert code == 2 and out == ""
    assert message in err


def test_bad_window_rule_or_config_exit_2(rc_config: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--config", str(rc_config), "--from", "soon"], capsys)[2].endswith(
        f"invalid period 'soon': {PERIOD_HINT}\n")
    assert "unknown rule(s) nope" in run(["--config", str(rc_config), "--rule", "nope"], capsys)[2]
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{name: x}]\n")
    code, _, err = run(["--config", str(bad)], capsys)
    assert code == 2 and "invalid config" in err


def test_a_markdown_report_links_a_chart_per_alerted_series(
        rc_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "report"
    code, _, err = run(["--config", str(rc_config), *WINDOW, "--rule", "decline", "--out", str(out_dir)],
                       capsys)
    assert code == 0 and f"report: {out_dir / 'report.md'}" in err
    text = (out_dir / "report.md").read_text()
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert links == ["charts/decline__rus-chn_export_total.png", "charts/decline__rus-chn_import_total.png"]
    for link in links:
        assert (out_dir / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 2015-03 | firing | rus-chn/export/total |" in text
    assert len(json.loads((out_dir / "events.json").read_text())) == 6


def test_an_html_report_is_self_contained_apart_from_its_charts(
        rc_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "html"
    assert run(["--config", str(rc_config), "--from", "2014-01", "--to", "2014-12", "--rule", "sharp",
                "--format", "html", "--out", str(out_dir)], capsys)[0] == 0
    page = (out_dir / "report.html").read_text()
    assert re.findall(r'<img src="([^"]+)"', page) == ["charts/sharp__rus-chn_import_total.png"]
    assert (out_dir / "charts" / "sharp__rus-chn_import_total.png").is_file()
    assert "<td>2014-12</td><td>firing</td><td>rus-chn/import/total</td>" in page
    assert "<th>precision</th>" not in page


def test_the_progress_bar_draws_only_when_asked_and_after_a_delay() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert ProgressBar.wanted(Tty(), "table") and not ProgressBar.wanted(Tty(), "json")
    assert not ProgressBar.wanted(io.StringIO(), "table")
    stream = Tty()
    ProgressBar("backtest", True, stream, delay=60).update(0.5)
    assert stream.getvalue() == ""  # a short run says nothing
    bar = ProgressBar("backtest", True, stream, delay=0)
    bar.update(0.5, "rules.x=1")
    assert "backtest [" + "#" * 15 + "." * 15 + "]  50%" in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\r")


def test_periods_are_written_as_the_config_writes_them() -> None:
    import pandas as pd

    assert [format_period(pd.Period(p, freq=f)) for p, f in (("2015-03", "M"), ("2015Q2", "Q"),
                                                                 ("2015", "Y"))] == [
        "2015-03", "2015-Q2", "2015"]

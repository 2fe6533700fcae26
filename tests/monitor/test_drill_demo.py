"""Who drove the EU's fall in exports to Russia in March 2022, from the real Eurostat data:
the daemon's console message and `tradewatch alerts --format json` list the member states
that made most of the fall, and their changes plus the rest add up to the EU27's change."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest

from monitor.app import App
from monitor.cli import main
from monitor.config import load_config

DEMO = Path(__file__).resolve().parents[2] / "monitor" / "demo" / \
    "eurostat_comext_eu_exports_to_russia_monthly_2019_2024.csv"
MEMBERS = ["AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
           "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE"]
CONFIG = """
store: {{path: tw.db}}
sources:
  - name: eu
    kind: file
    path: demo://eurostat_comext_eu_exports_to_russia_monthly_2019_2024.csv
    frequency: M
    period_column: period
    value_column: value_eur
    label_columns: {{reporter: reporter, partner: partner, flow: flow}}
    labels: {{commodity: TOTAL, unit: EUR}}
    include: {{reporter: [EU27, {members}]}}
    replay: {{start: 2022-03, every: 5s}}
hierarchies:
  - name: eu_members
    label: reporter
    groups: {{EU27: [{members}]}}
rules:
  - name: yoy_sharp_fall
    transform: {{kind: yoy_pct}}
    detector: {{kind: threshold, direction: below, threshold: -20.0}}
    severity: critical
    min_level: {min_level}
    drill: {{along: eu_members, top: 5}}
notify:
  receivers: [{{name: console, console: {{}}}}]
  route: {{receiver: console, group_wait: 0s, fold_children: {fold}}}
"""


def _expected() -> dict[str, float]:
    """Each member's and the EU27's change, March 2022 against March 2021, from the file."""
    names = {"Austria": "AUT", "Belgium": "BEL", "Bulgaria": "BGR", "Croatia": "HRV", "Cyprus": "CYP",
             "Czechia": "CZE", "Denmark": "DNK", "Estonia": "EST", "Finland": "FIN", "France": "FRA",
             "Germany": "DEU", "Greece": "GRC", "Hungary": "HUN", "Ireland": "IRL", "Italy": "ITA",
             "Latvia": "LVA", "Lithuania": "LTU", "Luxembourg": "LUX", "Malta": "MLT", "Netherlands": "NLD",
             "Poland": "POL", "Portugal": "PRT", "Romania": "ROU", "Slovakia": "SVK", "Slovenia": "SVN",
             "Spain": "ESP", "Sweden": "SWE", "European Union - 27 countries": "EU27"}
    values: dict[tuple[str, str], float] = {}
    with DEMO.open() as handle:
        for row in csv.DictReader(handle):
            if row["reporter"] in names and row["period"] in ("2021-03", "2022-03"):
                values[(names[row["reporter"]], row["period"])] = float(row["value_eur"])
    return {code: values[(code, "2022-03")] - values[(code, "2021-03")] for code in set(names.values())}


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    path = tmp_path / "tradewatch.yaml"
    # a member must export 100 million a month on average to be watched on its own
    path.write_text(CONFIG.format(members=", ".join(MEMBERS), min_level=100e6, fold="true"))
    assert main(["once", "--config", str(path), "--log-level", "error"]) == 0
    return path, capsys.readouterr().out


def test_the_eu27_alert_lists_the_members_that_made_the_fall(run: tuple[Path, str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = run
    assert main(["alerts", "--config", str(path), "--format", "json"]) == 0
    rows = {row["series"]: row for row in json.loads(capsys.readouterr().out)}
    eu = rows["eu27-rus/export/total"]
    expected = _expected()
    ranked = sorted((code for code in MEMBERS), key=lambda code: expected[code])  # largest falls first
    contributors = eu["contributors"]
    assert [c["labels"]["reporter"] for c in contributors] == ranked[:5]
    assert ranked[:5] == ["DEU", "NLD", "ITA", "POL", "FRA"]  # -1.49 bn, -450, -362, -350, -292 m
    for c in contributors:
        code = c["labels"]["reporter"]
        assert c["change"] == pytest.approx(expected[code])
        assert c["share"] == pytest.approx(expected[code] / expected["EU27"] * 100)
    summary = eu["contributors_summary"]
    assert summary["period"] == "2022-03" and summary["compared_with"] == "2021-03"
    assert summary["rest_count"] == 22 and summary["missing"] == []
    assert summary["parent_change"] == pytest.approx(expected["EU27"])
    total = sum(c["change"] for c in contributors) + summary["rest_change"]
    assert total == pytest.approx(summary["parent_change"], abs=1.0)  # within rounding: EUR 1
    assert abs(summary["unattributed"]) < 1.0


def _fired(out: str) -> dict[str, str]:
    """Firing console lines by whose trade they tell of ("Germany's exports to Russia")."""
    return {line.split(":")[0]: line for line in out.splitlines()
            if " · " in line and not line.startswith("Resolved")}


def test_one_message_says_the_parent_and_its_children(run: tuple[Path, str]) -> None:
    _, out = run
    fired = _fired(out)
    assert list(fired) == ["The EU's exports to Russia"]  # Germany and the others fired too: folded in
    assert "Driven by Germany -€ 1.5 bn (-60%, 36% of the change), the Netherlands -€ 450 m" in fired[
        "The EU's exports to Russia"]


def test_a_route_may_send_each_child_and_the_guard_keeps_small_members_quiet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tradewatch.yaml"
    path.write_text(CONFIG.format(members=", ".join(MEMBERS), min_level=100e6, fold="false"))
    assert main(["once", "--config", str(path), "--log-level", "error"]) == 0
    fired = _fired(capsys.readouterr().out)
    expected = _expected()
    members = {"The EU's exports to Russia", "Germany's exports to Russia", "France's exports to Russia"}
    assert members <= set(fired)
    # Malta (EUR 5,074 in March 2022) fell 99.7% but averages far below the guard's level
    assert "Malta's exports to Russia" not in fired and expected["MLT"] < 0
    assert "Driven by" not in fired["Germany's exports to Russia"]  # a member has no children


def test_the_api_says_what_the_alerts_command_says(run: tuple[Path, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`/api/v1/alerts` on the daemon's listener (what Grafana reads) carries the same
    contributors, `parent` and `muted` marks as `tradewatch alerts --format json`."""
    path, _ = run
    assert main(["alerts", "--config", str(path), "--format", "json"]) == 0
    listed = {row["series"]: row for row in json.loads(capsys.readouterr().out)}
    app = App(load_config(path))
    base = app.start().removesuffix("/metrics")
    try:
        served = {row["series"]: row for row in httpx.get(f"{base}/api/v1/alerts").json()["data"]}
    finally:
        app.stop()
    assert set(served) == set(listed)
    keys = ("status", "muted", "period", "contributors", "contributors_summary", "parent")
    for series, row in listed.items():
        assert {k: served[series].get(k) for k in keys} == {k: row.get(k) for k in keys}, series
    assert served["eu27-rus/export/total"]["muted"] == "" and served["deu-rus/export/total"] == {
        **served["deu-rus/export/total"], "muted": "folded", "parent": "eu27-rus/export/total"}
    assert [c["labels"]["reporter"] for c in served["eu27-rus/export/total"]["contributors"]] == [
        "DEU", "NLD", "ITA", "POL", "FRA"]


def test_the_backtest_names_who_drove_the_eu27_fall(run: tuple[Path, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`tradewatch backtest` gives a parent's firing event the contributors the daemon gave
    its alert (the same figures: nothing was revised), in JSON and in the report's words, and
    marks folded the children's events the daemon said in the parent's message."""
    path, _ = run
    assert main(["alerts", "--config", str(path), "--format", "json"]) == 0
    listed = {row["series"]: row for row in json.loads(capsys.readouterr().out)}
    window = ["--from", "2022-01", "--to", "2022-06", "--data", "fetch"]
    assert main(["backtest", "--config", str(path), *window, "--format", "json"]) == 0
    events = json.loads(capsys.readouterr().out)
    with_drivers = [(e["series"], e["period"]) for e in events if "contributors" in e]
    assert with_drivers == [("eu27-rus/export/total", "2022-03")]  # the one parent, when it fired
    [eu] = [e for e in events if "contributors" in e]
    daemon = listed["eu27-rus/export/total"]
    assert (eu["contributors"], eu["contributors_summary"]) == (
        daemon["contributors"], daemon["contributors_summary"])
    assert all("contributors" not in e for e in events if e["status"] == "resolved")
    # the children the daemon (first run on March 2022) folded into the EU27's message are
    # those the backtest marks folded, but Slovakia: from January, the backtest sees it fire
    # in February, alone, before the EU27 did
    folded = {e["series"] for e in events if e["period"] == "2022-03" and e.get("folded_into")}
    daemon_folded = {s for s, row in listed.items() if row["muted"] == "folded"}
    assert folded == daemon_folded - {"svk-rus/export/total"} and len(folded) == 13
    assert {e["folded_into"] for e in events if e.get("folded_into")} == {"eu27-rus/export/total"}
    [slovakia] = [e for e in events if e["period"] == "2022-02"]
    assert "folded_into" not in slovakia and slovakia["receivers"] == ["console"]
    assert main(["backtest", "--config", str(path), *window, "--format", "md"]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if "Driven by" in x]
    assert line.startswith("2022-03, eu27-rus/export/total: Driven by Germany -€ 1.5 bn (-60%, "
                           "36% of the change), the Netherlands")


def test_the_tune_page_names_who_drove_the_eu27_fall(run: tuple[Path, str]) -> None:
    path, _ = run
    app = App(load_config(path))
    base = app.start().removesuffix("/metrics")
    try:
        form = {"rule": "yoy_sharp_fall", "from": "2022-01", "to": "2022-06"}
        answer = httpx.post(f"{base}/ui/tune/run", data=form, timeout=120)
    finally:
        app.stop()
    assert answer.status_code == 200
    assert "<h3>Who drove them</h3>" in answer.text
    assert ("<li>2022-03, eu27-rus/export/total: Driven by Germany -€ 1.5 bn (-60%, 36% of the change), "
            "the Netherlands") in answer.text

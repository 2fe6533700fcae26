"""A parent and its children through their life, as the fake Slack sees it: the contributors
kept with the alert when a revision arrives later, a folded child resolving without a message,
children held for a parent that another source publishes later, and `tradewatch alerts`
marking folded children."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from monitor.alerts.lifecycle import Status
from monitor.app import App
from monitor.cli import main
from monitor.config import load_config
from tests.fakes.slack_server import FakeSlack

CHANNEL = "C0TRADE0001"
MONTHS = [f"{y}-{m:02d}" for y in (2021, 2022) for m in range(1, 13)][:15]  # 2021-01 .. 2022-03
# March 2022 against March 2021: Germany 50 -> 20, France 30 -> 18, Italy 20 -> 20; the EU the sum.
MARCH = {"DEU": 20.0, "FRA": 18.0, "ITA": 20.0}
BEFORE = {"DEU": 50.0, "FRA": 30.0, "ITA": 20.0}
CONFIG = """
store: {{url: "{url}"}}
sources:
{sources}
hierarchies:
  - {{name: eu, label: reporter, groups: {{EU27: [DEU, FRA, ITA]}}}}
rules:
  - name: eu_fall
    transform: {{kind: yoy_pct}}
    detector: {{kind: threshold, direction: below, threshold: -20.0}}
    severity: critical
    drill: {{along: eu, top: 5}}
notify:
  receivers: [{{name: desk, slack: {{channel: "#trade-alerts", chart: false}}}}]
  route: {{receiver: desk, group_wait: 0s{route}}}
"""
SOURCE = """  - name: {name}
    kind: file
    path: {path}
    frequency: M
    period_column: period
    value_column: value
    label_columns: {{reporter: reporter}}
    labels: {{partner: RUS, flow: export, commodity: TOTAL, unit: EUR_M}}
"""


def _rows(reporters: Sequence[str], months: Sequence[str], march: dict[str, float]) -> str:
    lines = ["period,reporter,value"]
    for month in months:
        values = dict(march) if month == "2022-03" else dict(BEFORE)
        values["EU27"] = sum(values[c] for c in ("DEU", "FRA", "ITA"))
        lines += [f"{month},{r},{values[r]}" for r in reporters]
    return "\n".join(lines) + "\n"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        yield fake


def _config(tmp_path: Path, url: str, sources: dict[str, str], route: str = "") -> Path:
    text = "".join(SOURCE.format(name=name, path=tmp_path / f"{name}.csv") for name in sources)
    for name, body in sources.items():
        (tmp_path / f"{name}.csv").write_text(body)
    path = tmp_path / "tradewatch.yaml"
    path.write_text(CONFIG.format(url=url, sources=text.rstrip("\n"), route=route))
    return path


def _once(path: Path) -> None:
    assert main(["once", "--config", str(path), "--log-level", "error"]) == 0


def _alerts(path: Path, capsys: pytest.CaptureFixture[str], fmt: str = "json") -> str:
    capsys.readouterr()
    assert main(["alerts", "--config", str(path), "--format", fmt, "--all"]) == 0
    return capsys.readouterr().out


def _said(slack: FakeSlack) -> list[tuple[str | None, str]]:
    """Every message in the channel, oldest first: (thread, the text Slack shows on phones)."""
    return [(m.thread_ts, m.text) for m in slack.messages if m.channel == CHANNEL]


def _who_drove(text: str) -> str:
    return text[text.index("Driven by"):]


DRIVEN_FIRST = ("Driven by Germany -€ 30.0 m (-60%, 71% of the change), France -€ 12.0 m (-40%, 29%), "
                "Italy € 0 (0%, 0%) (change from March 2021 to March 2022).")


def test_contributors_stay_as_sent_and_a_folded_child_resolves_quietly(
        tmp_path: Path, store_url: Callable[..., str], slack: FakeSlack,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, store_url(), {"eu": _rows(["EU27", "DEU", "FRA", "ITA"], MONTHS, MARCH)})
    _once(path)
    [(thread, text)] = _said(slack)  # one message: the EU, Germany and France folded into it
    assert thread is None and "EU" in text and _who_drove(text) == DRIVEN_FIRST
    # France's March is revised from 18 to 29 after the alert fired: France resolves, the EU
    # (not revised) keeps firing, and its contributors stay those its message said.
    (tmp_path / "eu.csv").write_text(_rows(["EU27", "DEU", "FRA", "ITA"], MONTHS, {**MARCH, "FRA": 29.0}))
    _once(path)
    assert len(_said(slack)) == 1  # France's resolution folded like its firing: no message
    rows = {r["series"]: r for r in json.loads(_alerts(path, capsys))}
    eu = rows["eu27-rus/export/total"]
    assert [(c["labels"]["reporter"], c["change"]) for c in eu["contributors"]] == [
        ("DEU", -30.0), ("FRA", -12.0), ("ITA", 0.0)]
    assert eu["contributors_summary"]["parent_change"] == -42.0 and eu["muted"] == ""
    assert (rows["deu-rus/export/total"]["muted"], rows["deu-rus/export/total"]["parent"]) == (
        "folded", "eu27-rus/export/total")
    assert rows["fra-rus/export/total"]["status"] == "resolved"
    table = _alerts(path, capsys, "table").splitlines()
    assert [line.split()[1] for line in table if "deu-rus" in line] == ["folded"]
    csv_rows = [line.split(",") for line in _alerts(path, capsys, "csv").splitlines()]
    assert [r[1] for r in csv_rows if r[3] == "deu-rus/export/total"] == ["folded"]


def test_children_wait_for_a_parent_another_source_publishes_later(
        tmp_path: Path, store_url: Callable[..., str], slack: FakeSlack) -> None:
    """The member states' March arrives first; the EU aggregate's, from its own source, a poll
    later (the EU's series is known from its earlier months)."""
    members = _rows(["DEU", "FRA", "ITA"], MONTHS, MARCH)
    path = _config(tmp_path, store_url(), {"eu": _rows(["EU27"], MONTHS[:-1], MARCH), "members": members})
    _once(path)
    assert _said(slack) == []  # Germany and France fired, held for the EU's March
    (tmp_path / "eu.csv").write_text(_rows(["EU27"], MONTHS, MARCH))
    _once(path)
    [(thread, text)] = _said(slack)
    assert thread is None and _who_drove(text) == DRIVEN_FIRST


def test_children_go_alone_once_the_parent_is_decided_quiet_or_the_wait_is_over(
        tmp_path: Path, store_url: Callable[..., str], slack: FakeSlack) -> None:
    members = _rows(["DEU", "FRA", "ITA"], MONTHS, MARCH)
    path = _config(tmp_path, store_url(), {"eu": _rows(["EU27"], MONTHS[:-1], MARCH), "members": members})
    _once(path)
    assert _said(slack) == []
    # the EU's March arrives and does not fall past the threshold: the children are told alone
    flat = _rows(["EU27"], MONTHS, MARCH).replace("2022-03,EU27,58.0", "2022-03,EU27,95.0")
    (tmp_path / "eu.csv").write_text(flat)
    _once(path)
    said = _said(slack)
    assert [t for t, _ in said] == [None, None] and all("Driven by" not in text for _, text in said)
    assert sum("Germany" in text for _, text in said) == 1 and sum("France" in text for _, text in said) == 1


def test_a_route_without_a_wait_sends_children_of_an_unpublished_parent_at_once(
        tmp_path: Path, store_url: Callable[..., str], slack: FakeSlack) -> None:
    members = _rows(["DEU", "FRA", "ITA"], MONTHS, MARCH)
    path = _config(tmp_path, store_url(), {"eu": _rows(["EU27"], MONTHS[:-1], MARCH), "members": members},
                   route=", fold_wait: 0s")
    _once(path)
    said = _said(slack)
    assert len(said) == 2 and sum("Germany" in text for _, text in said) == 1


def test_a_parent_detected_but_not_yet_booked_holds_its_children(
        tmp_path: Path, store_url: Callable[..., str], slack: FakeSlack) -> None:
    """Two sources polled at once: the EU's figure for March is stored (its detection ran)
    but its alert is not booked yet when the members' drain runs. The children wait, then
    fold into the EU's message once its alert is booked: never sent alone."""
    path = _config(tmp_path, store_url(), {"eu": _rows(["EU27"], MONTHS[:-1], MARCH),
                                           "members": _rows(["DEU", "FRA", "ITA"], MONTHS[:-1], MARCH)})
    _once(path)  # up to February: nothing falls
    (tmp_path / "eu.csv").write_text(_rows(["EU27"], MONTHS, MARCH))
    (tmp_path / "members.csv").write_text(_rows(["DEU", "FRA", "ITA"], MONTHS, MARCH))
    app = App(load_config(path), env=os.environ)
    try:
        runtime, engine, clock = app.runtime, app.engine, app._clock
        parent = engine.detect(runtime, engine.fetch(runtime, "eu", clock), clock)
        assert app.store.newest_period("eu") == "2022-03" and engine.detections()[1] == 1
        app.run_source("members")  # Germany and France fire; their drain runs now
        assert _said(slack) == []  # held: the EU's figure is in, its alert not yet
        engine.conclude(runtime, parent, clock)
        [(thread, text)] = _said(slack)  # the EU's message; the members' March was not in yet
        assert thread is None and text.startswith("The EU's exports to Russia") and "Driven by" in text
        firing = {a.series for a in app.book.alerts([Status.FIRING])}
        assert firing == {"eu27-rus/export/total", "deu-rus/export/total", "fra-rus/export/total"}
        assert app.store.outbox_depth()[0] == 0  # the children's notifications done: folded
        assert engine.detections()[1] == 0
    finally:
        app.stop()

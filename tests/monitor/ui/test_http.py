"""/ui/ over plain HTTP: pages answer, bad input is one clear message, and changes without
the API's credentials are refused and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from monitor.app import App
from monitor.cli import main
from monitor.config import load_config
from monitor.store.silences import SilenceStore
from tests.monitor.ui.conftest import CONFIG, TOKEN, Daemon

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SILENCE = {"matchers": 'series="rus-chn/import/total"', "duration": "2h", "author": "ops", "comment": "known"}


def test_pages_answer_with_the_alert_and_series(daemon: Daemon) -> None:
    alerts = httpx.get(f"{daemon.url}/ui/")
    assert alerts.status_code == 200 and "text/html" in alerts.headers["content-type"]
    assert "rus-chn/import/total" in alerts.text and "sharp_fall" in alerts.text
    assert "desk · alertname=sharp_fall" in alerts.text  # the routing tree's group
    assert httpx.get(f"{daemon.url}/ui").headers["location"] == "/ui/"
    found = httpx.get(f"{daemon.url}/ui/series", params={"q": 'flow="export"'}).text
    assert "rus-chn/export/total" in found and "rus-chn/import/total" not in found
    page = httpx.get(f"{daemon.url}/ui/series/rus-chn/import/total")
    assert page.status_code == 200 and "<svg" in page.text and "threshold -20" in page.text
    assert httpx.get(f"{daemon.url}/ui/series/nope/none").status_code == 404
    assert httpx.get(f"{daemon.url}/ui/static/ui.js").status_code == 200
    assert httpx.get(f"{daemon.url}/ui/static/../app.py").status_code == 404


def test_bad_input_is_one_clear_message(daemon: Daemon) -> None:
    page = httpx.get(f"{daemon.url}/ui/", params={"filter": "partner=~(("}).text
    assert 'role="alert"' in page and "Invalid filter: invalid regex in matcher" in page
    preview = httpx.get(f"{daemon.url}/ui/silences/preview", params={"matchers": "partner"}).text
    assert "Invalid matcher: invalid matcher &#x27;partner&#x27;" in preview
    tune = httpx.post(f"{daemon.url}/ui/tune/run",
                      data={"rule": "sharp_fall", "rules.sharp_fall.detector.threshold": "abc"})
    assert tune.status_code == 400
    assert "rules.sharp_fall.detector.threshold=abc gives an invalid config" in tune.text
    assert "Traceback" not in tune.text
    bad = httpx.post(f"{daemon.url}/ui/silences", data={**SILENCE, "duration": "soon"}, headers=AUTH)
    assert bad.status_code == 400 and "invalid duration 'soon'" in bad.json()["error"]


def test_changes_without_credentials_are_refused_and_change_nothing(daemon: Daemon) -> None:
    silences = SilenceStore(daemon.app.store)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = httpx.post(f"{daemon.url}/ui/silences", data=SILENCE, headers=headers)
        assert refused.status_code == 401, headers
    assert silences.all() == []
    made = httpx.post(f"{daemon.url}/ui/silences", data=SILENCE, headers=AUTH)
    assert made.status_code == 200
    silence_id = made.json()["data"]["silenceID"]
    refused = httpx.post(f"{daemon.url}/ui/silences/{silence_id}/expire",
                         headers={"Authorization": "Bearer x"})
    assert refused.status_code == 401
    [kept] = silences.all()
    assert kept.state(datetime.now(UTC)) == "active"
    assert httpx.post(f"{daemon.url}/ui/silences/{silence_id}/expire", headers=AUTH).status_code == 200
    again = httpx.post(f"{daemon.url}/ui/silences/{silence_id}/expire", headers=AUTH)
    assert again.status_code == 400 and "already expired" in again.json()["error"]


def test_changes_are_disabled_without_a_configured_token(write_config: Callable[[str], Path],
                                                         russia_china_csv: Path) -> None:
    app = App(load_config(write_config(CONFIG)))  # no TRADEWATCH_API_TOKEN
    url = app.start().removesuffix("/metrics")
    try:
        refused = httpx.post(f"{url}/ui/silences", data=SILENCE, headers={"Authorization": f"Bearer {TOKEN}"})
        assert refused.status_code == 403 and "TRADEWATCH_API_TOKEN" in refused.json()["error"]
        assert SilenceStore(app.store).all() == []
        assert httpx.get(f"{url}/ui/silences").status_code == 200  # reads stay open
    finally:
        app.stop()


def test_tune_scores_an_events_file_and_names_its_bad_line(daemon: Daemon) -> None:
    form = {"rule": "sharp_fall", "events_name": "known.csv",
            "events": "series,period\nrus-chn/import/total,2014-12\nrus-chn/export/total,2009-01\n"}
    scored = httpx.post(f"{daemon.url}/ui/tune/run", data=form, timeout=120)
    assert scored.status_code == 200
    for header in ("precision", "recall", "mean delay", "median delay"):
        assert f'<th scope="col">{header}</th>' in scored.text
    bad = httpx.post(f"{daemon.url}/ui/tune/run", timeout=120,
                     data={**form, "events": "series,period\nrus-chn/import/total,someday\n"})
    assert bad.status_code == 400 and "known.csv:2: need a series id and a period" in bad.text
    assert "tradewatch-tune-" not in bad.text  # the server's temp path never shows


def _summary_row(html: str) -> dict[str, str]:
    import re

    table = html[html.index("<caption>Summary</caption>"):]
    table = table[:table.index("</table>")]
    headers = re.findall(r'<th scope="col">(.*?)</th>', table)
    cells = re.findall(r"<td>(.*?)</td>", table[table.index("<tbody>"):])
    return dict(zip(headers, cells[:len(headers)], strict=True))


def test_tune_offers_the_guards_and_shows_what_they_removed_as_the_command_does(
        daemon: Daemon, capsys: pytest.CaptureFixture[str]) -> None:
    form = httpx.get(f"{daemon.url}/ui/tune", params={"rule": "sharp_fall"}, timeout=120).text
    for path in ("rules.sharp_fall.min_level", "rules.sharp_fall.min_change"):
        assert f">{path}</label>" in form and f'name="{path}" value="null"' in form
    plain = _summary_row(httpx.post(f"{daemon.url}/ui/tune/run", data={"rule": "sharp_fall"},
                                    timeout=120).text)
    assert "removed by guards" not in plain and int(plain["alerts"]) > 0
    guard = "rules.sharp_fall.min_level=1e9"  # no Russia-China flow is that large: every alert removed
    page = httpx.post(f"{daemon.url}/ui/tune/run", timeout=120,
                      data={"rule": "sharp_fall", "rules.sharp_fall.min_level": "1e9"})
    assert page.status_code == 200, page.text
    shown = _summary_row(page.text)
    capsys.readouterr()
    assert main(["backtest", "--config", str(daemon.config), "--rule", "sharp_fall", f"--set={guard}",
                 "--format", "json"]) == 0
    [cli] = json.loads(capsys.readouterr().out)
    assert cli["removed_by_guards"] == {"min_level": int(plain["alerts"])}
    assert shown["removed by guards"] == f"min_level {cli['removed_by_guards']['min_level']}"
    assert int(shown["alerts"]) == cli["alerts"] == 0

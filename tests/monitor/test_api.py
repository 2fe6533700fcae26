"""The JSON API over real HTTP on loopback, against a started App."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from monitor.app import App
from monitor.config import load_config
from tests.conftest import IMPORTS_DAEMON, truncate_csv

CONFIG = IMPORTS_DAEMON + """rules:
  - name: sharp_fall
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -20}
"""


@pytest.fixture
def base_url(write_config: Callable[[str], Path], russia_china_csv: Path) -> Iterator[str]:
    truncate_csv(russia_china_csv, "2015-03")
    app = App(load_config(write_config(CONFIG)))
    url = app.start().removesuffix("/metrics")
    deadline = time.monotonic() + 20
    while httpx.get(f"{url}/-/ready").status_code != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.1)
    yield url
    app.stop()


def test_alerts_lists_active_alerts(base_url: str) -> None:
    body = httpx.get(f"{base_url}/api/v1/alerts").json()
    [alert] = body["data"]
    assert (alert["rule"], alert["series"], alert["status"], alert["period"], alert["since"]) == (
        "sharp_fall", "rus-chn/import/total", "firing", "2015-03", "2014-12")  # below -20% since 2014-12
    assert alert["threshold"] == -20.0 and round(alert["value"], 1) == -21.6
    assert alert["labels"]["partner"] == "CHN"
    # The episode as a region of the series' history (Grafana's annotations): period starts.
    assert (alert["since_time"], alert["period_time"]) == ("2014-12-01T00:00:00Z", "2015-03-01T00:00:00Z")
    assert httpx.get(f"{base_url}/api/v1/alerts?series=rus-chn/import/total").json()["data"] == [alert]
    assert httpx.get(f"{base_url}/api/v1/alerts?series=rus-chn/export/total").json()["data"] == []
    assert httpx.get(f"{base_url}/api/v1/alerts?status=resolved").json()["data"] == []
    bad = httpx.get(f"{base_url}/api/v1/alerts?status=sleeping")
    assert bad.status_code == 400 and "sleeping" in bad.json()["error"]


def test_series_list_and_history_for_grafana(base_url: str) -> None:
    [series] = httpx.get(f"{base_url}/api/v1/series").json()["data"]
    assert (series["id"], series["period"], series["time"], series["value"]) == (
        "rus-chn/import/total", "2015-03", "2015-03-01T00:00:00Z", 3012.55243)
    assert round(series["yoy_percent"], 1) == -21.6
    detail = httpx.get(f"{base_url}/api/v1/series/rus-chn%2Fimport%2Ftotal").json()["data"]
    assert detail["id"] == "rus-chn/import/total" and len(detail["points"]) == 111  # 2006-01..2015-03
    assert detail["points"][0] == {**detail["points"][0], "period": "2006-01",
                                   "time": "2006-01-01T00:00:00Z", "value": 640.29537, "revisions": 0}
    assert httpx.get(f"{base_url}/api/v1/series/rus-chn/import/total").json()["data"]["id"] == (
        "rus-chn/import/total")
    missing = httpx.get(f"{base_url}/api/v1/series/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]
    assert httpx.get(f"{base_url}/api/v1/other").status_code == 404
    assert httpx.post(f"{base_url}/api/v1/alerts").status_code == 405


def test_series_history_narrowed_by_periods_in_any_spelling(base_url: str) -> None:
    url = f"{base_url}/api/v1/series/rus-chn/import/total"
    for start, end in (("2014-11", "2015-01"), ("2014M11", "201501"), ("Nov 2014", "2015-01-01")):
        points = httpx.get(url, params={"from": start, "to": end}).json()["data"]["points"]
        assert [p["period"] for p in points] == ["2014-11", "2014-12", "2015-01"], (start, end)
    whole_year = httpx.get(url, params={"from": "2014", "to": "2014"}).json()["data"]["points"]
    assert [p["period"] for p in whole_year] == [f"2014-{m:02d}" for m in range(1, 13)]
    quarter = httpx.get(url, params={"from": "2015-Q1"}).json()["data"]["points"]
    assert [p["period"] for p in quarter] == ["2015-01", "2015-02", "2015-03"]


@pytest.mark.parametrize(("params", "named"), [
    ({"from": "2001M13"}, "query parameter from: invalid period '2001M13': use e.g."),
    ({"to": "last month"}, "query parameter to: invalid period 'last month': use e.g."),
    ({"from": "2015-03", "to": "2014"}, "query parameter from=2015-03 is after to=2014"),
])
def test_a_bad_period_in_the_query_is_a_400_naming_the_parameter(
        base_url: str, params: dict[str, str], named: str) -> None:
    answer = httpx.get(f"{base_url}/api/v1/series/rus-chn/import/total", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(named), answer.json()


def test_silences_over_http_need_the_token_and_use_alertmanagers_shape(tmp_path: Path,
        write_config: Callable[[str], Path], russia_china_csv: Path) -> None:
    truncate_csv(russia_china_csv, "2015-03")
    app = App(load_config(write_config(CONFIG)), api_token="s3cret")
    base = app.start().removesuffix("/metrics")
    try:
        body = {"matchers": [{"name": "series", "value": "rus-chn/.*", "isRegex": True}],
                "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
                "createdBy": "ana", "comment": "ruble crisis is known"}
        assert httpx.post(f"{base}/api/v1/silences", json=body).status_code == 401
        created = httpx.post(f"{base}/api/v1/silences", json=body,
                             headers={"Authorization": "Bearer s3cret"})
        assert created.status_code == 200
        silence_id = created.json()["data"]["silenceID"]
        [listed] = httpx.get(f"{base}/api/v1/silences").json()["data"]
        assert (listed["id"], listed["matchers"], listed["status"]["state"]) == (
            silence_id, ["series=~rus-chn/.*"], "active")
        bad = httpx.post(f"{base}/api/v1/silences", json={**body, "matchers": []},
                         headers={"Authorization": "Bearer s3cret"})
        assert bad.status_code == 400 and "at least one matcher" in bad.json()["error"]
        assert httpx.delete(f"{base}/api/v1/silences/{silence_id}").status_code == 401
        expired = httpx.delete(f"{base}/api/v1/silences/{silence_id}",
                               headers={"Authorization": "Bearer s3cret"})
        assert expired.status_code == 200 and expired.json()["data"]["status"]["state"] == "expired"
        missing = httpx.delete(f"{base}/api/v1/silences/nope", headers={"Authorization": "Bearer s3cret"})
        assert missing.status_code == 404
    finally:
        app.stop()

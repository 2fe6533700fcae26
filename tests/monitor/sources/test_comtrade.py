"""The UN Comtrade source against a local server answering with real Comtrade v1 payloads."""

from __future__ import annotations

import json
import logging
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from monitor.config import ComtradeSource as ComtradeConfig
from monitor.config import load_config
from monitor.sources.base import SourceError
from monitor.sources.comtrade import ComtradeSource
from tests.monitor.httpserver import LocalServer, Reply, comtrade_responder, fixture_bytes

CHINA_2010 = "comtrade_v1_data_get_C_A_HS_china_2010.json"
KEY = "0123456789abcdef0123456789abcdef"
GET_A = "/data/v1/get/C/A/HS"
GET_M = "/data/v1/get/C/M/HS"
PREVIEW_M = "/public/v1/preview/C/M/HS"
FAST = {"attempts": 3, "backoff": "10ms", "max_backoff": "50ms", "deadline": "5s"}


def config(server: LocalServer, **fields: Any) -> ComtradeConfig:
    return ComtradeConfig.model_validate({
        "kind": "comtrade", "name": "cn", "base_url": server.url, "reporter": 156,
        "partner": [32, 276], "frequency": "A", "start": 2010, "end": 2010, "timeout": "2s",
        "retry": FAST, "subscription_key": KEY, **fields,
    })


def rows(frame: pd.DataFrame) -> list[tuple[str, str, float]]:
    return [(s, str(p), v) for s, p, v in zip(frame["series"], frame["period"], frame["value"], strict=True)]


def failure(source: ComtradeSource) -> SourceError:
    with pytest.raises(SourceError) as caught:
        source.fetch()
    return caught.value


def test_annual_totals_from_the_real_answer(local_server: LocalServer) -> None:
    local_server.route(GET_A, Reply.fixture(CHINA_2010))
    result = ComtradeSource(config(local_server)).fetch()
    assert result.problems == ()
    assert rows(result.frame) == [
        ("chn-arg/export/total", "2010", 6115764185.0),
        ("chn-arg/import/total", "2010", 6804128143.0),
        ("chn-deu/export/total", "2010", 68047133397.0),
        ("chn-deu/import/total", "2010", 74251272075.0),
    ]
    assert result.frame["period"].dtype == pd.PeriodDtype("Y")
    assert result.frame.iloc[0].to_dict() == {
        "series": "chn-arg/export/total", "period": pd.Period("2010", "Y"), "value": 6115764185.0,
        "commodity": "TOTAL", "flow": "export", "partner": "ARG", "reporter": "CHN",
        "source": "cn", "unit": "USD",
    }
    (request,) = local_server.to(GET_A)
    assert request.query == {
        "reporterCode": "156", "partnerCode": "32,276", "flowCode": "X,M", "cmdCode": "TOTAL",
        "period": "2010", "customsCode": "C00", "motCode": "0", "partner2Code": "0",
        "includeDesc": "true", "maxRecords": "100000",
    }
    assert request.headers["ocp-apim-subscription-key"] == KEY


def test_without_a_key_the_public_preview_is_used(local_server: LocalServer) -> None:
    local_server.route("/public/v1/preview/C/A/HS", Reply.fixture(CHINA_2010))
    frame = ComtradeSource(config(local_server, subscription_key=None)).fetch().frame
    assert len(frame) == 4
    (request,) = local_server.requests
    assert "ocp-apim-subscription-key" not in request.headers
    assert "maxRecords" not in request.query


def test_numeric_codes_map_to_iso3_when_the_answer_has_no_iso_fields(local_server: LocalServer) -> None:
    payload = json.loads(fixture_bytes(CHINA_2010))
    for record in payload["data"]:
        del record["reporterISO"], record["partnerISO"]
    payload["data"][0]["partnerCode"] = 899  # an area code not in the table stays a number
    local_server.route(GET_A, Reply(200, json.dumps(payload).encode()))
    frame = ComtradeSource(config(local_server)).fetch().frame
    assert sorted(frame["series"]) == [
        "chn-899/import/total", "chn-arg/export/total", "chn-deu/export/total", "chn-deu/import/total"]


def test_breakdown_rows_are_not_totals(local_server: LocalServer) -> None:
    payload = json.loads(fixture_bytes(CHINA_2010))
    extra = [{**payload["data"][0], "customsCode": "C01", "primaryValue": 1.0},
             {**payload["data"][0], "motCode": 2100, "primaryValue": 2.0},
             {**payload["data"][0], "primaryValue": None, "partnerCode": 643, "partnerISO": "RUS"}]
    payload["data"] += extra
    local_server.route(GET_A, Reply(200, json.dumps(payload).encode()))
    frame = ComtradeSource(config(local_server)).fetch().frame
    assert len(frame) == 4
    assert frame.loc[frame["series"] == "chn-arg/import/total", "value"].tolist() == [6804128143.0]


def test_an_empty_result_is_an_empty_frame(local_server: LocalServer) -> None:
    local_server.route(GET_A, Reply.fixture("comtrade_v1_empty_result.json"))
    result = ComtradeSource(config(local_server)).fetch()
    assert result.frame.empty and result.problems == ()
    assert list(result.frame.columns) == ["series", "period", "value"]


def test_rate_limited_is_waited_out(local_server: LocalServer) -> None:
    local_server.route(GET_A, Reply(429, b'{"statusCode": 429, "message": "Rate limit is exceeded."}',
                                    {"Retry-After": "1"}), Reply.fixture(CHINA_2010))
    assert len(ComtradeSource(config(local_server)).fetch().frame) == 4
    assert len(local_server.to(GET_A)) == 2


def test_a_server_error_is_retried(local_server: LocalServer) -> None:
    local_server.route(GET_A, Reply(500, b"upstream"), Reply.fixture(CHINA_2010))
    assert len(ComtradeSource(config(local_server)).fetch().frame) == 4


def test_server_errors_forever_fail_with_http_5xx(local_server: LocalServer) -> None:
    local_server.route(GET_A, Reply(500, b"upstream"))
    error = failure(ComtradeSource(config(local_server)))
    assert error.reason == "http_5xx"
    assert error.source == "cn"
    assert str(error).startswith(f"source 'cn': {local_server.url}{GET_A}?reporterCode=156&")
    assert str(error).endswith("answered HTTP 500 (gave up after 3 attempts)")
    assert len(local_server.to(GET_A)) == 3


def test_timeout(local_server: LocalServer) -> None:
    local_server.route(GET_A, Reply.fixture(CHINA_2010, wait=5))
    error = failure(ComtradeSource(config(local_server, timeout="300ms", retry={**FAST, "attempts": 1})))
    assert error.reason == "timeout"
    assert str(error).startswith(f"source 'cn': timed out reading {local_server.url}{GET_A}?")


def test_malformed_body_is_a_parse_error(local_server: LocalServer) -> None:
    local_server.route(GET_A, Reply(200, fixture_bytes(CHINA_2010)[:500]))
    error = failure(ComtradeSource(config(local_server)))
    assert error.reason == "parse"
    assert "as JSON: " in str(error)
    local_server.route(GET_A, Reply(200, b'{"unexpected": true, "data": 3}'))
    assert failure(ComtradeSource(config(local_server))).reason == "parse"


def test_an_error_in_the_answer_is_reported(local_server: LocalServer) -> None:
    body = {"elapsedTime": "0.01 secs", "count": 0, "data": [], "error": "Invalid period 2010-13"}
    local_server.route(GET_A, Reply(200, json.dumps(body).encode()))
    error = failure(ComtradeSource(config(local_server)))
    assert error.reason == "api_error"
    assert str(error).endswith("Comtrade says: Invalid period 2010-13")


def test_the_subscription_key_never_shows(local_server: LocalServer,
                                          caplog: pytest.LogCaptureFixture) -> None:
    body = f'{{"statusCode": 401, "message": "Access denied due to invalid subscription key {KEY}."}}'
    local_server.route(GET_A, Reply(503, KEY.encode()), Reply(401, body.encode()))
    with caplog.at_level(logging.DEBUG):
        error = failure(ComtradeSource(config(local_server)))
    assert error.reason == "http_4xx"
    assert "invalid subscription key ***" in str(error)
    assert KEY not in str(error) and KEY not in caplog.text
    assert "source retry source=cn reason=http_5xx" in caplog.text


def monthly_values(last: str) -> Any:
    """A value for every month up to `last` (YYYYMM): 1000 * month number + code digits."""
    def value(reporter: str, partner: str, flow: str, cmd: str, period: str) -> float | None:
        if period > last:
            return None
        code = 0 if cmd == "TOTAL" else int(cmd)
        return 1000.0 * int(period[4:]) + code
    return value


def test_monthly_requests_hold_at_most_twelve_periods(local_server: LocalServer) -> None:
    local_server.route(GET_M, comtrade_responder(monthly_values("209912")))
    source = ComtradeSource(config(local_server, frequency="M", start="2023-01", end="2024-06",
                                   partner=643, flows=["X"]))
    frame = source.fetch().frame
    assert frame["series"].unique().tolist() == ["chn-rus/export/total"]
    assert [str(p) for p in frame["period"]] == [
        str(p) for p in pd.period_range("2023-01", "2024-06", freq="M")]
    assert frame["value"].tolist()[:3] == [1000.0, 2000.0, 3000.0]
    assert [r.query["period"] for r in local_server.to(GET_M)] == [
        "202301,202302,202303,202304,202305,202306,202307,202308,202309,202310,202311,202312",
        "202401,202402,202403,202404,202405,202406",
    ]


def test_the_preview_cap_splits_commodities(local_server: LocalServer) -> None:
    local_server.route(PREVIEW_M, comtrade_responder(monthly_values("209912")))
    codes = [str(code) for code in range(8456, 8467)]
    source = ComtradeSource(config(local_server, subscription_key=None, frequency="M", start="2024-01",
                                   end="2024-12", reporter=[156, 643], partner=[0, 643, 156],
                                   commodities=codes))
    # 2 reporters x 3 partners x 2 flows x 12 months = 144 records per code: 3 codes a call.
    frame = source.fetch().frame
    assert [r.query["cmdCode"] for r in local_server.to(PREVIEW_M)] == [
        "8456,8457,8458", "8459,8460,8461", "8462,8463,8464", "8465,8466"]
    assert len(frame) == 2 * 3 * 2 * 11 * 12
    assert sorted(frame["partner"].unique()) == ["CHN", "RUS", "W00"]
    rus = frame[(frame["series"] == "chn-rus/export/8458") & (frame["period"] == pd.Period("2024-03", "M"))]
    assert rus["value"].tolist() == [3000.0 + 8458]


def test_without_an_end_it_reads_forward_until_nothing_is_published(local_server: LocalServer) -> None:
    local_server.route(GET_M, comtrade_responder(monthly_values("202403")))
    source = ComtradeSource(config(local_server, frequency="M", start="2023-01", end=None,
                                   partner=643, flows=["X"], revision_window=3))
    frame = source.fetch().frame
    assert str(frame["period"].max()) == "2024-03" and len(frame) == 15
    assert [r.query["period"][:6] for r in local_server.to(GET_M)] == ["202301", "202401", "202501"]
    # Later polls re-read the revision window (the last 3 months) and what follows.
    local_server.requests.clear()
    frame = source.fetch().frame
    assert [str(p) for p in frame["period"]] == ["2024-01", "2024-02", "2024-03"]
    assert [r.query["period"] for r in local_server.to(GET_M)] == [
        ",".join(f"2024{m:02d}" for m in range(1, 13)), ",".join(f"2025{m:02d}" for m in range(1, 13))]


def test_now_from_the_caller_sets_the_last_period(local_server: LocalServer) -> None:
    local_server.route(GET_M, comtrade_responder(monthly_values("202403")))
    source = ComtradeSource(config(local_server, frequency="M", start="2024-01", end=None,
                                   partner=643, flows=["X"]))
    frame = source.fetch(now=datetime(2024, 5, 20, 6, 0, tzinfo=UTC)).frame
    assert len(frame) == 3
    assert [r.query["period"] for r in local_server.to(GET_M)] == ["202401,202402,202403,202404,202405"]


def test_the_documented_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "tradewatch.yaml"
    path.write_text(textwrap.dedent("""
        sources:
          - name: kr_cn
            kind: comtrade
            base_url: http://127.0.0.1:8080     # default: https://comtradeapi.un.org
            subscription_key: ${COMTRADE_KEY}    # optional
            reporter: 410
            partner: 156
            flows: [X, M]
            commodities: [TOTAL]
            frequency: M
            start: 2001-01
            schedule: {cron: "0 6 * * *"}
    """))
    source = load_config(path, env={"COMTRADE_KEY": KEY}).config.sources[0]
    assert isinstance(source, ComtradeConfig)
    assert (source.reporter, source.partner, source.flows, source.commodities) == (
        ["410"], ["156"], ["X", "M"], ["TOTAL"])
    assert (source.start, source.end, source.subscription_key) == ("2001-01", None, KEY)
    assert ComtradeConfig.model_validate({**source.model_dump(), "reporter": ["KOR", "CN"],
                                          "partner": "World"}).reporter == ["410", "156"]
    blank = load_config(path, env={"COMTRADE_KEY": ""}).config.sources[0]
    assert isinstance(blank, ComtradeConfig) and blank.subscription_key is None

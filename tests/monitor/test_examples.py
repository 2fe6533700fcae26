"""The commented examples under config/examples: every one passes `tradewatch check`, and the
China-Russia machine-tools scenario runs end to end against local Comtrade and Slack servers."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from monitor.alerts.lifecycle import Status
from monitor.app import App
from monitor.cli import main
from monitor.config import ComtradeSource, StoreConfig, load_config
from tests.conftest import DEMO_CSV, REPO
from tests.monitor.httpserver import LocalServer, comtrade_responder, slack_responder

EXAMPLES = REPO / "config" / "examples"
SCENARIO = EXAMPLES / "china-russia-machine-tools.yaml"
ENV = {"COMTRADE_KEY": "0123456789abcdef0123456789abcdef", "TRADE_FEED_TOKEN": "feed-token-123"}
SLACK_METHODS = ("conversations.list", "chat.postMessage", "chat.update", "files.getUploadURLExternal",
                 "files.completeUploadExternal")


@pytest.fixture()
def restore_logging() -> Iterator[None]:
    """`tradewatch check` sets up the root logger as the daemon would; put it back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_every_source_kind_has_an_example() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == [
        "china-russia-machine-tools.yaml", "comtrade.yaml", "file-csv.yaml", "file-excel.yaml",
        "http-json.yaml", "sdmx-eurostat.yaml", "sdmx-imf.yaml",
    ]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_passes_check(path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                              restore_logging: None) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert main(["check", "--config", str(path)]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith(f"{path}: ok (")


def russian_imports_from_china() -> dict[str, float]:
    """Real monthly values (USD) for 2014-2015, the ruble crisis: Russia's recorded imports
    from China (Russian customs, the demo file), served here as the numbers of China's
    exports to Russia in Comtrade's format; the machine-tool codes have no data."""
    frame = pd.read_csv(DEMO_CSV, dtype={"period": str})
    frame = frame[(frame["period"] >= "2014-01") & (frame["period"] <= "2015-12")]
    return {p.replace("-", ""): v * 1e6 for p, v in zip(frame["period"], frame["ru_imports_from_cn_musd"],
                                                         strict=True)}


def test_china_russia_machine_tools_scenario(tmp_path: Path, local_server: LocalServer) -> None:
    values = russian_imports_from_china()

    def value(reporter: str, partner: str, flow: str, cmd: str, period: str) -> float | None:
        return values.get(period) if (reporter, partner, flow, cmd) == ("156", "643", "X", "TOTAL") else None

    local_server.route("/data/v1/get/C/M/HS", comtrade_responder(value))
    for method in SLACK_METHODS:
        local_server.route(f"/api/{method}", slack_responder(local_server.url))
    local_server.route("/upload/F0CHART", slack_responder(local_server.url))

    loaded = load_config(SCENARIO, env={**ENV, "COMTRADE_BASE_URL": local_server.url})
    (source,) = loaded.config.sources
    assert isinstance(source, ComtradeSource)
    assert source.base_url == local_server.url
    assert source.commodities == ["TOTAL", *[str(code) for code in range(8456, 8467)]]
    # The example reads from 2021; the served history is 2014-2015, so start there.
    config = loaded.config.model_copy(update={
        "sources": [source.model_copy(update={"start": "2014-01"})],
        "store": StoreConfig(path=str(tmp_path / "scenario.db")),
    })
    app = App(dataclasses.replace(loaded, config=config), clock=lambda: datetime(2016, 3, 1, tzinfo=UTC),
              env={"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": f"{local_server.url}/api"})
    try:
        (result,) = app.run_once()
        assert result.ok, result
        assert result.new_observations == 24
        firing = {(a.rule, a.series): a for a in app.book.alerts() if a.status == Status.FIRING}
    finally:
        app.store.close()

    calls = local_server.to("/data/v1/get/C/M/HS")
    assert [c.query["period"][:6] for c in calls] == ["201401", "201501", "201601"]
    assert all(c.query["cmdCode"] == "TOTAL,8456,8457,8458,8459,8460,8461,8462,8463,8464,8465,8466"
               for c in calls)
    assert sorted(firing) == [
        ("cn_ru_exports_consecutive_decline", "chn-rus/export/total"),
        ("cn_ru_exports_sharp_fall", "chn-rus/export/total"),
    ]
    sharp = firing[("cn_ru_exports_sharp_fall", "chn-rus/export/total")]
    assert sharp.period == "2015-12"
    assert sharp.value == pytest.approx((3071.01159 / 4169.38602 - 1) * 100)
    assert sharp.severity == "critical"
    assert sharp.labels["team"] == "policy"
    posts = [json.loads(r.body) if r.body.startswith(b"{") else r.body.decode()
             for r in local_server.to("/api/chat.postMessage")]
    assert posts, "nothing was posted to Slack"
    assert "Russia" in str(posts[0])

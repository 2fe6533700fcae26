"""Every kind of alert message, rendered from the real Russia-China history and compared with
reviewed snapshots (tests/monitor/notify/snapshots/*.json). After a deliberate wording change,
regenerate them with UPDATE_SNAPSHOTS=1 and read the diff."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import pytest

from detectors.contributions import Child, Missing, breakdown
from monitor.alerts.lifecycle import Status
from monitor.alerts.notification import Notification
from monitor.notify import render
from monitor.notify.ruleinfo import RuleInfo
from tests.fakes.payloads import RULE, VINTAGE, alert, demo_store, payload, resolved
from tests.fakes.slack_server import block_errors

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
EXPORTS = {"reporter": "CHN", "partner": "RUS", "flow": "export", "commodity": "8703", "unit": "USD",
           "source": "china_customs"}


def info(name: str, transform: str, detector: str, **params: Any) -> RuleInfo:
    return RuleInfo(name, transform, MappingProxyType({}), detector, MappingProxyType(params))


THRESHOLD = info("yoy_sharp_fall", "yoy_pct", "threshold", direction="below", threshold=-20.0)
LEVEL = info("level_floor", "level", "threshold", direction="below", threshold=2500.0)
ROBUST = info("unusual_month", "mom_pct", "robust_z", threshold=3.5)
BREAK = info("level_break", "level", "changepoint")
LATE = info("late", "level", "staleness", lag=2)
REVISED = info("revised", "level", "revision")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> pd.Series:
    return demo_store(tmp_path_factory.mktemp("snap") / "tw.db").series_history("rus-chn/import/total")


DIGEST = [payload(series=f"chn-rus/export/{code}", labels={**EXPORTS, "commodity": code}, value=v,
                  period="2025-08", since="2025-07", summary=f"HS {code} fell.")
          for code, v in (("8703", -16.4), ("8458", -42.0), ("27", -8.0), ("8471", 12.0))]
GROUP = {"alertname": "yoy_consecutive_decline"}
EU = {"reporter": "EU27", "partner": "RUS", "flow": "export", "commodity": "TOTAL", "unit": "EUR",
      "source": "eurostat"}
# Eurostat Comext, exports to Russia, EUR: March 2022 and March 2021 (Malta left out as missing)
MEMBERS = {"DEU": (997260525, 2490504643), "NLD": (222836811, 672941960), "ITA": (350153362, 712633687),
           "POL": (333422022, 683903201), "FRA": (195928734, 487702651), "CZE": (85403215, 360632953),
           "LVA": (174488939, 158786080)}
EU_DRIVERS = breakdown("reporter", "2022-03", "2021-03", 3862268233 - 8017059813,
                       [Child(f"{c.lower()}-rus/export/total", {**EU, "reporter": c}, now, then)
                        for c, (now, then) in MEMBERS.items()], [Missing("MLT")])
EU_FIRING = replace(payload(rule="yoy_sharp_fall", series="eu27-rus/export/total", labels=EU,
                            period="2022-03",
                            since="2022-03", value=-51.8, reference=-20.0, severity="critical",
                            summary="The EU's exports to Russia fell 51.8% YoY in 2022-03, below -20%."),
                    drivers=EU_DRIVERS)


def message(blocks: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return {"text": text, "blocks": blocks}


def firing(p: Notification, rule: RuleInfo, history: pd.Series) -> dict[str, Any]:
    return message(render.alert_blocks(p, VINTAGE, info=rule, history=history),
                   render.fallback_text(p, rule, history))


CASES: dict[str, Callable[[pd.Series], dict[str, Any]]] = {
    "consecutive_firing": lambda h: firing(payload(), RULE, h),
    "consecutive_resolved_parent": lambda h: message(
        render.resolved_parent_blocks(payload(), resolved(alert()), VINTAGE, info=RULE, history=h),
        render.fallback_text(resolved(alert()), RULE, h)),
    "consecutive_resolved_reply": lambda h: message(
        render.thread_blocks(resolved(alert()), VINTAGE, info=RULE, history=h),
        render.fallback_text(resolved(alert()), RULE, h)),
    "consecutive_reminder": lambda h: message(
        render.thread_blocks(payload().reminding("desk"), VINTAGE, info=RULE, history=h),
        render.fallback_text(payload().reminding("desk"), RULE, h)),
    "threshold_firing": lambda h: firing(payload(rule="yoy_sharp_fall", since="2015-01", period="2015-01",
                                                 value=-43.9, reference=-20.0, severity="critical",
                                                 summary="Russia's imports from China fell 43.9% YoY in "
                                                         "January 2015, below -20%."), THRESHOLD, h),
    "threshold_level_firing": lambda h: firing(payload(rule="level_floor", since="2015-01", period="2015-01",
                                                       value=2390.4, reference=2500.0,
                                                       summary="Russia's imports from China stood at "
                                                               "2,390.4 in January 2015, below 2,500."),
                                          LEVEL, h),
    "robust_z_firing": lambda h: firing(payload(rule="unusual_month", since="2015-01", period="2015-01",
                                                value=-42.6, reference=1.2, severity="info",
                                                summary="Russia's imports from China fell 42.6% MoM in "
                                                        "January 2015, unusual for the series (z = -4.1)."),
                                        ROBUST, h),
    "changepoint_firing": lambda h: firing(payload(rule="level_break", since="2014-12", period="2015-03",
                                                   value=2816.0, reference=4420.0, event_period="2014-12",
                                                   summary="Russia's imports from China shifted from about "
                                                           "4,420 to about 2,816 from December 2014."),
                                           BREAK, h),
    "staleness_firing": lambda h: firing(payload(rule="late", since="2015-03", period="2015-03",
                                                 value=3012.6, reference=None,
                                                 summary="Russia's imports from China has no data for "
                                                         "April 2015, due 2015-06-20; the newest is "
                                                         "March 2015."),
                                         LATE, h),
    "staleness_resolved": lambda h: firing(Notification.of(alert(
        rule="late", status=Status.RESOLVED, period="2015-04", since="2015-04", value=None, reference=None,
        summary="Russia's imports from China: April 2015 arrived; late no longer holds.")), LATE, h),
    "revision_firing": lambda h: firing(payload(rule="revised", since="2015-03", period="2015-03",
                                                value=2950.0, reference=3012.6, severity="info",
                                                summary="Russia's imports from China: March 2015 was "
                                                        "revised from 3,012.6 to 2,950 (-2.1%)."),
                                        REVISED, h),
    "hs_heading_euro_firing": lambda h: firing(payload(
        rule="yoy_consecutive_decline", series="chn-rus/export/8703", labels={**EXPORTS, "unit": "EUR"},
        period="2025-08", since="2025-08", value=-16.4, reference=-5.0,
        summary="China's exports to Russia of HS 8703 fell 16.4% YoY in August 2025."), RULE, h),
    "escaped_data_firing": lambda h: firing(payload(
        series="x&y/<!channel>", labels={"reporter": "RUS", "flow": "import", "source": "<!here> & co",
        "unit": "<@U0ADMIN>"}, summary="Imports <!channel> fell; see <http://evil.example|click>"), RULE, h),
    "eu_contributors_firing": lambda h: firing(EU_FIRING, THRESHOLD, None),  # type: ignore[arg-type]
    "eu_contributors_reminder": lambda h: message(
        render.thread_blocks(EU_FIRING.reminding("desk"), VINTAGE, info=THRESHOLD),
        render.fallback_text(EU_FIRING.reminding("desk"), THRESHOLD)),
    "digest": lambda h: message(render.digest_blocks(DIGEST, GROUP, 3, VINTAGE, rules={RULE.name: RULE}),
                                render.digest_text(DIGEST, GROUP)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_message_matches_its_snapshot(case: str, history: pd.Series) -> None:
    got = CASES[case](history)
    assert block_errors(got["blocks"]) == []
    sent = json.dumps(got, ensure_ascii=False)
    for raw in ("<!channel>", "<!here>", "<http", "<@U"):
        assert raw not in sent
    path = SNAPSHOTS / f"{case}.json"
    text = json.dumps(got, indent=2, ensure_ascii=False) + "\n"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("case", "header"), [
    ("consecutive_firing", ":large_orange_circle: Russia's imports from China: 5th monthly fall in a row"),
    ("consecutive_resolved_parent", ":white_check_mark: Resolved · Russia's imports from China: "
                                    "back above -5% YoY"),
    ("threshold_firing", ":red_circle: Russia's imports from China: down 43.9% YoY in January 2015"),
    ("hs_heading_euro_firing", ":large_orange_circle: China's exports of motor cars and other motor vehicles "
                               "(HS 8703) to Russia: 5th monthly fall in a row"),
])
def test_exact_headers(case: str, header: str, history: pd.Series) -> None:
    assert CASES[case](history)["blocks"][0]["text"]["text"] == header

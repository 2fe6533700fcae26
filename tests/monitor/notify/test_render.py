"""Rendering is pure: payload in, text and Block Kit out, always within Slack's limits."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from monitor.notify.chart import chart_png
from monitor.notify.render import (
    MAX_BLOCKS,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    TRUNCATED,
    alert_blocks,
    console_line,
    digest_blocks,
    digest_csv,
    escape_mrkdwn,
    fallback_text,
    fit_blocks,
    format_number,
    resolved_parent_blocks,
    thread_blocks,
    truncate,
)
from tests.fakes.payloads import (
    FIRING_HEADLINE,
    FIRING_SUMMARY,
    RULE,
    SERIES,
    alert,
    demo_store,
    payload,
    resolved,
)
from tests.fakes.slack_server import block_errors, iter_blocks_text

VINTAGE = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(("raw", "escaped"), [
    ("<!channel>", "&lt;!channel&gt;"),
    ("<http://evil|click>", "&lt;http://evil|click&gt;"),
    ("AT&T", "AT&amp;T"),
    ("&lt;", "&amp;lt;"),  # already-escaped text stays literal too
    ("plain", "plain"),
])
def test_escape_mrkdwn(raw: str, escaped: str) -> None:
    assert escape_mrkdwn(raw) == escaped


def test_truncate_marks_the_cut_and_never_splits_an_entity() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("x" * 50, 20)
    assert len(cut) == 20 and cut.endswith(TRUNCATED)
    text = "a" * 4 + "&amp;" + "b" * 50
    assert truncate(text, 8 + len(TRUNCATED)) == "aaaa" + TRUNCATED


@pytest.mark.parametrize(("value", "shown"), [
    (-21.6, "-21.6"), (-5.0, "-5"), (3456.123, "3,456.1"), (0.126, "0.13"), (float("nan"), "n/a"),
    (None, "n/a"), (-0.001, "0"),
])
def test_format_number(value: object, shown: str) -> None:
    assert format_number(value) == shown


def test_console_line_reads_like_the_slack_header_then_severity_and_sentence() -> None:
    assert console_line(payload(), RULE) == f"{FIRING_HEADLINE} · warning · {FIRING_SUMMARY}"
    assert console_line(payload().reminding("console"), RULE) == (
        f"{FIRING_HEADLINE} (still firing) · warning · {FIRING_SUMMARY}")
    assert console_line(resolved(alert()), RULE) == (
        "Resolved · Russia's imports from China: back above -5% YoY · warning · Russia's imports from "
        "China fell 2.1% YoY in September 2015; yoy_consecutive_decline no longer holds.")
    assert console_line(payload(summary="Two\nlines", severity="critical")) == (
        "Russia's imports from China: yoy_consecutive_decline in March 2015 · critical · Two lines")


def test_a_firing_message_has_header_sentence_fields_and_context() -> None:
    blocks = alert_blocks(payload(since="2015-03"), VINTAGE, info=RULE)  # first held in March
    assert [b["type"] for b in blocks] == ["header", "section", "section", "context"]
    assert block_errors(blocks) == []
    shown = list(iter_blocks_text(blocks))
    assert shown[0] == f":large_orange_circle: {FIRING_HEADLINE}"
    assert shown[1] == FIRING_SUMMARY
    assert shown[2:5] == ["*Change*\n-21.6% YoY", "*Threshold*\n-5% YoY",
                          "*Period*\nNovember 2014 – March 2015"]
    assert shown[-2:] == [
        "Source: rosstat · Data as of 1 March 2026, 06:00 UTC · Rule yoy_consecutive_decline",
        f"{SERIES} · commodity=TOTAL, flow=import, partner=CHN, reporter=RUS, source=rosstat, team=policy, "
        "unit=USD_M"]


def test_without_its_rule_a_message_still_says_who_and_when() -> None:
    shown = list(iter_blocks_text(alert_blocks(payload(event_period="2014-12"))))
    assert shown[0] == (":large_orange_circle: Russia's imports from China: "
                        "yoy_consecutive_decline in March 2015")
    assert "*Change point*\nDecember 2014" in shown and "*Value*\n-21.6" in shown


def test_resolved_parent_and_thread_reply() -> None:
    firing = alert()
    parent = resolved_parent_blocks(payload(), resolved(firing), VINTAGE, info=RULE)
    assert block_errors(parent) == []
    assert parent[0]["text"]["text"] == (":white_check_mark: Resolved · "
                                         "Russia's imports from China: back above -5% YoY")
    reply = thread_blocks(resolved(firing))
    assert [b["type"] for b in reply] == ["section", "context"]
    update = thread_blocks(payload(period="2015-04"))
    assert [b["type"] for b in update] == ["section", "section", "context"]


def test_every_text_is_cut_to_its_limit() -> None:
    blocks = alert_blocks(payload(rule="r" * 400, summary="<" * 5000, series="&" * 5000))
    assert block_errors(blocks) == []
    assert len(blocks[0]["text"]["text"]) == MAX_HEADER_TEXT
    assert len(blocks[1]["text"]["text"]) <= MAX_SECTION_TEXT
    assert blocks[1]["text"]["text"].endswith(TRUNCATED) and "&lt;" in blocks[1]["text"]["text"]
    assert all(len(f["text"]) <= MAX_FIELD_TEXT for f in blocks[2]["fields"])
    assert len(fallback_text(payload(summary="x" * 10_000))) <= 3000


def test_fit_blocks_keeps_fifty_and_says_so() -> None:
    many = [{"type": "divider"} for _ in range(70)]
    fitted = fit_blocks(many)
    assert len(fitted) == MAX_BLOCKS
    assert fitted[-1]["type"] == "context" and "21 more blocks not shown" in fitted[-1]["elements"][0]["text"]


def test_a_digest_shows_the_largest_moves_first_and_counts_the_rest() -> None:
    payloads = [payload(series=f"s{i}", value=v, reference=-5.0, summary=f"v={v}")
                for i, v in enumerate([-6.0, -50.0, 20.0, -5.0, float("nan")])]
    blocks = digest_blocks(payloads, {"rule": "yoy"}, size=3)
    assert block_errors(blocks) == []
    shown = "\n".join(iter_blocks_text(blocks))
    lines = [line for line in shown.splitlines() if "`" in line]
    assert [line.split("`")[1] for line in lines] == ["s1", "s2", "s0"]
    assert "and 2 more" in shown and "Grouped by rule=yoy" in shown


def test_a_digest_with_long_lines_stays_within_the_limits() -> None:
    payloads = [payload(series=f"s{i}", value=float(i), summary="y" * 5000) for i in range(100)]
    blocks = digest_blocks(payloads, {}, size=100)
    assert block_errors(blocks) == [] and len(blocks) <= MAX_BLOCKS


def test_digest_csv_lists_everything_and_defuses_formulas() -> None:
    payloads = [payload(series="=HYPERLINK(\"http://evil\")", value=-30.0), payload(series="b", value=1.0)]
    rows = list(csv.DictReader(io.StringIO(digest_csv(payloads))))
    assert [r["series"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "b"]
    assert rows[0]["move"] == "25" and json.loads(rows[0]["labels"])["team"] == "policy"


def test_the_chart_is_a_png_of_the_series(tmp_path: Path) -> None:
    store = demo_store(tmp_path / "tw.db")
    history = store.series_history(SERIES)
    assert isinstance(history.index, pd.PeriodIndex) and str(history.index[-1]) == "2015-03"
    assert history.attrs["vintage"] == datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    png = chart_png(history, payload(event_period="2014-12", summary="$x$ not math"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert store.series_history("no/such/series").empty
    with pytest.raises(ValueError):
        chart_png(pd.Series(dtype=float), payload())


def test_annotations_and_links_have_their_place_and_are_escaped() -> None:
    from dataclasses import replace
    from types import MappingProxyType

    rule = replace(RULE, annotations=MappingProxyType({
        "summary": "{{ labels.partner }} <!channel> watch", "description": "Below {{ threshold }} & more",
        "runbook_url": "https://wiki.example/{{ rule }}", "owner": "desk {{ severity }}",
        "broken": "{{ labels.nope }}"}))
    links = (("dashboard_url", "https://grafana.example/d?s={{ series | urlencode }}"),
             ("source_url", "not a url {{ period }}"))
    blocks = alert_blocks(payload(), VINTAGE, info=rule, links=links)
    assert block_errors(blocks) == []
    shown = list(iter_blocks_text(blocks))
    assert shown[1].startswith("*CHN &lt;!channel&gt; watch*\n" + FIRING_SUMMARY[:20])
    assert "Below -5.0 &amp; more" in shown and "owner: desk warning" in shown
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [(e["text"]["text"], e["url"]) for e in actions["elements"]] == [
        ("Runbook", "https://wiki.example/yoy_consecutive_decline"),
        ("Dashboard", "https://grafana.example/d?s=rus-chn/import/total")]

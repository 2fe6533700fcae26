"""Pages of the alerts page and of the series search: every row on exactly one page, links
to the others naming the rows they hold, a page past the end showing the last."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from monitor.alerts.lifecycle import Alert, Status
from monitor.config import Route
from monitor.notify.marks import Marks
from monitor.ui.alerts import AlertsQuery, render_alerts
from monitor.ui.paging import Pager
from tests.monitor.ui.conftest import Daemon

NOW = datetime(2024, 6, 1, tzinfo=UTC)
SERIES = re.compile(r'<a href="/ui/series/(s\d{5})">')


@pytest.mark.parametrize(("total", "per", "page", "expected"), [
    (0, 500, 1, (1, 0, 0)), (1, 500, 1, (1, 0, 1)), (500, 500, 1, (1, 0, 500)), (501, 500, 2, (2, 500, 501)),
    (1234, 100, 13, (13, 1200, 1234)), (1234, 0, 1, (1, 0, 1234))])
def test_a_pager_slices_every_row_once(total: int, per: int, page: int,
                                       expected: tuple[int, int, int]) -> None:
    pager = Pager(total, per, page)
    assert (pager.pages, pager.start, pager.stop) == expected


def alerts(n: int) -> list[Alert]:
    out = []
    for k in range(n):
        labels = {"alertname": f"rule_{k % 3}", "series": f"s{k:05d}", "severity": "warning"}
        out.append(Alert(f"{k:016x}", labels["alertname"], labels["series"], labels, "warning", Status.FIRING,
                         1, "2024-05", "2024-05", -25.0, -20.0, "fell", NOW, NOW, None, NOW))
    return out


def page_of(every: list[Alert], **query: str) -> str:
    tree = Route(receiver="desk", group_by=["alertname"])
    marks = Marks([], [], every, NOW)
    return render_alerts(every, tree, marks, AlertsQuery.of(query))


def test_the_alerts_page_shows_each_alert_on_exactly_one_page() -> None:
    every = alerts(1234)
    seen: list[str] = []
    for page in ("1", "2", "3"):
        text = page_of(every, page=page)
        seen += SERIES.findall(text)
        assert f"(page {page} of 3)" in text
    assert sorted(seen) == sorted(a.series for a in every) and len(seen) == len(set(seen))
    middle = page_of(every, page="2")
    assert len(SERIES.findall(middle)) == 500
    assert 'aria-label="Previous: page 1, rows 1–500"' in middle
    assert 'aria-label="Page 3, rows 1,001–1,234"' in middle
    assert 'aria-current="page" title="rows 501–1,000">2</a>' in middle
    assert "Rows 501–1,000 of 1,234 (page 2 of 3)." in middle
    assert 'href="/ui/?per=0">All 1,234 on one page' in middle
    assert len(SERIES.findall(page_of(every, page="99"))) == 234  # past the end: the last page
    assert len(SERIES.findall(page_of(every, per="0"))) == 1234
    assert len(SERIES.findall(page_of(every, limit="0"))) == 1234  # the older name of per
    filtered = page_of(every, filter='alertname="rule_1"', per="100", page="2")
    assert "Rows 101–200 of 411 (page 2 of 5)." in filtered
    assert "href=\"/ui/?filter=alertname%3D%22rule_1%22&amp;page=3&amp;per=100\"" in filtered


def test_the_series_search_pages(daemon: Daemon) -> None:
    first = httpx.get(f"{daemon.url}/ui/series", params={"per": "1"}).text
    second = httpx.get(f"{daemon.url}/ui/series", params={"per": "1", "page": "2"}).text
    assert "Series 1–1 of 2 (page 1 of 2)." in first and "Series 2–2 of 2 (page 2 of 2)." in second
    assert "rus-chn/export/total</a>" in first and "rus-chn/import/total</a>" not in first
    assert "rus-chn/import/total</a>" in second and "rus-chn/export/total</a>" not in second
    assert 'aria-label="Next: page 2, rows 2–2"' in first
    assert 'nav class="pager"' not in httpx.get(f"{daemon.url}/ui/series").text  # one page: no links

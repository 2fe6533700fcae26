"""Release calendars: late data alerts, and polling more often around due dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.app import App
from monitor.config import ReleaseCalendar, load_config
from monitor.scheduler import in_release_window
from tests.conftest import DEMO_CSV, ROSSTAT_IMPORTS, truncate_csv

CONFIG = """
store: {path: state.db}
sources:
""" + ROSSTAT_IMPORTS + """    release: {day: 20, lag: 1}
rules:
  - name: late
    detector: {kind: staleness, lag: 1, day: 20}
"""
CALENDAR = ReleaseCalendar(day=20, lag=1)


@pytest.mark.parametrize(
    ("newest", "now", "expected"),
    [
        (None, datetime(2015, 1, 1, tzinfo=UTC), True),  # nothing yet: poll
        ("2015-03", datetime(2015, 4, 17, tzinfo=UTC), False),  # April's release is due 2015-05-20
        ("2015-03", datetime(2015, 5, 18, tzinfo=UTC), True),  # two days before
        ("2015-03", datetime(2015, 5, 31, tzinfo=UTC), True),  # late: keep polling
        ("2015-03", datetime(2015, 6, 1, tzinfo=UTC), False),  # ten days after: back to schedule
        ("2015Q1", datetime(2015, 9, 19, tzinfo=UTC), True),  # Q2 + one quarter: due 20 September
        ("2015Q1", datetime(2015, 7, 20, tzinfo=UTC), False),
    ],
)
def test_release_window(newest: str | None, now: datetime, expected: bool) -> None:
    frequency = "Q" if newest and "Q" in newest else "M"
    assert in_release_window(newest, frequency, CALENDAR, now) is expected


def test_late_data_fires_even_when_the_source_fails_and_resolves_when_it_arrives(
    write_config: Callable[[str], Path], russia_china_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncate_csv(russia_china_csv, "2015-03")
    clock = [datetime(2015, 5, 10, tzinfo=UTC)]
    app = App(load_config(write_config(CONFIG)), clock=lambda: clock[0])
    app.run_once()
    assert capsys.readouterr().out == ""  # April's data is not due until 20 May
    clock[0] = datetime(2015, 5, 25, tzinfo=UTC)
    russia_china_csv.rename(russia_china_csv.with_suffix(".gone"))  # the publisher is down too
    assert [r.ok for r in app.run_once()] == [False]
    [line] = capsys.readouterr().out.splitlines()
    assert line == ("Russia's imports from China: new data overdue (latest March 2015) · warning · "
                    "Russia's imports from China has no data for April 2015, due 2015-05-20; "
                    "the newest is March 2015.")
    russia_china_csv.with_suffix(".gone").rename(russia_china_csv)
    clock[0] += timedelta(days=1)

    truncate_csv(russia_china_csv, "2015-04", source=DEMO_CSV)
    app.run_once()
    assert capsys.readouterr().out.splitlines() == [
        "Resolved · Russia's imports from China: data up to date again (April 2015) · warning · "
        "Russia's imports from China stood at 2,619.4 in April 2015; late no longer holds."]
    app.store.close()


def test_due_dates_are_in_the_publishers_time_zone() -> None:
    shanghai = ReleaseCalendar(day=20, lag=1, timezone="Asia/Shanghai", before="0s")
    # April's data is due on 20 May in Beijing, which starts at 16:00 UTC on 19 May.
    assert in_release_window("2015-03", "M", shanghai, datetime(2015, 5, 19, 16, 30, tzinfo=UTC))
    assert not in_release_window("2015-03", "M", CALENDAR.model_copy(update={"before": timedelta(0)}),
                                 datetime(2015, 5, 19, 16, 30, tzinfo=UTC))


def test_an_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        ReleaseCalendar(timezone="Mars/Olympus")

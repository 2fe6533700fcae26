"""Crontab expressions run when cron runs them: 0 and 7 are Sunday, 1-5 Monday to Friday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config.sources import validate_cron
from monitor.crontab import apscheduler_weekdays, cron_trigger


def fires(expression: str, start: datetime, count: int) -> list[str]:
    trigger = cron_trigger(expression)
    at, seen = start, []
    previous = None
    for _ in range(count):
        at = trigger.get_next_fire_time(previous, at)
        seen.append(at.strftime("%a %d %H:%M"))
        previous = at
        at = at + timedelta(minutes=1)
    return seen


MONDAY = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday


def test_weekdays_one_to_five_are_monday_to_friday() -> None:
    assert fires("0 9 * * 1-5", MONDAY, 6) == ["Mon 07 09:00", "Tue 08 09:00", "Wed 09 09:00",
                                                "Thu 10 09:00", "Fri 11 09:00", "Mon 14 09:00"]


@pytest.mark.parametrize("field", ["0", "7", "sun", "SUN"])
def test_zero_and_seven_are_sunday(field: str) -> None:
    assert fires(f"30 6 * * {field}", MONDAY, 2) == ["Sun 13 06:30", "Sun 20 06:30"]


@pytest.mark.parametrize(("field", "names"), [
    ("*", "*"), ("1-5", "mon,tue,wed,thu,fri"), ("mon-fri", "mon,tue,wed,thu,fri"),
    ("0,6", "sat,sun"), ("5-7", "fri,sat,sun"), ("*/2", "tue,thu,sat,sun"), ("1-5/2", "mon,wed,fri"),
    ("3", "wed"),
])
def test_fields_in_apscheduler_terms(field: str, names: str) -> None:
    assert apscheduler_weekdays(field) == names


@pytest.mark.parametrize("expression", ["0 9 * * 8", "0 9 * * 5-1", "0 9 * * */0", "0 9 * *",
                                        "0 9 * * funday", "61 9 * * *"])
def test_bad_expressions_are_refused_with_the_reason(expression: str) -> None:
    with pytest.raises(ValueError, match="invalid cron expression"):
        validate_cron(expression)

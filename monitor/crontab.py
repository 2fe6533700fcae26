"""Crontab schedules read as cron reads them. APScheduler 3's `CronTrigger.from_crontab`
passes the day-of-week field through with its own numbering (0 is Monday), so
`0 9 * * 1-5` would run Tuesday to Saturday; in crontab 0 and 7 are Sunday. The field is
rewritten here as APScheduler's day names before the trigger is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

# crontab numbering: 0 (and 7) Sunday, 1 Monday ... 6 Saturday
_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(token: str) -> int:
    token = token.strip().lower()
    if token in _NAMES:
        return _NAMES.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"day of week must be 0-7 or sun-sat, got {token!r}")


def _days(field: str) -> set[int]:
    """The crontab weekdays (0 = Sunday) a day-of-week field names."""
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"day of week step must be a positive number, got {step_text!r}")
            step = int(step_text)
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, _, high = span.partition("-")
            first, last = _weekday(low), _weekday(high)
            if high.strip() == "7":
                last = 7  # 5-7: Friday to Sunday
            if last < first:
                raise ValueError(f"day of week range {span!r} runs backwards")
        else:
            first = last = _weekday(span)
            if step_text:
                last = 6  # 1/2: from Monday, every other day
        days.update(day % 7 for day in range(first, last + 1, step))
    return days


def apscheduler_weekdays(field: str) -> str:
    """A crontab day-of-week field in APScheduler's terms ("1-5" -> "mon,tue,wed,thu,fri")."""
    if field.strip() in ("*", "?"):
        return "*"
    days = _days(field)
    monday_first = sorted(days, key=lambda day: (day - 1) % 7)
    return ",".join(_NAMES[day] for day in monday_first)


def cron_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """A trigger that runs when cron would run `expression` (five fields); ValueError if not."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab expression has 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=apscheduler_weekdays(weekday), timezone=timezone)

"""Japan time (JST, UTC+9, no daylight saving): the calendar day that deployments, report days,
printouts and 和暦 dates are counted in, whatever zone the server runs in."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")


def local_day(at: datetime) -> date:
    """The Japanese calendar day of an aware time."""
    return at.astimezone(JST).date()


def today_jst(now: datetime | None = None) -> date:
    """Today in Japan; on a server running in UTC this differs from `date.today()` from 00:00 to 09:00 JST."""
    return local_day(now or datetime.now(timezone.utc))

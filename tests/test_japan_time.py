"""Japan's calendar day, whatever zone the server runs in (deployments, reports, printouts)."""

from datetime import date, datetime, timezone

from server.domain.japan_time import local_day, today_jst


def test_the_japanese_day_starts_at_15_00_utc():
    assert today_jst(datetime(2026, 12, 6, 14, 59, tzinfo=timezone.utc)) == date(2026, 12, 6)
    assert today_jst(datetime(2026, 12, 6, 15, 0, tzinfo=timezone.utc)) == date(2026, 12, 7)
    assert local_day(datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc)) == date(2027, 1, 1)


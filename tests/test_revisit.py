from datetime import UTC, datetime, timedelta

from crawler.config import DEFAULT_REVISIT
from crawler.tracking.revisit import next_check_at

CHANGED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def due_after(age: timedelta, forever: bool = False) -> timedelta | None:
    now = CHANGED + age
    due = next_check_at(CHANGED, now, DEFAULT_REVISIT, forever=forever)
    return None if due is None else due - now


def test_the_default_schedule_slows_down_as_an_article_stops_changing():
    assert due_after(timedelta(minutes=0)) == timedelta(minutes=15)
    assert due_after(timedelta(hours=2, minutes=59)) == timedelta(minutes=15)
    assert due_after(timedelta(hours=3)) == timedelta(minutes=30)
    assert due_after(timedelta(hours=23)) == timedelta(minutes=30)
    assert due_after(timedelta(days=2)) == timedelta(hours=2)
    assert due_after(timedelta(days=8)) == timedelta(days=1)
    assert due_after(timedelta(days=29)) == timedelta(days=1)


def test_tracking_stops_after_a_month_unless_forever():
    assert due_after(timedelta(days=30)) is None
    assert due_after(timedelta(days=400), forever=True) == timedelta(days=1)

"""When a stored article is next due for a re-check: a pure function of times and policy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from crawler.config import RevisitStep


def next_check_at(
    last_changed_at: datetime, now: datetime, steps: Sequence[RevisitStep], *, forever: bool = False
) -> datetime | None:
    """The next re-check after ``now``, or None when the article is no longer tracked.

    The interval depends on how long the article has gone unchanged: with the default
    policy every 15 minutes for the first 3 hours after its last change, every 30 minutes
    for the first day, every 2 hours for the first week, daily for the first month, then
    never. ``forever`` (watched pages) keeps the last interval instead of stopping.
    """
    age = now - last_changed_at
    for step in steps:
        if age < step.until:
            return now + step.every
    if forever and steps:
        return now + steps[-1].every
    return None

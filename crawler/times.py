"""Times as presswatch stores them: ISO 8601, UTC, second precision, ``Z`` suffix."""

from __future__ import annotations

import time
from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(FORMAT)


def from_iso(text: str) -> datetime:
    """Read a stored time (or any ISO 8601 time; a naive one is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def next_second() -> datetime:
    """Sleep into the next whole second and return it.

    Stored times have second precision. A reader that holds the writer lock and takes
    this as the end of a half-open period [start, end) sees every row stamped before it,
    and every later row is stamped at ``end`` or after: nothing is missed or repeated.
    """
    now = datetime.now(UTC)
    time.sleep(1 - now.microsecond / 1_000_000)
    return utc_now()

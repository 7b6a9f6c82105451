"""The period a digest covers: ``--since`` / ``--unsent`` as a half-open period
``start <= t < end``."""

from __future__ import annotations

import re
from datetime import datetime

from crawler.durations import parse_duration
from crawler.outputs.digest.filters import when
from crawler.outputs.digest.model import DigestError, Period
from crawler.storage.store import Store
from crawler.times import from_iso, to_iso

DEFAULT_SINCE = "24h"
_DURATION_LIKE = re.compile(r"[\d.\s]+[a-z][\da-z.\s]*", re.IGNORECASE)


def resolve_period(store: Store, since: str | None, unsent: bool, now: datetime) -> Period:
    """The period a digest covers, ending at ``now``.

    ``since`` is a duration back from now (``90m``, ``24h``, ``7d``) or an ISO 8601 time;
    ``unsent`` starts where the last delivered digest ended (or at the first record when
    none was). Neither: the last 24 hours. Raises DigestError for a bad value.
    """
    end = to_iso(now)
    if since is not None and unsent:
        raise DigestError("give either --since or --unsent, not both")
    if unsent:
        return Period(last_delivered_end(store), end)
    start = parse_since(since or DEFAULT_SINCE, now)
    if start >= end:
        raise DigestError(f"--since {since!r}: {when(start)} is not before now ({when(end)})")
    return Period(start, end)


def parse_since(text: str, now: datetime) -> str:
    """The start time meant by a ``--since`` value, as a stored time string."""
    text = text.strip()
    try:
        if _DURATION_LIKE.fullmatch(text):
            return to_iso(now - parse_duration(text))
    except ValueError as error:
        raise DigestError(f"--since {error}") from None
    except OverflowError:
        raise DigestError(f"--since {text!r}: too far back") from None
    try:
        return to_iso(from_iso(text))
    except ValueError:
        raise DigestError(
            f"--since {text!r}: not a time; expected a duration (90m, 24h, 7d) or an ISO 8601 "
            "time (2026-11-23T06:00Z, 2026-11-23T06:00:00+01:00, 2026-11-23)"
        ) from None


def last_delivered_end(store: Store) -> str | None:
    """Where ``--unsent`` starts: the end of the latest digest with ``sent_at`` set."""
    return store.last_delivered_end()

"""What a worker's spider and pipelines report to: the pass's Recorder, whose calls become
messages on the item stream that the ingester replays on a real ``PassRecorder``; "is this
URL stored?" is answered by the ``stored`` set the ingester keeps. ``enqueue`` uses it with
the real ``Store``, where the spider reads feed validators and due revisits."""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from scrapy import Request

from crawler.cluster.frontier import RUN
from crawler.cluster.keys import INGEST_GROUP, Keys
from crawler.cluster.messages import EVENTS, WorkerRecorder, event_message, item_message
from crawler.cluster.streams import Stream
from crawler.config import Config
from crawler.items import ArticleItem
from crawler.storage.store import Store
from crawler.times import to_iso, utc_now

log = logging.getLogger("presswatch.cluster")

# The run of the request whose callback is running (set by the scheduler's middleware
# in the task reading that callback's output); events are sent under it.
current_run: ContextVar[int | None] = ContextVar("current_run", default=None)


def raise_error(error: RedisError) -> None:
    raise error


@dataclass
class RemoteRecorder:
    """The Recorder of a worker (or enqueue), a ``WorkerRecorder``: each event method (one
    per ``messages.EVENTS``, made below from the protocol's signature) sends its arguments
    by name. ``on_lost(error)`` decides what happens when Redis cannot take a message: a
    worker stops at once (``worker.fail_stop``), so that its requests stay unacknowledged
    and another worker repeats the work; enqueue lets the error propagate."""

    server: Redis
    keys: Keys
    config: Config
    source_ids: dict[str, int]
    generation: str
    store: Store | None = None  # enqueue only
    on_lost: Callable[[RedisError], None] = raise_error
    clock: Callable[[], datetime] = utc_now
    counts: Counter[str] = field(default_factory=Counter)
    failure: str | None = field(default=None, init=False)  # it writes nothing itself
    run: int | None = None  # enqueue's run; a worker's events take their request's

    def __post_init__(self) -> None:
        self.items = Stream(self.server, self.keys.items, INGEST_GROUP, "", self.keys.dead_letters)
        self.sources_by_id = {
            self.source_ids[s.name]: s for s in self.config.sources if s.name in self.source_ids
        }

    def is_stored(self, url: str) -> bool:
        try:
            return bool(self.server.sismember(self.keys.stored, url))
        except RedisError as error:
            self.on_lost(error)
            raise

    def gone_not_due(self, url: str) -> bool:
        """A worker has no database: a gone link its feed offers again is fetched again
        (the ingester records its error once; enqueue puts due ones on the frontier)."""
        return False

    def duplicate(self, request: Request) -> None:
        """The duplicate filter turned ``request`` away. If it was a new article offered
        by a source, that source still carries it (SourceSpider's ``also_from``, across
        workers)."""
        meta = request.meta
        if "url" in meta and "article_id" not in meta and "redirect_urls" not in meta:
            self._event("offered", meta.get(RUN), url=meta["url"], source_id=meta["source_id"])

    def record(self, item: ArticleItem) -> None:
        """Handed over by the push pipeline."""
        at = to_iso(self.clock())
        self._send(item_message(item, at=at, generation=self.generation, run=item.run), "items")

    def _event(self, kind: str, run: int | None = None, **values: Any) -> None:
        """Send an event, under ``run``, else enqueue's, else that of the request whose
        callback is running."""
        run = next((r for r in (run, self.run, current_run.get()) if r is not None), None)
        at = to_iso(self.clock())
        self._send(event_message(kind, values, at=at, generation=self.generation, run=run), kind)

    def _send(self, message: str, kind: str) -> None:
        try:
            self.items.add(message)
        except RedisError as error:
            log.critical("cannot hand a message to the ingester: %s", error)
            self.on_lost(error)
            raise
        self.counts[kind] += 1


def _sender(kind: str) -> Callable[..., None]:
    """RemoteRecorder's method for event ``kind``, with WorkerRecorder's signature for it."""
    signature = inspect.signature(getattr(WorkerRecorder, kind))

    def send(self: RemoteRecorder, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        self._event(kind, **{name: bound.arguments[name] for name in EVENTS[kind]})

    send.__signature__ = signature  # type: ignore[attr-defined]
    send.__name__ = send.__qualname__ = kind
    return send


for _kind in EVENTS:
    setattr(RemoteRecorder, _kind, _sender(_kind))

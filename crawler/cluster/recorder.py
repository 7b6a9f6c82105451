"""What a worker's spider and pipelines report to: the pass's Recorder, sent to Redis.

``SourceSpider`` and the pipelines call ``recorder.error(...)``, ``skipped(...)``,
``source_polled(...)``, ``is_stored(...)``, ``seen_in_source(...)`` and ``record(item)``.
On a worker those calls become messages on the item queue, which the ingester replays on
a real ``PassRecorder``; "is this URL stored?" is answered by the ``stored`` set the
ingester keeps. ``enqueue`` uses the same stand-in with the real ``Store``, which is where
the spider reads feed validators and due revisits.
"""

from __future__ import annotations

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
from crawler.cluster.keys import Keys
from crawler.cluster.messages import event_message, item_message
from crawler.cluster.queue import ItemQueue
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
    """The Recorder of a worker (or enqueue), a ``crawler.cluster.messages.WorkerRecorder``:
    findings go to the ingester.

    ``on_lost(error)`` decides what happens when Redis cannot take a message: a worker
    stops at once (see ``crawler.cluster.worker.fail_stop``), so that its requests stay
    unacknowledged and another worker repeats the work; enqueue lets the error propagate.
    """

    server: Redis
    keys: Keys
    config: Config
    source_ids: dict[str, int]
    generation: str
    store: Store | None = None  # enqueue only
    on_lost: Callable[[RedisError], None] = raise_error
    clock: Callable[[], datetime] = utc_now
    counts: Counter[str] = field(default_factory=Counter)
    # A worker writes nothing itself: a message Redis cannot take goes to ``on_lost``.
    failure: str | None = field(default=None, init=False)
    run: int | None = None  # enqueue's run; a worker's events take their request's

    def __post_init__(self) -> None:
        self.queue = ItemQueue(self.server, self.keys)
        self.sources_by_id = {
            self.source_ids[s.name]: s for s in self.config.sources if s.name in self.source_ids
        }

    # -- reported by the spider -----------------------------------------------------

    def error(
        self, stage: str, message: str, *, url: str | None = None, source_id: int | None = None
    ) -> None:
        self._event("error", stage=stage, message=message, url=url, source_id=source_id)

    def article_error(
        self, stage: str, message: str, *, url: str, source_id: int | None, new: bool
    ) -> None:
        self._event(
            "article_error", stage=stage, message=message, url=url, source_id=source_id, new=new
        )

    def skipped(self, source_id: int, url: str, reason: str) -> None:
        self._event("skipped", source_id=source_id, url=url, reason=reason)

    def source_polled(
        self,
        source_id: int,
        status: str,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        self._event(
            "source_polled",
            source_id=source_id,
            status=status,
            error=error,
            etag=etag,
            last_modified=last_modified,
        )

    def is_stored(self, url: str) -> bool:
        try:
            return bool(self.server.sismember(self.keys.stored, url))
        except RedisError as error:
            self.on_lost(error)
            raise

    def seen_in_source(self, url: str, source_id: int) -> None:
        self._event("seen_in_source", url=url, source_id=source_id)

    def link_gone(
        self,
        url: str,
        source_id: int | None,
        status: int,
        message: str,
        final_url: str | None = None,
    ) -> None:
        self._event(
            "link_gone",
            url=url,
            source_id=source_id,
            status=status,
            message=message,
            final_url=final_url,
        )

    def gone_not_due(self, url: str) -> bool:
        """A worker has no database: a gone link its feed offers again is fetched again
        (the ingester records its error once; enqueue puts due ones on the frontier)."""
        return False

    def offered(self, url: str, source_id: int) -> None:
        """Another request of this pass fetches ``url``; ``source_id`` offered it too."""
        self._event("offered", url=url, source_id=source_id)

    def duplicate(self, request: Request) -> None:
        """The duplicate filter turned ``request`` away. If it was a new article offered
        by a source, that source still carries it (SourceSpider's ``also_from``, across
        workers)."""
        meta = request.meta
        if "url" in meta and "article_id" not in meta and "redirect_urls" not in meta:
            self._event("offered", meta.get(RUN), url=meta["url"], source_id=meta["source_id"])

    # -- handed over by the push pipeline ---------------------------------------------

    def record(self, item: ArticleItem) -> None:
        message = item_message(item, at=self.now(), generation=self.generation, run=item.run)
        self._send(message, "items")

    def now(self) -> str:
        return to_iso(self.clock())

    def _event(self, kind: str, run: int | None = None, **values: Any) -> None:
        """Send an event, under ``run``, else enqueue's, else that of the request whose
        callback is running."""
        run = next((r for r in (run, self.run, current_run.get()) if r is not None), None)
        message = event_message(kind, values, at=self.now(), generation=self.generation, run=run)
        self._send(message, kind)

    def _send(self, message: str, kind: str) -> None:
        try:
            self.queue.push(message)
        except RedisError as error:
            log.critical("cannot hand a message to the ingester: %s", error)
            self.on_lost(error)
            raise
        self.counts[kind] += 1

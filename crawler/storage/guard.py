"""A database write that fails stops the pass, with one line.

When SQLite cannot write (a full disk, an I/O error, a failed commit), the open batch
is rolled back: :meth:`PassRecorder.storage_failed` un-counts it and keeps every feed's
validators unsaved, and :func:`stop_pass` logs one line and closes the spider, so the
run is recorded as ``failed`` and the next pass fetches again what was not committed.
The store pipeline calls it for articles; :class:`StorageGuardMiddleware` for the
spider's own writes (source polls, errors, skipped links).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from crawler.storage.store import StorageFailed, describe_failure

FINISH_REASON = "database write failed"  # Scrapy's finish_reason for such a pass


def stop_pass(crawler: Crawler, error: StorageFailed) -> None:
    """Record the failure (one log line) and stop the crawl; once, later failures add
    nothing."""
    spider: Any = crawler.spider
    if spider.context.recorder.storage_failed(error) and crawler.engine is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason=FINISH_REASON))


def as_storage_failure(error: BaseException) -> StorageFailed | None:
    """``error`` as a storage failure of the pass, or None for any other error."""
    if isinstance(error, StorageFailed):
        return error
    if isinstance(error, sqlite3.Error):  # the spider writes only through the recorder
        return StorageFailed(describe_failure(error))
    return None


class StorageGuardMiddleware:
    """A spider middleware: a failed write in a spider callback stops the pass in one
    line instead of a traceback per response."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_exception(
        self, response: object, exception: BaseException
    ) -> Iterable[object] | None:
        failure = as_storage_failure(exception)
        spider: Any = self.crawler.spider
        if failure is None or not hasattr(getattr(spider, "context", None), "recorder"):
            return None
        store = spider.context.recorder.store
        if not isinstance(exception, StorageFailed) and store.batch_started is not None:
            store.abandon_batch(str(failure))
        stop_pass(self.crawler, failure)
        return []

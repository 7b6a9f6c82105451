"""ClusterSpider: SourceSpider on a shared frontier, for ``presswatch worker``.

It parses feeds, sitemaps, section pages and articles exactly as SourceSpider does (it
*is* SourceSpider), with three differences:

- It starts nothing: its requests come from the frontier, where ``presswatch enqueue``
  puts the due feed polls and revisits (built by this same class's ``source_request``
  and ``revisit_request``).
- It keeps no per-pass map of requested URLs: the frontier's duplicate filter, shared by
  every worker, does that job, and tells the ingester when a second source offered an
  article (``RemoteRecorder.offered``).
- A sitemap's recency window is measured from when the sitemap is read, since a worker
  outlives any one pass.
- Its errbacks tell the scheduler when a failed request is handled
  (``crawler.cluster.scheduler.request_finished``), so that its frontier entry is
  acknowledged.

Its recorder is a ``crawler.cluster.messages.RemoteRecorder``: what it reports goes to
the ingester through Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.cluster.frontier import ENTRY, RUN
from crawler.cluster.messages import current_run
from crawler.cluster.scheduler import request_finished
from crawler.config import Source
from crawler.context import PassContext
from crawler.times import to_iso, utc_now
from spiders.sources import SourceSpider


class _Unremembered(dict[str, list[int]]):
    """SourceSpider's ``requested`` map, made forgetful: nothing is ever in it."""

    def __contains__(self, key: object) -> bool:
        return False

    def __setitem__(self, key: str, value: list[int]) -> None:
        pass


class ClusterSpider(SourceSpider):
    name = "cluster"

    def __init__(self, context: PassContext, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        self.requested = _Unremembered()
        self.generation: str = getattr(context.recorder, "generation", "")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Nothing: requests come from the frontier."""
        return
        yield  # an async generator that yields nothing

    def use(self, context: PassContext) -> None:
        """Work under a newer published configuration (called while idle)."""
        self.context, self.recorder = context, context.recorder
        self.generation = getattr(context.recorder, "generation", "")

    def source_named(self, name: str) -> Source:
        """The configured source called ``name`` (requests on the frontier name theirs)."""
        return self.context.config.source(name)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        self.context.started_at = to_iso(utc_now())
        yield from super().parse_sitemap(response)

    def source_failed(self, failure: Failure) -> None:
        self._failed(failure, super().source_failed)

    def article_failed(self, failure: Failure) -> None:
        self._failed(failure, super().article_failed)

    def _failed(self, failure: Failure, handle: Callable[[Failure], None]) -> None:
        """An errback: what it reports belongs to the failed request's run."""
        run = current_run.set(failure.request.meta.get(RUN))
        try:
            handle(failure)
        finally:
            current_run.reset(run)
            self._finished(failure)

    def _finished(self, failure: Failure) -> None:
        entry = failure.request.meta.get(ENTRY)
        self.crawler.signals.send_catch_log(signal=request_finished, entry=entry)

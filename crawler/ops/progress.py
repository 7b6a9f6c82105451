"""A one-line progress display for passes run at a terminal (never under cron)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

if TYPE_CHECKING:
    from rich.status import Status


class ProgressDisplay:
    """Scrapy extension, enabled by ``PRESSWATCH_PROGRESS``: shows sources polled,
    pages fetched, articles stored and errors on stderr, updated a few times a second."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.status: Status | None = None
        self.loop = LoopingCall(self.update)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("PRESSWATCH_PROGRESS"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self) -> None:
        from rich.console import Console  # only at a terminal: a pass under cron never needs it
        from rich.status import Status

        self.status = Status("starting the pass", console=Console(stderr=True))
        self.status.start()
        self.loop.start(0.25)

    def closed(self) -> None:
        if self.loop.running:
            self.loop.stop()
        self.update()
        if self.status is not None:
            self.status.stop()

    def update(self) -> None:
        spider: Any = self.crawler.spider
        counts = spider.context.recorder.counts
        total = len(spider.context.sources)
        fetched = self.crawler.stats.get_value("response_received_count", 0)
        if self.status is not None:
            self.status.update(
                f"sources {counts['sources_polled']}/{total} · fetched {fetched} · "
                f"new {counts['articles_new']} · re-checked {counts['articles_checked']} · "
                f"changed {counts['changes_new']} · errors {counts['errors']}"
            )

"""What every presswatch pipeline shares: access to the pass it runs in."""

from __future__ import annotations

from typing import Any, Self

from scrapy.crawler import Crawler

from crawler.context import PassContext


class PassPipeline:
    """A pipeline that reaches the pass context through the running spider."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def context(self) -> PassContext:
        spider: Any = self.crawler.spider
        return spider.context

"""DiscoverySpider: fetch a site's page, its usual feed paths and its robots.txt, and
keep the feeds and sitemaps that really are ones (``presswatch sources add``).

The spider only fetches; what counts as a feed or a sitemap is decided by the pure
functions in crawler/sources/discovery.py. It writes what it finds into the Findings it is given.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from crawler.fetching.failures import describe_failure
from crawler.sources.discovery import (
    Candidate,
    Findings,
    common_feed_urls,
    declared_feeds,
    feed_candidate,
    is_sitemap,
    robots_sitemaps,
    robots_url,
)

# Ranks order the candidates: the URL itself, declared feeds, common paths, sitemaps.
DECLARED, COMMON, SITEMAPS = 1, 1000, 2000


class DiscoverySpider(scrapy.Spider):
    name = "discover"

    def __init__(self, findings: Findings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.findings = findings

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(
            self.findings.url,
            callback=self.parse_start,
            errback=self.start_failed,
            dont_filter=True,
        )

    def parse_start(self, response: Response) -> Iterator[scrapy.Request]:
        body = self.body(response)
        candidate = feed_candidate(body, response.url, _content_type(response))
        if candidate is None and is_sitemap(body):
            candidate = Candidate(response.url, "sitemap")
        if candidate is not None:
            self.findings.add(0, candidate)
            return
        declared = declared_feeds(body, response.url) if isinstance(response, TextResponse) else []
        yield from self.explore(response.url, declared)

    def start_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        self.findings.problem = describe_failure(failure)
        yield from self.explore(failure.request.url, [])

    def explore(self, url: str, declared: list[tuple[str, str | None]]) -> Iterator[scrapy.Request]:
        """Request the declared feeds, the common feed paths and robots.txt."""
        for rank, (feed_url, title) in enumerate(declared, DECLARED):
            yield self.feed_request(feed_url, rank, title)
        for rank, feed_url in enumerate(common_feed_urls(url), COMMON):
            yield self.feed_request(feed_url, rank, None)
        yield scrapy.Request(robots_url(url), callback=self.parse_robots, errback=self.ignore)

    def feed_request(self, url: str, rank: int, title: str | None) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.check_feed,
            errback=self.ignore,
            cb_kwargs={"rank": rank, "title": title},
        )

    def check_feed(self, response: Response, rank: int, title: str | None) -> None:
        candidate = feed_candidate(response.body, response.url, _content_type(response), title)
        if candidate is not None:
            self.findings.add(rank, candidate)

    def parse_robots(self, response: Response) -> Iterable[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return []
        return [
            scrapy.Request(
                url, callback=self.check_sitemap, errback=self.ignore, cb_kwargs={"rank": rank}
            )
            for rank, url in enumerate(robots_sitemaps(response.text, response.url), SITEMAPS)
        ]

    def check_sitemap(self, response: Response, rank: int) -> None:
        if is_sitemap(self.body(response)):
            self.findings.add(rank, Candidate(response.url, "sitemap"))

    def body(self, response: Response) -> bytes:
        """The response's bytes, uncompressed if it is a gzip file (``sitemap.xml.gz``)."""
        if not response.body.startswith(b"\x1f\x8b"):
            return response.body
        try:
            return gunzip(response.body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        except (OSError, EOFError, ValueError, struct.error):  # not gzip after all, or too big
            return b""

    def ignore(self, failure: Failure) -> None:
        self.logger.info("not a candidate: %s (%s)", failure.request.url, describe_failure(failure))


def _content_type(response: Response) -> str:
    return response.headers.get("Content-Type", b"").decode("latin-1")

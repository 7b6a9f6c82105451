"""Downloader middleware: refuse requests to non-public addresses unless allowed."""

from __future__ import annotations

from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from crawler.urls import host_of, is_private_address


class PrivateAddressMiddleware:
    """Loopback, private and link-local hosts are refused unless
    ``[crawl] allow_private_addresses = true``; redirects pass through here again."""

    def __init__(self, allow: bool) -> None:
        self.allow = allow

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getbool("PRESSWATCH_ALLOW_PRIVATE_ADDRESSES"))

    def process_request(self, request: Request) -> None:
        if not self.allow and is_private_address(host_of(request.url)):
            raise IgnoreRequest(
                f"refused: {host_of(request.url)} is a private address "
                "(set [crawl] allow_private_addresses = true to allow it)")

"""Scrapy's log messages without the item: ``LOG_FORMATTER`` in crawler/settings.py.

An item holds the whole page, and Scrapy's default messages for a dropped or failed item
print it (a page without article text logged its raw HTML). presswatch records and logs
each of these failures itself, once, with the URL and the reason.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class ItemlessLogFormatter(logformatter.LogFormatter):
    """Scrapy's log messages without the item: a dropped page is already recorded (and
    logged once) by presswatch with its URL and reason, and an item holds the page."""

    def dropped(
        self, item: Any, exception: BaseException, response: Any, spider: Any
    ) -> logformatter.LogFormatterResult:
        return {
            "level": logging.DEBUG,
            "msg": "dropped: %(exception)s",
            "args": {"exception": exception},
        }

    def item_error(
        self, item: Any, exception: BaseException, response: Any, spider: Any
    ) -> logformatter.LogFormatterResult:
        return {
            "level": logging.ERROR,
            "msg": "error processing the item of %(url)s",
            "args": {"url": getattr(response, "url", "?")},
        }

    def scraped(self, item: Any, response: Any, spider: Any) -> logformatter.LogFormatterResult:
        return {
            "level": logging.DEBUG,
            "msg": "scraped from %(url)s",
            "args": {"url": getattr(response, "url", "?")},
        }

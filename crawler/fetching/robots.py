"""robots.txt kept across passes: Scrapy's robots.txt middleware, with each site's answer
kept in the database (``robots_txt``) for its HTTP cache lifetime, at most 24 hours (as
RFC 9309 and the major crawlers do), instead of fetched again by every pass.

A site's robots.txt is asked once per pass while nothing is kept for it; an answer the
site could not give (a 5xx, a timeout) is not kept, so the next pass asks again. Without
a pass's database (the discovery crawl of ``presswatch sources add``, a cluster worker)
it is Scrapy's middleware.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

from crawler.fetching.urls import origin
from crawler.storage.store import StorageFailed
from crawler.times import to_iso

log = logging.getLogger("presswatch.robots")

MAX_LIFETIME = timedelta(hours=24)
_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-maxage|max-age)\s*=\s*\"?(\d+)")


def cache_lifetime(headers: Any, now: datetime) -> timedelta:
    """How long a robots.txt answer may be kept: its Cache-Control max-age or Expires,
    at most 24 hours; 24 hours when it says nothing; none for no-store / no-cache."""
    control = _header(headers, b"Cache-Control").lower()
    if "no-store" in control or "no-cache" in control:
        return timedelta(0)
    age = _MAX_AGE.search(control)
    if age:
        return min(timedelta(seconds=int(age[1])), MAX_LIFETIME)
    expires = _header(headers, b"Expires")
    if expires:
        try:
            until = parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            return timedelta(0)  # an invalid Expires means already expired (RFC 9111)
        return max(min(until.astimezone(UTC) - now, MAX_LIFETIME), timedelta(0))
    return MAX_LIFETIME


def _header(headers: Any, name: bytes) -> str:
    value = headers.get(name) or b""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


class CachedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Answers from the kept robots.txt of a site while it is fresh."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        recorder = self._recorder()
        if netloc not in self._parsers and recorder is not None:
            body = recorder.store.cached_robots_txt(origin(request.url), recorder.now())
            if body is not None:
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, body)
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        recorder = self._recorder()
        if recorder is not None and response.status < 500:
            self._keep(recorder, origin(request.url), response)
        await super()._parse_robots(response, netloc, request)

    def _keep(self, recorder: Any, origin: str, response: Response) -> None:
        now = recorder.clock()
        lifetime = cache_lifetime(response.headers, now)
        if not lifetime:
            return
        try:
            recorder.store.keep_robots_txt(
                origin, response.status, response.body, to_iso(now), to_iso(now + lifetime)
            )
        except StorageFailed as error:  # the open batch is lost: the pass stops
            recorder.storage_failed(error)
        except sqlite3.Error as error:  # not kept: the next pass asks the site again
            log.warning("%s/robots.txt: not kept for the next pass: %s", origin, error)

    def _recorder(self) -> Any:
        """The pass's recorder, or None outside a pass or without a database (a cluster
        worker's recorder has none: it asks each site once per run)."""
        context = getattr(self.crawler.spider, "context", None)
        recorder = getattr(context, "recorder", None)
        return recorder if getattr(recorder, "store", None) is not None else None

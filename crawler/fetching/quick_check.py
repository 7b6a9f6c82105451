"""The quick check of a pass: which sources and due re-checks answer 304 Not Modified?
Asked before a pass starts Scrapy, with conditional GETs from the standard library.

Before a pass starts Scrapy, it asks here every source and every due re-check that can
be asked conditionally (a feed, sitemap or section page, or an article, with a stored
ETag or Last-Modified). A 304 Not Modified, and a re-check's 404 or 410 (the article is
gone), are recorded as a full pass records them; what answered anything else, or was not
asked, is left to the crawl, which asks it again. When everything was answered so (an
idle pass, or a re-check of articles none of which changed),
the pass ends without starting Scrapy and Twisted, whose imports and per-request
machinery are most of such a pass's CPU. Any doubt (a 200, a redirect, an error, a
timeout, a proxy, an address the policy refuses, a robots.txt not kept, stale or
forbidding the URL) leaves the request to the crawl, so the quick check never changes
what a pass records.

It keeps the full pass's rules: the same request headers (Scrapy's defaults, the
``[crawl] user_agent``, the validators), the address policy of
:mod:`crawler.fetching.urls` (on the very addresses it connects to), robots.txt as
:mod:`crawler.fetching.robots` keeps it in the database, the ``[crawl] timeout``, at
most ``[crawl] per_domain_concurrency`` requests at once per site, each waiting for the
answer to the one before (so never faster than AutoThrottle aiming at that limit), at
most ``[crawl] concurrency`` in all, no redirects followed, no proxy used (a request
that would go through a proxy is the crawl's).

A site whose answers are mostly not 304 (it changed, or ignores the validators) is asked
twice for those; the check stops asking a site when more than one answer in ten (and
more than one in all) was not a 304, and at once at an error, a 429 or a 5xx: the
crawl then asks the rest, with its retries and Retry-After.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.client import (
    HTTPConnection,
    HTTPException,
    HTTPResponse,
    HTTPSConnection,
)
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

from w3lib.url import safe_url_string

from crawler.config import CrawlConfig, Source
from crawler.fetching.urls import (
    all_addresses,
    environment_proxy,
    host_of,
    is_ip,
    origin,
    refused_address,
)
from crawler.items import GONE

FULL_PASS_ENV = "PRESSWATCH_FULL_PASS"
"""Set to anything but ``""`` or ``0``: every pass is a full (Scrapy) pass."""

# What a full pass sends with a source's request besides the User-Agent and the
# validators: Scrapy's DEFAULT_REQUEST_HEADERS and its HTTP compression middleware's
# Accept-Encoding (tests/test_quick_check.py compares them with what a full pass sends).
SCRAPY_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate, br, zstd",
}


@dataclass(frozen=True, eq=False)
class Poll:
    """A conditional GET: the URL asked, its stored validators, and what it is for: a
    source's poll (``source_id``), or a due article's re-check (``article``, its row)."""

    url: str
    etag: str | None
    last_modified: str | None
    source_id: int | None = None
    article: Mapping[str, Any] | None = None

    def headers(self, user_agent: str) -> dict[str, str]:
        headers = {**SCRAPY_HEADERS, "User-Agent": user_agent}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class Answer:
    """An answer a pass records as it is, with the validators it carried: a 304 Not
    Modified, or a re-check's 404 or 410 (the article is gone)."""

    poll: Poll
    status: int
    etag: str | None
    last_modified: str | None


def enabled() -> bool:
    """False when the environment asks for full passes only (``PRESSWATCH_FULL_PASS``)."""
    return os.environ.get(FULL_PASS_ENV, "") in ("", "0")


def source_poll(
    source: Source, source_id: int, etag: str | None, last_modified: str | None
) -> Poll | None:
    """The conditional poll of a source, or None when it cannot be asked so: a watched
    page (fetched as an article), or no ETag or Last-Modified stored (a plain GET)."""
    if source.kind == "url" or not (etag or last_modified):
        return None
    return Poll(safe_url_string(source.url), etag, last_modified, source_id=source_id)


def revisit_poll(row: Mapping[str, Any]) -> Poll | None:
    """The conditional re-check of a due article (a row of ``Store.due_articles``), or
    None when it has no validators stored."""
    if not (row["etag"] or row["last_modified"]):
        return None
    return Poll(safe_url_string(row["url"]), row["etag"], row["last_modified"], article=row)


def ask(
    polls: Sequence[Poll], crawl: CrawlConfig, kept_robots: Callable[[str], bytes | None]
) -> list[Answer]:
    """The answers to record as they are (:class:`Answer`), asked under every rule of a
    full pass; the other polls were not asked or answered otherwise.
    ``kept_robots(origin)`` is the robots.txt the database keeps for an origin while it
    is fresh (None when it keeps none or it expired)."""
    robots = _Robots(kept_robots) if crawl.obey_robots else None
    proxies = getproxies()
    sites: dict[str, _Site] = {}
    for poll in polls:
        if _may_ask(poll.url, crawl, robots, proxies):
            host = host_of(poll.url)
            sites.setdefault(host, _Site(host)).polls.append(poll)
    return _ask_all(list(sites.values()), crawl)


class _Robots:
    """The kept robots.txt of each origin, each read once, as Scrapy's default parser
    reads it (Protego, the body decoded as UTF-8)."""

    def __init__(self, kept: Callable[[str], bytes | None]) -> None:
        self.kept = kept
        self.parsed: dict[str, Any] = {}  # origin -> its Protego rules, or None

    def allow(self, url: str, user_agent: str) -> bool | None:
        """May ``user_agent`` fetch ``url``? None when no robots.txt is kept for it."""
        key = origin(url)
        if key not in self.parsed:
            self.parsed[key] = _parsed(self.kept(key))
        rules = self.parsed[key]
        return None if rules is None else rules.can_fetch(url, user_agent)


def _parsed(body: bytes | None) -> Any:
    if body is None:
        return None
    from protego import Protego

    return Protego.parse(body.decode("utf-8-sig", errors="ignore"))


def _may_ask(url: str, crawl: CrawlConfig, robots: _Robots | None, proxies: dict[str, str]) -> bool:
    """Could the quick check ask ``url`` as a full pass would, before any network?"""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not host_of(url) or "@" in parts.netloc:
        return False
    if environment_proxy(url, proxies):
        return False  # a full pass goes through the proxy: only it asks the same way
    # no robots.txt kept (to fetch), or one that refuses (a refusal to record): the crawl's
    return robots is None or bool(robots.allow(url, crawl.user_agent))


@dataclass
class _Site:
    """One site's polls, taken in turn by its lanes (up to ``per_domain_concurrency``
    connections), and what they answered so far."""

    host: str
    polls: list[Poll] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    asked: int = 0
    others: int = 0  # answers that were not 304
    done: bool = False  # nothing more to ask here
    addresses: tuple[str, ...] | None = None  # judged by the policy (() for an IP literal)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_poll(self) -> Poll | None:
        with self.lock:
            if self.done or self.asked >= len(self.polls):
                return None
            self.asked += 1
            return self.polls[self.asked - 1]

    def answered(self, answer: Answer | None, stop_site: bool) -> None:
        with self.lock:
            if answer is not None:
                self.answers.append(answer)
                return
            self.others += 1
            # more than one answer in ten, and more than one, asked twice: the crawl's now
            if stop_site or self.others > 1 + self.asked // 10:
                self.done = True


def _ask_all(sites: list[_Site], crawl: CrawlConfig) -> list[Answer]:
    """Ask every site's polls, in lanes of at most ``per_domain_concurrency`` per site
    and ``concurrency`` in all, in threads that never outlive the process. When no
    answer comes for twice the timeout (a name that does not resolve, a site that sends
    its answer a byte at a time), what is still unanswered is left to the crawl."""
    if not sites:
        return []
    lanes: queue.SimpleQueue[_Site] = queue.SimpleQueue()
    count = 0
    for site in sites:
        for _ in range(min(crawl.per_domain_concurrency, len(site.polls))):
            lanes.put(site)
            count += 1
    events: queue.SimpleQueue[bool] = queue.SimpleQueue()  # True: a lane ended
    stop = threading.Event()
    for _ in range(min(crawl.concurrency, count)):
        threading.Thread(target=_worker, args=(lanes, events, stop, crawl), daemon=True).start()
    ended = 0
    try:
        while ended < count:
            ended += events.get(timeout=2 * crawl.timeout)
    except queue.Empty:
        pass  # what was answered so far still counts; the rest is the crawl's
    finally:
        stop.set()
    answers = []
    for site in sites:
        with site.lock:
            answers += site.answers
    return answers


def _worker(
    lanes: queue.SimpleQueue[_Site],
    events: queue.SimpleQueue[bool],
    stop: threading.Event,
    crawl: CrawlConfig,
) -> None:
    while not stop.is_set():
        try:
            site = lanes.get_nowait()
        except queue.Empty:
            return
        try:
            _lane(site, crawl, stop, events)
        except Exception:  # anything unexpected: the crawl will say what it is
            site.done = True
        finally:
            events.put(True)


def _lane(
    site: _Site, crawl: CrawlConfig, stop: threading.Event, events: queue.SimpleQueue[bool]
) -> None:
    """Ask the site's polls one after the other on one connection per origin (kept open
    between them, as Scrapy keeps its own), on addresses the policy allows."""
    addresses = _judged_addresses(site, crawl)
    if addresses is None:
        return
    connections: dict[str, HTTPConnection] = {}
    try:
        while not stop.is_set() and (poll := site.next_poll()) is not None:
            connection = _connection(connections, poll.url, crawl, addresses)
            status, answer = _ask(poll, crawl, connection)
            site.answered(answer, stop_site=status is None or status == 429 or status >= 500)
            events.put(False)  # an answer: the check is getting on
    finally:
        for connection in connections.values():
            connection.close()


def _judged_addresses(site: _Site, crawl: CrawlConfig) -> tuple[str, ...] | None:
    """The addresses the site's lanes connect to (() for any, when private addresses are
    allowed or the host is an IP literal); None when the policy refuses the site or its
    name does not resolve (the crawl records why)."""
    if crawl.allow_private_addresses:
        return ()
    with site.lock:
        if site.addresses is None and not site.done:
            host = site.host
            try:
                addresses = () if is_ip(host) else all_addresses(host)
            except OSError:
                addresses = None
            if (
                addresses is None
                or refused_address(host, addresses)
                or not (addresses or is_ip(host))
            ):
                site.done = True
            else:
                site.addresses = addresses
        return None if site.done else site.addresses


def _connection(
    open_ones: dict[str, HTTPConnection], url: str, crawl: CrawlConfig, addresses: tuple[str, ...]
) -> HTTPConnection:
    """The connection to ``url``'s origin: to one of ``addresses`` when the policy checked
    them (so a name re-pointed since cannot slip through), else to the host as named."""
    key = origin(url)
    if key not in open_ones:
        parts = urlsplit(url)
        kind = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        open_ones[key] = connection = kind(parts.netloc, timeout=crawl.timeout)
        if addresses:
            connection._create_connection = _connect_to(addresses)  # type: ignore[attr-defined]
    return open_ones[key]


def _ask(
    poll: Poll, crawl: CrawlConfig, connection: HTTPConnection
) -> tuple[int | None, Answer | None]:
    """The answer's status (None when there was none) and the Answer to record, if it
    is one. No body is read but a 304's (empty): the connection is closed instead."""
    try:
        response = _send(poll, crawl, connection)
        status = response.status
        if status != 304:
            connection.close()
            if not (status in GONE and poll.article is not None):
                return status, None
        else:
            response.read()  # nothing, but read: the connection can take the next poll
    except (OSError, ValueError, HTTPException):
        connection.close()
        return None, None  # refused, reset, timed out, bad TLS, not HTTP: the crawl says
    etag, last_modified = response.getheader("ETag"), response.getheader("Last-Modified")
    return status, Answer(poll, status, etag, last_modified)


def _send(poll: Poll, crawl: CrawlConfig, connection: HTTPConnection) -> HTTPResponse:
    """GET the poll's URL; on a kept-open connection that the site closed meanwhile,
    once more on a new one."""
    parts = urlsplit(poll.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    reused = connection.sock is not None
    try:
        connection.request("GET", target, headers=poll.headers(crawl.user_agent))
        return connection.getresponse()
    except ConnectionError:  # http.client's RemoteDisconnected is one too
        if not reused:
            raise
    connection.close()
    connection.request("GET", target, headers=poll.headers(crawl.user_agent))
    return connection.getresponse()


def _connect_to(addresses: tuple[str, ...]) -> Callable[..., socket.socket]:
    """``socket.create_connection`` to each of ``addresses`` in turn, whatever host the
    connection names (it still sends that name as Host, and for TLS as SNI)."""

    def connect(address: tuple[str, int], timeout: Any = None, source: Any = None) -> socket.socket:
        problem: OSError = OSError("no address to connect to")
        for candidate in addresses:
            try:
                return socket.create_connection((candidate, address[1]), timeout, source)
            except OSError as error:
                problem = error
        raise problem

    return connect

"""The quick check of an idle pass: has any source changed? Asked before a pass starts
Scrapy, with conditional GETs from the standard library.

When nothing is due for a re-check and every source to poll can be asked conditionally
(a feed, sitemap or section page with a stored ETag or Last-Modified), the pass asks each
one here first. When every answer is 304 Not Modified, nothing new can come of the pass:
it records each source as not modified and ends without starting Scrapy and Twisted,
whose imports alone are most of an idle pass's CPU. Any other answer or any doubt (a
200, a redirect, an error, a timeout, a proxy, an address the policy refuses, a
robots.txt not kept, stale or forbidding the URL) means "ask Scrapy": the full pass
runs and asks again, so the quick check never changes what a pass records.

It keeps the full pass's rules: the same request headers (Scrapy's defaults, the
``[crawl] user_agent``, the validators), the address policy of
:mod:`crawler.fetching.urls` (on the very addresses it connects to), robots.txt as
:mod:`crawler.fetching.robots` keeps it in the database, the ``[crawl] timeout``, one
request at a time per site and at most ``[crawl] concurrency`` sites at a time, no
redirects followed, no proxy used (a source behind a proxy takes the full pass).
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPSConnection
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


@dataclass(frozen=True)
class Poll:
    """A source's conditional poll: its id, the URL asked and its stored validators."""

    source_id: int
    url: str
    etag: str | None
    last_modified: str | None

    def headers(self, user_agent: str) -> dict[str, str]:
        headers = {**SCRAPY_HEADERS, "User-Agent": user_agent}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def enabled() -> bool:
    """False when the environment asks for full passes only (``PRESSWATCH_FULL_PASS``)."""
    return os.environ.get(FULL_PASS_ENV, "") in ("", "0")


def conditional_polls(
    sources: Iterable[Source],
    source_ids: Mapping[str, int],
    validators: Callable[[int], tuple[str | None, str | None]],
) -> list[Poll] | None:
    """The conditional poll of each source, or None when one cannot be asked so: a
    watched page (fetched as an article), or a source with neither ETag nor
    Last-Modified stored (a plain GET, answered in full)."""
    polls = []
    for source in sources:
        if source.kind == "url":
            return None
        source_id = source_ids[source.name]
        etag, last_modified = validators(source_id)
        if not etag and not last_modified:
            return None
        polls.append(Poll(source_id, safe_url_string(source.url), etag, last_modified))
    return polls


def nothing_changed(
    polls: Sequence[Poll], crawl: CrawlConfig, kept_robots: Callable[[str], bytes | None]
) -> bool:
    """True when every poll answered 304 Not Modified under every rule of a full pass;
    False at the first doubt. ``kept_robots(origin)`` is the robots.txt the database
    keeps for an origin while it is fresh (None when it keeps none or it expired)."""
    if not all(_may_ask(poll.url, crawl, kept_robots) for poll in polls):
        return False
    sites: dict[str, list[Poll]] = {}
    for poll in polls:
        sites.setdefault(host_of(poll.url), []).append(poll)
    return _ask_all(list(sites.values()), crawl)


def _may_ask(url: str, crawl: CrawlConfig, kept_robots: Callable[[str], bytes | None]) -> bool:
    """Could the quick check ask ``url`` as a full pass would, before any network?"""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not host_of(url) or "@" in parts.netloc:
        return False
    if environment_proxy(url, getproxies()):
        return False  # a full pass goes through the proxy: only it asks the same way
    if crawl.obey_robots:
        body = kept_robots(origin(url))
        if body is None or not robots_allow(body, url, crawl.user_agent):
            return False  # robots.txt to fetch, or a refusal to record: the full pass
    return True


def robots_allow(body: bytes, url: str, user_agent: str) -> bool:
    """Does the robots.txt ``body`` let ``user_agent`` fetch ``url``? Read as Scrapy's
    default robots.txt parser reads it (Protego, the body decoded as UTF-8)."""
    from protego import Protego

    return Protego.parse(body.decode("utf-8-sig", errors="ignore")).can_fetch(url, user_agent)


def _ask_all(sites: list[list[Poll]], crawl: CrawlConfig) -> bool:
    """Ask each site's polls in turn, up to ``[crawl] concurrency`` sites at a time, in
    threads that never outlive the process; False at the first answer other than 304,
    or when the answers are not all in within the timeout."""
    if not sites:
        return True
    work: queue.SimpleQueue[list[Poll]] = queue.SimpleQueue()
    for site in sites:
        work.put(site)
    answers: queue.SimpleQueue[bool] = queue.SimpleQueue()
    stop = threading.Event()
    for _ in range(min(crawl.concurrency, len(sites))):
        threading.Thread(target=_worker, args=(work, answers, stop, crawl), daemon=True).start()
    # DNS, then each request of the longest site's polls, each within the timeout.
    deadline = time.monotonic() + crawl.timeout * (1 + max(map(len, sites)))
    try:
        for _ in sites:
            if not answers.get(timeout=max(deadline - time.monotonic(), 0)):
                return False
    except queue.Empty:
        return False
    finally:
        stop.set()
    return True


def _worker(
    work: queue.SimpleQueue[list[Poll]],
    answers: queue.SimpleQueue[bool],
    stop: threading.Event,
    crawl: CrawlConfig,
) -> None:
    while not stop.is_set():
        try:
            site = work.get_nowait()
        except queue.Empty:
            return
        try:
            answers.put(_site_unchanged(site, crawl, stop))
        except Exception:  # anything unexpected: the full pass will say what it is
            answers.put(False)


def _site_unchanged(polls: list[Poll], crawl: CrawlConfig, stop: threading.Event) -> bool:
    """One site's polls, one at a time, on addresses the policy allows, over one
    connection per origin (kept open between them, as Scrapy keeps its own)."""
    host = host_of(polls[0].url)
    addresses: tuple[str, ...] = ()
    if not crawl.allow_private_addresses:
        try:
            addresses = () if is_ip(host) else all_addresses(host)
        except OSError:
            return False  # the full pass records the DNS failure
        if refused_address(host, addresses) or not (addresses or is_ip(host)):
            return False  # the full pass records the refusal
    connections: dict[str, HTTPConnection] = {}
    try:
        return all(
            not stop.is_set()
            and _not_modified(poll, crawl, _connection(connections, poll.url, crawl, addresses))
            for poll in polls
        )
    finally:
        for connection in connections.values():
            connection.close()


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


def _not_modified(poll: Poll, crawl: CrawlConfig, connection: HTTPConnection) -> bool:
    """Does ``poll`` answer 304? A 200's body is never read."""
    parts = urlsplit(poll.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers=poll.headers(crawl.user_agent))
        response = connection.getresponse()
        if response.status != 304:
            return False
        response.read()  # nothing, but read: the connection can take the next poll
    except (OSError, ValueError, HTTPException):
        return False  # refused, reset, timed out, bad TLS, not HTTP: the full pass says
    return True


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

"""SourceSpider: poll each source, fetch new articles, re-check stored ones.

Sources are feeds (RSS/Atom), sitemaps (news sitemaps and sitemap indexes), pages (a
section page whose matching links are articles) and watched URLs (one page tracked as
an article). The spider only fetches and decides what to fetch; it yields one
ArticleItem per article fetch, and extraction, matching and storage happen in the item
pipelines.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler import items
from crawler.config import Source
from crawler.context import PassContext
from crawler.fetching.failures import describe_failure
from crawler.fetching.urls import canonical_url, link_allowed
from crawler.items import GONE, ArticleItem, FeedEntry
from crawler.sources.feeds import FeedLink, parse_feed
from crawler.sources.pages import article_links
from crawler.sources.sitemaps import SitemapEntry, SitemapError, newest, parse_sitemap
from crawler.storage.store import Store
from crawler.times import from_iso

# How the spider reads a poll of each kind of source in crawler.config.SOURCE_KINDS (a
# watched ``url`` is requested as an article). A new kind: its keys in the config schema,
# its parser in crawler/sources/, its callback here.
POLL_CALLBACKS = {"feed": "parse_feed", "sitemap": "parse_sitemap", "page": "parse_page"}


class SourceSpider(scrapy.Spider):
    name = "sources"

    def __init__(self, context: PassContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context = context
        self.recorder = context.recorder
        # New article URLs requested in this pass -> other sources that offered them too.
        self.requested: dict[str, list[int]] = {}
        # A sitemap source's poll (its "sitemap_poll" meta) -> child sitemaps requested.
        self.sitemaps: dict[str, int] = {}
        self.sitemap_cuts: set[tuple[str, str]] = set()  # (poll, limit) recorded

    def database(self) -> Store:
        """The database the pass reads its due re-checks and feeds' validators from (a
        method: Scrapy's request serialization reads every property of the spider)."""
        store = self.recorder.store
        if store is None:  # a cluster worker: its requests come built from the frontier
            raise RuntimeError("this pass's recorder reads no database")
        return store

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.context.sources:
            request = self.source_request(source)
            if request is not None:
                yield request
        if self.context.recheck != "none":
            due_by = self.context.started_at if self.context.recheck == "due" else None
            for row in self.database().due_articles(due_by):
                if row["id"] not in self.context.rechecked:  # by the quick check
                    yield self.revisit_request(row)
            for row in self.database().due_gone_links(due_by):
                if row["url"] not in self.requested:  # not offered by a feed already
                    yield self.new_article_request(row["url"], row["source_id"], FeedEntry())

    # -- sources ------------------------------------------------------------------------

    def source_request(self, source: Source) -> scrapy.Request | None:
        """The request that polls ``source``; for a watched URL, the page itself."""
        source_id = self.context.source_id(source)
        if source.kind == "url":
            return self.watched_page_request(source, source_id)
        etag, last_modified = self.database().source_validators(source_id)
        return scrapy.Request(
            source.url,
            callback=getattr(self, POLL_CALLBACKS[source.kind]),
            errback=self.source_failed,
            dont_filter=True,
            headers=_conditional(etag, last_modified),
            meta={"source": source, "source_id": source_id, "handle_httpstatus_list": [304]},
        )

    def source_failed(self, failure: Failure) -> None:
        request = failure.request
        message = describe_failure(failure)
        source_id = request.meta["source_id"]
        self.recorder.error("fetch", message, url=request.url, source_id=source_id)
        if not request.meta.get("child"):
            self.recorder.source_polled(source_id, "failed", message)

    def _not_modified(self, response: Response) -> bool:
        if response.status != 304:
            return False
        if not response.meta.get("child"):
            self.recorder.source_polled(response.meta["source_id"], "not modified")
        return True

    def _follow(
        self, links: Iterable[FeedLink], source: Source, source_id: int
    ) -> Iterator[scrapy.Request]:
        for link in links:
            request = self.article_request(link, source, source_id)
            if request is not None:
                yield request

    # -- feeds ------------------------------------------------------------------------

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        """A feed's newest entries become article requests. It is parsed in a thread, so
        the crawl (and a stop signal) never waits on a large feed."""
        source, source_id = response.meta["source"], response.meta["source_id"]
        if self._not_modified(response):
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        try:
            feed = await maybe_deferred_to_future(
                deferToThread(
                    parse_feed, response.body, response.url, content_type, source.max_feed_entries
                )
            )
        except Exception as error:  # whatever a parser raises costs this source only
            self._unreadable(response, "feed", f"unreadable feed: {_reason(error)}")
            return
        for entry in feed.skipped:  # no link, or not a web address: nothing to fetch
            self.recorder.skipped(source_id, entry.url, entry.reason)
        if feed.unreadable:
            self._unreadable(response, "feed", f"unreadable feed: {feed.problem}")
            return
        if feed.problem:
            message = f"malformed feed, {len(feed.links)} entries used: {feed.problem}"
            self.recorder.error("feed", message, url=response.url, source_id=source_id)
        if feed.cut:
            self.recorder.error(
                "feed",
                _cut_message(feed.entries, source.max_feed_entries),
                url=response.url,
                source_id=source_id,
            )
        problem = feed.problem or (
            _cut_message(feed.entries, source.max_feed_entries) if feed.cut else None
        )
        self.recorder.source_polled(
            source_id, "partial" if problem else "ok", problem, *_validators(response)
        )
        for request in self._follow(feed.links, source, source_id):
            yield request

    def _unreadable(self, response: Response, stage: str, message: str) -> None:
        """A source document that could not be read: one error row; a top-level one also
        makes the source's last poll failed."""
        source_id = response.meta["source_id"]
        self.recorder.error(stage, message, url=response.url, source_id=source_id)
        if not response.meta.get("child"):
            self.recorder.source_polled(source_id, "failed", message)

    # -- sitemaps -----------------------------------------------------------------------

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """A sitemap index leads to its recent child sitemaps (at most ``max_sitemaps``
        per pass, ``max_sitemap_depth`` levels down); a sitemap to its recent articles
        (the newest ``max_feed_entries``). Entries older than the source's ``max_age``
        are left alone. Every cut and every XML error recovered from is recorded."""
        meta = response.meta
        source, source_id = meta["source"], meta["source_id"]
        if self._not_modified(response):
            return
        try:
            sitemap = parse_sitemap(response.body, self.context.config.crawl.max_page_size)
        except Exception as error:  # whatever a parser raises costs this source only
            self._unreadable(response, "sitemap", f"unreadable sitemap: {_reason(error)}")
            return
        if sitemap.problem:
            message = f"malformed sitemap, {len(sitemap.entries)} entries used: {sitemap.problem}"
            self.recorder.error("sitemap", message, url=response.url, source_id=source_id)
        if not meta.get("child"):
            self.recorder.source_polled(
                source_id,
                "partial" if sitemap.problem else "ok",
                sitemap.problem,
                *_validators(response),
            )
        recent = sitemap.newer_than(from_iso(self.context.started_at) - source.max_age)
        if not sitemap.is_index:
            kept = newest(recent, source.max_feed_entries)
            if len(kept) < len(recent):
                self.recorder.error(
                    "sitemap",
                    _cut_message(len(recent), source.max_feed_entries),
                    url=response.url,
                    source_id=source_id,
                )
            yield from self._follow((FeedLink(e.url, e.entry) for e in kept), source, source_id)
            return
        yield from self._child_sitemaps(response, recent)

    def _child_sitemaps(
        self, response: Response, recent: list[SitemapEntry]
    ) -> Iterator[scrapy.Request]:
        """The child sitemaps of an index, within the source's depth and count limits.
        The count is per poll of the source (the poll's id travels in the children's
        meta, so it holds on a cluster worker that outlives passes too)."""
        meta = response.meta
        source, source_id = meta["source"], meta["source_id"]
        poll = meta.get("sitemap_poll") or f"{source_id}:{response.url}:{time.monotonic()}"
        children = [e for e in recent if link_allowed(e.url, source.url, source.allowed_domains)]
        depth = meta.get("sitemap_depth", 0) + 1
        if children and depth > source.max_sitemap_depth:
            self._sitemap_cut(
                poll,
                "depth",
                response,
                (
                    f"sitemap index nested too deeply: its {len(children)} child sitemaps (at "
                    f"depth {depth}) and any like them not fetched ([[sources]] "
                    f"max_sitemap_depth = {source.max_sitemap_depth})"
                ),
            )
            return
        room = max(source.max_sitemaps - self.sitemaps.get(poll, 0), 0)
        if len(children) > room:
            self._sitemap_cut(
                poll,
                "count",
                response,
                (
                    f"too many sitemaps: {len(children) - room} of its {len(children)} child "
                    f"sitemaps and any after them not fetched ([[sources]] max_sitemaps = "
                    f"{source.max_sitemaps} per pass)"
                ),
            )
            children = children[:room]
        self.sitemaps[poll] = self.sitemaps.get(poll, 0) + len(children)
        for entry in children:
            yield scrapy.Request(
                entry.url,
                callback=self.parse_sitemap,
                errback=self.source_failed,
                meta={
                    **_source_meta(meta),
                    "child": True,
                    "sitemap_depth": depth,
                    "sitemap_poll": poll,
                },
            )

    def _sitemap_cut(self, poll: str, limit: str, response: Response, message: str) -> None:
        """Record a sitemap limit reached, once per limit and poll of the source, on the
        first index it cut."""
        if (poll, limit) not in self.sitemap_cuts:
            self.sitemap_cuts.add((poll, limit))
            self.recorder.error(
                "sitemap", message, url=response.url, source_id=response.meta["source_id"]
            )

    # -- section pages and watched pages ---------------------------------------------------

    def parse_page(self, response: Response) -> Iterator[scrapy.Request]:
        source, source_id = response.meta["source"], response.meta["source_id"]
        if self._not_modified(response):
            return
        if not isinstance(response, TextResponse):
            message = "not an HTML page"
            self.recorder.error("page", message, url=response.url, source_id=source_id)
            self.recorder.source_polled(source_id, "failed", message)
            return
        self.recorder.source_polled(source_id, "ok", None, *_validators(response))
        links = article_links(response.text, response.url, source.follow, source.follow_css)
        yield from self._follow(links, source, source_id)

    def watched_page_request(self, source: Source, source_id: int) -> scrapy.Request | None:
        """A watched URL is an article of its own, re-checked like any other."""
        self.recorder.source_polled(source_id, "ok")
        return self.article_request(FeedLink(source.url, FeedEntry()), source, source_id)

    # -- articles -----------------------------------------------------------------------

    def article_request(
        self, link: FeedLink, source: Source, source_id: int
    ) -> scrapy.Request | None:
        url = canonical_url(link.url)
        if not link_allowed(url, source.url, source.allowed_domains):
            self.recorder.skipped(source_id, url, "off-site link: not on the source's domain")
            return None
        if url in self.requested:  # offered by another source earlier in this pass
            self.requested[url].append(source_id)  # read when the article is stored
            if self.recorder.is_stored(url):  # stored already: record the offer now
                self.recorder.seen_in_source(url, source_id)
            return None
        if self.recorder.is_stored(url):
            self.recorder.seen_in_source(url, source_id)
            return None
        if self.recorder.gone_not_due(url):  # answered 404/410: tried again when due
            return None
        return self.new_article_request(url, source_id, link.entry)

    def new_article_request(
        self, url: str, source_id: int | None, entry: FeedEntry
    ) -> scrapy.Request:
        self.requested[url] = also_from = []
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={"url": url, "source_id": source_id, "entry": entry, "also_from": also_from},
        )

    def revisit_request(self, row: dict[str, Any]) -> scrapy.Request:
        return scrapy.Request(
            row["url"],
            callback=self.parse_article,
            errback=self.article_failed,
            headers=_conditional(row["etag"], row["last_modified"]),
            dont_filter=True,
            meta={
                "url": row["url"],
                "source_id": row["source_id"],
                "article_id": row["id"],
                "body_hash": row["body_hash"],
                "last_changed_at": row["last_changed_at"],
                "stored_status": row["status"],
                "handle_httpstatus_list": [304, *GONE],
            },
        )

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        meta = response.meta
        item = ArticleItem(
            url=meta["url"],
            source_id=meta["source_id"],
            article_id=meta.get("article_id"),
            status=response.status,
            entry=meta.get("entry") or FeedEntry(),
            last_changed_at=meta.get("last_changed_at"),
            stored_status=meta.get("stored_status"),
            also_from=meta.get("also_from", []),
        )
        item.etag, item.last_modified = _validators(response)
        final_url = canonical_url(response.url)
        if response.status == 304:
            item.outcome = items.UNCHANGED
        elif response.status in GONE:
            item.outcome = items.REMOVED
        elif item.article_id is not None and final_url != item.url:
            item.outcome, item.redirect_url = items.REDIRECTED, final_url
        elif not isinstance(response, TextResponse):
            content_type = response.headers.get("Content-Type", b"?").decode("latin-1")
            self.recorder.article_error(
                "fetch",
                f"not an HTML page (Content-Type: {content_type})",
                url=item.url,
                source_id=item.source_id,
                new=item.article_id is None,
            )
            return
        else:
            item.body_hash = hashlib.sha1(response.body).hexdigest()
            item.body_sha256 = hashlib.sha256(response.body).hexdigest()
            item.headers = _headers(response)
            if item.article_id is not None and item.body_hash == meta.get("body_hash"):
                item.outcome = items.UNCHANGED
            else:
                item.body, item.encoding = response.body, response.encoding
        yield item

    def article_failed(self, failure: Failure) -> None:
        """Record the failure. A new article that failed by chance keeps its feed from
        being cached, so the next pass tries it again; one refused by policy (robots.txt,
        a private address) would only be refused again, so it does not."""
        request = failure.request
        message = describe_failure(failure)
        if self._went_away(failure, message):
            return
        refused = isinstance(failure.value, IgnoreRequest) and message.startswith("refused")
        self.recorder.article_error(
            "fetch",
            message,
            url=request.url,
            source_id=request.meta.get("source_id"),
            new="article_id" not in request.meta and not refused,
        )

    def _went_away(self, failure: Failure, message: str) -> bool:
        """A new link that answers 404/410 is remembered as gone (the gone_links table)
        rather than fetched again every pass; True when it was."""
        request = failure.request
        if "article_id" in request.meta or not failure.check(HttpError):
            return False
        status = failure.value.response.status
        if status not in GONE:
            return False
        self.recorder.link_gone(
            request.meta["url"], request.meta.get("source_id"), status, message, request.url
        )
        return True


def _reason(error: Exception) -> str:
    """One line on why a parser gave up: its own words for a document it rejected, the
    exception's name too for anything it did not expect."""
    message = " ".join(str(error).split()) or "no details"
    return message if isinstance(error, SitemapError) else f"{type(error).__name__}: {message}"


def _cut_message(entries: int, most: int) -> str:
    return f"{entries} entries, only the newest {most} used ([[sources]] max_feed_entries = {most})"


def _source_meta(meta: dict[str, Any]) -> dict[str, Any]:
    return {"source": meta["source"], "source_id": meta["source_id"]}


def _conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _validators(response: Response) -> tuple[str | None, str | None]:
    def header(name: str) -> str | None:
        value = response.headers.get(name)
        return value.decode("latin-1") if value else None

    return header("ETag"), header("Last-Modified")


def _headers(response: Response) -> tuple[tuple[str, str], ...]:
    """The response's headers as received, each value decoded as Latin-1 (RFC 9110)."""
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    )

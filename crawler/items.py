"""What flows from the spiders through the pipelines: one fetch of an article, and the
Article extracted from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE = "page"  # a page to extract, match and store
UNCHANGED = "unchanged"  # a revisit answered 304, or with the very same bytes
REMOVED = "removed"  # a revisit answered 404 or 410
GONE = (404, 410)  # the statuses of a page that is gone
REDIRECTED = "redirected"  # a revisit now redirects to another article URL


@dataclass(frozen=True)
class Article:
    """What presswatch keeps of one fetched page."""

    title: str | None
    text: str
    author: str | None = None  # the authors as one display string
    published_at: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None  # the page's rel=canonical, made absolute
    authors: tuple[str, ...] = ()  # every author named, persons first
    title_raw: str | None = None  # the page's <title> as served
    modified_at: str | None = None
    published_from: str | None = None  # where the dates came from (crawler.extraction.metadata)
    modified_from: str | None = None
    declared_not_free: bool = False  # JSON-LD isAccessibleForFree: false
    teaser_markers: bool = False  # a paywall or metering container on the page
    hidden_part_missing: bool = False  # the part declared not free is not on the page


@dataclass
class FeedEntry:
    """What a feed said about an article before it was fetched."""

    title: str | None = None
    published_at: str | None = None
    summary: str | None = None


@dataclass
class ArticleItem:
    """One fetch of an article on its way to extraction, matching and storage."""

    url: str  # canonical URL: the article's identity
    source_id: int | None
    outcome: str = PAGE
    body: bytes = b""  # the page as downloaded ...
    encoding: str = "utf-8"  # ... and how to decode it
    status: int = 200
    entry: FeedEntry = field(default_factory=FeedEntry)
    article_id: int | None = None  # set when this is a revisit of a stored article
    also_from: list[int] = field(default_factory=list)  # other sources offering it
    run: int | None = None  # the cluster run it belongs to (crawler.cluster)
    last_changed_at: str | None = None  # of the stored article, on a revisit
    stored_status: str | None = None  # of the stored article, on a revisit
    redirect_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    body_sha256: str | None = None  # of the page as downloaded: versions.body_sha256
    headers: tuple[tuple[str, str], ...] = ()  # the response's, for the evidence archive
    article: Article | None = None  # filled by the extraction pipeline
    fingerprint: int | None = None  # SimHash of the text, for near-duplicate stories
    is_partial: bool = False  # a paywalled or teaser page (crawler.extraction.partial)
    matches: list[Any] = field(default_factory=list)  # TopicMatch list, filled by matching
    # Topics found only in the feed entry's summary, not in the page (TopicMatch list).
    summary_matches: list[Any] = field(default_factory=list)

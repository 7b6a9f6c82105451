"""Find the feeds and sitemaps a site declares, for ``presswatch sources add``.

Where a site says it publishes: ``<link rel="alternate">`` feeds in its page, the feed
paths most publishing systems use (``/feed``, ``/rss.xml``, ...) and the ``Sitemap:``
lines of its robots.txt. Every candidate is fetched and kept only if it really is a
feed (feedparser reads it) or a sitemap (``<urlset>`` or ``<sitemapindex>``). If the
URL given is itself a feed or a sitemap, it is the one candidate.

The functions here are pure; ``crawler.run.discover`` runs the crawl
(``spiders/discover.py``) that feeds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree, html

from crawler.sources.feeds import parse_feed

FEED_TYPES = ("application/rss+xml", "application/atom+xml")
COMMON_FEED_PATHS = (
    "/feed",
    "/feed/",
    "/rss",
    "/rss.xml",
    "/atom.xml",
    "/feeds/all.atom.xml",
    "/index.xml",
)
SITEMAP_ROOTS = ("urlset", "sitemapindex")
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class DiscoveryError(Exception):
    """Nothing could be fetched at the URL given; the message says why."""


@dataclass(frozen=True)
class Candidate:
    """A feed or sitemap that could become a source."""

    url: str
    kind: str  # feed or sitemap: a source kind
    title: str | None = None


@dataclass
class Findings:
    """What one discovery crawl found; the spider fills it in.

    Each candidate has a rank (the URL itself, then declared feeds in page order, then
    the common paths, then sitemaps), so the list is the same however responses arrive.
    """

    url: str
    found: dict[str, tuple[int, Candidate]] = field(default_factory=dict)
    problem: str | None = None  # why the URL itself could not be fetched

    def add(self, rank: int, candidate: Candidate) -> None:
        known = self.found.get(candidate.url)
        if known is None or rank < known[0]:
            self.found[candidate.url] = (rank, candidate)

    def candidates(self) -> list[Candidate]:
        return [candidate for _, candidate in sorted(self.found.values(), key=lambda pair: pair[0])]


def with_scheme(url: str) -> str:
    """``example.org`` -> ``https://example.org``; a URL with a scheme is kept."""
    url = url.strip()
    return url if "://" in url else "https://" + url


def declared_feeds(page: bytes | str, base_url: str) -> list[tuple[str, str | None]]:
    """The RSS and Atom feeds a page declares with ``<link rel="alternate">``: (url, title)."""
    try:
        tree = html.fromstring(page)
    except (etree.ParserError, ValueError):
        return []
    feeds = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            feeds.append((urljoin(base_url, href), (link.get("title") or "").strip() or None))
    return feeds


def common_feed_urls(url: str) -> list[str]:
    """The usual feed locations on the site of ``url``."""
    return [urljoin(site_root(url), path) for path in COMMON_FEED_PATHS]


def robots_url(url: str) -> str:
    return urljoin(site_root(url), "/robots.txt")


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def robots_sitemaps(text: str, base_url: str) -> list[str]:
    """The URLs of the ``Sitemap:`` lines in a robots.txt."""
    return [urljoin(base_url, match) for match in _SITEMAP_LINE.findall(text)]


def feed_candidate(
    body: bytes, url: str, content_type: str | None = None, title: str | None = None
) -> Candidate | None:
    """A Candidate if ``body`` is a feed presswatch can read; its title, or ``title``."""
    parsed = parse_feed(body, url, content_type)
    if not parsed.links and parsed.problem is not None:
        return None
    return Candidate(url, "feed", feed_title(body) or title)


def feed_title(body: bytes) -> str | None:
    title = feedparser.parse(body).feed.get("title") or ""
    return " ".join(title.split()) or None


def is_sitemap(body: bytes) -> bool:
    """Is ``body`` (uncompressed) a sitemap or a sitemap index?"""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return False
    return root is not None and etree.QName(root).localname in SITEMAP_ROOTS

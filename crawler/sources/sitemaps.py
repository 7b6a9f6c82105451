"""Sitemaps and news sitemaps -> article links or child sitemaps. A pure function.

Reads ``<urlset>`` (with Google News' ``news:news`` title, publication date and
language) and ``<sitemapindex>``; gzipped sitemaps are inflated with a size limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from scrapy.utils.gz import gunzip

from crawler.extraction.article import iso_date
from crawler.items import FeedEntry

NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


class SitemapError(ValueError):
    """The document is not a sitemap."""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    published_at: str | None  # news:publication_date, else lastmod (ISO 8601 UTC)
    entry: FeedEntry = field(default_factory=FeedEntry)
    language: str | None = None


@dataclass
class Sitemap:
    is_index: bool
    entries: list[SitemapEntry]
    problem: str | None = None  # the first XML error recovered from, if any

    def newer_than(self, cutoff: datetime) -> list[SitemapEntry]:
        """Entries published after ``cutoff``; undated entries are kept."""
        limit = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
        return [
            e
            for e in self.entries
            if e.published_at is None or e.published_at >= limit[: len(e.published_at)]
        ]


def newest(entries: list[SitemapEntry], most: int) -> list[SitemapEntry]:
    """The ``most`` newest of ``entries``, in document order; undated ones count as oldest."""
    if len(entries) <= most:
        return entries
    ranked = sorted(
        range(len(entries)), key=lambda n: (entries[n].published_at or "", -n), reverse=True
    )
    return [entries[n] for n in sorted(ranked[:most])]


def parse_sitemap(body: bytes, max_size: int = 50 * 1024 * 1024) -> Sitemap:
    """Read a sitemap or sitemap index (plain or gzipped); raise SitemapError."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, max_size=max_size)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as error:
        raise SitemapError(f"not a sitemap: {error}") from error
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        raise SitemapError("not a sitemap: no <urlset> or <sitemapindex>")
    is_index = _local(root.tag) == "sitemapindex"
    entries = [entry for node in root if (entry := _entry(node)) is not None]
    return Sitemap(is_index, entries, _first_error(parser))


def _first_error(parser: etree.XMLParser) -> str | None:
    """What recover mode skipped over: the first error, where it was, and how many."""
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if not errors:
        return None
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"XML error at line {first.line}, column {first.column}: {first.message}{more}"


def _entry(node: etree._Element) -> SitemapEntry | None:
    if not isinstance(node.tag, str):
        return None
    values = {_local(child.tag): child for child in node if isinstance(child.tag, str)}
    location = values.get("loc")
    if location is None or not (location.text or "").strip():
        return None
    news = values.get("news")
    title = published = language = None
    if news is not None:
        title = _text(news.find(f"{NEWS}title"))
        published = _text(news.find(f"{NEWS}publication_date"))
        language = _text(news.find(f"{NEWS}publication/{NEWS}language"))
    published = iso_date(published or _text(values.get("lastmod")))
    return SitemapEntry(
        location.text.strip(), published, FeedEntry(title=title, published_at=published), language
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: etree._Element | None) -> str | None:
    if element is None or not element.text:
        return None
    return " ".join(element.text.split()) or None

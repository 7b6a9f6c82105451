"""RSS and Atom documents -> article links, with feedparser. A pure function."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import feedparser
from lxml import etree, html

from crawler.items import FeedEntry
from crawler.times import FORMAT

SUMMARY_LIMIT = 2000


@dataclass(frozen=True)
class FeedLink:
    url: str
    entry: FeedEntry


@dataclass
class ParsedFeed:
    links: list[FeedLink] = field(default_factory=list)
    problem: str | None = None     # why feedparser flagged the document, if it did

    @property
    def unreadable(self) -> bool:
        return self.problem is not None and not self.links


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Read a downloaded feed. Malformed feeds keep whatever entries feedparser salvages."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers)
    links = [link for entry in parsed.entries if (link := _link(entry, url))]
    problem = None
    if parsed.bozo:
        problem = _describe(parsed.get("bozo_exception"))
    elif not links and not parsed.get("version"):
        problem = "not an RSS or Atom feed"
    return ParsedFeed(links, problem)


def _link(entry: feedparser.FeedParserDict, feed_url: str) -> FeedLink | None:
    href = entry.get("link") or _first_alternate(entry)
    if not href:
        return None
    return FeedLink(
        url=urljoin(feed_url, href.strip()),
        entry=FeedEntry(
            title=_text(entry.get("title")),
            published_at=_time(entry.get("published_parsed") or entry.get("updated_parsed")),
            summary=_text(entry.get("summary"), SUMMARY_LIMIT),
        ),
    )


def _first_alternate(entry: feedparser.FeedParserDict) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return None


def _time(value: time.struct_time | None) -> str | None:
    if not value:
        return None
    return time.strftime(FORMAT, time.gmtime(calendar.timegm(value)))


def _text(value: str | None, limit: int | None = None) -> str | None:
    if not value:
        return None
    try:
        text = html.fromstring(value).text_content() if "<" in value else value
    except (ValueError, etree.ParserError):  # lxml refuses some fragments: keep the raw text
        text = value
    text = " ".join(text.split())
    return text[:limit] if limit else text or None


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "malformed feed"
    message = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {message}"

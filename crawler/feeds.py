"""RSS and Atom documents -> article links, with feedparser. A pure function.

A feed is read by its content: the server's Content-Type only contributes its charset, so
a feed served as ``text/html`` or ``text/xml`` without a charset is read like any other.
What cannot be read gets a problem a user can act on: an HTML page, a binary file, an
empty answer, or the XML error with its line and column.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin
from xml.sax import SAXParseException

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
    if not body.strip():
        return ParsedFeed([], "empty response")
    headers = {"content-location": url, "content-type": _xml_type(content_type)}
    parsed = feedparser.parse(body, response_headers=headers)
    links = [link for entry in parsed.entries if (link := _link(entry, url))]
    problem = None
    if not links and _is_html(body, content_type):
        problem = "an HTML page, not an RSS or Atom feed"
    elif not links and _is_binary(body):
        problem = f"not an RSS or Atom feed: binary content ({content_type or 'no type'})"
    elif parsed.bozo:
        problem = _describe(parsed.get("bozo_exception"))
    elif not links and not parsed.get("version"):
        problem = "not an RSS or Atom feed"
    return ParsedFeed(links, problem)


def _xml_type(content_type: str | None) -> str:
    """What feedparser is told: XML, in the charset the server declared, if any.

    Given ``text/*`` without a charset feedparser assumes US-ASCII (RFC 3023) and flags
    every non-ASCII feed; given no type at all it flags that. Feeds are read by content.
    """
    message = Message()
    message["content-type"] = content_type or ""
    charset = message.get_param("charset")
    return f"application/xml; charset={charset}" if isinstance(charset, str) else "application/xml"


def _is_html(body: bytes, content_type: str | None) -> bool:
    start = body[:1024].lstrip()[:512].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return True
    return (content_type or "").lower().startswith(("text/html", "application/xhtml"))


def _is_binary(body: bytes) -> bool:
    sample = body[:1024]
    return b"\x00" in sample or sample.startswith((b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8"))


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
    if isinstance(error, SAXParseException):
        return (f"XML error at line {error.getLineNumber()}, column {error.getColumnNumber()}: "
                f"{error.getMessage()}")
    if isinstance(error, feedparser.CharacterEncodingOverride):
        return f"wrong encoding: {error}".replace("parsed as", "read as")
    message = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {message}"

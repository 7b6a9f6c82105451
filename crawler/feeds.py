"""RSS and Atom documents -> article links, with feedparser. A pure function.

A feed is read by its content: the server's Content-Type only contributes its charset, so
a feed served as ``text/html`` or ``text/xml`` without a charset is read like any other.
What cannot be read gets a problem a user can act on: an HTML page, a binary file, an
empty answer, or the XML error with its line and column.

Real feeds get their encoding wrong: a feed may declare none and not be UTF-8, or declare
one it is not written in. When feedparser has to override the declared (or assumed)
encoding, the bytes are detected again with charset-normalizer and read in the encoding
found, so titles reach the database without mojibake. UTF-16 and UTF-32 feeds with a
byte-order mark are read like any other. An entry without a link, or whose link is not a
web address (``tag:``, ``urn:``, ``mailto:``), is returned in ``skipped`` with the reason.
"""

from __future__ import annotations

import calendar
import codecs
import re
import time
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import quote, urljoin, urlsplit
from xml.sax import SAXParseException

import charset_normalizer
import feedparser
from lxml import etree, html

from crawler.items import FeedEntry
from crawler.times import FORMAT

SUMMARY_LIMIT = 2000
BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF8, codecs.BOM_UTF16_LE,
        codecs.BOM_UTF16_BE)
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']""")
NOT_A_WEB_LINK = "not a web link"
NO_LINK = "no link"


@dataclass(frozen=True)
class FeedLink:
    url: str
    entry: FeedEntry


@dataclass(frozen=True)
class SkippedEntry:
    """An entry presswatch cannot follow: ``url`` is its link, or for an entry without
    one its id, or the feed's URL with the entry's title as fragment."""

    url: str
    reason: str


@dataclass
class ParsedFeed:
    links: list[FeedLink] = field(default_factory=list)
    problem: str | None = None     # why feedparser flagged the document, if it did
    skipped: list[SkippedEntry] = field(default_factory=list)

    @property
    def unreadable(self) -> bool:
        return self.problem is not None and not self.links


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Read a downloaded feed. Malformed feeds keep whatever entries feedparser salvages."""
    if not body.strip():
        return ParsedFeed([], "empty response")
    headers = {"content-location": url, "content-type": _xml_type(content_type)}
    parsed = feedparser.parse(body, response_headers=headers)
    parsed = _redetected(parsed, body, url) or parsed
    links, skipped = _entries(parsed.entries, url)
    problem = None
    if not links and _is_html(body, content_type):
        problem = "an HTML page, not an RSS or Atom feed"
    elif not links and _is_binary(body):
        problem = f"not an RSS or Atom feed: binary content ({content_type or 'no type'})"
    elif parsed.bozo:
        problem = _describe(parsed.get("bozo_exception"), _declared_encoding(body, content_type),
                            parsed.get("encoding"))
    elif not links and not parsed.get("version"):
        problem = "not an RSS or Atom feed"
    return ParsedFeed(links, problem, skipped)


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
    if sample.startswith(BOMS) or sample.replace(b"\x00", b"").lstrip().startswith(b"<"):
        return False           # UTF-16 or UTF-32 text: NUL bytes between the characters
    return b"\x00" in sample or sample.startswith((b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8"))


def _declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The encoding the server or the document declares (charset, XML declaration, BOM)."""
    message = Message()
    message["content-type"] = content_type or ""
    charset = message.get_param("charset")
    if isinstance(charset, str):
        return charset
    if body.startswith(BOMS):
        return "a byte-order mark"
    found = XML_ENCODING.match(body[:512])
    return found.group(1).decode("ascii") if found else None


def _redetected(parsed: feedparser.FeedParserDict, body: bytes,
                url: str) -> feedparser.FeedParserDict | None:
    """When feedparser overrode the encoding, read the bytes again in the encoding
    charset-normalizer finds (unless feedparser's is among its candidates)."""
    if not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        return None
    best = charset_normalizer.from_bytes(body).best()
    if best is None or _same_codec(parsed.get("encoding"), best.could_be_from_charset):
        return None
    headers = {"content-location": url, "content-type": "application/xml; charset=utf-8"}
    again = feedparser.parse(str(best).encode("utf-8"), response_headers=headers)
    again["bozo"], again["bozo_exception"] = parsed.bozo, parsed.get("bozo_exception")
    again["encoding"] = best.encoding
    return again


def _same_codec(name: str | None, candidates: list[str]) -> bool:
    def codec(value: str) -> str:
        try:
            return codecs.lookup(value).name
        except LookupError:
            return value
    return bool(name) and codec(name) in {codec(c) for c in candidates}


def _entries(entries: list[feedparser.FeedParserDict],
             feed_url: str) -> tuple[list[FeedLink], list[SkippedEntry]]:
    links, skipped = [], []
    for entry in entries:
        link = _link(entry, feed_url)
        if isinstance(link, SkippedEntry):
            skipped.append(link)
        else:
            links.append(link)
    return links, skipped


def _link(entry: feedparser.FeedParserDict, feed_url: str) -> FeedLink | SkippedEntry:
    href = (entry.get("link") or _first_alternate(entry) or "").strip()
    title = _text(entry.get("title"))
    if not href:
        where = entry.get("id") or f"{feed_url}#{quote(title or 'untitled')}"
        return SkippedEntry(where, f"{NO_LINK}: the entry {title or '(untitled)'!r} "
                                   "gives no address to fetch")
    url = urljoin(feed_url, href)
    if urlsplit(url).scheme not in ("http", "https"):
        return SkippedEntry(url, f"{NOT_A_WEB_LINK}: {urlsplit(url).scheme or 'no'} "
                                 f"address of the entry {title or '(untitled)'!r}")
    return FeedLink(
        url=url,
        entry=FeedEntry(
            title=title,
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


def _describe(error: BaseException | None, declared: str | None = None,
              read_as: str | None = None) -> str:
    if error is None:
        return "malformed feed"
    if isinstance(error, SAXParseException):
        return (f"XML error at line {error.getLineNumber()}, column {error.getColumnNumber()}: "
                f"{error.getMessage()}")
    if isinstance(error, feedparser.CharacterEncodingOverride):
        read_as = read_as or "another encoding"
        if declared is None:
            return f"wrong encoding: no encoding declared and not UTF-8, read as {read_as}"
        return f"wrong encoding: document declared as {declared}, but read as {read_as}"
    message = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {message}"

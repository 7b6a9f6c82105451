"""RSS and Atom documents -> article links, with feedparser. A pure function.

A feed is read by its content: the server's Content-Type only contributes its charset, so
a feed served as ``text/html`` or ``text/xml`` without a charset is read like any other.
What cannot be read gets a problem a user can act on: an HTML page, a binary file, an
empty answer, or the XML error with its line and column.
"""

from __future__ import annotations

import calendar
import heapq
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import parsedate_tz
from urllib.parse import urljoin
from xml.sax import SAXParseException

import feedparser
from lxml import etree, html

from crawler.items import FeedEntry
from crawler.times import FORMAT

SUMMARY_LIMIT = 2000
MAX_ENTRIES = 500      # the default of a source's max_feed_entries

# A numeric character reference, decimal or hexadecimal.
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
# One RSS item or Atom entry, and the date it carries (for the newest-first cut).
_ENTRY = re.compile(rb"<(item|entry)[\s>].*?</\1\s*>", re.DOTALL)
_ENTRY_DATE = re.compile(
    rb"<(pubDate|published|updated|dc:date)[^>]*>\s*([^<]{1,100}?)\s*</", re.IGNORECASE)
# The usual RFC 822 date of RSS, read without the email module's slower general parser.
_RFC822 = re.compile(rb"(?:[A-Za-z]{3},\s*)?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) "
                     rb"(\d\d):(\d\d)(?::(\d\d))? ?(?:([+-])(\d\d)(\d\d)|GMT|UT|UTC|Z)?$")
_MONTHS = {name: n for n, name in enumerate(
    (b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
     b"dec"), 1)}


@dataclass(frozen=True)
class FeedLink:
    url: str
    entry: FeedEntry


@dataclass
class ParsedFeed:
    links: list[FeedLink] = field(default_factory=list)
    problem: str | None = None     # why feedparser flagged the document, if it did
    entries: int = 0               # entries in the document, before any cut
    cut: int = 0                   # of those, left out by the max_feed_entries cut

    @property
    def unreadable(self) -> bool:
        return self.problem is not None and not self.links


def parse_feed(body: bytes, url: str, content_type: str | None = None,
               max_entries: int = MAX_ENTRIES) -> ParsedFeed:
    """Read a downloaded feed. Malformed feeds keep whatever entries feedparser salvages.

    Only the newest ``max_entries`` entries are read: a longer feed is cut before it is
    parsed, so its size bounds neither the memory nor the time of a pass. Character
    references to code points that cannot exist (a lone surrogate, beyond U+10FFFF) are
    read as U+FFFD instead of stopping the parser.
    """
    if not body.strip():
        return ParsedFeed([], "empty response")
    body, replaced = sanitize_references(body)
    body, entries, cut = newest_entries(body, max_entries)
    headers = {"content-location": url, "content-type": _xml_type(content_type)}
    parsed = feedparser.parse(body, response_headers=headers)
    links, skipped = [], []
    for entry in parsed.entries:
        try:
            link = _link(entry, url)
        except Exception as error:  # one odd entry loses itself, never the feed
            skipped.append(f"{type(error).__name__}: {error}")
            continue
        if link:
            links.append(link)
    problem = _problem(parsed, links, body, content_type)
    if skipped:
        problem = f"{len(skipped)} entries unreadable ({skipped[0]})"
    if replaced and not problem:
        problem = (f"{len(replaced)} character references to impossible code points "
                   f"(the first {replaced[0]}) read as U+FFFD")
    return ParsedFeed(links, problem, entries or len(parsed.entries), cut)


def _problem(parsed: feedparser.FeedParserDict, links: list[FeedLink], body: bytes,
             content_type: str | None) -> str | None:
    problem = None
    if not links and _is_html(body, content_type):
        problem = "an HTML page, not an RSS or Atom feed"
    elif not links and _is_binary(body):
        problem = f"not an RSS or Atom feed: binary content ({content_type or 'no type'})"
    elif parsed.bozo:
        problem = _describe(parsed.get("bozo_exception"))
    elif not links and not parsed.get("version"):
        problem = "not an RSS or Atom feed"
    return problem


def sanitize_references(body: bytes) -> tuple[bytes, list[str]]:
    """Replace character references to impossible code points (surrogates, beyond
    U+10FFFF, NUL) with U+FFFD's, which every parser reads; return the new body and the
    references replaced."""
    replaced: list[str] = []
    if b"&#" not in body:
        return body, replaced

    def checked(match: re.Match[bytes]) -> bytes:
        hexadecimal, decimal = match.groups()
        code = int(hexadecimal, 16) if hexadecimal else int(decimal)
        if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            replaced.append(match.group(0).decode("ascii"))
            return b"&#xFFFD;"
        return match.group(0)

    return _CHARREF.sub(checked, body), replaced


def newest_entries(body: bytes, most: int) -> tuple[bytes, int, int]:
    """``body`` with only its ``most`` newest items or entries (in document order), how
    many it had, and how many were cut. Undated entries count as the oldest; a feed in
    an encoding that is not ASCII-compatible (UTF-16) is left whole."""
    if body.count(b"<item") + body.count(b"<entry") <= most:
        return body, 0, 0
    spans = [match.span() for match in _ENTRY.finditer(body)]
    if len(spans) <= most:
        return body, len(spans), 0
    kept = heapq.nlargest(most, range(len(spans)),
                          key=lambda n: (_entry_time(body, spans[n]), -n))
    pieces = [body[: spans[0][0]]]
    pieces += [body[slice(*spans[n])] for n in sorted(kept)]
    pieces.append(body[spans[-1][1]:])
    return b"\n".join(pieces), len(spans), len(spans) - most


def _entry_time(body: bytes, span: tuple[int, int]) -> float:
    found = _ENTRY_DATE.search(body, *span)
    if found is None:
        return float("-inf")
    usual = _RFC822.match(found.group(2))
    month = _MONTHS.get(usual.group(2).lower()) if usual else None
    if usual and month:
        day, _, year, hour, minute, second, sign, off_h, off_m = usual.groups()
        offset = (int(off_h) * 3600 + int(off_m) * 60) * (-1 if sign == b"-" else 1) if sign else 0
        moment = (int(year), month, int(day), int(hour), int(minute), int(second or 0))
        return calendar.timegm(moment) - offset
    text = found.group(2).decode("ascii", "replace")
    parts = parsedate_tz(text)
    if parts is not None:
        return calendar.timegm(parts[:9]) - (parts[9] or 0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return float("-inf")
    return moment.timestamp() if moment.tzinfo else calendar.timegm(moment.timetuple())


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

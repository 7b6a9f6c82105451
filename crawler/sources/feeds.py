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
import heapq
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import parsedate_tz
from urllib.parse import quote, urljoin, urlsplit
from xml.sax import SAXParseException

import charset_normalizer
import feedparser
from lxml import etree, html

from crawler.items import FeedEntry
from crawler.times import FORMAT

SUMMARY_LIMIT = 2000
BOMS = (
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF8,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']""")
NOT_A_WEB_LINK = "not a web link"
NO_LINK = "no link"
MAX_ENTRIES = 500  # the default of a source's max_feed_entries

# A numeric character reference, decimal or hexadecimal.
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
# One RSS item or Atom entry, and the date it carries (for the newest-first cut).
_ENTRY = re.compile(rb"<(item|entry)[\s>].*?</\1\s*>", re.DOTALL)
_ENTRY_DATE = re.compile(
    rb"<(pubDate|published|updated|dc:date)[^>]*>\s*([^<]{1,100}?)\s*</", re.IGNORECASE
)
# The usual RFC 822 date of RSS, read without the email module's slower general parser.
_RFC822 = re.compile(
    rb"(?:[A-Za-z]{3},\s*)?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) "
    rb"(\d\d):(\d\d)(?::(\d\d))? ?(?:([+-])(\d\d)(\d\d)|GMT|UT|UTC|Z)?$"
)
_MONTHS = {
    name: n
    for n, name in enumerate(
        (
            b"jan",
            b"feb",
            b"mar",
            b"apr",
            b"may",
            b"jun",
            b"jul",
            b"aug",
            b"sep",
            b"oct",
            b"nov",
            b"dec",
        ),
        1,
    )
}


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
    problem: str | None = None  # why feedparser flagged the document, if it did
    skipped: list[SkippedEntry] = field(default_factory=list)
    entries: int = 0  # entries in the document, before any cut
    cut: int = 0  # of those, left out by the max_feed_entries cut

    @property
    def unreadable(self) -> bool:
        return self.problem is not None and not self.links


def parse_feed(
    body: bytes, url: str, content_type: str | None = None, max_entries: int = MAX_ENTRIES
) -> ParsedFeed:
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
    parsed = _redetected(parsed, body, url) or parsed
    links, skipped, unreadable = [], [], []
    for entry in parsed.entries:
        try:
            link = _link(entry, url)
        except Exception as error:  # one odd entry loses itself, never the feed
            unreadable.append(f"{type(error).__name__}: {error}")
            continue
        if isinstance(link, SkippedEntry):
            skipped.append(link)
        else:
            links.append(link)
    problem = _problem(parsed, links, body, content_type)
    if unreadable:
        problem = f"{len(unreadable)} entries unreadable ({unreadable[0]})"
    if replaced and not problem:
        problem = (
            f"{len(replaced)} character references to impossible code points "
            f"(the first {replaced[0]}) read as U+FFFD"
        )
    return ParsedFeed(links, problem, skipped, entries or len(parsed.entries), cut)


def _problem(
    parsed: feedparser.FeedParserDict, links: list[FeedLink], body: bytes, content_type: str | None
) -> str | None:
    problem = None
    if not links and _is_html(body, content_type):
        problem = "an HTML page, not an RSS or Atom feed"
    elif not links and _is_binary(body):
        problem = f"not an RSS or Atom feed: binary content ({content_type or 'no type'})"
    elif parsed.bozo:
        problem = _describe(
            parsed.get("bozo_exception"),
            _declared_encoding(body, content_type),
            parsed.get("encoding"),
        )
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
    kept = heapq.nlargest(most, range(len(spans)), key=lambda n: (_entry_time(body, spans[n]), -n))
    pieces = [body[: spans[0][0]]]
    pieces += [body[slice(*spans[n])] for n in sorted(kept)]
    pieces.append(body[spans[-1][1] :])
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
    if sample.startswith(BOMS) or sample.replace(b"\x00", b"").lstrip().startswith(b"<"):
        return False  # UTF-16 or UTF-32 text: NUL bytes between the characters
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


def _redetected(
    parsed: feedparser.FeedParserDict, body: bytes, url: str
) -> feedparser.FeedParserDict | None:
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


def _link(entry: feedparser.FeedParserDict, feed_url: str) -> FeedLink | SkippedEntry:
    href = (entry.get("link") or _first_alternate(entry) or "").strip()
    title = _text(entry.get("title"))
    if not href:
        where = entry.get("id") or f"{feed_url}#{quote(title or 'untitled')}"
        return SkippedEntry(
            where, f"{NO_LINK}: the entry {title or '(untitled)'!r} gives no address to fetch"
        )
    url = urljoin(feed_url, href)
    if urlsplit(url).scheme not in ("http", "https"):
        return SkippedEntry(
            url,
            f"{NOT_A_WEB_LINK}: {urlsplit(url).scheme or 'no'} "
            f"address of the entry {title or '(untitled)'!r}",
        )
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


def _describe(
    error: BaseException | None, declared: str | None = None, read_as: str | None = None
) -> str:
    if error is None:
        return "malformed feed"
    if isinstance(error, SAXParseException):
        return (
            f"XML error at line {error.getLineNumber()}, column {error.getColumnNumber()}: "
            f"{error.getMessage()}"
        )
    if isinstance(error, feedparser.CharacterEncodingOverride):
        read_as = read_as or "another encoding"
        if declared is None:
            return f"wrong encoding: no encoding declared and not UTF-8, read as {read_as}"
        return f"wrong encoding: document declared as {declared}, but read as {read_as}"
    message = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {message}"

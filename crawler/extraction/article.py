"""HTML -> Article: trafilatura's main-text extraction plus the page's declared metadata.
A pure function, run in worker processes during a pass.

:data:`EXTRACTOR` names the rules in force; it is stored with every version, so a
re-check can tell a difference made by new extraction rules from an edit (see
:func:`upgrade_text` and docs/tracking.md).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from crawler.extraction.scripts import word_count
from crawler.items import Article

if TYPE_CHECKING:
    from lxml import etree

# trafilatura (with lxml, htmldate) and the promotional-tail rules (their regular
# expressions take a while to compile) are imported by extract() itself, at the first page: a
# pass with nothing to extract never pays for them (docs/performance.md).

MIN_WORDS = 25  # less is a menu, a caption or an error page, not an article; a
# paywall's teaser is kept however short (crawler.extraction.partial flags it).
# Counted by crawler.extraction.scripts.word_count: in Chinese, Japanese, Korean,
# Thai ... a character is a fraction of a word.

# The extraction rules, versioned: 1 = trafilatura's text without the headline (0.1);
# 2 = the same without the promotional tail, and the script-aware minimum; the headline,
# authors, dates and paywall evidence of crawler.extraction.metadata; 3 = the same text,
# with the dates htmldate finds without its extensive search.
RULES = 3
TRAFILATURA = version("trafilatura")
EXTRACTOR = f"presswatch-extract/{RULES} trafilatura/{TRAFILATURA}"


class ExtractionError(ValueError):
    """The page has no extractable article text."""


def extract(html: str | bytes, url: str | None = None, body_selector: str | None = None) -> Article:
    """Extract the article in ``html``; raise ExtractionError when there is none.

    ``body_selector`` (a CSS selector) narrows extraction to one element, for sites where
    automatic main-text detection picks the wrong block.
    """
    import trafilatura
    from trafilatura.utils import load_html

    from crawler.extraction.metadata import page_metadata
    from crawler.extraction.tails import without_promo_tail

    tree = load_html(html)
    if tree is None:
        raise ExtractionError("not an HTML document")
    meta = page_metadata(tree, url)
    document = trafilatura.bare_extraction(
        _narrow(tree, body_selector), url=url, include_comments=False
    )
    text = (document.text or "").strip() if document is not None else ""
    text = without_promo_tail(_without_headline(text, meta.title))
    paywall = meta.declared_not_free or meta.teaser_markers
    if word_count(text) < MIN_WORDS and not (paywall and text):
        raise ExtractionError("no article text found on the page")
    published, modified = iso_date(meta.published), iso_date(meta.modified)
    return Article(
        title=meta.title,
        text=text,
        author=meta.author,
        published_at=published,
        language=meta.language,
        description=meta.description,
        canonical_url=urljoin(url, meta.canonical) if url and meta.canonical else meta.canonical,
        authors=meta.authors,
        title_raw=meta.title_raw,
        modified_at=modified,
        published_from=meta.published_from if published else None,
        modified_from=meta.modified_from if modified else None,
        declared_not_free=meta.declared_not_free,
        teaser_markers=meta.teaser_markers,
        hidden_part_missing=meta.hidden_part_missing,
    )


def upgrade_text(text: str, extractor: str | None) -> str | None:
    """``text``, stored by ``extractor``, as the current rules would have taken it from
    the same page; None when this build cannot tell (rules it does not know, or another
    trafilatura version). 0.1 stored no extractor name: its versions are rules 1.

    Each rule version only adds steps applied to the text of the one before, so
    applying the steps added since ``extractor`` gives exactly the current rules' text.
    """
    found = re.fullmatch(r"presswatch-extract/(\d+) trafilatura/(\S+)", extractor or "")
    if extractor is None:
        rules = 1
    elif found and 1 <= int(found[1]) <= RULES and found[2] == TRAFILATURA:
        rules = int(found[1])
    else:
        return None
    if rules < 2:
        from crawler.extraction.tails import without_promo_tail

        text = without_promo_tail(text)
    return text


def extract_page(
    body: bytes, encoding: str, url: str | None = None, body_selector: str | None = None
) -> Article:
    """Decode a downloaded page (as the crawler detected its encoding) and extract it.

    Workers receive the raw bytes: cheaper to hand over than decoded text.
    """
    return extract(body.decode(encoding, errors="replace"), url, body_selector)


def _without_headline(text: str, title: str | None) -> str:
    """Drop the headline (and a kicker or breadcrumb above it) from the top of the text."""
    lines = text.split("\n")
    for index, line in enumerate(lines[:3]):
        if title and " ".join(line.split()) == title:
            return "\n".join(lines[index + 1 :]).strip() or text
    return text


def _narrow(tree: etree._Element, selector: str | None) -> etree._Element:
    if not selector:
        return tree
    found = tree.cssselect(selector)
    if not found:
        raise ExtractionError(f"the body selector {selector!r} matches nothing on the page")
    from lxml import etree

    wrapper = etree.fromstring("<html><body></body></html>", etree.HTMLParser())
    body = wrapper.find("body")
    for element in found:
        body.append(element)
    return wrapper


def iso_date(value: str | None) -> str | None:
    """A declared date as ISO 8601 UTC: ``...Z`` with a time, ``YYYY-MM-DD`` without."""
    moment = _parse_date(value.strip()) if value else None
    if moment is None:
        return None
    if moment.tzinfo is None:
        if (moment.hour, moment.minute, moment.second) == (0, 0, 0) and len(value) <= 19:
            return moment.date().isoformat()
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)  # RFC 822, as in feeds and some meta tags
    except (TypeError, ValueError, IndexError):
        return None

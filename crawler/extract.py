"""HTML -> Article: trafilatura's main-text and metadata extraction. A pure function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import trafilatura
from lxml import etree
from trafilatura.utils import load_html

DATE_PARAMS = {
    "extensive_search": True,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


class ExtractionError(ValueError):
    """The page has no extractable article text."""


@dataclass(frozen=True)
class Article:
    """What presswatch keeps of one fetched page."""

    title: str | None
    text: str
    author: str | None = None
    published_at: str | None = None
    language: str | None = None
    description: str | None = None


def extract(html: str | bytes, url: str | None = None, body_selector: str | None = None) -> Article:
    """Extract the article in ``html``; raise ExtractionError when there is none.

    ``body_selector`` (a CSS selector) narrows extraction to one element, for sites where
    automatic main-text detection picks the wrong block.
    """
    tree = load_html(html)
    if tree is None:
        raise ExtractionError("not an HTML document")
    language = _language(tree)
    options = {"url": url, "with_metadata": True, "include_comments": False,
               "date_extraction_params": DATE_PARAMS}
    document = trafilatura.bare_extraction(_narrow(tree, body_selector), **options)
    text = (document.text or "").strip() if document is not None else ""
    if not text:
        raise ExtractionError("no article text found on the page")
    title = _clean(document.title)
    return Article(
        title=title,
        text=_without_headline(text, title),
        author=_clean(document.author),
        published_at=iso_date(document.date),
        language=language,
        description=_clean(document.description),
    )


def _without_headline(text: str, title: str | None) -> str:
    """Drop the headline (and a kicker or breadcrumb above it) from the top of the text."""
    lines = text.split("\n")
    for index, line in enumerate(lines[:3]):
        if title and " ".join(line.split()) == title:
            return "\n".join(lines[index + 1:]).strip() or text
    return text


def _narrow(tree: etree._Element, selector: str | None) -> etree._Element:
    if not selector:
        return tree
    found = tree.cssselect(selector)
    if not found:
        raise ExtractionError(f"the body selector {selector!r} matches nothing on the page")
    head = tree.find("head")
    wrapper = etree.fromstring("<html><body></body></html>", etree.HTMLParser())
    if head is not None:
        wrapper.insert(0, head)
    body = wrapper.find("body")
    for element in found:
        body.append(element)
    return wrapper


def _language(tree: etree._Element) -> str | None:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not lang:
        meta = tree.xpath("//meta[@property='og:locale']/@content")
        lang = meta[0] if meta else None
    if not lang:
        return None
    return lang.strip().replace("_", "-").split("-")[0].lower() or None


def iso_date(value: str | None) -> str | None:
    """A date from htmldate as ISO 8601 UTC: ``...Z`` with a time, ``YYYY-MM-DD`` without."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value[:10] if len(value) >= 10 else None
    if moment.tzinfo is None:
        if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
            return moment.date().isoformat()
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None

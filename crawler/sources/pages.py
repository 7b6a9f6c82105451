"""Section and home pages -> the article links on them. A pure function."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml import html

from crawler.items import FeedEntry
from crawler.sources.feeds import FeedLink


def article_links(
    page: str, base_url: str, pattern: str | None = None, selector: str | None = None
) -> list[FeedLink]:
    """Links on ``page`` that are articles: chosen by a CSS ``selector`` (links, or
    elements containing links) and/or a regular expression ``pattern`` searched in the
    absolute URL. Each link once, in page order, with its text as the title."""
    tree = html.fromstring(page or "<html></html>", base_url=base_url)
    anchors = _selected(tree, selector) if selector else tree.iter("a")
    matcher = re.compile(pattern) if pattern else None
    found: dict[str, FeedLink] = {}
    for anchor in anchors:
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(base_url, href).split("#", 1)[0]
        if matcher is not None and not matcher.search(url):
            continue
        title = " ".join(anchor.text_content().split()) or None
        found.setdefault(url, FeedLink(url, FeedEntry(title=title)))
    return list(found.values())


def _selected(tree: html.HtmlElement, selector: str) -> list[html.HtmlElement]:
    anchors: list[html.HtmlElement] = []
    for element in tree.cssselect(selector):
        anchors += [element] if element.tag == "a" else list(element.iter("a"))
    return anchors

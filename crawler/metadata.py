"""Article metadata from what news pages declare: OpenGraph and article meta tags,
JSON-LD, ``<html lang>``, ``<time>``. A pure function over a parsed page.

News sites declare their headline, author and publication time for search engines and
social networks, so reading those declarations is both exact and cheap. Only a page
that declares no date falls back to htmldate's heuristics. (trafilatura's general
metadata extraction scans every link on the page and would double the cost of a pass.)
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import htmldate
from lxml import etree

ARTICLE_TYPES = {"Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle",
                 "OpinionNewsArticle", "BackgroundNewsArticle", "BlogPosting", "Report",
                 "LiveBlogPosting", "WebPage"}
TITLE_META = ("og:title", "twitter:title", "dc.title", "headline")
AUTHOR_META = ("author", "article:author", "dc.creator", "byl", "parsely-author",
               "sailthru.author")
DATE_META = ("article:published_time", "og:published_time", "datepublished", "pubdate",
             "publishdate", "date", "dc.date", "dc.date.issued", "dcterms.created",
             "parsely-pub-date", "sailthru.date", "article.published", "publication_date")
DESCRIPTION_META = ("description", "og:description", "twitter:description")


@dataclass(frozen=True)
class PageMetadata:
    title: str | None
    author: str | None
    published: str | None     # as the page wrote it; crawler.extract makes it ISO UTC
    language: str | None
    description: str | None
    canonical: str | None = None     # <link rel="canonical"> as written (maybe relative)
    paywalled: bool = False          # the page declares its content is not freely accessible


PAYWALL_MARKERS = re.compile(
    r"paywall|piano-|subscriber-only|premium-content|meteredContent|registration-wall|tp-modal")


def page_metadata(tree: etree._Element) -> PageMetadata:
    """Read the metadata ``tree`` declares; call before extraction prunes the tree."""
    meta = _meta_tags(tree)
    linked = _json_ld_article(tree)
    return PageMetadata(
        title=_first(meta, TITLE_META) or _text(linked.get("headline")) or _headline(tree),
        author=_author(meta, linked),
        published=_first(meta, DATE_META) or _text(linked.get("datePublished"))
        or _time_element(tree) or _guess_date(tree),
        language=_language(tree, meta),
        description=_first(meta, DESCRIPTION_META) or _text(linked.get("description")),
        canonical=_canonical(tree),
        paywalled=_paywalled(tree, linked),
    )


def _canonical(tree: etree._Element) -> str | None:
    found = tree.xpath("//link[@rel='canonical']/@href")
    return found[0].strip() or None if found else None


def _paywalled(tree: etree._Element, linked: dict[str, Any]) -> bool:
    """Schema.org's ``isAccessibleForFree: false``, or a paywall container on the page."""
    free = linked.get("isAccessibleForFree")
    if free is False or (isinstance(free, str) and free.strip().lower() == "false"):
        return True
    names = " ".join(tree.xpath("//body//@class | //body//@id"))
    return PAYWALL_MARKERS.search(names) is not None


def _meta_tags(tree: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in tree.iterfind(".//meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop")
               or "").strip().lower()
        value = " ".join((element.get("content") or "").split())
        if key and value and key not in found:
            found[key] = value
    return found


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = meta.get(key)
        if value and not (key == "article:author" and value.startswith("http")):
            return value
    return None


def _json_ld_article(tree: etree._Element) -> dict[str, Any]:
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
            found = next((node for node in _nodes(data) if _is_article(node)), None)
        except (ValueError, RecursionError):   # not JSON, or nested thousands deep
            continue
        if found is not None:
            return found
    return {}


def _is_article(node: dict[str, Any]) -> bool:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return bool(ARTICLE_TYPES.intersection(k for k in kinds if isinstance(k, str)))


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        yield from _nodes(data.get("@graph", []))


def _author(meta: dict[str, str], linked: dict[str, Any]) -> str | None:
    declared = _first(meta, AUTHOR_META)
    if declared:
        return declared
    authors = linked.get("author")
    authors = authors if isinstance(authors, list) else [authors]
    names = [_text(a.get("name") if isinstance(a, dict) else a) for a in authors]
    return ", ".join(name for name in names if name) or None


def _headline(tree: etree._Element) -> str | None:
    for path in ("//article//h1", "//h1", "//title"):
        found = tree.xpath(path)
        if found:
            text = " ".join(found[0].text_content().split())
            if text:
                return text
    return None


def _time_element(tree: etree._Element) -> str | None:
    for path in ("//article//time[@datetime]", "//time[@pubdate][@datetime]"):
        found = tree.xpath(path)
        if found:
            return found[0].get("datetime").strip() or None
    return None


def _guess_date(tree: etree._Element) -> str | None:
    # htmldate may prune what it searches: let it work on a copy.
    return htmldate.find_date(copy.deepcopy(tree), extensive_search=False, original_date=True,
                              outputformat="%Y-%m-%dT%H:%M:%S%z")


def _language(tree: etree._Element, meta: dict[str, str]) -> str | None:
    lang = (tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
            or meta.get("og:locale") or meta.get("content-language"))
    if not lang:
        return None
    return lang.strip().replace("_", "-").split("-")[0].lower() or None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None

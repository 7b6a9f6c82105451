"""Article metadata from what news pages declare: OpenGraph and article meta tags,
JSON-LD, ``<html lang>``, ``<title>``, ``<h1>``, ``<time>``. A pure function over a
parsed page.

News sites declare their headline, authors and dates for search engines and social
networks, so reading those declarations is both exact and cheap. What a page does not
declare is looked for with htmldate (dates, without its extensive search) and
trafilatura's byline search (authors). trafilatura's general metadata extraction, which
scans every link on the page, is not run.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import htmldate
from lxml import etree
from trafilatura.metadata import extract_author

from crawler.extraction import headlines
from crawler.extraction.bylines import Byline, person_names

# Article types, best first: the node a page describes its article with. WebPage only
# when there is nothing better (it usually describes the page, not the story).
ARTICLE_TYPES = (
    "NewsArticle",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "ReviewNewsArticle",
    "Article",
    "BlogPosting",
    "LiveBlogPosting",
    "Report",
    "SocialMediaPosting",
    "TechArticle",
    "ScholarlyArticle",
    "WebPage",
)
AUTHOR_META = (
    "author",
    "article:author",
    "dc.creator",
    "byl",
    "parsely-author",
    "sailthru.author",
    "article:author_name",
    "cxenseparse:author",
)
PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "dcterms.issued",
    "parsely-pub-date",
    "sailthru.date",
    "article.published",
    "publication_date",
    "article_date_original",
    "cxenseparse:recs:publishtime",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "og:article:modified_time",
    "datemodified",
    "dcterms.modified",
    "article.updated",
    "last-modified",
    "lastmod",
)
DESCRIPTION_META = ("description", "og:description", "twitter:description")
SITE_META = (
    "og:site_name",
    "application-name",
    "apple-mobile-web-app-title",
    "twitter:site",
    "publisher",
)

# Where a date came from (versions.published_from / modified_from).
FROM_JSON_LD, FROM_META, FROM_TIME, FROM_HTMLDATE = "json-ld", "meta", "time", "htmldate"

# Containers publishers (Piano, Tinypass, Poool, Zephr, Laterpay...) put around a cut
# article or its subscription prompt. The same class names sit, empty or hidden, on many
# free pages: a container counts only when it holds a prompt to subscribe or log in.
TEASER_MARKERS = re.compile(
    r"paywall|piano-|tp-container|tp-modal|subscriber-only|premium-content|metered|"
    r"registration-wall|regwall|poool|zephr|laterpay|article-teaser|plus-teaser|"
    r"subscribe-wall|content-locked|locked-content",
    re.IGNORECASE,
)
# The same, for ASCII text already in lower case: a case-sensitive search of a lowered
# string is many times faster, and for ASCII it is exactly the case-insensitive one.
_TEASER_MARKERS_LOWER = re.compile(TEASER_MARKERS.pattern.lower())
TEASER_PROMPT = re.compile(
    r"subscri|abonn|suscri|assin|register|sign in|log in|login|continue reading|read more|"
    r"weiterlesen|registrieren|anmelden|réservé|reservado|continuar leyendo|"
    r"leia mais|per continuare|購読|会員|订阅",
    re.IGNORECASE,
)
HIDDEN_PART_WORDS = 20
_BYLINE_ATTRIBUTES = etree.XPath(
    "//@class | //@id | //@itemprop | //@rel | //@data-testid | //@data-component",
    smart_strings=False,
)
_BYLINE_ELEMENTS = etree.XPath("//author | //rel")
_BYLINE_NAMES = re.compile(
    r"author|byl|bbl|username|screenname|writer|zuozhe|bianji|xiaobian|channel-name|"
    r"submitted-by|posted-by|journalist-name"
)  # searched in lower-cased values (a superset of what the rules match in any case)
_CLASS_AND_ID = etree.XPath("//body//@class | //body//@id", smart_strings=False)
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class PageMetadata:
    title: str | None  # the headline, without the site's decorations
    title_raw: str | None  # the page's <title> as served
    authors: tuple[str, ...]  # persons first; organisations only without persons
    published: str | None  # as the page wrote it; crawler.extraction.article makes it ISO UTC
    published_from: str | None  # json-ld, meta, time or htmldate
    modified: str | None
    modified_from: str | None
    language: str | None
    description: str | None
    site_name: str | None = None
    canonical: str | None = None  # <link rel="canonical"> as written (maybe relative)
    declared_not_free: bool = False  # JSON-LD isAccessibleForFree: false, at any nesting
    teaser_markers: bool = False  # a paywall or metering container is on the page
    hidden_part_missing: bool = False  # the part it declares paywalled is absent or empty

    @property
    def author(self) -> str | None:
        """The authors as one display string."""
        return ", ".join(self.authors) or None


def page_metadata(tree: etree._Element, url: str | None = None) -> PageMetadata:
    """Read the metadata ``tree`` declares; call before extraction prunes the tree."""
    meta = _meta_tags(tree)
    documents = _json_ld(tree)
    nodes = list(_all_nodes(documents))
    linked = _article_node(nodes)
    site_name = _site_name(meta, linked)
    published, published_from = _published(meta, linked, tree)
    modified, modified_from = _declared_date(meta, linked, MODIFIED_META, "dateModified")
    title_raw = _title_element(tree)
    return PageMetadata(
        title=headlines.headline(
            title_raw=title_raw,
            og_title=meta.get("og:title"),
            declared=_text(linked.get("headline")) or meta.get("twitter:title"),
            h1=_h1(tree),
            h1_alone=_h1_alone(tree),
            site_names=_site_names(site_name, linked, url),
        ),
        title_raw=title_raw,
        authors=_authors(tree, meta, linked, nodes, site_name, url),
        published=published,
        published_from=published_from,
        modified=modified,
        modified_from=modified_from,
        language=_language(tree, meta),
        description=_first(meta, DESCRIPTION_META) or _text(linked.get("description")),
        site_name=site_name,
        canonical=_canonical(tree),
        declared_not_free=any(_not_free(node.get("isAccessibleForFree")) for node in nodes),
        teaser_markers=_teaser_markers(tree),
        hidden_part_missing=_hidden_part_missing(tree, nodes),
    )


# -- the page's declarations -------------------------------------------------------------


def _meta_tags(tree: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in tree.iterfind(".//meta"):
        key = (
            (element.get("property") or element.get("name") or element.get("itemprop") or "")
            .strip()
            .lower()
        )
        value = " ".join((element.get("content") or element.get("value") or "").split())
        if key and value and key not in found:
            found[key] = value
    return found


def _meta_all(tree: etree._Element, keys: tuple[str, ...]) -> list[str]:
    """Every value of the meta tags named ``keys``, in page order (a page may repeat one)."""
    values = []
    for element in tree.iterfind(".//meta"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        value = " ".join((element.get("content") or element.get("value") or "").split())
        if key in keys and value:
            values.append(value)
    return values


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if meta.get(key):
            return meta[key]
    return None


def _json_ld(tree: etree._Element) -> list[Any]:
    documents = []
    for script in tree.xpath("//script[@type='application/ld+json']"):
        text = (script.text or "").strip().removeprefix("<!--").removesuffix("-->")
        try:
            documents.append(json.loads(text, strict=False))
        except (ValueError, RecursionError):  # broken, or nested too deep to read
            continue
    return documents


def _all_nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``data``, at any nesting (``@graph``, ``mainEntity``...), down
    to MAX_JSON_DEPTH levels: deeper ones (hostile or broken markup) are left out."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            continue
        if isinstance(value, dict):
            yield value
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        stack.extend(
            (child, depth + 1) for child in reversed(children) if isinstance(child, dict | list)
        )


def _types(node: dict[str, Any]) -> list[str]:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return [kind.rsplit("/", 1)[-1] for kind in kinds if isinstance(kind, str)]


def _article_node(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The node of the best article type (NewsArticle before Article before WebPage)."""
    best, rank = {}, len(ARTICLE_TYPES)
    for node in nodes:
        for kind in _types(node):
            if kind in ARTICLE_TYPES and ARTICLE_TYPES.index(kind) < rank:
                best, rank = node, ARTICLE_TYPES.index(kind)
    return best


def _not_free(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def _hidden_part_missing(tree: etree._Element, nodes: list[dict[str, Any]]) -> bool:
    """A ``hasPart`` declared not free names its element (``cssSelector``), and the
    page has no such element, or one without text: the body was cut."""
    selectors = [
        node.get("cssSelector")
        for node in nodes
        if _not_free(node.get("isAccessibleForFree")) and isinstance(node.get("cssSelector"), str)
    ]
    for selector in selectors:
        try:
            found = tree.cssselect(selector)
        except (ValueError, SyntaxError):  # cssselect's errors derive from these
            continue
        words = sum(len(element.text_content().split()) for element in found)
        if words < HIDDEN_PART_WORDS:
            return True
    return False


def _teaser_markers(tree: etree._Element) -> bool:
    """A paywall or metering container on the page that prompts the reader to pay."""
    if not _names_paywall(" ".join(_CLASS_AND_ID(tree))):
        return False  # one scan of the plain values settles most pages
    # The names hold no spaces, so a class or id value matches on its own: only the
    # elements with such a value are looked at further.
    names = tree.xpath("//body//@class | //body//@id")
    candidates = {name.getparent() for name in names if _names_paywall(name)}
    for element in candidates:
        if element.tag not in ("script", "style"):
            text = " ".join(element.text_content().split())
            if text and len(text) < 2000 and TEASER_PROMPT.search(text):
                return True
    return False


def _names_paywall(names: str) -> bool:
    if names.isascii():
        return _TEASER_MARKERS_LOWER.search(names.lower()) is not None
    return TEASER_MARKERS.search(names) is not None


def _canonical(tree: etree._Element) -> str | None:
    found = tree.xpath("//link[@rel='canonical']/@href")
    return found[0].strip() or None if found else None


# -- site name -------------------------------------------------------------------------


def _site_name(meta: dict[str, str], linked: dict[str, Any]) -> str | None:
    publisher = linked.get("publisher")
    publisher = publisher[0] if isinstance(publisher, list) and publisher else publisher
    declared = _text(publisher.get("name")) if isinstance(publisher, dict) else None
    site = _first(meta, SITE_META)
    return (site.lstrip("@") if site else None) or declared


def _site_names(site_name: str | None, linked: dict[str, Any], url: str | None) -> set[str]:
    """Every way the site names itself: og:site_name, the publisher, the host's name."""
    names = {site_name} if site_name else set()
    publisher = linked.get("publisher")
    if isinstance(publisher, dict) and _text(publisher.get("name")):
        names.add(_text(publisher.get("name")) or "")
    if url:
        host = re.sub(r"^https?://(www\d?\.|m\.|amp\.)?", "", url).split("/")[0].split(":")[0]
        names.add(host)
        names.add(host.rsplit(".", 1)[0])  # politico.eu -> politico
        names.add(host.split(".")[0])
    return {name for name in names if name}


# -- authors ---------------------------------------------------------------------------


def _authors(
    tree: etree._Element,
    meta: dict[str, str],
    linked: dict[str, Any],
    nodes: list[dict[str, Any]],
    site_name: str | None,
    url: str | None,
) -> tuple[str, ...]:
    site = _site_names(site_name, linked, url)
    declared = _linked_authors(linked.get("author"), nodes)
    declared += [
        Byline(value, None)
        for value in _meta_all(tree, AUTHOR_META)
        if not value.startswith(("http://", "https://", "/"))
    ]
    names = person_names(declared, site)
    if names:
        return names
    found = _visible_byline(tree)
    return person_names([Byline(found.replace(";", ","), None)], site) if found else ()


def _visible_byline(tree: etree._Element) -> str | None:
    """trafilatura's search of the visible byline (``extract_author``), skipped on a page
    where it cannot find one: its rules look only at ``<author>`` (and ``<rel>``)
    elements and at elements whose class, id, itemprop, rel, data-testid or
    data-component names an author, a byline, a writer, a user or an editor
    (``_BYLINE_NAMES`` holds them all, and more). It copies and prunes the page first,
    which costs more than this one scan of the attribute values."""
    names = " ".join(_BYLINE_ATTRIBUTES(tree)).lower()
    if not _BYLINE_NAMES.search(names) and not _BYLINE_ELEMENTS(tree):
        return None
    return extract_author(tree)


def _linked_authors(value: Any, nodes: list[dict[str, Any]]) -> list[Byline]:
    """JSON-LD ``author``: a string, an object, an array, or an ``@id`` reference to a
    node elsewhere in the page's ``@graph``."""
    values = value if isinstance(value, list) else [value]
    found = []
    for item in values:
        if isinstance(item, str):
            found.append(Byline(item, None))
        elif isinstance(item, dict):
            node = _resolve(item, nodes)
            name = node.get("name")
            if isinstance(name, list):
                name = ", ".join(n for n in name if isinstance(n, str))
            if isinstance(name, str):
                kinds = _types(node)
                found.append(Byline(name, kinds[0] if kinds else None))
    return found


def _resolve(node: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, Any]:
    if node.get("name") or not isinstance(node.get("@id"), str):
        return node
    for other in nodes:
        if other.get("@id") == node["@id"] and other.get("name"):
            return other
    return node


# -- headline --------------------------------------------------------------------------


def _title_element(tree: etree._Element) -> str | None:
    found = tree.find(".//title")
    if found is None:
        return None
    return " ".join((found.text_content() or "").split()) or None


def _h1(tree: etree._Element) -> str | None:
    for path in ("//article//h1", "//main//h1", "//h1"):
        for element in tree.xpath(path):
            text = " ".join(element.text_content().split())
            if text:
                return text
    return None


def _h1_alone(tree: etree._Element) -> bool:
    """The page has one headline element: its <h1> is the article's headline."""
    texts = [t for e in tree.xpath("//h1") if (t := " ".join(e.text_content().split()))]
    return len(texts) == 1


# -- dates -----------------------------------------------------------------------------


def _published(
    meta: dict[str, str], linked: dict[str, Any], tree: etree._Element
) -> tuple[str | None, str | None]:
    found = _declared_date(meta, linked, PUBLISHED_META, "datePublished", "dateCreated")
    if found[0]:
        return found
    declared = _time_element(tree)
    if declared:
        return declared, FROM_TIME
    guessed = _guess_date(tree)
    return (guessed, FROM_HTMLDATE) if guessed else (None, None)


def _declared_date(
    meta: dict[str, str], linked: dict[str, Any], keys: tuple[str, ...], *properties: str
) -> tuple[str | None, str | None]:
    for name in properties:
        value = _text(linked.get(name))
        if value and _looks_like_date(value):
            return value, FROM_JSON_LD
    value = _first(meta, keys)
    if value and _looks_like_date(value):
        return value, FROM_META
    return None, None


def _looks_like_date(value: str) -> bool:
    return re.search(r"\d{4}", value) is not None


def _time_element(tree: etree._Element) -> str | None:
    for path in (
        "//*[@itemprop='datePublished']",
        "//article//time[@datetime]",
        "//time[@pubdate][@datetime]",
    ):
        for element in tree.xpath(path):
            value = (element.get("datetime") or element.get("content") or "").strip()
            if value and _looks_like_date(value):
                return value
    return None


def _guess_date(tree: etree._Element) -> str | None:
    # htmldate may prune what it searches: let it work on a copy. Its extensive search
    # hands loose strings to dateparser, which then tries every language it knows:
    # seconds of CPU in each new process, and on the corpus more wrong dates than right
    # ones (docs/quality.md).
    try:
        return htmldate.find_date(
            copy.deepcopy(tree),
            extensive_search=False,
            original_date=True,
            outputformat="%Y-%m-%dT%H:%M:%S%z",
        )
    except (ValueError, TypeError):
        return None


# -- language and text -------------------------------------------------------------------


def _language(tree: etree._Element, meta: dict[str, str]) -> str | None:
    lang = (
        tree.get("lang")
        or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
        or meta.get("og:locale")
        or meta.get("content-language")
    )
    if not lang:
        return None
    return lang.strip().replace("_", "-").split("-")[0].lower() or None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(unicodedata.normalize("NFC", value).split()) or None

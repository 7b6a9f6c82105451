"""A page's headline: its declared titles without the decorations outlets add.

``<title>`` and ``og:title`` often carry the site's name, a section and a date around the
headline ("Germany plans new drones – DW – 13.06.2023", "Headline | POLITICO"); social
networks sometimes get a headline of their own. ``headline`` strips those decorations
and prefers the on-page ``<h1>`` when another declaration confirms it.
"""

from __future__ import annotations

import re
import unicodedata

# A separator between a headline and its decorations: spaced, so "Covid-19" stays whole.
SEPARATOR = re.compile(r"\s+(?:[|–—·•»«:/]|::|-{1,2}|\\)\s+")
DATE = re.compile(
    r"^(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\.?\s+\w+\.?\s+\d{4}|"
    r"\w+\.?\s+\d{1,2},?\s+\d{4}|\d{4})$"
)
SECTION_WORDS = 3  # a trailing part this short, after a long headline, is a section
LONG_HEADLINE_WORDS = 4
HEADLINE_WORDS = 4  # an <h1> shorter than this may be a logo or a section name


def headline(
    *,
    title_raw: str | None,
    og_title: str | None,
    declared: str | None,
    h1: str | None,
    site_names: set[str],
    h1_alone: bool = False,
) -> str | None:
    """The headline of a page from its ``<title>``, ``og:title``, a declared headline
    (JSON-LD ``headline``, ``twitter:title``) and its first ``<h1>``.

    The ``<h1>`` wins when a declaration confirms it, or when it is the page's only
    ``<h1>`` and reads like a headline: social networks and search engines are often
    given a headline of their own (``og:title``, ``<title>``)."""
    site = {_key(name) for name in site_names}
    candidates = [clean(value, site) for value in (declared, og_title, title_raw) if value]
    candidates = [value for value in candidates if value]
    usable = bool(h1) and _key(h1) != "" and not _is_site(h1, site)
    if usable and (
        any(_confirms(h1, value) for value in candidates) or (h1_alone and _reads_like_headline(h1))
    ):
        return clean(h1, site) or h1
    if usable and title_raw and _key(h1) in _parts(title_raw):
        return h1
    return next(iter(candidates), None) or (h1 if h1 and not _is_site(h1, site) else None)


def clean(title: str, site: set[str]) -> str | None:
    """``title`` without the site name, date and section parts at either end."""
    title = " ".join(unicodedata.normalize("NFC", title).split())
    parts = _split(title)
    while len(parts) > 1 and _decoration(parts[-1], site, parts[:-1]):
        parts.pop()
    while len(parts) > 1 and _decoration(parts[0], site, None):
        parts.pop(0)
    text = "".join(parts).strip()
    for separator in SEPARATOR.finditer(text):  # a separator left at an end
        if separator.end() == len(text) or separator.start() == 0:
            text = text.strip(separator.group())
    return text.strip() or None


def _split(title: str) -> list[str]:
    """Parts with their separators kept, so the middle can be joined back as written."""
    parts, start = [], 0
    for separator in SEPARATOR.finditer(title):
        parts.append(title[start : separator.start()])
        parts.append(separator.group())
        start = separator.end()
    parts.append(title[start:])
    # Pair each separator with the part that follows it: ["A", " | B", " – C"].
    merged = [parts[0]]
    for index in range(1, len(parts), 2):
        merged.append(parts[index] + parts[index + 1])
    return merged


def _decoration(part: str, site: set[str], before: list[str] | None) -> bool:
    found = SEPARATOR.match(part)
    separator = found.group().strip() if found else ""
    bare = part[found.end() :].strip() if found else part.strip()
    if not bare or _is_site(bare, site) or DATE.match(bare):
        return True
    if before is None:
        return False
    # A short last part after a long headline, set off by a bar or dash: a section
    # ("Politics", "Opinion", "World news").
    rest_words = len(" ".join(before).split())
    return (
        separator in ("|", "–", "—", "-", "·", "•")
        and len(bare.split()) <= SECTION_WORDS
        and rest_words >= LONG_HEADLINE_WORDS
        and not bare[:1].islower()
    )


def _is_site(text: str, site: set[str]) -> bool:
    key = _key(text)
    return bool(key) and any(
        key == name
        or (len(name) >= 4 and key.startswith(name) and len(key) - len(name) <= 4)
        or (len(key) >= 4 and name.startswith(key))
        for name in site
    )


def _reads_like_headline(text: str) -> bool:
    """Several words (or, in scripts without spaces, several characters)."""
    return len(text.split()) >= HEADLINE_WORDS or (
        " " not in text and len(text) >= 8 and not text.isascii()
    )


def _confirms(h1: str, candidate: str) -> bool:
    """The ``<h1>`` is the headline a declaration gives, or the declaration is the
    ``<h1>`` with a decoration the cleaning did not recognise."""
    a, b = _key(h1), _key(candidate)
    if not a or not b:
        return False
    return a == b or (len(a) >= 0.6 * len(b) and (b.startswith(a) or b.endswith(a)))


def _parts(title: str) -> set[str]:
    return {_key(SEPARATOR.sub("", part)) for part in _split(title)}


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())

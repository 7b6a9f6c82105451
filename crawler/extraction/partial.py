"""Paywalled and teaser pages: recognise them on evidence, never on a class name alone.

A page is partial (``is_partial``) when

- it declares ``isAccessibleForFree: false`` (JSON-LD, at any nesting) and the text
  extracted from it is actually short: a teaser's length, or, when the declaration names
  the paywalled element (``hasPart.cssSelector``) and the page lacks it, short of a full
  article. Publishers declare it on articles anyone reads in full (CNN does on every
  article), so the declaration alone proves nothing;
- a paywall or metering container (Piano, Tinypass, Poool, ...) is on the page and the
  body is cut: the extracted text is a teaser's length. The same containers sit on many
  free pages, so they alone prove nothing;
- or the extracted text is shorter than the feed's own summary of the article.

The version text is the page's text only; the feed summary stays in
``articles.summary`` and is matched separately (``mentions.in_summary``).
"""

from __future__ import annotations

from crawler.items import Article

TEASER_WORDS = 150  # a text this short on a page with a paywall is its teaser
SHORT_WORDS = 350  # shorter than a full article: the declared hidden part is missing


def is_partial(article: Article, summary: str | None) -> bool:
    """Is ``article`` a teaser or paywalled cut of the full text?"""
    words = len(article.text.split())
    if article.declared_not_free and (
        words < TEASER_WORDS or (article.hidden_part_missing and words < SHORT_WORDS)
    ):
        return True
    if article.teaser_markers and words < TEASER_WORDS:
        return True
    return shorter_than_summary(article.text, summary)


def shorter_than_summary(text: str, summary: str | None) -> bool:
    """The page gave less than the feed's summary of it (and not the summary itself)."""
    if not summary:
        return False
    flat, flat_summary = " ".join(text.split()), " ".join(summary.split())
    return len(flat) < len(flat_summary) and flat_summary not in flat

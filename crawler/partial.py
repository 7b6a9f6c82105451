"""Paywalled and teaser pages: recognise them and keep the best text available."""

from __future__ import annotations

from dataclasses import replace

from crawler.extract import Article


def with_summary_if_partial(article: Article, summary: str | None) -> tuple[Article, bool]:
    """``(article, is_partial)``: a page is partial when it declares a paywall or when the
    text extracted from it is shorter than the feed's own summary of it. A partial
    article keeps the feed summary after its text, so a topic mentioned only in the
    summary is still found.
    """
    teaser = bool(summary) and len(article.text) < len(summary or "")
    if not (article.paywalled or teaser):
        return article, False
    if not summary or summary in article.text:
        return article, True
    return replace(article, text=f"{article.text}\n{summary}".strip()), True

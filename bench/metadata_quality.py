"""Metadata on the real-page corpus: presswatch beside trafilatura's ``extract_metadata``.

For every page of tests/corpus with a label in tests/corpus/metadata.json, presswatch's
extraction (``crawler.extraction.article.extract``, what a pass runs on each page, and
``crawler.extraction.partial.is_partial``) and trafilatura's ``extract_metadata`` are compared with
what a reader of the page expects:

- authors: every expected author is named (pages whose authors are labelled);
- date: the publication day is the expected one (the day as the page declares it, or
  the same instant's day in UTC);
- headline: equal to the expected headline (or an accepted variant, such as the same
  headline with its kicker) after normalisation (case, punctuation, spaces);
- paywall: free pages flagged partial (trafilatura has no such figure).

    python bench/metadata_quality.py [--corpus tests/corpus] [--failures]

The ``crawler`` package imported is the first on ``sys.path``: run with
``PYTHONPATH=/path/to/another/checkout`` to measure another version of the code.
"""

from __future__ import annotations

import argparse
import json
import logging
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"


@dataclass
class Found:
    headline: str | None
    authors: list[str]
    day: str | None
    partial: bool | None = None


@dataclass
class Score:
    authors: list[bool] = field(default_factory=list)
    dates: list[bool] = field(default_factory=list)
    headlines: list[bool] = field(default_factory=list)
    partial_free: int = 0
    free: int = 0
    failures: list[str] = field(default_factory=list)


def key(text: str | None) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def names_match(expected: str, found: str) -> bool:
    a, b = key(expected), key(found)
    return bool(a and b) and (a == b or (min(len(a), len(b)) >= 6 and (a in b or b in a)))


def presswatch(html: bytes, url: str | None) -> Found:
    from crawler.extraction import partial
    from crawler.extraction.article import ExtractionError, extract

    try:
        article = extract(html, url)
    except ExtractionError:
        return Found(None, [], None, False)
    authors = list(
        getattr(article, "authors", ())
        or ([a.strip() for a in article.author.split(",")] if article.author else [])
    )
    if hasattr(partial, "is_partial"):
        flagged = partial.is_partial(article, None)
    else:  # the code before per-version metadata
        flagged = partial.with_summary_if_partial(article, None)[1]
    day = article.published_at[:10] if article.published_at else None
    return Found(article.title, authors, day, flagged)


def trafilatura_metadata(html: bytes, url: str | None) -> Found:
    from trafilatura import extract_metadata

    document = extract_metadata(html.decode("utf-8", errors="replace"), default_url=url)
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    return Found(document.title, authors, document.date[:10] if document.date else None)


def score(found: Found, expected: dict[str, Any], score: Score, name: str) -> None:
    if expected.get("authors"):
        ok = all(any(names_match(e, f) for f in found.authors) for e in expected["authors"])
        score.authors.append(ok)
        if not ok:
            score.failures.append(f"{name} authors: {found.authors} != {expected['authors']}")
    if expected.get("published"):
        days = {expected["published"], expected.get("published_utc")}
        ok = found.day in days
        score.dates.append(ok)
        if not ok:
            score.failures.append(f"{name} date: {found.day} != {expected['published']}")
    if expected.get("headline"):
        accepted = {key(expected["headline"]), *(key(h) for h in expected.get("headline_also", []))}
        ok = key(found.headline) in accepted
        score.headlines.append(ok)
        if not ok:
            score.failures.append(
                f"{name} headline: {found.headline!r} != {expected['headline']!r}"
            )
    if found.partial is not None and not expected.get("paywalled"):
        score.free += 1
        score.partial_free += int(found.partial)
        if found.partial:
            score.failures.append(f"{name} flagged partial, but free")


def measure(corpus: Path) -> dict[str, Score]:
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    pages = {p["id"]: p for p in json.loads((corpus / "index.json").read_text())["pages"]}
    labels = json.loads((corpus / "metadata.json").read_text())["pages"]
    scores = {"presswatch": Score(), "trafilatura": Score()}
    for page_id, expected in labels.items():
        page = pages[page_id]
        html = (corpus / page["file"]).read_bytes()
        score(presswatch(html, page["url"]), expected, scores["presswatch"], page_id)
        score(trafilatura_metadata(html, page["url"]), expected, scores["trafilatura"], page_id)
    return scores


def metadata_table(corpus: Path = CORPUS, failures: bool = False) -> str:
    """The metadata table, as Markdown."""
    scores = measure(corpus)

    def share(values: list[bool]) -> str:
        return f"{100 * sum(values) / len(values):.1f}% ({sum(values)}/{len(values)})"

    ours, theirs = scores["presswatch"], scores["trafilatura"]
    lines = [
        "| figure | presswatch | trafilatura |",
        "|---|---|---|",
        f"| every expected author named | {share(ours.authors)} | {share(theirs.authors)} |",
        f"| publication date, same day | {share(ours.dates)} | {share(theirs.dates)} |",
        f"| headline equal (normalised) | {share(ours.headlines)} | {share(theirs.headlines)} |",
        f"| free pages flagged partial | {ours.partial_free} of {ours.free} | — |",
    ]
    if failures:
        lines += [
            "",
            "presswatch misses:",
            *ours.failures,
            "",
            "trafilatura misses:",
            *theirs.failures,
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--failures", action="store_true", help="list every miss")
    args = parser.parse_args()
    print(metadata_table(args.corpus, args.failures))


if __name__ == "__main__":
    main()

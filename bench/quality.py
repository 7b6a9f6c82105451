"""Text quality on the real-page corpus: presswatch's extraction beside bare trafilatura.

    python bench/quality.py [--by set,script,language,outlet] [--json FILE] [--serve]

Every page of tests/corpus/ goes through presswatch's own extraction path (the worker
function of pipelines/extract.py: crawler.extraction.article with its minimum-text rule; a refused
page stores nothing) and through bare ``trafilatura.extract``, both given the page
decoded the way the crawler decodes a download without a charset header. Scores:

- body bag-of-words F1 against the full expected text (sets that give one); words are
  lower-cased NFKC tokens, and in scripts written without spaces (Chinese, Japanese,
  Thai, ...) every character is a token;
- snippet precision / recall / F1 (sets that give "with" / "without" snippets): a
  "with" snippet found is a true positive, missed a false negative, a "without"
  snippet found a false positive, summed over the pages of a group;
- pages refused (presswatch stores nothing; bare trafilatura returns nothing).

``--serve`` also serves the corpus on 127.0.0.1 and runs ``presswatch run`` over it (one
feed per set), and reports how many pages a real pass stored and the body scores of
the stored texts. Each table is one function, so other figures (metadata) can be added
as tables of their own.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
CORPUS = ROOT / "tests" / "corpus"
sys.path[:0] = [str(ROOT)]

import trafilatura  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from bench.metadata_quality import metadata_table  # noqa: E402
from crawler.extraction.article import ExtractionError  # noqa: E402
from pipelines.extract import process_page  # noqa: E402

SYSTEMS = ("presswatch", "trafilatura")
# Scripts written without spaces between words: every character is a token.
SPACELESS = re.compile(
    r"[\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
TOKEN = re.compile(rf"{SPACELESS.pattern}|[^\W_]+")


@dataclass
class Score:
    """One system on one page."""

    refused: bool
    f1: float | None = None  # body bag-of-words F1, when the set gives the text
    tp: int = 0  # snippet counts, when the set gives snippets
    fn: int = 0
    fp: int = 0
    tn: int = 0


@dataclass
class PageResult:
    page: dict
    scores: dict[str, Score] = field(default_factory=dict)


def load_index(corpus: Path = CORPUS) -> list[dict]:
    return json.loads((corpus / "index.json").read_text(encoding="utf-8"))["pages"]


def decode(raw: bytes, url: str | None) -> tuple[str, str]:
    """The page as the crawler decodes it: Scrapy's encoding detection, no header."""
    response = HtmlResponse(url or "http://corpus.invalid/", body=raw)
    return response.text, response.encoding


def presswatch_text(raw: bytes, url: str | None) -> str | None:
    """What a pass stores as the article text; None when it refuses the page."""
    _, encoding = decode(raw, url)
    try:
        article, _ = process_page(raw, encoding, url or "", None)
    except ExtractionError:
        return None
    return article.text


def trafilatura_text(raw: bytes, url: str | None) -> str | None:
    text, _ = decode(raw, url)
    return trafilatura.extract(text, url=url) or None


def normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def tokens(text: str) -> Counter[str]:
    return Counter(TOKEN.findall(normal(text)))


def bow_f1(got: str, expected: str) -> float:
    found, wanted = tokens(got), tokens(expected)
    common = sum((found & wanted).values())
    if not common:
        return 0.0
    precision, recall = common / sum(found.values()), common / sum(wanted.values())
    return 2 * precision * recall / (precision + recall)


def score(page: dict, text: str | None) -> Score:
    result = Score(refused=text is None)
    got = normal(text or "")
    if "text" in page:
        result.f1 = bow_f1(text or "", page["text"])
    for snippet in page.get("with", []):
        if normal(snippet) in got:
            result.tp += 1
        else:
            result.fn += 1
    for snippet in page.get("without", []):
        if normal(snippet) in got:
            result.fp += 1
        else:
            result.tn += 1
    return result


EXTRACTORS: dict[str, Callable[[bytes, str | None], str | None]] = {
    "presswatch": presswatch_text,
    "trafilatura": trafilatura_text,
}


def evaluate(pages: list[dict], corpus: Path = CORPUS) -> list[PageResult]:
    results = []
    for page in pages:
        raw = (corpus / page["file"]).read_bytes()
        result = PageResult(page)
        for name, extractor in EXTRACTORS.items():
            result.scores[name] = score(page, extractor(raw, page["url"]))
        results.append(result)
    return results


# -- tables -------------------------------------------------------------------------


def summarise(scores: list[Score]) -> dict[str, float | int | None]:
    """Figures of one system over a group of pages."""
    f1s = [s.f1 for s in scores if s.f1 is not None]
    tp, fn, fp = (sum(getattr(s, k) for s in scores) for k in ("tp", "fn", "fp"))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    snippet_f1 = (
        2 * precision * recall / (precision + recall)
        if precision and recall
        else (0.0 if tp + fn else None)
    )
    return {
        "pages": len(scores),
        "refused": sum(s.refused for s in scores),
        "text_pages": len(f1s),
        "body_f1": sum(f1s) / len(f1s) if f1s else None,
        "snippet_precision": precision,
        "snippet_recall": recall,
        "snippet_f1": snippet_f1,
    }


def grouped(results: Iterable[PageResult], key: str) -> dict[str, list[PageResult]]:
    groups: dict[str, list[PageResult]] = defaultdict(list)
    for result in results:
        groups[str(result.page[key])].append(result)
    return dict(sorted(groups.items()))


def body_rows(results: list[PageResult], key: str | None) -> list[tuple[str, dict]]:
    """(group, {system: figures}) rows of the body table, then the overall row."""
    groups = grouped(results, key) if key else {}
    groups["overall"] = results
    return [
        (name, {system: summarise([r.scores[system] for r in members]) for system in SYSTEMS})
        for name, members in groups.items()
    ]


def _cell(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def body_table(results: list[PageResult], key: str | None) -> str:
    """A Markdown table: body F1, snippet P/R/F1 and refusals, presswatch | trafilatura."""
    head = (
        f"| {key or 'all'} | pages | refused pw / tr | body F1 pw | body F1 tr | "
        "snippet P pw / tr | snippet R pw / tr | snippet F1 pw | snippet F1 tr |"
    )
    lines = [head, "|" + "---|" * 9]
    for name, by in body_rows(results, key):
        pw, tr = by["presswatch"], by["trafilatura"]
        lines.append(
            f"| {name} | {pw['pages']} | {pw['refused']} / {tr['refused']} | "
            f"{_cell(pw['body_f1'])} | {_cell(tr['body_f1'])} | "
            f"{_cell(pw['snippet_precision'])} / {_cell(tr['snippet_precision'])} | "
            f"{_cell(pw['snippet_recall'])} / {_cell(tr['snippet_recall'])} | "
            f"{_cell(pw['snippet_f1'])} | {_cell(tr['snippet_f1'])} |"
        )
    return "\n".join(lines)


def refused_table(results: list[PageResult]) -> str:
    """The pages presswatch refuses, with their script: a refused page loses everything."""
    refused = [r.page for r in results if r.scores["presswatch"].refused]
    lines = ["| refused page | script | bare trafilatura found text |", "|---|---|---|"]
    for page in refused:
        found = not next(r for r in results if r.page is page).scores["trafilatura"].refused
        lines.append(f"| {page['id']} | {page['script']} | {'yes' if found else 'no'} |")
    return "\n".join(lines)


# -- a real pass over the corpus ----------------------------------------------------


def served_pass(pages: list[dict], corpus: Path = CORPUS) -> tuple[int, list[PageResult]]:
    """Serve the corpus on 127.0.0.1 (one RSS feed per set), run ``presswatch run`` over
    it and score the texts it stored. Returns (pages stored, results)."""
    import sqlite_utils

    from crawler.demo.localsite import LocalSite

    with tempfile.TemporaryDirectory() as tmp:
        site_root = Path(tmp) / "site"
        by_set: dict[str, list[tuple[str, dict]]] = defaultdict(list)
        for number, page in enumerate(pages):
            # ".htm": served without a charset, as most servers do not declare one
            path = f"{page['set']}/p{number}.htm"
            (site_root / path).parent.mkdir(parents=True, exist_ok=True)
            (site_root / path).write_bytes((corpus / page["file"]).read_bytes())
            by_set[page["set"]].append((path, page))
        for name, members in by_set.items():
            items = "".join(
                f"<item><title>{n}</title><link>{{{{BASE}}}}/{path}</link>"
                f"<guid>{{{{BASE}}}}/{path}</guid></item>"
                for n, (path, _) in enumerate(members)
            )
            (site_root / f"{name}.xml").write_text(
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
                f"<link>{{{{BASE}}}}/</link><description>corpus</description>{items}"
                "</channel></rss>",
                encoding="utf-8",
            )
        db_path = Path(tmp) / "quality.db"
        with LocalSite(site_root) as site:
            sources = "".join(
                f'[[sources]]\nname = "{name}"\nurl = "{site.url(name + ".xml")}"\n\n'
                for name in by_set
            )
            config = Path(tmp) / "config.toml"
            config.write_text(
                f'[storage]\ndb = "{db_path}"\n\n[crawl]\n'
                "allow_private_addresses = true\ntimeout = 30\n\n" + sources,
                encoding="utf-8",
            )
            subprocess.run(
                [sys.executable, "-m", "crawler", "run", "--config", str(config)],
                cwd=ROOT,
                check=False,
                capture_output=True,
            )
            urls = {site.url(path): page for members in by_set.values() for path, page in members}
        db = sqlite_utils.Database(db_path)
        stored = {
            row["url"]: row["text"]
            for row in db.query(
                "SELECT a.url, v.text FROM articles a "
                "JOIN versions v ON v.id = a.current_version_id"
            )
        }
        # a page whose rel=canonical stays on the site is stored under that address
        aliases = {
            row["url"]: row["text"]
            for row in db.query(
                "SELECT l.url, v.text FROM article_aliases l JOIN articles a "
                "ON a.id = l.article_id JOIN versions v ON v.id = a.current_version_id"
            )
        }
        db.conn.close()
    results = []
    for url, page in urls.items():
        result = PageResult(page)
        result.scores["presswatch"] = score(page, stored.get(url, aliases.get(url)))
        result.scores["trafilatura"] = score(
            page, trafilatura_text((corpus / page["file"]).read_bytes(), page["url"])
        )
        results.append(result)
    return len(stored), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--by",
        default="set,script",
        help="comma-separated page fields to group by (set, script, language, outlet)",
    )
    parser.add_argument("--json", type=Path, help="also write every page's scores here")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="also run a real pass over the corpus served on 127.0.0.1",
    )
    args = parser.parse_args()
    pages = load_index()
    results = evaluate(pages)
    print(
        f"{len(pages)} pages, {len({p['outlet'] for p in pages})} outlets; "
        f"pw = presswatch, tr = bare trafilatura {trafilatura.__version__}\n"
    )
    for key in args.by.split(","):
        print(body_table(results, key.strip()) + "\n")
    print(refused_table(results) + "\n")
    print("Metadata (tests/corpus/metadata.json), beside trafilatura's extract_metadata:\n")
    print(metadata_table(CORPUS) + "\n")
    if args.serve:
        stored, served = served_pass(pages)
        print(f"presswatch run over the served corpus: {stored} / {len(pages)} pages stored\n")
        print(body_table(served, "script") + "\n")
    if args.json:
        args.json.write_text(
            json.dumps(
                [{"id": r.page["id"], **{s: vars(r.scores[s]) for s in SYSTEMS}} for r in results],
                indent=1,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()

"""A corpus of real-looking news pages for the benchmarks, generated from the demo site.

Pages are the size and shape of real news pages (about 170 KB, like the pages of public
extraction benchmarks: a large navigation menu,
inline scripts and JSON, sidebars, comments, a footer) around an article of 8-14
paragraphs drawn from the bundled demo articles, so extraction does real work.
"""

from __future__ import annotations

import html
import random
import re
from pathlib import Path

from crawler.demo import DEMO_SITE

PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
WORDS = (
    "defence",
    "ministers",
    "alliance",
    "budget",
    "border",
    "summit",
    "sanctions",
    "frigate",
    "Arctic",
    "Baltic",
    "parliament",
    "treaty",
    "drone",
    "missile",
    "radar",
)


def demo_paragraphs() -> list[str]:
    """Every body paragraph of the bundled demo articles, as plain text."""
    found: list[str] = []
    for page in sorted(DEMO_SITE.rglob("*.html")):
        body = page.read_text(encoding="utf-8")
        article = body[body.find("<article") : body.find("</article>")]
        for match in PARAGRAPH.findall(article):
            text = html.unescape(re.sub(r"<[^>]+>", "", match)).strip()
            if len(text.split()) > 25:
                found.append(text)
    return found


def write_corpus(root: Path, articles: int, feeds: int, seed: int = 7) -> list[Path]:
    """Write ``articles`` pages spread over ``feeds`` RSS feeds; return the page paths."""
    rng = random.Random(seed)
    paragraphs = demo_paragraphs()
    pages = []
    for number in range(articles):
        feed = number % feeds
        path = root / f"outlet{feed}" / f"story-{number:05d}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} report number {number}"
        body = rng.sample(paragraphs, rng.randint(8, 14))
        path.write_text(page(title, body, number, rng), encoding="utf-8")
        pages.append(path)
    for feed in range(feeds):
        write_feed(
            root / f"outlet{feed}", feed, [p for p in pages if p.parent.name == f"outlet{feed}"]
        )
    return pages


def write_feed(folder: Path, feed: int, pages: list[Path]) -> None:
    items = "".join(
        f"<item><title>Story {p.stem}</title><link>{{{{BASE}}}}/{folder.name}/{p.name}</link>"
        f"<pubDate>Mon, 23 Nov 2026 08:{i % 60:02d}:00 GMT</pubDate>"
        f"<description>Summary of {p.stem}.</description></item>"
        for i, p in enumerate(pages)
    )
    (folder / "feed.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet {feed}</title>'
        f"<link>{{{{BASE}}}}/{folder.name}/</link><description>Bench outlet</description>"
        f"{items}</channel></rss>",
        encoding="utf-8",
    )


def change_page(path: Path, rng: random.Random) -> None:
    """Edit one article the way newsrooms do: a sentence added to its last paragraph."""
    text = path.read_text(encoding="utf-8")
    at = text.rfind("</p>", 0, text.find("</article>"))
    addition = f" Officials added on Tuesday that talks would resume (update {rng.random():.6f})."
    path.write_text(text[:at] + addition + text[at:], encoding="utf-8")


def page(title: str, paragraphs: list[str], number: int, rng: random.Random) -> str:
    nav = "".join(
        f'<li><a href="/section/{i}">Section {i} {rng.choice(WORDS)}</a></li>' for i in range(450)
    )
    script = "".join(
        f'{{"id":{i},"k":"{rng.choice(WORDS)}","v":{rng.random():.8f}}},' for i in range(2400)
    )
    related = "".join(
        f'<li><a href="/story-{rng.randint(0, 99999)}.html">{rng.choice(WORDS)} '
        f"{rng.choice(WORDS)} and the {rng.choice(WORDS)}</a></li>"
        for _ in range(160)
    )
    comments = "".join(
        f'<div class="comment"><b>reader{i}</b><p>I think the '
        f"{rng.choice(WORDS)} matters more than the {rng.choice(WORDS)}.</p></div>"
        for i in range(20)
    )
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | Bench Outlet</title>
<meta name="author" content="Reporter {number % 37}">
<meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="2026-11-23T08:{number % 60:02d}:00Z">
<script>window.__STATE__ = [{script}];</script>
<style>{"".join(f".c{i}{{margin:{i}px}}" for i in range(400))}</style></head>
<body><header><nav><ul>{nav}</ul></nav></header>
<div class="cookie">We use cookies to improve your experience. Accept all cookies.</div>
<main><article><h1>{html.escape(title)}</h1><p class="byline">By Reporter {number % 37}</p>
{body}</article>
<aside><h2>Most read</h2><ul>{related}</ul></aside>
<section class="comments"><h2>Comments</h2>{comments}</section></main>
<footer><ul>{nav}</ul><p>Copyright Bench Outlet. All rights reserved.</p></footer>
</body></html>"""

"""presswatch's own pages and feeds in ``presswatch serve``, asked through Datasette's
own test client: rendered diffs and snippets, search results, the dashboard, an
article's timeline and the Atom feeds (feedparser and the RFC 4287 RELAX NG schema)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import httpx
import pytest
from digest_fixtures import HOSTILE, Desk
from lxml import etree

from crawler.outputs.datasette import make_datasette
from crawler.tracking.diffs import diff_texts

pytest.importorskip("datasette")
SCHEMA = Path(__file__).parent / "fixtures" / "atom.rnc"
ATTACK = "<img src=x onerror=alert(1)>"


def when(days_ago: float) -> str:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def atom_schema() -> etree.RelaxNG:
    """RFC 4287's RELAX NG grammar (Appendix B), from compact to XML syntax."""
    rnc2rng = pytest.importorskip("rnc2rng")
    xml = rnc2rng.dumps(rnc2rng.load(str(SCHEMA)))
    xml = xml.replace(' xmlns:local=""', "")  # "local" is the empty namespace, kept as ns=""
    return etree.RelaxNG(etree.fromstring(xml.encode("utf-8")))


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    """A database with a hostile headline, snippet and diff, an edited article with three
    versions, and a topic nothing matched."""
    desk = Desk.open(tmp_path / "presswatch.db")
    desk.source("Brussels Ledger")
    desk.source("Nordic Security Review")
    for topic in ("NATO", "Greenland", "Arctic"):
        desk.topic(topic)
    bad = desk.article("Brussels Ledger", HOSTILE, when(3), text=f"The NATO summit. {HOSTILE}")
    desk.mention("NATO", bad, when(3), snippet=f"… {HOSTILE} **NATO** {ATTACK} …")
    talks = desk.article("Nordic Security Review", "Greenland talks open", when(2))
    desk.mention("Greenland", talks, when(2))
    desk.mention("NATO", talks, when(2))
    before, after = "Ministers said the talks were final.", f"Ministers denied it. {HOSTILE}"
    first = desk.change(talks, when(1.5), diff="Ministers [-said-]{+denied+} it.")
    second = desk.change(
        talks, when(1), kind="retitled", title_after=f"Greenland talks stall {HOSTILE}"
    )
    hostile_diff = diff_texts(before, after).html
    with desk.store.transaction():
        desk.store.db["changes"].update(
            first, {"diff_html": hostile_diff, "kinds": '["lede", "stealth"]', "significance": 0.42}
        )
        # a tampered row: markup that presswatch never writes must still show as text
        desk.store.db["changes"].update(
            second, {"diff_html": f"<p>x</p><script>alert(1)</script>{ATTACK}"}
        )
    yield desk
    desk.store.close()


def get(db: Path, *paths: str) -> list[httpx.Response]:
    async def fetch() -> list[httpx.Response]:
        datasette = make_datasette(db)
        await datasette.invoke_startup()
        return [await datasette.client.get(path) for path in paths]

    return asyncio.run(fetch())


def page(db: Path, path: str) -> str:
    [response] = get(db, path)
    assert response.status_code == 200, response.text[:300]
    return response.text


class Tags(HTMLParser):
    """The elements and attributes of a page, as a browser would build them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]


def assert_inert(html: str) -> None:
    parsed = Tags(html)
    assert "img" not in parsed.tags
    assert parsed.tags.count("script") == html.count("<script")  # Datasette's own only
    assert "<script>alert(1)" not in html
    assert not any(
        (value or "").lower().startswith("javascript:") for _, name, value in parsed.attrs
    )


# --- cells --------------------------------------------------------------------------


def test_a_change_row_shows_its_diff_not_html_source(desk):
    db = Path(desk.store.path)
    html = page(db, "/presswatch/changes/1")
    assert '<div class="presswatch-diff">' in html
    assert "<del>" in html
    assert "<ins>" in html and "&lt;ins&gt;" not in html  # rendered, not shown as source
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the headline's text, escaped
    assert_inert(html)


def test_markup_presswatch_never_writes_stays_text_in_a_diff(desk):
    html = page(Path(desk.store.path), "/presswatch/changes/2")
    assert "<p>x</p>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert_inert(html)


def test_snippets_show_their_matches_highlighted_and_other_columns_stay_text(desk):
    db = Path(desk.store.path)
    for path in ("/presswatch/mentions", "/presswatch/mention_feed"):
        html = page(db, path)
        assert re.search(r"<mark[^>]*>NATO</mark> &lt;img src=x onerror=alert\(1\)&gt;", html)
        assert "**NATO**" not in html
        assert_inert(html)
    versions = page(db, "/presswatch/versions")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in versions and "<mark" not in versions


def test_the_feed_views_link_to_the_timeline_and_the_diff(desk):
    db = Path(desk.store.path)
    changes = page(db, "/presswatch/change_feed")
    assert '<a href="/-/presswatch/article/2">2</a>' in changes
    assert '<a href="/-/presswatch/diff/1">1</a>' in changes
    assert '<a href="/-/presswatch/article/1">1</a>' in page(db, "/presswatch/mention_feed")


# --- pages --------------------------------------------------------------------------


def test_search_all_shows_titles_and_snippets_not_bodies(desk):
    db = Path(desk.store.path)
    desk.article("Brussels Ledger", "Long read", when(1), text="NATO " + "filler words " * 400)
    html = page(db, "/-/search?q=NATO")
    assert "Long read" in html
    assert html.count("filler words") < 40  # a snippet, never the whole text
    assert re.search(r"<mark[^>]*>NATO</mark>", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert_inert(html)
    assert 'href="/-/presswatch/article/' in html


def test_search_with_a_stray_quote_is_answered(desk):
    html = page(Path(desk.store.path), "/-/search?q=%22NATO")
    assert "Articles" in html


def test_the_dashboard_charts_topics_outlets_and_the_most_edited(desk):
    html = page(Path(desk.store.path), "/-/presswatch/dashboard")
    assert "Mentions per topic per day" in html and "Edits per outlet per week" in html
    charted = re.findall(r"<b>([^<]+)</b> <span class=\"muted\">(\d+)</span>", html)
    assert ("NATO", "2") in charted and ("Greenland", "1") in charted
    assert ("Nordic Security Review", "2") in charted  # two edits this fortnight
    assert "Arctic" not in html  # no mention: no row
    most = html.split('id="most-edited"')[1]
    assert "Greenland talks stall" in most and "2</td>" in most
    assert "<svg" not in html and "<script" not in html  # plain HTML and CSS bars
    assert_inert(html)


def test_an_article_page_shows_its_versions_on_a_timeline(desk):
    html = page(Path(desk.store.path), "/-/presswatch/article/2")
    dots = re.findall(r'<div class="dot (\w+)" style="left:([\d.]+)%"', html)
    assert [kind for kind, _ in dots] == ["first", "edited", "retitled"]
    assert [float(left) for _, left in dots] == [0.0, 50.0, 100.0]
    assert 'href="/-/presswatch/diff/1"' in html
    assert '<td>lede, stealth <span class="muted">significance 0.42</span></td>' in html
    assert_inert(html)


def test_the_full_diff_page(desk):
    html = page(Path(desk.store.path), "/-/presswatch/diff/1")
    assert "<ins>" in html and "Greenland talks" in html
    assert_inert(html)
    missing = get(Path(desk.store.path), "/-/presswatch/diff/99", "/-/presswatch/article/99")
    assert [r.status_code for r in missing] == [404, 404]


# --- feeds --------------------------------------------------------------------------


def feed(db: Path, path: str, schema: etree.RelaxNG) -> feedparser.FeedParserDict:
    [response] = get(db, path)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/atom+xml")
    document = etree.fromstring(response.content)
    assert schema.validate(document), schema.error_log
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_a_topic_feed_carries_mentions_and_edits(desk, atom_schema):
    parsed = feed(Path(desk.store.path), "/feeds/topic/Greenland.atom", atom_schema)
    titles = [entry.title for entry in parsed.entries]
    assert titles == [
        f"Retitled: Greenland talks stall {HOSTILE}",
        "Edited: Greenland talks open",  # the headline of that version
        f"[Greenland] Greenland talks stall {HOSTILE}",  # the article's current headline
    ]
    edited = parsed.entries[1]
    assert "<ins" in edited.content[0].value and "denied" in edited.content[0].value
    diff_links = [link.href for link in edited.links if link.rel == "related"]
    assert diff_links == ["http://localhost/-/presswatch/diff/1"]
    assert edited.link.startswith("https://nordic-security-review.example/")
    assert len({entry.id for entry in parsed.entries}) == 3


def test_hostile_text_in_a_feed_is_text(desk, atom_schema):
    parsed = feed(Path(desk.store.path), "/feeds/topic/NATO.atom", atom_schema)
    hostile = [e for e in parsed.entries if e.title == f"[NATO] {HOSTILE}"]
    assert hostile, [e.title for e in parsed.entries]
    content = hostile[0].content[0].value
    assert "<script" not in content and "<img" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


def test_an_article_feed_carries_its_edits(desk, atom_schema):
    parsed = feed(Path(desk.store.path), "/feeds/article/2.atom", atom_schema)
    assert [entry.id for entry in parsed.entries] == [
        "urn:presswatch:change:2",
        "urn:presswatch:change:1",
    ]
    assert "Headline before" in parsed.entries[0].content[0].value


def test_nothing_matched_is_an_empty_feed_and_unknown_names_are_not_found(desk, atom_schema):
    empty = feed(Path(desk.store.path), "/feeds/topic/Arctic.atom", atom_schema)
    assert empty.entries == [] and empty.feed.title == "presswatch: Arctic"
    unedited = feed(Path(desk.store.path), "/feeds/article/1.atom", atom_schema)
    assert unedited.entries == []
    missing = get(Path(desk.store.path), "/feeds/topic/Nothing.atom", "/feeds/article/99.atom")
    assert [r.status_code for r in missing] == [404, 404]


def test_the_canned_query_feed_still_works(desk):
    [response] = get(Path(desk.store.path), "/presswatch/mention_atom.atom")
    assert response.status_code == 200
    assert not feedparser.parse(response.content).bozo

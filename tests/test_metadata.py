"""Metadata as real publishers declare it: authors, headlines, dates and paywall state,
asserted on pages of the real-page corpus (tests/corpus), and what a pass stores of it:
per-version metadata, the article following its current version, paywall changes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import SITES, rows, run_cli
from trafilatura.metadata import extract_author
from trafilatura.utils import load_html

from crawler.demo.localsite import LocalSite
from crawler.extraction.article import extract
from crawler.extraction.bylines import Byline, person_names, split_byline
from crawler.extraction.metadata import _visible_byline, page_metadata
from crawler.extraction.partial import is_partial
from crawler.items import Article
from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import connect

CORPUS = Path(__file__).parent / "corpus"
PAGES = {
    page["id"]: page
    for page in json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))["pages"]
}
NOW = "2026-11-25T08:00:00+0000"


def corpus_article(page_id: str) -> Article:
    page = PAGES[page_id]
    return extract((CORPUS / page["file"]).read_bytes(), page["url"])


# -- authors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_id", "authors"),
    [
        # a byline meta tag (written with value=, not content=) naming four reporters
        (
            "postlight/www.nytimes.com",
            ("Marc Santora", "William K. Rashbaum", "Al Baker", "Adam Goldman"),
        ),
        # the NewsArticle node's two authors, not the WebPage node's one @id reference
        ("trafilatura/theintercept.com-Gaza", ("Ibtisam Mahdi", "Ruwaida Kamal Amer")),
        # an @id reference to a Person node elsewhere in the @graph
        ("trafilatura/legrandcontinent.eu.heran", ("Gilles Gressani",)),
        # "Dana A. Ford, James S.A. Corey, Chien-Ming Wang, and Tom Watkins, CNN"
        (
            "newspaper4k/cnn_article",
            ("Dana A. Ford", "James S.A. Corey", "Chien-Ming Wang", "Tom Watkins"),
        ),
        # "Süddeutsche.de GmbH, Munich, Germany" beside a person; "Berlin" is a dateline
        ("trafilatura/sueddeutsche.de.flixtrain", ("Markus Balser",)),
        # a JSON-LD Person without a name: the visible byline "Par Stefan Häne, Sylvain Besson"
        ("trafilatura/tdg.ch.chlorothalonil", ("Stefan Häne", "Sylvain Besson")),
    ],
)
def test_every_declared_author_is_named_and_nothing_else(page_id, authors):
    article = corpus_article(page_id)
    assert article.authors == authors
    assert article.author == ", ".join(authors)


def test_bylines_are_split_into_people():
    assert split_byline("By Jane Doe and John Roe") == ["Jane Doe", "John Roe"]
    assert split_byline("Mike Cason | mcason@al.com") == ["Mike Cason"]
    assert split_byline("Von Luana Patriolino e Raphael Felice") == [
        "Luana Patriolino",
        "Raphael Felice",
    ]
    assert split_byline("Oli Coleman View author archive Get author RSS feed") == ["Oli Coleman"]


def test_persons_come_before_organisations_and_the_site_is_no_author():
    declared = [
        Byline("Deutsche Welle (www.dw.com)", None),
        Byline("Condé Nast", None),
        Byline("Jane Doe", "Person"),
        Byline("DW", "Organization"),
    ]
    assert person_names(declared, {"dw.com", "dw"}) == ("Jane Doe",)
    only_organisations = [Byline("Deutsche Presse-Agentur GmbH", None)]
    assert person_names(only_organisations, set()) == ("Deutsche Presse-Agentur GmbH",)


# -- headlines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_id", "headline"),
    [
        # the <h1> is the logo; "<headline> - POLITICO" in <title>
        (
            "trafilatura/politico.com.retirement",
            "Mark Meadows accused of timing retirement to help elect wife’s friend",
        ),
        # og:title and <title> carry another headline for social networks than the page's <h1>
        (
            "postlight/www.miamiherald.com",
            "From Metrorail to bike paths, this is what CEOs think of public transit",
        ),
        # the <h1> is the logo ("POLITICO Politico Logo")
        ("postlight/www.politico.com", "Insiders: Trump will sink Pence in VP debate"),
        # "… | DW | 19.01.2020": the site name and a date
        (
            "trafilatura/dw.com.colonial",
            "Berlin confronts Germany's colonial past with new initiative",
        ),
        # "… : 31.10.2023, 10.19 Uhr"
        ("trafilatura/kyffhaeuser-nachrichten.de-Regen", "So viel Regen gab es lange nicht"),
        # " - La Stampa" after the headline, and no usable <h1>
        (
            "trafilatura/lastampa.it.temperature",
            "Perturbazione polare al Centro e al Sud. "
            "Il Nord, scavalcato, mantiene temperature alte",
        ),
        # "… | AOC media - Analyse Opinion Critique": the site name and its slogan
        ("trafilatura/aoc.media.archaisme", "Pour le néolibéralisme, la retraite est un archaïsme"),
    ],
)
def test_the_headline_is_the_pages_without_decorations(page_id, headline):
    article = corpus_article(page_id)
    assert article.title == headline
    assert article.title_raw != headline  # the <title> as served is kept beside it


# -- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_id", "published", "modified"),
    [
        (
            "trafilatura/legrandcontinent.eu.heran",
            ("2020-03-02T19:30:06Z", "json-ld"),
            ("2020-03-03T13:52:27Z", "json-ld"),
        ),
        # article:published_time and article:modified_time, no longer confused
        (
            "postlight/www.androidcentral.com",
            ("2017-01-13T21:45:08Z", "meta"),
            ("2017-04-04T20:44:00Z", "meta"),
        ),
        # JSON-LD's datePublished before a meta date that is a day later
        (
            "trafilatura/www1.wdr.de-Correctiv-Recherche",
            ("2023-11-06T17:19:00Z", "json-ld"),
            ("2023-11-07T09:14:00Z", "json-ld"),
        ),
        # nothing declared: htmldate finds the day on the page
        ("trafilatura/dw.com.colonial", ("2020-01-19", "htmldate"), (None, None)),
        # nothing declared and no date on the page (the article is of 2016-12-13):
        # no date, rather than the 2022-01-01 that htmldate's extensive search guessed
        ("postlight/www.refinery29.com", (None, None), (None, None)),
    ],
)
def test_published_and_modified_dates_with_their_source(page_id, published, modified):
    article = corpus_article(page_id)
    assert (article.published_at, article.published_from) == published
    assert (article.modified_at, article.modified_from) == modified


# -- paywall state ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page_id",
    [
        "trafilatura/handelsblatt.com.grenzschliessungen",  # isAccessibleForFree: false, full text
        "trafilatura/die-tagespost.de.Demut",  # likewise
        "trafilatura/rnz.de.witzel",  # a "paywall" class on a short free page
        "trafilatura/badische-zeitung.de-Wohnungssuche",  # "paywall" and "regWall" classes
        "trafilatura/jamaica.gleaner.com-victims",  # Piano's "piano-" containers
    ],
)
def test_free_pages_are_not_partial(page_id):
    assert not is_partial(corpus_article(page_id), None)


def test_a_declared_paywall_with_a_teaser_is_partial():
    page = (SITES / "sources" / "stories" / "premium-greenland.html").read_bytes()
    article = extract(page, "https://example.com/stories/premium-greenland.html")
    assert article.declared_not_free
    assert is_partial(article, None)
    assert is_partial(Article("T", "A teaser."), "A feed summary longer than the page.")


def test_the_visible_byline_is_trafilaturas_on_every_corpus_page():
    # The byline search is skipped where it cannot find a name: it must find the same
    # as trafilatura's own search, on every real page.
    # Where the search runs, its answer is trafilatura's by construction: what is checked
    # is that trafilatura finds nothing where it is skipped.
    for page in PAGES.values():
        html = (CORPUS / page["file"]).read_bytes()
        if _visible_byline(load_html(html)) is None:
            assert extract_author(load_html(html)) is None, page["id"]


@pytest.mark.parametrize(
    ("markup", "teaser"),
    [
        ('<div class="PayWall">Subscribe to read on</div>', True),
        ('<div id="x"><section class="tp-modal">Log in to continue</section></div>', True),
        ('<div class="paywall">Share this story</div>', False),  # no prompt to pay
        ('<div class="paywall-\u00e9">Abonnez-vous</div>', True),  # non-ASCII names
        ('<script class="paywall">subscribe()</script>', False),
        ('<div class="article">Subscribe to our newsletter</div>', False),
    ],
)
def test_a_paywall_container_counts_only_with_a_prompt_to_pay(markup, teaser):
    tree = load_html(f"<html><body><p>Text.</p>{markup}</body></html>")
    assert page_metadata(tree).teaser_markers is teaser


# -- what a pass stores -------------------------------------------------------------------


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(SITES / "sources", root)
    with LocalSite(root) as served:
        yield served


def run(tmp_path: Path, site: LocalSite, *extra: str) -> dict:
    path = tmp_path / "config.toml"
    feed = f"{site.base_url}/stories/feed.xml"
    path.write_text(
        f'[storage]\ndb = "{tmp_path / "test.db"}"\n[crawl]\n'
        "allow_private_addresses = true\nextract_workers = 0\nautothrottle = false\n"
        f'[[sources]]\nname = "Harbour feed"\nurl = "{feed}"\n',
        encoding="utf-8",
    )
    result = run_cli("run", "--config", str(path), "--now", NOW, "--json", *extra)
    assert result.code == 0, result.stderr
    return result.json()


def edit(site: LocalSite, name: str, old: str, new: str) -> None:
    page = Path(str(site.root)) / "stories" / name
    text = page.read_text(encoding="utf-8")
    assert old in text
    page.write_text(text.replace(old, new), encoding="utf-8")


FULL_TEXT = "".join(
    f"<p>Paragraph {n} of the full agreement story, now free to read for "
    f"everyone who follows the talks in Nuuk and Copenhagen.</p>"
    for n in range(12)
)


def test_a_teaser_that_becomes_the_full_article_is_a_paywall_change(tmp_path, site):
    run(tmp_path, site)
    edit(site, "premium-greenland.html", ',"isAccessibleForFree":false', "")
    edit(
        site,
        "premium-greenland.html",
        '<div class="paywall-banner">Subscribe to continue reading.</div>',
        FULL_TEXT,
    )
    summary = run(tmp_path, site, "--recheck", "all")
    assert summary["changes_new"] == 1
    db = tmp_path / "test.db"
    where = "WHERE a.url LIKE '%premium%'"
    change = rows(
        db, f"SELECT c.kind, c.diff FROM changes c JOIN articles a ON a.id = c.article_id {where}"
    )
    assert change == [{"kind": "paywall", "diff": None}]
    versions = rows(
        db,
        f"SELECT v.is_partial FROM versions v JOIN articles a "
        f"ON a.id = v.article_id {where} ORDER BY v.id",
    )
    assert versions == [{"is_partial": 1}, {"is_partial": 0}]
    assert rows(db, f"SELECT is_partial FROM articles a {where}") == [{"is_partial": 0}]


def test_new_authors_and_a_new_modified_date_alone_are_a_version_and_a_change(tmp_path, site):
    run(tmp_path, site)
    edit(
        site,
        "shadow-fleet-sanctions.html",
        '<meta name="author" content="Wire staff">',
        '<meta name="author" content="Anna Berg and Piet de Vries">'
        '<meta property="article:modified_time" content="2026-11-24T15:00:00Z">',
    )
    summary = run(tmp_path, site, "--recheck", "all")
    assert (summary["versions_new"], summary["changes_new"]) == (1, 1)
    db = tmp_path / "test.db"
    article = rows(db, "SELECT * FROM articles WHERE url LIKE '%shadow-fleet%'")[0]
    change = rows(
        db, "SELECT kind, kinds, diff FROM changes WHERE article_id = ?", (article["id"],)
    )
    assert change == [{"kind": "edited", "kinds": '["byline", "dateline"]', "diff": None}]
    assert json.loads(article["authors"]) == ["Anna Berg", "Piet de Vries"]
    assert article["author"] == "Anna Berg, Piet de Vries"
    assert article["modified_at"] == "2026-11-24T15:00:00Z"
    assert (article["published_at"], article["published_from"]) == ("2026-11-24T12:00:00Z", "meta")
    current = rows(
        db,
        "SELECT authors, title, title_raw FROM versions WHERE id = ?",
        (article["current_version_id"],),
    )[0]
    assert json.loads(current["authors"]) == ["Anna Berg", "Piet de Vries"]
    assert current["title_raw"] == "EU extends sanctions on shadow fleet tankers | Harbour Times"
    assert current["title"] == "EU extends sanctions on shadow fleet tankers"


def test_upgrading_a_database_of_the_previous_schema(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "released-0.1.db", path)
    with sqlite3.connect(path) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION
        before = old.execute(
            "SELECT id, author, published_at, is_partial, current_version_id "
            "FROM articles ORDER BY id"
        ).fetchall()
    db = connect(path)
    after = db.execute(
        "SELECT a.id, a.authors, v.authors, v.published_at, v.is_partial "
        "FROM articles a JOIN versions v ON v.id = a.current_version_id "
        "ORDER BY a.id"
    ).fetchall()
    assert before and len(after) == len(before)
    for (_, author, published, partial, _), (
        _,
        authors,
        version_authors,
        version_published,
        version_partial,
    ) in zip(before, after, strict=True):
        assert json.loads(authors) == json.loads(version_authors) == ([author] if author else [])
        assert (version_published, version_partial) == (published, partial)
    assert (
        db.execute("SELECT count(*) FROM mentions WHERE in_summary = 0").fetchone()[0]
        == db.execute("SELECT count(*) FROM mentions").fetchone()[0]
    )

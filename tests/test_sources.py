"""Source kinds and article identity: sitemaps, section pages, watched pages, canonical
links, syndicated copies and paywalled teasers, each asserted on the database rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SITES, SlowSite, rows, run_cli

from crawler.demo.localsite import LocalSite

NOW = "2026-11-25T08:00:00+0000"


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(SITES / "sources", root)
    with LocalSite(root) as served:
        yield served


def config(tmp_path: Path, site: LocalSite, sources: str, topics: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\ndb = "{tmp_path / "test.db"}"\n[crawl]\n'
        "allow_private_addresses = true\nextract_workers = 0\nautothrottle = false\n"
        + sources.replace("BASE", site.base_url)
        + topics,
        encoding="utf-8",
    )
    return path


def run(path: Path, *extra: str) -> dict:
    result = run_cli("run", "--config", str(path), "--now", NOW, "--json", *extra)
    assert result.code == 0, result.stderr
    return result.json()


def paths(db: Path, site: LocalSite) -> set[str]:
    return {row["url"].removeprefix(site.base_url) for row in rows(db, "SELECT url FROM articles")}


def test_a_sitemap_index_leads_only_to_recent_articles(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "Harbour sitemap"\n'
        'url = "BASE/sitemaps/index.xml"\nkind = "sitemap"\n',
    )
    summary = run(path)
    assert paths(tmp_path / "test.db", site) == {
        "/stories/baltic-drone-sensors.html",
        "/stories/shadow-fleet-sanctions.html",
    }
    assert summary["errors"] == 0
    requested = {request for request, _ in site.requests}
    assert "/sitemaps/archive-2019.xml" not in requested  # old child sitemap
    assert "/stories/old-news.html" not in requested  # older than max_age
    article = rows(tmp_path / "test.db", "SELECT * FROM articles WHERE url LIKE '%baltic%'")[0]
    assert article["published_at"] == "2026-11-23T09:00:00Z"


def test_a_longer_max_age_reaches_older_entries(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "Harbour sitemap"\n'
        'url = "BASE/sitemaps/news.xml"\nkind = "sitemap"\n'
        'max_age = "365d"\n',
    )
    run(path)
    assert "/stories/old-news.html" in paths(tmp_path / "test.db", site)


def test_a_section_page_follows_matching_links_on_its_own_site(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "News section"\n'
        'url = "BASE/section/"\nkind = "page"\nfollow = "/stories/"\n',
    )
    run(path)
    db = tmp_path / "test.db"
    assert paths(db, site) == {
        "/stories/baltic-drone-sensors.html",
        "/stories/north-sea-ports.html",
    }
    skipped = [row["url"] for row in rows(db, "SELECT url FROM skipped")]
    assert skipped == ["https://www.example.com/stories/elsewhere.html"]


def test_a_css_selector_chooses_the_links(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "News section"\n'
        'url = "BASE/section/"\nkind = "page"\n'
        'follow_css = "ul.stories h2"\n',
    )
    run(path)
    assert "/stories/baltic-drone-sensors.html" in paths(tmp_path / "test.db", site)
    assert not any("about" in p for p in paths(tmp_path / "test.db", site))


def test_canonical_links_fold_variants_into_one_article(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "News section"\nurl = "BASE/section/"\nkind = "page"\n'
        'follow = "/stories/"\n'
        '[[sources]]\nname = "Harbour feed"\nurl = "BASE/stories/feed.xml"\n',
    )
    run(path)
    db = tmp_path / "test.db"
    ports = rows(db, "SELECT id, url FROM articles WHERE url LIKE '%north-sea-ports%'")
    assert [row["url"] for row in ports] == [site.url("stories/north-sea-ports.html")]
    aliases = {row["url"] for row in rows(db, "SELECT url FROM article_aliases")}
    assert site.url("amp/north-sea-ports.html") in aliases
    sources = rows(
        db,
        "SELECT s.name FROM article_sources x JOIN sources s "
        "ON s.id = x.source_id WHERE x.article_id = ?",
        (ports[0]["id"],),
    )
    assert {row["name"] for row in sources} == {"News section", "Harbour feed"}
    # A second pass fetches neither variant again.
    site.requests.clear()
    run(path)
    assert not any("north-sea-ports" in request for request, _ in site.requests)


def test_the_same_article_from_two_sources_is_stored_once_with_both(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "Harbour sitemap"\nurl = "BASE/sitemaps/news.xml"\n'
        'kind = "sitemap"\n'
        '[[sources]]\nname = "Harbour feed"\nurl = "BASE/stories/feed.xml"\n',
    )
    run(path)
    run(path)
    db = tmp_path / "test.db"
    article = rows(db, "SELECT id FROM articles WHERE url LIKE '%shadow-fleet-sanctions%'")
    assert len(article) == 1
    carried = rows(
        db, "SELECT count(*) n FROM article_sources WHERE article_id = ?", (article[0]["id"],)
    )
    assert carried == [{"n": 2}]


def test_a_source_that_offers_an_article_after_it_was_stored_is_recorded_too(tmp_path):
    """The feed answers late: the sitemap's copy of the article is fetched and stored
    before the feed offers it, and the feed's offer is recorded all the same."""
    root = tmp_path / "site"
    shutil.copytree(SITES / "sources", root)
    with SlowSite(root, 2.0, lambda path: path.endswith("feed.xml")) as site:
        path = config(
            tmp_path,
            site,
            '[[sources]]\nname = "Harbour sitemap"\nurl = "BASE/sitemaps/news.xml"\n'
            'kind = "sitemap"\n'
            '[[sources]]\nname = "Harbour feed"\nurl = "BASE/stories/feed.xml"\n',
        )
        run(path)
    db = tmp_path / "test.db"
    carried = rows(
        db,
        "SELECT s.name FROM article_sources x JOIN articles a ON a.id = x.article_id"
        " JOIN sources s ON s.id = x.source_id WHERE a.url LIKE '%shadow-fleet-sanctions%'"
        " ORDER BY s.name",
    )
    assert carried == [{"name": "Harbour feed"}, {"name": "Harbour sitemap"}]


def test_syndicated_copies_share_a_story(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "Harbour feed"\nurl = "BASE/stories/feed.xml"\n'
        '[[sources]]\nname = "Coastal Courier"\nurl = "BASE/partner/feed.xml"\n',
    )
    run(path)
    db = tmp_path / "test.db"
    stories = {
        row["url"].removeprefix(site.base_url): row["story_id"]
        for row in rows(db, "SELECT url, story_id FROM articles")
    }
    assert (
        stories["/stories/shadow-fleet-sanctions.html"] == stories["/partner/eu-shadow-fleet.html"]
    )
    assert (
        stories["/stories/premium-greenland.html"]
        != stories["/stories/shadow-fleet-sanctions.html"]
    )


def test_a_paywalled_teaser_is_partial_and_its_feed_summary_is_searched(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "Harbour feed"\nurl = "BASE/stories/feed.xml"\n',
        '[[topics]]\nname = "Arctic ports"\nquery = "ports NEAR/10 allied"\n',
    )
    run(path)
    db = tmp_path / "test.db"
    teaser = rows(
        db,
        "SELECT a.is_partial, v.text FROM articles a JOIN versions v "
        "ON v.id = a.current_version_id WHERE a.url LIKE '%premium%'",
    )[0]
    assert teaser["is_partial"] == 1
    assert "allied navies" not in teaser["text"]  # the version is the page's text
    mention = rows(
        db,
        "SELECT m.in_summary FROM mentions m JOIN articles a "
        "ON a.id = m.article_id WHERE a.url LIKE '%premium%'",
    )
    assert mention == [{"in_summary": 1}]  # found only in the summary
    full = rows(db, "SELECT is_partial FROM articles WHERE url LIKE '%shadow-fleet%'")
    assert full == [{"is_partial": 0}]


def test_a_watched_page_is_tracked_for_changes_and_never_stops(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "Ministry statement"\n'
        'url = "BASE/ministry/statement.html"\nkind = "url"\n',
    )
    run(path)
    page = Path(str(site.root)) / "ministry" / "statement.html"
    page.write_text(page.read_text().replace("1 to 12 December", "3 to 14 December"))
    summary = run(path, "--recheck", "all")
    assert summary["changes_new"] == 1
    db = tmp_path / "test.db"
    change = rows(db, "SELECT kind, diff FROM changes")[0]
    assert change["kind"] == "edited"
    assert "{+3+}" in change["diff"] or "{+3 to 14+}" in change["diff"]
    # Long after its last change, a watched page is still due for re-checks.
    later = run_cli("run", "--config", str(path), "--now", "2027-06-01T08:00:00+0000", "--json")
    assert later.json()["articles_checked"] == 1
    assert rows(db, "SELECT next_check_at FROM articles")[0]["next_check_at"] is not None


def test_the_digest_lists_a_syndicated_story_once(tmp_path, site):
    path = config(
        tmp_path,
        site,
        '[[sources]]\nname = "Harbour feed"\nurl = "BASE/stories/feed.xml"\n'
        '[[sources]]\nname = "Coastal Courier"\nurl = "BASE/partner/feed.xml"\n',
        '[[topics]]\nname = "Sanctions"\nquery = "sanctions"\n',
    )
    assert run_cli("run", "--config", str(path)).code == 0
    digest = run_cli("digest", "--config", str(path), "--format", "json", "--since", "7d")
    assert digest.code == 0, digest.stderr
    (topic,) = digest.json()["topics"]
    (mention,) = topic["mentions"]
    others = {"Harbour feed", "Coastal Courier"} - {mention["outlet"]}
    assert mention["also_in"] == sorted(others)
    text = run_cli("digest", "--config", str(path), "--since", "7d").stdout
    assert "also in 1 other outlet" in text


def test_every_configurable_kind_of_source_can_be_polled():
    """A kind the configuration accepts is one the spider knows how to read: a kind
    added to the schema without a poll would otherwise fail only when a pass meets it."""
    from crawler.config import SOURCE_KINDS
    from spiders.sources import POLL_CALLBACKS, SourceSpider

    polled = set(POLL_CALLBACKS) | {"url"}  # a watched url is requested as an article
    assert polled == set(SOURCE_KINDS)
    for callback in POLL_CALLBACKS.values():
        assert callable(getattr(SourceSpider, callback))

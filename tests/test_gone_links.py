"""Links that went away: a feed entry answering 404/410 is remembered, not refetched."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import SITES, database_before, rows, run_cli, step_adding, write_config

from crawler.demo.localsite import LocalSite
from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import connect

MISSING = "/news/missing.html"  # listed by news/feed.xml, no page behind it: a 404


def run_at(config: Path, when: datetime | None = None) -> dict:
    args = ["run", "--config", str(config), "--json"]
    if when is not None:
        args += ["--now", when.strftime("%Y-%m-%dT%H:%M:%S")]
    result = run_cli(*args)
    assert result.code == 0, result.stderr
    return result.json()


def requests_in(site: LocalSite, since: int) -> list[tuple[str, int]]:
    """The requests the site answered since the ``since``-th, robots.txt aside."""
    return [request for request in site.requests[since:] if request[0] != "/robots.txt"]


@pytest.fixture
def news_site(tmp_path):
    """The basic site's Northgate Courier, copied so a test can publish the missing page."""
    root = tmp_path / "site"
    shutil.copytree(SITES / "basic", root)
    with LocalSite(root) as site:
        config = write_config(tmp_path / "config.toml", site, [("News", "news/feed.xml")], [])
        yield site, config, tmp_path / "test.db"


@pytest.mark.slow
def test_a_gone_link_is_remembered_and_tried_again_only_when_due(news_site):
    site, config, db = news_site
    first = run_at(config)
    assert first["articles_new"] == 5 and first["errors"] == 1
    assert (MISSING, 404) in site.requests
    gone = rows(db, "SELECT * FROM gone_links")
    assert len(gone) == 1
    link = gone[0]
    assert link["url"] == site.url(MISSING) and link["status"] == 404 and link["tries"] == 1
    assert link["source_id"] == rows(db, "SELECT id FROM sources WHERE name = 'News'")[0]["id"]
    first_seen = datetime.fromisoformat(link["first_seen_at"])
    # The default revisit policy: every 15 minutes in the first three hours.
    assert datetime.fromisoformat(link["next_try_at"]) - first_seen == timedelta(minutes=15)

    # The gone link counts as handled: the feed's validators were saved, so the next
    # passes get a 304 and request neither the feed's entries nor the gone link.
    for _ in range(2):
        before = len(site.requests)
        summary = run_at(config)
        assert requests_in(site, before) == [("/news/feed.xml", 304)]
        assert (summary["articles_new"], summary["errors"]) == (0, 0)
    errors = rows(db, "SELECT url FROM errors")
    assert errors == [{"url": site.url(MISSING)}]
    health = rows(db, "SELECT errors_24h, links_gone FROM source_health")
    assert health == [{"errors_24h": 1, "links_gone": 1}]

    # Once due, the link is tried again: still gone, one more try, no second error.
    later = first_seen + timedelta(minutes=20)
    before = len(site.requests)
    run_at(config, later)
    assert requests_in(site, before).count((MISSING, 404)) == 1
    link = rows(db, "SELECT * FROM gone_links")[0]
    tried = datetime.fromisoformat(link["last_tried_at"])
    assert link["tries"] == 2 and timedelta(0) <= tried - later < timedelta(minutes=2)
    assert link["next_try_at"] > link["last_tried_at"]
    assert len(rows(db, "SELECT * FROM errors")) == 1

    # Not due again yet: left alone.
    before = len(site.requests)
    run_at(config, later + timedelta(minutes=5))
    assert (MISSING, 404) not in requests_in(site, before)

    # The page is published after all: the next try stores it and forgets the gone link.
    page = (site.root / "news" / "a3.html").read_text(encoding="utf-8")
    (site.root / "news" / "missing.html").write_text(
        page.replace("news/a3.html", "news/missing.html").replace(
            "Arctic research station expands", "Missing story found"
        ),
        encoding="utf-8",
    )
    summary = run_at(config, later + timedelta(hours=1))
    assert summary["articles_new"] == 1
    stored = rows(db, "SELECT title FROM articles WHERE url = ?", (site.url(MISSING),))
    assert stored == [{"title": "Missing story found"}]
    assert rows(db, "SELECT * FROM gone_links") == []


def test_a_gone_link_stops_being_tried_after_the_tracking_cutoff(news_site):
    site, config, db = news_site
    run_at(config)
    first_seen = datetime.fromisoformat(
        rows(db, "SELECT first_seen_at FROM gone_links")[0]["first_seen_at"]
    )
    # Past the default policy's last step (daily for the first month): never again.
    run_at(config, first_seen + timedelta(days=31))
    link = rows(db, "SELECT * FROM gone_links")[0]
    assert link["tries"] == 2 and link["next_try_at"] is None
    before = len(site.requests)
    run_at(config, first_seen + timedelta(days=40))
    assert (MISSING, 404) not in requests_in(site, before)


def test_the_gone_links_step_upgrades_an_older_database(tmp_path):
    path = tmp_path / "old.db"
    old = database_before(path, step_adding("CREATE TABLE gone_links"))
    old.execute(
        "INSERT INTO sources (id, name, url, kind, last_status) VALUES "
        "(1, 'Alpha', 'http://a/feed', 'feed', 'ok'), "
        "(2, 'Zulu', 'http://z/feed', 'feed', 'failed')"
    )
    old.commit()
    old.close()

    db = connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "gone_links" in db.table_names()
    order = [row[0] for row in db.execute("SELECT source FROM source_health")]
    assert order == ["Zulu", "Alpha"]
    assert [row[0] for row in db.execute("SELECT links_gone FROM source_health")] == [0, 0]
    db.conn.close()

"""robots.txt is kept across passes for its cache lifetime (at most 24 h), not fetched
again by every pass."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from conftest import SITES, database_before, rows, run_cli, step_adding, write_config

from crawler.demo.localsite import LocalSite
from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import connect

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BLOCKED = "/news/a5.html"


def run_at(config, when: datetime) -> dict:
    result = run_cli(
        "run", "--config", str(config), "--json", "--now", when.strftime("%Y-%m-%dT%H:%M:%S")
    )
    assert result.code == 0, result.stderr
    return result.json()


def paths(site: LocalSite, since: int) -> list[str]:
    return [path for path, _ in site.requests[since:]]


@pytest.mark.slow
def test_robots_txt_is_asked_once_a_day_and_its_rules_kept_meanwhile(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(SITES / "basic", root)
    (root / "robots.txt").write_text(f"User-agent: *\nDisallow: {BLOCKED}\n", encoding="utf-8")
    with LocalSite(root) as site:
        config = write_config(tmp_path / "config.toml", site, [("News", "news/feed.xml")], [])
        run_at(config, START)
        assert paths(site, 0).count("/robots.txt") == 1 and BLOCKED not in paths(site, 0)

        # The site now allows everything, but the kept answer is still fresh: the next
        # passes of the day neither ask for robots.txt nor fetch the page it forbade.
        (root / "robots.txt").write_text("User-agent: *\nDisallow:\n", encoding="utf-8")
        for hours in (1, 23):
            before = len(site.requests)
            run_at(config, START + timedelta(hours=hours))
            assert "/robots.txt" not in paths(site, before)
            assert BLOCKED not in paths(site, before)

        # A day later it is asked again, and its new rules apply to the feed's links.
        feed = root / "news" / "feed.xml"
        feed.write_text(feed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        before = len(site.requests)
        summary = run_at(config, START + timedelta(hours=25))
        assert paths(site, before).count("/robots.txt") == 1
        assert BLOCKED in paths(site, before) and summary["articles_new"] == 1
    kept = rows(tmp_path / "test.db", "SELECT * FROM robots_txt")
    assert [row["origin"] for row in kept] == [site.base_url]
    fetched = datetime.fromisoformat(kept[0]["fetched_at"])
    assert datetime.fromisoformat(kept[0]["expires_at"]) - fetched == timedelta(hours=24)
    assert fetched - (START + timedelta(hours=25)) < timedelta(minutes=5)


def test_the_robots_txt_step_upgrades_an_older_database(tmp_path):
    path = tmp_path / "old.db"
    old = database_before(path, step_adding("CREATE TABLE robots_txt"))
    old.execute(
        "INSERT INTO sources (id, name, url, kind) VALUES (1, 'Alpha', 'http://a/feed', 'feed')"
    )
    old.commit()
    old.close()

    db = connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db["robots_txt"].count == 0
    assert [row["name"] for row in db["sources"].rows] == ["Alpha"]
    db.conn.close()

"""Upgrading does not invent edits: a database made by 0.1, re-checked by this version.

``tests/fixtures/released-0.1.db`` was made by presswatch 0.1.0 from
``tests/sites/upgrade/edition1`` (see tests/fixtures/README.md). Edition 2 is the same
site later: every page's bytes differ (a new script version, another "Most read"
order, a relative time that moved on) but no article was edited. Edition 3 adds one
real edit.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import SITES, rows, run_cli, write_config

from crawler.demo.localsite import LocalSite
from crawler.extraction.article import EXTRACTOR
from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import connect

FIXTURE = Path(__file__).parent / "fixtures" / "released-0.1.db"
FIXTURE_BASE = "http://127.0.0.1:38563"  # where the fixture's pages were served
SITE = SITES / "upgrade"
TOPICS = [("Greenland", 'Greenland OR Grönland OR "格陵兰" OR "グリーンランド"')]
URL_COLUMNS = {"sources": ["url"], "articles": ["url", "redirect_url"], "errors": ["url"],
               "skipped": ["url"], "article_aliases": ["url"]}  # fmt: skip


def released_db(path: Path, base_url: str) -> Path:
    """A copy of the fixture database, its URLs moved to ``base_url``."""
    shutil.copy(FIXTURE, path)
    conn = sqlite3.connect(path)
    with conn:
        for table, columns in URL_COLUMNS.items():
            for column in columns:
                conn.execute(
                    f"UPDATE {table} SET {column} = replace({column}, ?, ?)",
                    (FIXTURE_BASE, base_url),
                )
    conn.close()
    return path


@pytest.fixture
def upgraded(tmp_path):
    """The released database and this version's configuration, served at edition 2."""
    with LocalSite(SITE / "edition2") as site:
        db = released_db(tmp_path / "test.db", site.base_url)
        config = write_config(tmp_path / "config.toml", site, [("Polar Post", "feed.xml")], TOPICS)
        yield site, config, db


def recheck_all(config: Path) -> dict:
    result = run_cli("run", "--config", str(config), "--recheck", "all", "--json")
    assert result.code == 0, result.stderr
    return result.json()


def versions_by_article(db: Path) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in rows(
        db, "SELECT a.url, v.* FROM versions v JOIN articles a ON a.id = v.article_id ORDER BY v.id"
    ):
        found.setdefault(row["url"].rsplit("/", 1)[1], []).append(row)
    return found


def test_the_fixture_is_a_released_database() -> None:
    conn = sqlite3.connect(FIXTURE)
    assert conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION
    columns = {row[1] for row in conn.execute("PRAGMA table_info(versions)")}
    assert "extractor" not in columns
    texts = [row[0] for row in conn.execute("SELECT text FROM versions")]
    assert any("Follow us on Twitter" in text for text in texts)  # 0.1 kept the tails
    conn.close()


def test_recheck_after_the_upgrade_records_no_change_on_unchanged_pages(upgraded) -> None:
    _site, config, db = upgraded
    before = {r["url"]: r for r in rows(db, "SELECT url, last_changed_at FROM articles")}
    summary = recheck_all(config)
    assert summary["changes_new"] == 0
    assert rows(db, "SELECT * FROM changes") == []
    assert summary["articles_checked"] == 4
    assert summary["articles_new"] == 2  # the Chinese and Japanese articles 0.1 refused

    versions = versions_by_article(db)
    # u1, u2, u4 lost their promotional tails: a new baseline version each, no change
    for name in ("u1.html", "u2.html", "u4.html"):
        old, new = versions[name]
        assert old["extractor"] is None and new["extractor"] == EXTRACTOR
        assert len(new["text"]) < len(old["text"])
    assert "Follow us" not in versions["u1.html"][1]["text"]
    # u3's only difference is its relative time and reading time: not even a version
    assert len(versions["u3.html"]) == 1
    after = {r["url"]: r for r in rows(db, "SELECT url, last_changed_at FROM articles")}
    for url, article in before.items():
        assert after[url]["last_changed_at"] == article["last_changed_at"]
    user_version = rows(db, "PRAGMA user_version")[0]["user_version"]
    assert user_version == SCHEMA_VERSION


def test_a_second_recheck_finds_nothing_new(upgraded) -> None:
    _site, config, _db = upgraded
    recheck_all(config)
    summary = recheck_all(config)
    assert summary["changes_new"] == summary["versions_new"] == 0


def test_an_edit_made_at_the_same_time_as_the_upgrade_is_recorded_alone(upgraded) -> None:
    site, config, db = upgraded
    site.root = SITE / "edition3"  # edition 2 plus one real edit, in u4
    summary = recheck_all(config)
    assert summary["changes_new"] == 1
    (change,) = rows(db, "SELECT c.*, a.url FROM changes c JOIN articles a ON a.id = c.article_id")
    assert change["url"].endswith("/u4.html") and change["kind"] == "edited"
    assert "[-au printemps.-]" in change["diff"] and "{+dès janvier.+}" in change["diff"]
    assert "Suivez" not in change["diff"] and "Abonnez" not in change["diff"]
    latest = versions_by_article(db)["u4.html"][-1]
    assert "dès janvier" in latest["text"] and "Suivez-nous" not in latest["text"]
    assert latest["extractor"] == EXTRACTOR


def test_versions_of_rules_this_build_cannot_recreate_become_a_baseline(upgraded) -> None:
    _site, config, db = upgraded
    store = connect(db)  # migrate, then pretend another trafilatura made the versions
    with store.conn:
        store.conn.execute(
            "UPDATE versions SET extractor = ?, text = text || ?",
            (
                "presswatch-extract/1 trafilatura/0.0.1",
                "\nA sentence only the other extractor found.",
            ),
        )
    store.close()
    summary = recheck_all(config)
    assert summary["changes_new"] == 0
    versions = versions_by_article(db)
    assert all(v[-1]["extractor"] == EXTRACTOR for v in versions.values())


def test_rotating_promotional_tails_and_inline_relative_times_are_no_change(tmp_path) -> None:
    """A database made by this version: edition 2 changes only a follow-us line, a photo
    credit, a relative time and a reading time inside paragraphs, and page furniture."""
    with LocalSite(SITE / "edition1") as site:
        config = write_config(tmp_path / "config.toml", site, [("Polar Post", "feed.xml")], TOPICS)
        first = run_cli("run", "--config", str(config), "--json")
        assert first.code == 0, first.stderr
        assert first.json()["articles_new"] == 6
        site.root = SITE / "edition2"
        summary = recheck_all(config)
    assert summary["articles_checked"] == 6
    assert summary["changes_new"] == summary["versions_new"] == 0


def test_cleaner_headlines_and_bylines_after_the_upgrade_are_a_baseline(upgraded) -> None:
    # 0.1 stored og:title, which some outlets decorate; 0.2 reads the page's <h1>.
    _, config, db = upgraded
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE versions SET title = title || ' | The Polar Post'")
        conn.execute("UPDATE articles SET title = title || ' | The Polar Post'")
    conn.close()
    summary = recheck_all(config)
    assert summary["changes_new"] == 0
    article = rows(db, "SELECT * FROM articles WHERE url LIKE '%/u1.html'")[0]
    assert article["title"] == "Fishing fleets head further west as mackerel move"
    assert (article["authors"], article["author"]) == ('["Lena Holm"]', "Lena Holm")
    assert (article["published_at"], article["published_from"]) == ("2026-11-20T08:30:00Z", "meta")
    latest = versions_by_article(db)["u1.html"][-1]
    assert latest["title_raw"] == f"{article['title']} | The Polar Post"
    assert latest["is_partial"] == 0

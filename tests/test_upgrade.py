"""Upgrading does not invent edits: a database made by 0.1, re-checked by this version;
and a database left at any earlier schema version upgrades to the schema of a new one
without losing a row.

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
from conftest import SITES, database_before, rows, run_cli, step_adding, write_config

from crawler.demo.localsite import LocalSite
from crawler.extraction.article import EXTRACTOR
from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import Store, connect

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


# -- every schema version a database may have been left at ---------------------------------

T = "2026-11-20T08:00:00Z"
URL = "https://polar.example/u1.html"
TEXT = "Fishing fleets head further west as the mackerel move towards Greenland."
# Rows in the columns of the first schema, then in tables later steps added, each
# inserted when the database already has its table.
FIRST_ROWS = {
    "sources": {"id": 1, "name": "Polar Post", "url": "https://polar.example/feed.xml",
                "kind": "feed", "last_polled_at": T, "last_status": "failed",
                "last_error": "timeout", "etag": '"e1"', "last_modified": T},
    "topics": {"id": 1, "name": "Greenland", "query": "Greenland"},
    "runs": {"id": 1, "started_at": T, "finished_at": T, "status": "ok", "articles_new": 1,
             "mentions_new": 1, "errors": 1},
    "articles": {"id": 1, "url": URL, "source_id": 1, "first_seen_at": T,
                 "last_checked_at": T, "published_at": T, "title": "Fleets head west",
                 "author": "Lena Holm", "language": "en", "status": "live",
                 "current_version_id": 1, "last_changed_at": T, "next_check_at": T},
    "versions": {"id": 1, "article_id": 1, "fetched_at": T, "title": "Fleets head west",
                 "text": TEXT, "text_hash": "h1", "topics": '["Greenland"]'},
    "mentions": {"id": 1, "topic_id": 1, "article_id": 1, "version_id": 1, "found_at": T,
                 "in_title": 0, "match_count": 1, "snippet": "towards **Greenland**",
                 "terms": '["Greenland"]'},
    "changes": {"id": 1, "article_id": 1, "from_version_id": 1, "to_version_id": 1,
                "detected_at": T, "kind": "edited", "diff": "[-east-]{+west+}"},
    "errors": {"id": 1, "run_id": 1, "source_id": 1, "url": URL, "stage": "fetch",
               "message": "timeout", "at": T},
    "skipped": {"id": 1, "source_id": 1, "url": "https://polar.example/x.pdf",
                "reason": "not html", "first_seen_at": T},
    "digests": {"id": 1, "created_at": T, "period_end": T, "format": "markdown",
                "sent_at": T, "recipients": '["desk@example.org"]', "item_count": 1},
}  # fmt: skip
LATER_ROWS = {
    "article_aliases": {"url": "https://polar.example/amp/u1.html", "article_id": 1},
    "article_fingerprints": {"article_id": 1, "simhash": 7, "band0": 1, "band1": 2,
                             "band2": 3, "band3": 4},
    "gone_links": {"url": "https://polar.example/gone.html", "source_id": 1, "status": 404,
                   "first_seen_at": T, "last_tried_at": T, "next_try_at": T},
}  # fmt: skip
KEYS = {"article_aliases": "url", "article_fingerprints": "article_id", "gone_links": "url"}


def schema(path: Path) -> list[tuple]:
    """Every table, index, view and trigger, as SQLite records it."""
    conn = sqlite3.connect(path)
    try:
        sql = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def database_at(path: Path, version: int) -> dict[str, dict]:
    """A database left at schema ``version`` with a row in each of its tables; the rows."""
    conn = database_before(path, version)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    written = {t: r for t, r in {**FIRST_ROWS, **LATER_ROWS}.items() if t in tables}
    for table, row in written.items():
        conn.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    conn.commit()
    conn.close()
    return written


def ran(version: int, text: str) -> bool:
    """Did upgrading from ``version`` run the step whose SQL contains ``text``?"""
    return version <= step_adding(text)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_a_database_of_each_schema_version_upgrades_without_losing_a_row(tmp_path, version):
    fresh, old = tmp_path / "fresh.db", tmp_path / "old.db"
    Store.open(fresh).close()
    written = database_at(old, version)

    store = Store.open(old)
    try:
        stored = store.stored_article(1)
        assert stored is not None and (stored.url, stored.text) == (URL, TEXT)
        assert store.article_id("https://polar.example/amp/u1.html") == (
            1 if "article_aliases" in written else None
        )
        assert store.failing_sources()[0]["failing_since"] == (
            T if ran(version, "failing_since") else None
        )
    finally:
        store.close()

    assert schema(old) == schema(fresh)
    assert rows(old, "PRAGMA user_version") == [{"user_version": SCHEMA_VERSION}]
    for table, row in written.items():
        key = KEYS.get(table, "id")
        [upgraded] = rows(old, f"SELECT * FROM {table} WHERE {key} = ?", (row[key],))
        assert {column: upgraded[column] for column in row} == row, table
    # What the steps derive from the rows that were there before them
    assert rows(old, "SELECT rowid FROM versions_fts WHERE versions_fts MATCH 'mackerel'") == [
        {"rowid": 1}
    ]
    article = rows(old, "SELECT * FROM articles")[0]
    assert article["story_id"] == (1 if ran(version, "story_id") else None)
    assert rows(old, "SELECT article_id, source_id FROM article_sources") == (
        [{"article_id": 1, "source_id": 1}] if ran(version, "CREATE TABLE article_sources") else []
    )
    [digest] = rows(old, "SELECT status FROM digests")
    assert digest["status"] == ("sent" if ran(version, "message_id") else "unsent")
    if ran(version, "ADD COLUMN authors"):
        assert article["authors"] == '["Lena Holm"]'
        [v] = rows(old, "SELECT authors, published_at FROM versions")
        assert (v["authors"], v["published_at"]) == ('["Lena Holm"]', T)


# -- a year of data: the step with the indexes, the feeds and the full-text triggers ---------

SCALE_STEP = step_adding("articles_current_version_id")
FEED_SQL = {
    "mention_feed": "SELECT * FROM mention_feed ORDER BY found_at DESC, mention_id DESC",
    "change_feed": "SELECT * FROM change_feed ORDER BY detected_at DESC, change_id DESC",
}


def plan(path: Path, sql: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    finally:
        conn.close()


def test_the_scale_step_keeps_the_feeds_rows_and_indexes_what_pages_sort_and_join_on(tmp_path):
    old = tmp_path / "old.db"
    database_at(old, SCALE_STEP)
    feeds = {view: rows(old, sql) for view, sql in FEED_SQL.items()}
    assert feeds["mention_feed"] and feeds["change_feed"]

    connect(old).conn.close()

    assert rows(old, "PRAGMA user_version") == [{"user_version": SCHEMA_VERSION}]
    assert {view: rows(old, sql) for view, sql in FEED_SQL.items()} == feeds
    # Counting a feed reads one index, never the articles (it took seconds at 1M).
    assert "articles" not in plan(old, "SELECT count(*) FROM mention_feed")
    assert "articles" not in plan(old, "SELECT count(*) FROM change_feed")
    # The default sorts and the joined key have their index.
    assert "articles_first_seen_at" in plan(
        old, "SELECT * FROM articles ORDER BY first_seen_at DESC LIMIT 10"
    )
    assert "versions_fetched_at" in plan(
        old, "SELECT * FROM versions ORDER BY fetched_at DESC LIMIT 10"
    )
    assert "articles_current_version_id" in plan(
        old, "SELECT id FROM articles WHERE current_version_id = 1"
    )


def test_after_the_scale_step_writing_a_versions_topics_leaves_its_text_indexed_as_it_was(
    tmp_path,
):
    old = tmp_path / "old.db"
    database_at(old, SCALE_STEP)
    db = connect(old).conn
    # An index row out of step with the table shows whether an update re-indexed it.
    db.execute(
        "INSERT INTO versions_fts (versions_fts, rowid, title, text) VALUES ('delete', 1, ?, ?)",
        ["Fleets head west", TEXT],
    )
    db.execute("INSERT INTO versions_fts (rowid, title, text) VALUES (1, 'marker', 'marker')")
    db.execute("UPDATE versions SET topics = '[]' WHERE id = 1")
    db.execute("UPDATE changes SET mentions_added = '[\"Greenland\"]' WHERE id = 1")
    marked = db.execute("SELECT rowid FROM versions_fts WHERE versions_fts MATCH 'marker'")
    assert marked.fetchall() == [(1,)]
    db.execute("INSERT INTO versions_fts (versions_fts) VALUES ('rebuild')")
    db.execute("UPDATE versions SET text = 'Herring' WHERE id = 1")  # text: re-indexed
    assert db.execute(
        "SELECT rowid FROM versions_fts WHERE versions_fts MATCH 'herring'"
    ).fetchall() == [(1,)]
    assert db.execute(
        "SELECT rowid FROM changes_fts WHERE changes_fts MATCH 'west'"
    ).fetchall() == [(1,)]
    db.close()

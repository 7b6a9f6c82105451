"""The schema, as the steps that built it: PRAGMA user_version records how far a database
has come, and opening a database brings it up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils


class DatabaseProblem(RuntimeError):
    """The database cannot be used: damaged, not SQLite, not writable, or newer than this
    presswatch. The message names the file and the reason."""


# Migration step 2: the full-text indexes and views analysts use in Datasette.
ANALYST_SCHEMA = (Path(__file__).parent / "analyst_views.sql").read_text(encoding="utf-8")


# Each entry upgrades the schema by one version: SQL, or a function of the database for
# steps that sqlite-utils does better (full-text indexes). PRAGMA user_version records how
# far a database has come. Never edit a released step: append a new one.
Migration = str | Callable[[sqlite_utils.Database], None]
MIGRATIONS: tuple[Migration, ...] = (
    """
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        kind TEXT NOT NULL,
        last_polled_at TEXT,
        last_status TEXT,
        last_error TEXT,
        etag TEXT,
        last_modified TEXT
    );
    CREATE TABLE topics (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        query TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        sources_polled INTEGER NOT NULL DEFAULT 0,
        sources_failed INTEGER NOT NULL DEFAULT 0,
        articles_new INTEGER NOT NULL DEFAULT 0,
        articles_checked INTEGER NOT NULL DEFAULT 0,
        versions_new INTEGER NOT NULL DEFAULT 0,
        changes_new INTEGER NOT NULL DEFAULT 0,
        mentions_new INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        source_id INTEGER REFERENCES sources(id),
        first_seen_at TEXT NOT NULL,
        last_checked_at TEXT NOT NULL,
        published_at TEXT,
        title TEXT,
        author TEXT,
        language TEXT,
        summary TEXT,
        status TEXT NOT NULL DEFAULT 'live',
        redirect_url TEXT,
        current_version_id INTEGER,
        last_changed_at TEXT NOT NULL,
        next_check_at TEXT,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT
    );
    CREATE INDEX articles_next_check_at ON articles(next_check_at);
    CREATE INDEX articles_source_id ON articles(source_id);
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        fetched_at TEXT NOT NULL,
        title TEXT,
        text TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        topics TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX versions_article_id ON versions(article_id);
    CREATE TABLE mentions (
        id INTEGER PRIMARY KEY,
        topic_id INTEGER NOT NULL REFERENCES topics(id),
        article_id INTEGER NOT NULL REFERENCES articles(id),
        version_id INTEGER NOT NULL REFERENCES versions(id),
        found_at TEXT NOT NULL,
        in_title INTEGER NOT NULL,
        match_count INTEGER NOT NULL,
        snippet TEXT,
        terms TEXT NOT NULL DEFAULT '[]',
        backfilled INTEGER NOT NULL DEFAULT 0,
        UNIQUE (topic_id, article_id)
    );
    CREATE INDEX mentions_article_id ON mentions(article_id);
    CREATE INDEX mentions_found_at ON mentions(found_at);
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        from_version_id INTEGER REFERENCES versions(id),
        to_version_id INTEGER REFERENCES versions(id),
        detected_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        title_before TEXT,
        title_after TEXT,
        chars_added INTEGER NOT NULL DEFAULT 0,
        chars_removed INTEGER NOT NULL DEFAULT 0,
        diff TEXT,
        diff_html TEXT,
        mentions_added TEXT NOT NULL DEFAULT '[]',
        mentions_removed TEXT NOT NULL DEFAULT '[]',
        redirect_url TEXT
    );
    CREATE INDEX changes_article_id ON changes(article_id);
    CREATE INDEX changes_detected_at ON changes(detected_at);
    CREATE TABLE errors (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        source_id INTEGER REFERENCES sources(id),
        url TEXT,
        stage TEXT NOT NULL,
        message TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX errors_run_id ON errors(run_id);
    CREATE TABLE skipped (
        id INTEGER PRIMARY KEY,
        source_id INTEGER REFERENCES sources(id),
        url TEXT NOT NULL UNIQUE,
        reason TEXT NOT NULL,
        first_seen_at TEXT NOT NULL
    );
    CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        period_start TEXT,
        period_end TEXT NOT NULL,
        format TEXT NOT NULL,
        sent_at TEXT,
        recipients TEXT,
        item_count INTEGER NOT NULL DEFAULT 0
    );
    """,
    ANALYST_SCHEMA,
    """
    CREATE TABLE article_sources (
        article_id INTEGER NOT NULL REFERENCES articles(id),
        source_id INTEGER NOT NULL REFERENCES sources(id),
        first_seen_at TEXT NOT NULL,
        PRIMARY KEY (article_id, source_id)
    );
    INSERT INTO article_sources (article_id, source_id, first_seen_at)
        SELECT id, source_id, first_seen_at FROM articles WHERE source_id IS NOT NULL;
    CREATE TABLE article_aliases (
        url TEXT PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id)
    );
    ALTER TABLE articles ADD COLUMN story_id INTEGER;
    ALTER TABLE articles ADD COLUMN is_partial INTEGER NOT NULL DEFAULT 0;
    UPDATE articles SET story_id = id;
    CREATE INDEX articles_story_id ON articles(story_id);
    CREATE TABLE article_fingerprints (
        article_id INTEGER PRIMARY KEY REFERENCES articles(id),
        simhash INTEGER NOT NULL,
        band0 INTEGER NOT NULL,
        band1 INTEGER NOT NULL,
        band2 INTEGER NOT NULL,
        band3 INTEGER NOT NULL
    );
    CREATE INDEX article_fingerprints_band0 ON article_fingerprints(band0);
    CREATE INDEX article_fingerprints_band1 ON article_fingerprints(band1);
    CREATE INDEX article_fingerprints_band2 ON article_fingerprints(band2);
    CREATE INDEX article_fingerprints_band3 ON article_fingerprints(band3);
    """,
    # Links that answered 404/410 while a feed kept listing them, retried on the revisit
    # schedule; source_health with failing sources first and its gone links counted.
    """
    CREATE TABLE gone_links (
        url TEXT PRIMARY KEY,
        source_id INTEGER REFERENCES sources(id),
        status INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_tried_at TEXT NOT NULL,
        next_try_at TEXT,
        tries INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX gone_links_next_try_at ON gone_links(next_try_at);
    DROP VIEW IF EXISTS source_health;
    CREATE VIEW source_health AS
    SELECT
        s.name AS source,
        s.url,
        s.last_polled_at,
        s.last_status,
        s.last_error,
        (SELECT count(*) FROM articles a WHERE a.source_id = s.id) AS articles,
        (SELECT count(*) FROM errors e WHERE e.source_id = s.id
            AND e.at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day')) AS errors_24h,
        (SELECT max(e.at) FROM errors e WHERE e.source_id = s.id) AS last_error_at,
        (SELECT count(*) FROM gone_links g WHERE g.source_id = s.id) AS links_gone
    FROM sources s
    ORDER BY CASE s.last_status WHEN 'failed' THEN 0 WHEN 'partial' THEN 1 ELSE 2 END,
        s.name;
    """,
    # Since when a source's polls have failed without a break (`status --check`).
    """
    ALTER TABLE sources ADD COLUMN failing_since TEXT;
    UPDATE sources SET failing_since = last_polled_at WHERE last_status = 'failed';
    """,
    """
    ALTER TABLE digests ADD COLUMN status TEXT NOT NULL DEFAULT 'unsent';
    ALTER TABLE digests ADD COLUMN message_id TEXT;
    UPDATE digests SET status = 'sent' WHERE sent_at IS NOT NULL;
    """,
    # Which extraction rules made each version (crawler.extraction.article.EXTRACTOR); NULL for
    # versions stored before it was recorded (0.1: rules 1).
    """
    ALTER TABLE versions ADD COLUMN extractor TEXT;
    """,
    # Per-version metadata (authors, dates and where they came from, paywall state), the
    # article's list of authors, and mentions found only in the feed summary. The index
    # (step 12 makes it where this step ran without it) keeps the fill linear.
    """
    ALTER TABLE versions ADD COLUMN authors TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE versions ADD COLUMN title_raw TEXT;
    ALTER TABLE versions ADD COLUMN published_at TEXT;
    ALTER TABLE versions ADD COLUMN published_from TEXT;
    ALTER TABLE versions ADD COLUMN modified_at TEXT;
    ALTER TABLE versions ADD COLUMN modified_from TEXT;
    ALTER TABLE versions ADD COLUMN is_partial INTEGER;
    CREATE INDEX IF NOT EXISTS articles_current_version_id ON articles(current_version_id);
    UPDATE versions SET
        is_partial = (SELECT a.is_partial FROM articles a
                      WHERE a.current_version_id = versions.id),
        published_at = (SELECT a.published_at FROM articles a
                         WHERE a.current_version_id = versions.id),
        authors = coalesce((SELECT json_array(a.author) FROM articles a
                            WHERE a.current_version_id = versions.id
                            AND a.author IS NOT NULL), '[]');
    ALTER TABLE articles ADD COLUMN authors TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE articles ADD COLUMN published_from TEXT;
    ALTER TABLE articles ADD COLUMN modified_at TEXT;
    UPDATE articles SET authors = json_array(author) WHERE author IS NOT NULL;
    ALTER TABLE mentions ADD COLUMN in_summary INTEGER NOT NULL DEFAULT 0;
    """,
    # The alerts outbox: one row per event and [[notify]] target, written with the event,
    # marked sent once the target's service accepted it (docs/alerts.md).
    """
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL,
        target TEXT NOT NULL,
        event TEXT NOT NULL,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        topic_id INTEGER REFERENCES topics(id),
        change_id INTEGER REFERENCES changes(id),
        created_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        message_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        failing_since TEXT,
        last_error TEXT,
        sent_at TEXT,
        answer TEXT,
        UNIQUE (event_id, target)
    );
    CREATE INDEX notifications_by_target ON notifications (target, status);
    """,
    # Change intelligence and evidence: each change's kinds (a JSON array beside `kind`)
    # and significance in [0, 1]; each version's SHA-256 of the page as fetched and its
    # chain hash over the previous version of the same article (`presswatch verify`).
    # Changes recorded before have no significance; their kinds are known only for
    # headline and paywall changes.
    """
    ALTER TABLE changes ADD COLUMN kinds TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE changes ADD COLUMN significance REAL;
    UPDATE changes SET kinds = '["headline"]' WHERE kind = 'retitled';
    UPDATE changes SET kinds = '["paywall"]' WHERE kind = 'paywall';
    CREATE INDEX changes_significance ON changes(significance);
    ALTER TABLE versions ADD COLUMN body_sha256 TEXT;
    ALTER TABLE versions ADD COLUMN chain_hash TEXT;
    """,
    # Each site's robots.txt, kept across passes until its HTTP cache lifetime (at most 24 h)
    # runs out (crawler.fetching.robots).
    """
    CREATE TABLE robots_txt (
        origin TEXT PRIMARY KEY,
        status INTEGER NOT NULL,
        body BLOB NOT NULL,
        fetched_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
    # A year of data (docs/performance.md): indexes for every default sort, offered facet
    # and joined key; full-text update triggers that fire only when an indexed column
    # changes (writing versions.topics or changes.mentions_* never re-indexes text); the
    # two feeds without ORDER BY and with the article's columns as scalar subqueries, so
    # counting one reads one index (Datasette orders them: metadata sort_desc).
    """
    CREATE INDEX IF NOT EXISTS articles_current_version_id ON articles(current_version_id);
    CREATE INDEX mentions_topic_id_found_at ON mentions(topic_id, found_at, in_title);
    CREATE INDEX changes_article_id_detected_at ON changes(article_id, detected_at);
    CREATE INDEX changes_to_version_id ON changes(to_version_id);
    CREATE INDEX errors_source_id_at ON errors(source_id, at);
    CREATE INDEX article_sources_source_id ON article_sources(source_id);
    CREATE INDEX skipped_source_id ON skipped(source_id);
    CREATE INDEX gone_links_source_id ON gone_links(source_id);
    CREATE INDEX notifications_article_id ON notifications(article_id);
    CREATE INDEX articles_first_seen_at ON articles(first_seen_at);
    CREATE INDEX versions_fetched_at ON versions(fetched_at);
    CREATE INDEX runs_started_at ON runs(started_at);
    CREATE INDEX errors_at ON errors(at);
    CREATE INDEX digests_created_at ON digests(created_at);
    CREATE INDEX gone_links_first_seen_at ON gone_links(first_seen_at);
    CREATE INDEX notifications_created_at ON notifications(created_at);
    CREATE INDEX articles_status ON articles(status);
    CREATE INDEX articles_language ON articles(language);
    CREATE INDEX mentions_in_title ON mentions(in_title);
    CREATE INDEX changes_kind ON changes(kind);
    CREATE INDEX errors_stage ON errors(stage);
    CREATE INDEX runs_status ON runs(status);
    CREATE INDEX notifications_event ON notifications(event);
    CREATE INDEX notifications_status ON notifications(status);
    DROP TRIGGER versions_au;
    CREATE TRIGGER versions_au AFTER UPDATE OF title, text ON versions BEGIN
        INSERT INTO versions_fts (versions_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO versions_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
    END;
    DROP TRIGGER changes_au;
    CREATE TRIGGER changes_au AFTER UPDATE OF title_before, title_after, diff ON changes BEGIN
        INSERT INTO changes_fts (changes_fts, rowid, title_before, title_after, diff)
            VALUES ('delete', old.id, old.title_before, old.title_after, old.diff);
        INSERT INTO changes_fts (rowid, title_before, title_after, diff)
            VALUES (new.id, new.title_before, new.title_after, new.diff);
    END;
    DROP VIEW mention_feed;
    CREATE VIEW mention_feed AS
    SELECT
        t.name AS topic,
        (SELECT a.title FROM articles a WHERE a.id = m.article_id) AS headline,
        (SELECT s.name FROM articles a JOIN sources s ON s.id = a.source_id
            WHERE a.id = m.article_id) AS outlet,
        (SELECT a.url FROM articles a WHERE a.id = m.article_id) AS url,
        (SELECT a.published_at FROM articles a WHERE a.id = m.article_id) AS published_at,
        m.found_at,
        m.snippet,
        m.in_title,
        m.article_id,
        m.id AS mention_id
    FROM mentions m
    JOIN topics t ON t.id = m.topic_id;
    DROP VIEW change_feed;
    CREATE VIEW change_feed AS
    SELECT
        (SELECT a.title FROM articles a WHERE a.id = c.article_id) AS headline,
        (SELECT s.name FROM articles a JOIN sources s ON s.id = a.source_id
            WHERE a.id = c.article_id) AS outlet,
        (SELECT a.url FROM articles a WHERE a.id = c.article_id) AS url,
        c.kind,
        c.detected_at,
        c.title_before,
        c.title_after,
        c.mentions_added,
        c.mentions_removed,
        CASE WHEN length(c.diff) > 300 THEN substr(c.diff, 1, 300) || '…' ELSE c.diff END
            AS diff_excerpt,
        c.article_id,
        c.id AS change_id
    FROM changes c;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite_utils.Database) -> int:
    """Bring the schema up to date in place; return the version it is now at."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise DatabaseProblem(
            f"the database has schema version {version}, newer than this presswatch "
            f"({SCHEMA_VERSION}); upgrade presswatch"
        )
    for number in range(version, SCHEMA_VERSION):
        step = MIGRATIONS[number]
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            if callable(step):
                step(db)
            else:
                for statement in sqlite3_statements(step):
                    db.conn.execute(statement)
            db.conn.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            db.conn.rollback()
            raise
        db.conn.commit()
    return SCHEMA_VERSION


def sqlite3_statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit midway)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s.strip(" ;\n")]

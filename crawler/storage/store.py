"""The SQLite database: every write and the queries the rest needs (the schema and its
migrations are in crawler/storage/migrations.py).

One file, WAL mode, foreign keys on, a busy timeout so readers (Datasette, a digest)
never make a pass fail. Each article's rows are written in one transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from crawler.config import Source, Topic
from crawler.storage.migrations import DatabaseProblem, migrate

BUSY_TIMEOUT_MS = 30_000
MAX_PAGES_ENV = "PRESSWATCH_MAX_PAGE_COUNT"
"""A test-only knob: cap the database at this many pages (PRAGMA max_page_count), so a
pass meets SQLite's "database or disk is full" without a small file system."""


@dataclass(frozen=True)
class StoredArticle:
    """What a revisit needs to know about an article already in the database."""

    id: int
    url: str
    source_id: int | None
    status: str
    title: str | None
    text: str
    text_hash: str
    topics: tuple[str, ...]
    version_id: int
    last_changed_at: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    redirect_url: str | None
    authors: tuple[str, ...] = ()
    published_at: str | None = None
    published_from: str | None = None
    is_partial: bool = False
    extractor: str | None = None  # of the current version


# The metadata columns a version carries (crawler.tracking.recorder.version_metadata fills them).
VERSION_METADATA = (
    "authors",
    "title_raw",
    "published_at",
    "published_from",
    "modified_at",
    "modified_from",
    "is_partial",
)


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate a presswatch database. Raises DatabaseProblem."""
    try:
        return _connect(path)
    except sqlite3.DatabaseError as error:
        raise DatabaseProblem(f"{path}: {_reason(error)}") from error
    except DatabaseProblem as error:
        raise DatabaseProblem(f"{path}: {error}") from None


def _reason(error: sqlite3.DatabaseError) -> str:
    message = str(error)
    if "not a database" in message or "malformed" in message:
        return f"not a presswatch database, or damaged ({message})"
    if "readonly" in message or "unable to open" in message:
        return f"cannot write the database or its folder ({message})"
    return message


def _connect(path: str | Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    db = sqlite_utils.Database(conn)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.enable_wal()
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    if os.environ.get(MAX_PAGES_ENV, "").isdigit():
        conn.execute(f"PRAGMA max_page_count = {int(os.environ[MAX_PAGES_ENV])}")
    return db


class StorageFailed(RuntimeError):
    """A write could not be made durable (disk full, I/O error, a failed commit): the open
    batch was rolled back, and nothing written since it began is in the database."""


def _out_of_storage(error: sqlite3.Error) -> bool:
    """A full disk or an I/O error: nothing more can be written now."""
    name = getattr(error, "sqlite_errorname", "") or ""
    return name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR")


def describe_failure(error: sqlite3.Error) -> str:
    """SQLite's reason on one line: ``database or disk is full (SQLITE_FULL)``."""
    name = getattr(error, "sqlite_errorname", None)
    reason = " ".join(str(error).split()) or type(error).__name__
    return f"{reason} ({name})" if name else reason


class Store:
    """All reads and writes of one database. Methods take and return plain values."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.batch_started: float | None = None
        self.batch_size = 0

    @classmethod
    def open(cls, path: str | Path) -> Store:
        return cls(connect(path))

    @property
    def path(self) -> str:
        return self.db.execute("PRAGMA database_list").fetchone()[2]

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything written inside is committed together or not at all.

        Inside a batch this is a savepoint: it is rolled back alone on error, and becomes
        durable when the batch commits. An error that cost the whole batch (SQLite rolls
        it back itself on a full disk or an I/O error) raises :class:`StorageFailed`.
        """
        if self.batch_started is not None and not self.db.conn.in_transaction:
            raise self.abandon_batch("the open batch was rolled back by an earlier error")
        try:
            with self.db.atomic():
                yield
        except sqlite3.Error as error:
            if self.batch_started is not None and (
                not self.db.conn.in_transaction or _out_of_storage(error)
            ):
                raise self.abandon_batch(describe_failure(error)) from error
            raise
        if self.batch_started is not None:
            self.batch_size += 1

    def begin_batch(self) -> None:
        """Group the following transactions into one commit (see commit_batch)."""
        if self.batch_started is None:
            self.db.conn.execute("BEGIN")
            self.batch_started, self.batch_size = time.monotonic(), 0

    def commit_batch(self) -> None:
        """Make the open batch durable; raise :class:`StorageFailed` (the batch rolled
        back) when SQLite cannot."""
        if self.batch_started is None:
            return
        if not self.db.conn.in_transaction:
            raise self.abandon_batch("the open batch was rolled back by an earlier error")
        self.batch_started = None
        try:
            self.db.conn.commit()
        except sqlite3.Error as error:
            raise self.abandon_batch(describe_failure(error)) from error

    def abandon_batch(self, reason: str) -> StorageFailed:
        """Roll back the open batch (if SQLite has not already); the error to raise."""
        self.batch_started = None
        with suppress(sqlite3.Error):
            self.db.conn.rollback()
        return StorageFailed(reason)

    def batch_due(self, max_items: int, max_seconds: float) -> bool:
        """Has the open batch grown enough to be committed?"""
        if self.batch_started is None:
            return False
        age = time.monotonic() - self.batch_started
        return self.batch_size >= max_items or age >= max_seconds

    # -- configuration mirrored into the database ---------------------------------

    def sync_sources(self, sources: Iterable[Source]) -> dict[str, int]:
        with self.transaction():
            for source in sources:
                self.db["sources"].upsert(
                    {"name": source.name, "url": source.url, "kind": source.kind}, pk="name"
                )
        return {row["name"]: row["id"] for row in self.db["sources"].rows}

    def source_statuses(self) -> dict[int, str | None]:
        """Each source's ``last_status`` (None before its first poll)."""
        return {row[0]: row[1] for row in self.db.execute("SELECT id, last_status FROM sources")}

    def sync_topics(self, topics: Iterable[Topic]) -> dict[str, int]:
        with self.transaction():
            for topic in topics:
                self.db["topics"].upsert(
                    {"name": topic.name, "query": topic_query_text(topic)}, pk="name"
                )
        return {row["name"]: row["id"] for row in self.db["topics"].rows}

    # -- runs, errors, sources ------------------------------------------------------

    def start_run(self, now: str) -> int:
        with self.transaction():
            return self.db["runs"].insert({"started_at": now, "status": "running"}).last_pk

    def finish_run(self, run_id: int, now: str, status: str, counts: dict[str, int]) -> None:
        with self.transaction():
            self.db["runs"].update(run_id, {"finished_at": now, "status": status, **counts})

    def close_abandoned_runs(self, now: str, message: str) -> list[int]:
        """Close as ``failed`` the runs left ``running`` by passes that ended without
        recording their end (killed, or unable to write), each with an ``errors`` row.
        Only for a caller holding the database's lock: no other pass can be running."""
        rows = self.db.execute("SELECT id FROM runs WHERE status = 'running' ORDER BY id")
        run_ids = [row[0] for row in rows]
        for run_id in run_ids:
            with self.transaction():
                self.db["errors"].insert(
                    {
                        "run_id": run_id,
                        "stage": "run",
                        "message": message,
                        "at": now,
                        "source_id": None,
                        "url": None,
                    }
                )
                errors = self.db.execute(
                    "SELECT count(*) FROM errors WHERE run_id = ?", [run_id]
                ).fetchone()[0]
                self.db["runs"].update(
                    run_id, {"finished_at": now, "status": "failed", "errors": errors}
                )
        return run_ids

    # -- digests --------------------------------------------------------------------

    def insert_digest(self, values: dict[str, Any]) -> int:
        with self.transaction():
            return self._insert("digests", values)

    def update_digest(self, digest_id: int, values: dict[str, Any]) -> None:
        with self.transaction():
            self.db["digests"].update(digest_id, values)

    def last_delivered_end(self) -> str | None:
        """The end of the latest digest delivered (or settled as empty)."""
        return self.db.execute(
            "SELECT max(period_end) FROM digests WHERE sent_at IS NOT NULL"
        ).fetchone()[0]

    def digest_in_doubt(self) -> dict[str, Any] | None:
        """The latest digest handed to a mail server whose outcome was never recorded (a
        kill while sending), if no delivered digest covers it since."""
        rows = self.db.query(
            "SELECT * FROM digests WHERE status = 'sending' AND sent_at IS NULL AND "
            "period_end > coalesce((SELECT max(period_end) FROM digests "
            "WHERE sent_at IS NOT NULL), '') ORDER BY id DESC LIMIT 1"
        )
        return next(iter(rows), None)

    def record_error(
        self,
        run_id: int | None,
        stage: str,
        message: str,
        now: str,
        *,
        url: str | None = None,
        source_id: int | None = None,
    ) -> None:
        with self.transaction():
            self.db["errors"].insert(
                {
                    "run_id": run_id,
                    "source_id": source_id,
                    "url": url,
                    "stage": stage,
                    "message": message,
                    "at": now,
                }
            )

    def record_skipped(self, source_id: int, url: str, reason: str, now: str) -> None:
        with self.transaction():
            self.db["skipped"].insert(
                {"source_id": source_id, "url": url, "reason": reason, "first_seen_at": now},
                ignore=True,
            )

    def source_polled(
        self, source_id: int, now: str, status: str, error: str | None = None
    ) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE sources SET last_polled_at = ?, last_status = ?, last_error = ?, "
                "failing_since = CASE WHEN ? = 'failed' THEN coalesce(failing_since, ?) END "
                "WHERE id = ?",
                [now, status, error, status, now, source_id],
            )

    def save_validators(self, source_id: int, etag: str | None, last_modified: str | None) -> None:
        with self.transaction():
            self.db["sources"].update(source_id, {"etag": etag, "last_modified": last_modified})

    def source_validators(self, source_id: int) -> tuple[str | None, str | None]:
        row = self.db["sources"].get(source_id)
        return row["etag"], row["last_modified"]

    # -- robots.txt ---------------------------------------------------------------

    def cached_robots_txt(self, origin: str, now: str) -> bytes | None:
        """The robots.txt kept for ``origin`` (``scheme://host[:port]``), unless expired."""
        row = self.db.execute(
            "SELECT body FROM robots_txt WHERE origin = ? AND expires_at > ?", [origin, now]
        ).fetchone()
        return bytes(row[0]) if row else None

    def keep_robots_txt(
        self, origin: str, status: int, body: bytes, fetched_at: str, expires_at: str
    ) -> None:
        """Keep ``origin``'s robots.txt answer until ``expires_at``."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO robots_txt (origin, status, body, fetched_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
                "status = excluded.status, body = excluded.body, "
                "fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
                [origin, status, body, fetched_at, expires_at],
            )

    # -- links that went away ---------------------------------------------------------

    def gone_link(self, url: str) -> dict[str, Any] | None:
        """The remembered 404/410 answer of a link never stored as an article, if any."""
        rows = list(self.db.query("SELECT * FROM gone_links WHERE url = ?", [url]))
        return rows[0] if rows else None

    def remember_gone_link(
        self, url: str, source_id: int | None, status: int, now: str, next_try_at: str | None
    ) -> None:
        """Record a 404/410 answer: a new row, or one more try of a known gone link."""
        self.db.conn.execute(
            "INSERT INTO gone_links (url, source_id, status, first_seen_at, last_tried_at, "
            "next_try_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
            "status = excluded.status, last_tried_at = excluded.last_tried_at, "
            "next_try_at = excluded.next_try_at, tries = tries + 1",
            [url, source_id, status, now, now, next_try_at],
        )

    def forget_gone_link(self, url: str) -> None:
        self.db.conn.execute("DELETE FROM gone_links WHERE url = ?", [url])

    def due_gone_links(self, now: str | None) -> list[dict[str, Any]]:
        """Gone links to try again: due by ``now``, or every one still tried when None."""
        sql = "SELECT url, source_id FROM gone_links WHERE next_try_at IS NOT NULL"
        params = []
        if now is not None:
            sql, params = sql + " AND next_try_at <= ?", [now]
        return list(self.db.query(sql + " ORDER BY next_try_at, url", params))

    # -- articles ---------------------------------------------------------------------

    def article_exists(self, url: str) -> bool:
        return self.article_id(url) is not None

    def article_id(self, url: str) -> int | None:
        """The article stored under ``url``, its canonical URL or one of its aliases."""
        row = self.db.conn.execute(
            "SELECT id FROM articles WHERE url = ? UNION ALL "
            "SELECT article_id FROM article_aliases WHERE url = ? LIMIT 1",
            [url, url],
        ).fetchone()
        return row[0] if row else None

    def add_alias(self, url: str, article_id: int) -> None:
        self.db.conn.execute(
            "INSERT OR IGNORE INTO article_aliases (url, article_id) VALUES (?, ?)",
            [url, article_id],
        )

    def add_article_source(self, article_id: int, source_id: int, now: str) -> None:
        """Remember that ``source_id`` led to the article too (once per source)."""
        self.db.conn.execute(
            "INSERT OR IGNORE INTO article_sources (article_id, source_id, "
            "first_seen_at) VALUES (?, ?, ?)",
            [article_id, source_id, now],
        )

    def add_fingerprint(self, article_id: int, simhash: int, bands: tuple[int, ...]) -> None:
        self.db.conn.execute(
            "INSERT OR REPLACE INTO article_fingerprints VALUES (?, ?, ?, ?, ?, ?)",
            [article_id, simhash, *bands],
        )

    def fingerprint_candidates(
        self, probes: tuple[tuple[int, ...], ...]
    ) -> list[tuple[int, int, int]]:
        """(article_id, simhash, story_id) of articles with a band among ``probes``
        (see crawler.tracking.similarity.band_probes)."""
        conditions = " OR ".join(
            f"f.band{n} IN ({', '.join('?' * len(values))})" for n, values in enumerate(probes)
        )
        return self.db.conn.execute(
            "SELECT f.article_id, f.simhash, a.story_id FROM article_fingerprints f "
            f"JOIN articles a ON a.id = f.article_id WHERE {conditions}",
            [value for values in probes for value in values],
        ).fetchall()

    def stored_article(self, article_id: int) -> StoredArticle | None:
        row = self.db.execute(
            """SELECT a.id, a.url, a.source_id, a.status, v.title, v.text, v.text_hash,
                      v.topics, v.id, a.last_changed_at, a.etag, a.last_modified, a.body_hash,
                      a.redirect_url, v.authors, v.published_at, v.published_from,
                      coalesce(v.is_partial, a.is_partial), v.extractor
               FROM articles a JOIN versions v ON v.id = a.current_version_id
               WHERE a.id = ?""",
            [article_id],
        ).fetchone()
        if row is None:
            return None
        return StoredArticle(
            *row[:7],
            tuple(json.loads(row[7])),
            *row[8:14],
            tuple(json.loads(row[14] or "[]")),
            row[15],
            row[16],
            bool(row[17]),
            row[18],
        )

    def due_articles(self, now: str | None, batch: int = 500) -> Iterator[dict[str, Any]]:
        """Tracked articles to re-check: due by ``now``, or every tracked one when None.

        Read in batches by id, so the caller may write to the database between rows.
        """
        sql = (
            "SELECT id, url, source_id, etag, last_modified, body_hash, last_changed_at, "
            "status FROM articles "
            "WHERE next_check_at IS NOT NULL AND id > ?"
        )
        if now is not None:
            sql += " AND next_check_at <= ?"
        last_id = 0
        while True:
            params = [last_id] if now is None else [last_id, now]
            rows = list(self.db.query(sql + f" ORDER BY id LIMIT {batch}", params))
            yield from rows
            if len(rows) < batch:
                return
            last_id = rows[-1]["id"]

    def insert_article(self, values: dict[str, Any]) -> int:
        return self._insert("articles", values)

    def update_article(self, article_id: int, values: dict[str, Any]) -> None:
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.db.conn.execute(
            f"UPDATE articles SET {assignments} WHERE id = ?", [*values.values(), article_id]
        )

    def insert_version(
        self,
        article_id: int,
        fetched_at: str,
        title: str | None,
        text: str,
        text_hash: str,
        topics: Iterable[str],
        extractor: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> int:
        """A new version made by ``extractor``; ``metadata`` holds its VERSION_METADATA
        columns (authors as a list)."""
        extra = dict(metadata or {})
        if "authors" in extra:
            extra["authors"] = json.dumps(list(extra["authors"]), ensure_ascii=False)
        return self._insert(
            "versions",
            {
                "article_id": article_id,
                "fetched_at": fetched_at,
                "title": title,
                "text": text,
                "text_hash": text_hash,
                "topics": json.dumps(sorted(topics), ensure_ascii=False),
                "extractor": extractor,
                **extra,
            },
        )

    def set_version_topics(self, version_id: int, topics: Iterable[str]) -> None:
        self.db.conn.execute(
            "UPDATE versions SET topics = ? WHERE id = ?",
            [json.dumps(sorted(topics), ensure_ascii=False), version_id],
        )

    def insert_change(self, values: dict[str, Any]) -> int:
        return self._insert("changes", values)

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        """A plain INSERT: the per-article hot path, where sqlite-utils' table
        introspection on every call would cost more than the write itself."""
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        cursor = self.db.conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values())
        )
        return cursor.lastrowid

    def mentioned_topic_ids(self, article_id: int) -> set[int]:
        rows = self.db.execute("SELECT topic_id FROM mentions WHERE article_id = ?", [article_id])
        return {row[0] for row in rows}

    def insert_mention(self, values: dict[str, Any]) -> bool:
        """Record a topic's first appearance in an article; False when it was already there."""
        cursor = self.db.conn.execute(
            "INSERT OR IGNORE INTO mentions (topic_id, article_id, version_id, found_at, "
            "in_title, match_count, snippet, terms, backfilled, in_summary) VALUES "
            "(:topic_id, :article_id, :version_id, :found_at, :in_title, :match_count, "
            ":snippet, :terms, :backfilled, :in_summary)",
            {"in_summary": 0, **values},
        )
        return cursor.rowcount == 1


def topic_query_text(topic: Topic) -> str:
    """One query string for a topic: several queries are joined as ``(a) OR (b)``."""
    if len(topic.queries) == 1:
        return topic.queries[0]
    return " OR ".join(f"({query})" for query in topic.queries)

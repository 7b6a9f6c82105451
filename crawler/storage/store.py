"""The SQLite database: every write and the queries the rest needs (the schema and its
migrations are in crawler/storage/migrations.py; the reports' and the schedule's reads,
by subject, in runs.py, sources.py and articles.py, all reached through :class:`Store`).

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
from crawler.storage.articles import ArticleQueries
from crawler.storage.digests import DigestQueries
from crawler.storage.migrations import DatabaseProblem, migrate
from crawler.storage.runs import RunQueries
from crawler.storage.sources import SourceQueries
from crawler.storage.views import ViewQueries

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
    modified_at: str | None = None  # declared by the current version's page
    chain_hash: str | None = None  # of the current version (crawler.tracking.evidence)


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

# The columns of a version that its chain hash covers (crawler.tracking.evidence).
CHAINED = (
    "article_id",
    "fetched_at",
    "title",
    "text",
    "text_hash",
    "topics",
    "extractor",
    *VERSION_METADATA,
    "body_sha256",
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


class Store(RunQueries, SourceQueries, ArticleQueries, DigestQueries, ViewQueries):
    """All reads and writes of one database. Methods take and return plain values; the
    digest's are in crawler/storage/digests.py, the served pages' in views.py."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.batch_started: float | None = None
        self.batch_size = 0
        self.outbox = Outbox(db)

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
        return self.source_ids()

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
                errors = self.run_error_count(run_id)
                self.db["runs"].update(
                    run_id, {"finished_at": now, "status": "failed", "errors": errors}
                )
        return run_ids

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
                      coalesce(v.is_partial, a.is_partial), v.extractor, v.modified_at,
                      v.chain_hash
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
            *row[18:21],
        )

    def due_articles(self, now: str | None, batch: int = 500) -> Iterator[dict[str, Any]]:
        """Tracked articles to re-check, by id: due by ``now``, or every tracked one when
        None.

        The due ones are found through the next_check_at index (a pass with nothing due
        reads no article); rows are read in batches, so the caller may write to the
        database between rows, and a row no longer due when its batch is read is skipped.
        """
        columns = (
            "SELECT id, url, source_id, etag, last_modified, body_hash, last_changed_at, "
            "status FROM articles "
        )
        if now is None:
            last_id = 0
            while True:
                rows = list(
                    self.db.query(
                        columns + "WHERE next_check_at IS NOT NULL AND id > ? ORDER BY id "
                        f"LIMIT {batch}",
                        [last_id],
                    )
                )
                yield from rows
                if len(rows) < batch:
                    return
                last_id = rows[-1]["id"]
        ids = sorted(
            row[0]
            for row in self.db.execute(
                "SELECT id FROM articles INDEXED BY articles_next_check_at "
                "WHERE next_check_at <= ?",
                [now],
            )
        )
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            marks = ", ".join("?" * len(chunk))
            yield from self.db.query(
                columns + f"WHERE id IN ({marks}) AND next_check_at <= ? ORDER BY id",
                [*chunk, now],
            )

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
        """A new version made by ``extractor``; ``metadata`` holds its metadata columns
        (authors as a list, title_raw, published_at, published_from, modified_at,
        modified_from, is_partial: crawler.tracking.recorder.version_metadata)."""
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

    def version_records(
        self, article_id: int | None = None, version_id: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """The columns of versions a chain hash covers (CHAINED), with ``id`` and
        ``chain_hash``: one version's, one article's, or every article's, by article then
        version."""
        conditions = {"article_id": article_id, "id": version_id}
        used = {column: value for column, value in conditions.items() if value is not None}
        where = " AND ".join(f"{column} = ?" for column in used)
        where, params = (f"WHERE {where}", list(used.values())) if used else ("", [])
        columns = ", ".join(("id", *CHAINED, "chain_hash"))
        yield from self.db.query(
            f"SELECT {columns} FROM versions {where} ORDER BY article_id, id", params
        )

    def set_chain_hash(self, version_id: int, chain_hash: str) -> None:
        self.db.conn.execute(
            "UPDATE versions SET chain_hash = ? WHERE id = ?", [chain_hash, version_id]
        )

    def version_facts(self, article_id: int) -> dict[int, dict[str, Any]]:
        """Each version of an article by id: when it was fetched and its hashes."""
        rows = self.db.query(
            "SELECT id, fetched_at, text_hash, body_sha256, chain_hash FROM versions "
            "WHERE article_id = ? ORDER BY id",
            [article_id],
        )
        return {row["id"]: row for row in rows}

    def source_name(self, source_id: int | None) -> str | None:
        row = self.db.execute("SELECT name FROM sources WHERE id = ?", [source_id]).fetchone()
        return row[0] if row else None

    def article_labels(self) -> dict[int, str]:
        """Each article's URL, by id (to name it in a report)."""
        return dict(self.db.conn.execute("SELECT id, url FROM articles").fetchall())

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


class Outbox:
    """The ``notifications`` table: alerts waiting for, being sent to, or accepted by
    their ``[[notify]]`` targets (crawler/outputs/alerts/). Reached as ``Store.outbox``."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def queue(self, rows: Iterable[dict[str, Any]]) -> int:
        """Add alerts (inside the caller's transaction); an event already queued for a
        target is not queued twice. Returns how many were added."""
        added = 0
        for row in rows:
            cursor = self.db.conn.execute(
                "INSERT OR IGNORE INTO notifications (event_id, target, event, article_id, "
                "topic_id, change_id, created_at) VALUES (:event_id, :target, :event, "
                ":article_id, :topic_id, :change_id, :created_at)",
                {"topic_id": None, "change_id": None, **row},
            )
            added += cursor.rowcount
        return added

    def due(self, target: str, now: str) -> list[dict[str, Any]]:
        """A target's alerts to send now, oldest first, with what their messages show:
        those in doubt (``sending``: a kill between sending and marking), then those
        pending whose next attempt is due."""
        return list(
            self.db.query(
                """SELECT n.id, n.event_id, n.event, n.status, n.message_id, n.attempts,
                          n.created_at, n.change_id, n.article_id, a.url, a.title,
                          coalesce(a.story_id, a.id) AS story_id, s.name AS outlet,
                          t.name AS topic, m.snippet, m.terms, c.title_before,
                          c.title_after, c.diff, c.detected_at,
                          c.significance
                   FROM notifications n
                   JOIN articles a ON a.id = n.article_id
                   LEFT JOIN sources s ON s.id = a.source_id
                   LEFT JOIN topics t ON t.id = n.topic_id
                   LEFT JOIN mentions m ON m.topic_id = n.topic_id
                        AND m.article_id = n.article_id
                   LEFT JOIN changes c ON c.id = n.change_id
                   WHERE n.target = ? AND (n.status = 'sending' OR (n.status = 'pending'
                         AND (n.next_attempt_at IS NULL OR n.next_attempt_at <= ?)))
                   ORDER BY n.status = 'pending', n.id""",
                [target, now],
            )
        )

    def other_outlets(self, story_id: int, article_id: int) -> list[str]:
        """The outlets of the story's other copies (syndicated: same ``story_id``)."""
        rows = self.db.execute(
            "SELECT DISTINCT s.name FROM articles a JOIN sources s ON s.id = a.source_id "
            "WHERE coalesce(a.story_id, a.id) = ? AND a.id != ? ORDER BY s.name",
            [story_id, article_id],
        )
        return [row[0] for row in rows]

    def sending(self, ids: Iterable[int], message_id: str) -> None:
        """About to hand these to the service as one message: committed before it is."""
        self._update(ids, "status = 'sending', message_id = ?", [message_id])

    def sent(self, ids: Iterable[int], now: str, answer: str) -> None:
        self._update(
            ids,
            "status = 'sent', sent_at = ?, answer = ?, failing_since = NULL, "
            "next_attempt_at = NULL",
            [now, answer],
        )

    def failed(self, ids: Iterable[int], now: str, error: str, next_attempt_at: str) -> None:
        """Not accepted: back to pending (the message id kept), tried again later."""
        self._update(
            ids,
            "status = 'pending', attempts = attempts + 1, last_error = ?, "
            "next_attempt_at = ?, failing_since = coalesce(failing_since, ?)",
            [error, next_attempt_at, now],
        )

    def skipped(self, ids: Iterable[int], now: str, reason: str) -> None:
        """Never to be sent (below the target's min_significance)."""
        self._update(ids, "status = 'skipped', sent_at = ?, answer = ?", [now, reason])

    def last_sent(self, target: str) -> str | None:
        return self.db.execute(
            "SELECT max(sent_at) FROM notifications WHERE target = ? AND status = 'sent'",
            [target],
        ).fetchone()[0]

    def targets(self) -> dict[str, dict[str, Any]]:
        """Per target: last delivery, alerts waiting, failing since when, last error."""
        rows = self.db.query(
            """SELECT target,
                      max(CASE WHEN status = 'sent' THEN sent_at END) AS last_sent_at,
                      sum(status IN ('pending', 'sending')) AS pending,
                      max(CASE WHEN status IN ('pending', 'sending') THEN attempts END)
                          AS attempts,
                      min(CASE WHEN status IN ('pending', 'sending') THEN failing_since END)
                          AS failing_since,
                      (SELECT n2.last_error FROM notifications n2
                       WHERE n2.target = n.target AND n2.status IN ('pending', 'sending')
                         AND n2.last_error IS NOT NULL
                       ORDER BY n2.next_attempt_at DESC LIMIT 1) AS last_error
               FROM notifications n GROUP BY target"""
        )
        return {row["target"]: row for row in rows}

    def waiting(self, limit: int = 100) -> list[dict[str, Any]]:
        """The outbox: alerts not yet accepted, oldest first."""
        return list(
            self.db.query(
                "SELECT n.id, n.event_id, n.target, n.event, n.status, n.attempts, "
                "n.created_at, n.next_attempt_at, n.last_error, a.title, t.name AS topic "
                "FROM notifications n JOIN articles a ON a.id = n.article_id "
                "LEFT JOIN topics t ON t.id = n.topic_id "
                "WHERE n.status IN ('pending', 'sending') ORDER BY n.id LIMIT ?",
                [limit],
            )
        )

    def _update(self, ids: Iterable[int], assignments: str, params: list[Any]) -> None:
        ids = list(ids)
        with self.db.conn:
            self.db.conn.execute(
                f"UPDATE notifications SET {assignments} WHERE id IN ({', '.join('?' * len(ids))})",
                [*params, *ids],
            )

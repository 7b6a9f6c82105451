"""The queries of presswatch's own Datasette pages and feeds: a mixin composed into the
Store (crawler/outputs/datasette/plugin.py calls them on Datasette's connection)."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

_TOPIC_MENTIONS_SQL = """
SELECT m.id AS mention_id, a.id AS article_id, coalesce(a.title, a.url) AS title, a.url,
       s.name AS outlet, a.published_at, m.found_at, m.snippet
FROM mentions m
JOIN topics t ON t.id = m.topic_id
JOIN articles a ON a.id = m.article_id
LEFT JOIN sources s ON s.id = a.source_id
WHERE t.name = ?
ORDER BY m.found_at DESC, m.id DESC
LIMIT ?
"""

_CHANGES_SQL = """
SELECT c.id AS change_id, c.article_id, c.kind, c.detected_at, c.title_before, c.title_after,
       coalesce(c.title_after, c.title_before, a.title, a.url) AS title, a.url,
       s.name AS outlet, c.diff, c.chars_added, c.chars_removed
FROM changes c
JOIN articles a ON a.id = c.article_id
LEFT JOIN sources s ON s.id = a.source_id
WHERE {where}
ORDER BY c.detected_at DESC, c.id DESC
LIMIT ?
"""


# snippet() cannot run under GROUP BY: the matches are materialized first, then each
# article keeps its best (the bare column beside min() comes from that row).
_SEARCH_ARTICLES_SQL = """
WITH hits AS MATERIALIZED (
    SELECT v.article_id, versions_fts.rank AS rank,
           snippet(versions_fts, 1, '**', '**', '…', 24) AS snippet
    FROM versions_fts JOIN versions v ON v.id = versions_fts.rowid
    WHERE versions_fts MATCH ?
)
SELECT h.article_id, coalesce(a.title, a.url) AS title, a.url, s.name AS outlet,
       h.snippet, min(h.rank) AS rank
FROM hits h
JOIN articles a ON a.id = h.article_id
LEFT JOIN sources s ON s.id = a.source_id
GROUP BY h.article_id
ORDER BY rank
LIMIT ?
"""


# The changes are counted from the (article_id, detected_at) index alone and limited
# before any article is read: grouping the articles instead reads every one of them.
_MOST_EDITED_SQL = """
SELECT a.id AS article_id, coalesce(a.title, a.url) AS title, a.url, s.name AS outlet,
       c.changes, c.last_change
FROM (
    SELECT article_id, count(*) AS changes, max(detected_at) AS last_change
    FROM changes GROUP BY article_id
    ORDER BY changes DESC, last_change DESC
    LIMIT ?
) c
JOIN articles a ON a.id = c.article_id
LEFT JOIN sources s ON s.id = a.source_id
ORDER BY c.changes DESC, c.last_change DESC
"""


_ARTICLE_LIFE_SQL = """
SELECT v.id AS version_id, v.fetched_at AS at, v.title, length(v.text) AS chars,
       c.id AS change_id, c.kind, c.chars_added, c.chars_removed, c.kinds, c.significance
FROM versions v LEFT JOIN changes c ON c.to_version_id = v.id
WHERE v.article_id = ?
UNION ALL
SELECT NULL, c.detected_at, coalesce(c.title_after, c.title_before), NULL,
       c.id, c.kind, c.chars_added, c.chars_removed, c.kinds, c.significance
FROM changes c
WHERE c.article_id = ? AND c.to_version_id IS NULL
ORDER BY at, change_id
"""


class ViewQueries:
    """Reads for the served pages: feeds, the dashboard, an article's timeline, search."""

    db: sqlite_utils.Database

    # -- feeds -------------------------------------------------------------------------

    def topic_exists(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM topics WHERE name = ?", [name]).fetchone() is not None

    def topic_mentions(self, name: str, limit: int = 50) -> list[dict[str, Any]]:
        """A topic's latest mentions, newest first."""
        return list(self.db.query(_TOPIC_MENTIONS_SQL, [name, limit]))

    def topic_changes(self, name: str, limit: int = 50) -> list[dict[str, Any]]:
        """The latest changes of the articles that mention a topic, newest first."""
        # Newest changes first, each checked against the topic's (topic_id, article_id)
        # key: reading the topic's articles first reads all of them.
        where = (
            "EXISTS (SELECT 1 FROM mentions m WHERE m.article_id = c.article_id "
            "AND m.topic_id = (SELECT id FROM topics WHERE name = ?))"
        )
        return list(self.db.query(_CHANGES_SQL.format(where=where), [name, limit]))

    def article_feed_changes(self, article_id: int, limit: int = 50) -> list[dict[str, Any]]:
        """An article's latest changes, newest first."""
        return list(
            self.db.query(_CHANGES_SQL.format(where="c.article_id = ?"), [article_id, limit])
        )

    def article_summary(self, article_id: int) -> dict[str, Any] | None:
        """An article's headline, URL, outlet, status, first and last seen times."""
        rows = self.db.query(
            "SELECT a.id, coalesce(a.title, a.url) AS title, a.url, s.name AS outlet, a.status, "
            "a.first_seen_at, a.last_checked_at, a.published_at FROM articles a "
            "LEFT JOIN sources s ON s.id = a.source_id WHERE a.id = ?",
            [article_id],
        )
        return next(iter(rows), None)

    # -- an article's life -------------------------------------------------------------

    def article_versions(self, article_id: int) -> list[dict[str, Any]]:
        """An article's life, oldest first: every version (``version_id``, ``at``,
        ``title``, ``chars``) with the change that made it (``change_id``, ``kind``,
        sizes, ``kinds`` and ``significance``; none for the first), and the changes that
        made no version (removed, redirected) with their time and kind."""
        return [
            {**row, "kinds": json.loads(row["kinds"] or "[]")}
            for row in self.db.query(_ARTICLE_LIFE_SQL, [article_id, article_id])
        ]

    # -- the dashboard -----------------------------------------------------------------

    def mentions_per_topic_per_day(self, since: str) -> list[dict[str, Any]]:
        """Rows of ``topic``, ``day`` and ``mentions`` for mentions found since ``since``."""
        return list(
            self.db.query(
                "SELECT t.name AS topic, substr(m.found_at, 1, 10) AS day, count(*) AS mentions "
                "FROM mentions m JOIN topics t ON t.id = m.topic_id WHERE m.found_at >= ? "
                "GROUP BY t.id, day ORDER BY t.id, day",
                [since],
            )
        )

    def edits_per_outlet_per_week(self, since: str) -> list[dict[str, Any]]:
        """Rows of ``outlet``, ``week`` (its Monday) and ``edits`` for changes since ``since``."""
        return list(
            self.db.query(
                "SELECT coalesce(s.name, '(no source)') AS outlet, "
                "date(substr(c.detected_at, 1, 10), '-' || ((strftime('%w', "
                "substr(c.detected_at, 1, 10)) + 6) % 7) || ' days') AS week, "
                "count(*) AS edits FROM changes c JOIN articles a ON a.id = c.article_id "
                "LEFT JOIN sources s ON s.id = a.source_id WHERE c.detected_at >= ? "
                "GROUP BY outlet, week ORDER BY outlet, week",
                [since],
            )
        )

    def most_edited_articles(self, limit: int = 10) -> list[dict[str, Any]]:
        """The articles with the most changes: ``article_id``, ``title``, ``outlet``,
        ``changes``, ``last_change``."""
        return list(self.db.query(_MOST_EDITED_SQL, [limit]))

    # -- search ------------------------------------------------------------------------

    def search_articles(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Articles whose versions match an FTS5 query, best first: ``article_id``,
        ``title``, ``url``, ``outlet`` and a ``snippet`` with matches wrapped in ``**``
        (from the best-matching version)."""
        return list(self.db.query(_SEARCH_ARTICLES_SQL, [query, limit]))

    def search_changes(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Changes whose headlines or diff match an FTS5 query, best first."""
        return list(
            self.db.query(
                "SELECT c.id AS change_id, c.article_id, c.kind, c.detected_at, "
                "coalesce(c.title_after, c.title_before, a.title, a.url) AS title, "
                "snippet(changes_fts, 2, '**', '**', '…', 24) AS snippet "
                "FROM changes_fts JOIN changes c ON c.id = changes_fts.rowid "
                "JOIN articles a ON a.id = c.article_id WHERE changes_fts MATCH ? "
                "ORDER BY changes_fts.rank LIMIT ?",
                [query, limit],
            )
        )

"""The digest's queries and the ``digests`` table: a mixin composed into the Store.

Every method takes a half-open period ``start <= t < end`` (``start`` None: since the
first record) and returns plain values; the digest (crawler/outputs/digest/) builds its
model from them and never writes SQL itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import sqlite_utils


def period_condition(column: str, start: str | None, end: str) -> tuple[str, list[str]]:
    """An SQL condition (and its parameters) selecting ``column`` inside the period."""
    if start is None:
        return f"{column} < ?", [end]
    return f"{column} >= ? AND {column} < ?", [start, end]


_MENTIONS_SQL = """
SELECT t.name AS topic, m.article_id, coalesce(a.title, v.title) AS title, a.url,
       s.name AS outlet, a.published_at, m.found_at, m.snippet, m.in_title,
       coalesce(a.story_id, a.id) AS story_id,
       (SELECT group_concat(DISTINCT s2.name) FROM articles a2
        JOIN sources s2 ON s2.id = a2.source_id
        WHERE a2.story_id = a.story_id AND a2.id != a.id AND a2.source_id != a.source_id)
         AS other_outlets
FROM mentions m
JOIN topics t ON t.id = m.topic_id
JOIN articles a ON a.id = m.article_id
LEFT JOIN versions v ON v.id = m.version_id
LEFT JOIN sources s ON s.id = a.source_id
WHERE {where}
ORDER BY t.id, a.published_at IS NULL, a.published_at DESC, m.found_at DESC, m.id DESC
"""

_CHANGES_SQL = """
SELECT c.id AS change_id, c.article_id, c.kind, c.detected_at, c.title_before,
       c.title_after, a.title AS current_title, a.url, s.name AS outlet,
       c.mentions_added, c.mentions_removed, c.diff, c.chars_added, c.chars_removed,
       c.redirect_url, c.kinds, c.significance
FROM changes c
JOIN articles a ON a.id = c.article_id
LEFT JOIN sources s ON s.id = a.source_id
WHERE {where} AND (c.significance IS NULL OR c.significance >= ?)
ORDER BY coalesce(c.significance, 1) DESC, c.detected_at DESC, c.id DESC
"""

_HEALTH_SQL = """
SELECT s.id, s.name, s.url, s.last_status, s.last_error, s.last_polled_at,
       count(e.id) AS errors
FROM sources s
LEFT JOIN errors e ON e.source_id = s.id AND e.stage IN ({stages}) AND {where}
GROUP BY s.id
HAVING count(e.id) > 0 OR s.last_status = 'failed'
ORDER BY s.name
"""


class DigestQueries:
    """What a digest reads, and its own ``digests`` rows."""

    db: sqlite_utils.Database
    if TYPE_CHECKING:  # provided by the Store this is composed into

        def transaction(self) -> AbstractContextManager[None]: ...

        def _insert(self, table: str, values: dict[str, Any]) -> int: ...

    # -- reading a period ---------------------------------------------------------------

    def topic_names(self) -> list[str]:
        """Every topic in the database, in configuration order."""
        return [row[0] for row in self.db.execute("SELECT name FROM topics ORDER BY id")]

    def period_mentions(self, start: str | None, end: str) -> Iterator[dict[str, Any]]:
        """Mentions found in the period, by topic, newest story first, each with its
        story id and the other outlets carrying the same story (comma-separated)."""
        where, params = period_condition("m.found_at", start, end)
        return self.db.query(_MENTIONS_SQL.format(where=where), params)

    def period_changes(
        self, start: str | None, end: str, min_significance: float = 0.0
    ) -> Iterator[dict[str, Any]]:
        """Changes detected in the period of at least ``min_significance``, with their
        article's URL, current title and outlet: the most significant first (removals,
        redirects and changes recorded before significance was, which have none, count
        as 1), then the newest."""
        where, params = period_condition("c.detected_at", start, end)
        return self.db.query(_CHANGES_SQL.format(where=where), [*params, min_significance])

    def topics_of_changed_articles(self, start: str | None, end: str) -> dict[int, tuple[str, ...]]:
        """The topics ever mentioned by each article changed in the period."""
        where, params = period_condition("c.detected_at", start, end)
        rows = self.db.execute(
            "SELECT m.article_id, t.name FROM mentions m JOIN topics t ON t.id = m.topic_id "
            f"WHERE m.article_id IN (SELECT c.article_id FROM changes c WHERE {where}) "
            "ORDER BY t.id",
            params,
        )
        topics: dict[int, tuple[str, ...]] = {}
        for article_id, name in rows:
            topics[article_id] = (*topics.get(article_id, ()), name)
        return topics

    def mentions_per_day(self, first_day: str, end: str) -> list[dict[str, Any]]:
        """Mentions found from ``first_day`` (a date) until ``end``, counted per topic and
        UTC day: rows of ``topic``, ``day`` (YYYY-MM-DD) and ``mentions``."""
        return list(
            self.db.query(
                "SELECT t.name AS topic, substr(m.found_at, 1, 10) AS day, "
                "count(*) AS mentions FROM mentions m JOIN topics t ON t.id = m.topic_id "
                "WHERE m.found_at >= ? AND m.found_at < ? GROUP BY t.id, day ORDER BY t.id, day",
                [first_day, end],
            )
        )

    def sources_with_problems(
        self, start: str | None, end: str, stages: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Sources with errors of ``stages`` in the period, or whose last poll failed;
        each with its error count and its latest error in the period (``message``,
        ``at``), or its last poll's error when it had none."""
        where, params = period_condition("e.at", start, end)
        marks = ", ".join("?" for _ in stages)
        rows = list(
            self.db.query(_HEALTH_SQL.format(stages=marks, where=where), [*stages, *params])
        )
        for row in rows:
            latest = self.db.execute(
                f"SELECT e.message, e.at FROM errors e WHERE e.source_id = ? AND e.stage IN "
                f"({marks}) AND {where} ORDER BY e.at DESC, e.id DESC LIMIT 1",
                [row["id"], *stages, *params],
            ).fetchone()
            row["message"], row["at"] = (
                latest if latest else (row["last_error"], row["last_polled_at"])
            )
        return rows

    def change_page(self, change_id: int) -> dict[str, Any] | None:
        """One change with what its full-diff page shows: the article's headline, URL
        and outlet, the kind, the headlines before and after, and ``diff_html``."""
        rows = self.db.query(
            "SELECT c.id AS change_id, c.article_id, c.kind, c.detected_at, c.title_before, "
            "c.title_after, c.diff_html, c.diff, c.chars_added, c.chars_removed, "
            "coalesce(c.title_after, c.title_before, a.title, a.url) AS title, a.url, "
            "s.name AS outlet FROM changes c JOIN articles a ON a.id = c.article_id "
            "LEFT JOIN sources s ON s.id = a.source_id WHERE c.id = ?",
            [change_id],
        )
        return next(iter(rows), None)

    # -- the digests table --------------------------------------------------------------

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

"""What the database says about articles: their versions, changes and mentions, for the
reports, the re-check schedule and the topic backfill."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils


@dataclass(frozen=True)
class CurrentVersion:
    """An article's current version, as a topic backfill reads it."""

    article_id: int
    version_id: int
    url: str
    title: str | None
    text: str
    topics: tuple[str, ...]


class ArticleQueries:
    """The Store's reads of ``articles``, ``versions``, ``changes`` and ``mentions``."""

    db: sqlite_utils.Database

    # -- articles --------------------------------------------------------------------

    def has_article(self, article_id: int) -> bool:
        row = self.db.execute("SELECT id FROM articles WHERE id = ?", [article_id]).fetchone()
        return row is not None

    def article_row(self, article_id: int) -> dict[str, Any]:
        """The ``articles`` row; raises sqlite_utils' NotFoundError when there is none."""
        return self.db["articles"].get(article_id)

    def articles_newest_first(self) -> list[dict[str, Any]]:
        """Every article's id, title, url and published_at, newest publication first."""
        return list(
            self.db.query(
                "SELECT id, title, url, published_at FROM articles ORDER BY published_at DESC, id"
            )
        )

    def stored_urls(self, chunk: int) -> Iterator[list[str]]:
        """Every URL an article is stored under (its own and its aliases), ``chunk`` at a
        time."""
        rows = self.db.conn.execute(
            "SELECT url FROM articles UNION ALL SELECT url FROM article_aliases"
        )
        while urls := [row[0] for row in rows.fetchmany(chunk)]:
            yield urls

    # -- the re-check schedule ---------------------------------------------------------

    def count_tracked(self, due_by: str | None = None) -> int:
        """How many articles are still re-checked; with ``due_by``, only those due by then."""
        sql = "SELECT count(*) FROM articles WHERE next_check_at IS NOT NULL"
        if due_by is None:
            return self.db.execute(sql).fetchone()[0]
        return self.db.execute(sql + " AND next_check_at <= ?", [due_by]).fetchone()[0]

    def next_checks(self, after: str, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` re-checks due after ``after``: article_id, next_check_at,
        title, url."""
        return list(
            self.db.query(
                "SELECT id AS article_id, next_check_at, title, url FROM articles "
                "WHERE next_check_at > ? ORDER BY next_check_at, id LIMIT ?",
                [after, limit],
            )
        )

    # -- versions ----------------------------------------------------------------------

    def version_count(self, article_id: int) -> int:
        return self.db["versions"].count_where("article_id = ?", [article_id])

    def current_versions(
        self, article_ids: Sequence[int] | None = None, batch: int = 500
    ) -> Iterator[CurrentVersion]:
        """Every article's current version, by article id, read ``batch`` at a time (so
        the caller may write between them); only those of ``article_ids`` when given."""
        if article_ids is not None:
            ids = sorted(article_ids)
            for start in range(0, len(ids), batch):
                chunk = ids[start : start + batch]
                marks = ", ".join("?" * len(chunk))
                yield from self._current_versions(f"a.id IN ({marks}) ORDER BY a.id", chunk)
            return
        last_id = 0
        while True:
            rows = list(self._current_versions("a.id > ? ORDER BY a.id LIMIT ?", [last_id, batch]))
            yield from rows
            if len(rows) < batch:
                return
            last_id = rows[-1].article_id

    def _current_versions(self, where: str, params: Sequence[Any]) -> Iterator[CurrentVersion]:
        rows = self.db.execute(
            "SELECT a.id, v.id, a.url, v.title, v.text, v.topics FROM articles a "
            f"JOIN versions v ON v.id = a.current_version_id WHERE {where}",
            list(params),
        ).fetchall()
        for row in rows:
            yield CurrentVersion(*row[:5], tuple(json.loads(row[5])))

    def articles_matching(self, fts_query: str) -> list[int]:
        """The articles (ids, ascending) whose current version matches an FTS5 query
        over ``versions_fts``: the index is matched once, then joined through
        ``versions.article_id``."""
        rows = self.db.execute(
            "SELECT a.id FROM versions_fts f CROSS JOIN versions v ON v.id = f.rowid "
            "CROSS JOIN articles a ON a.id = v.article_id AND a.current_version_id = v.id "
            "WHERE versions_fts MATCH ? ORDER BY a.id",
            [fts_query],
        )
        return [row[0] for row in rows]

    # -- changes -----------------------------------------------------------------------

    def article_changes(self, article_id: int) -> list[dict[str, Any]]:
        """The ``changes`` rows of one article, oldest first."""
        return list(
            self.db.query("SELECT * FROM changes WHERE article_id = ? ORDER BY id", [article_id])
        )

    def changes_with_articles(self) -> list[dict[str, Any]]:
        """Every ``changes`` row, oldest first, with its article's title (``headline``)
        and the name of the source that found it (``outlet``)."""
        return list(
            self.db.query(
                "SELECT c.*, a.title AS headline, s.name AS outlet FROM changes c "
                "JOIN articles a ON a.id = c.article_id "
                "LEFT JOIN sources s ON s.id = a.source_id ORDER BY c.id"
            )
        )

    # -- mentions ----------------------------------------------------------------------

    def articles_mentioning(self, topic_ids: Sequence[int]) -> list[int]:
        """The articles (ids, ascending) with a mention of any of these topics."""
        if not topic_ids:
            return []
        marks = ", ".join("?" * len(topic_ids))
        rows = self.db.execute(
            f"SELECT DISTINCT article_id FROM mentions WHERE topic_id IN ({marks}) "
            "ORDER BY article_id",
            list(topic_ids),
        )
        return [row[0] for row in rows]

    def topic_mention_titles(self) -> list[tuple[str, str | None]]:
        """(topic, article title) for each mention, by topic then newest article first;
        a topic without mentions once, with None."""
        rows = self.db.execute(
            "SELECT t.name, a.title FROM topics t LEFT JOIN mentions m ON m.topic_id = t.id "
            "LEFT JOIN articles a ON a.id = m.article_id ORDER BY t.name, a.published_at DESC"
        )
        return [(topic, title) for topic, title in rows]

    def mentioned_topics(self) -> dict[int, list[str]]:
        """The names of the topics each article mentions, by article id, in name order."""
        topics: dict[int, list[str]] = {}
        for article_id, name in self.db.execute(
            "SELECT m.article_id, t.name FROM mentions m "
            "JOIN topics t ON t.id = m.topic_id ORDER BY t.name"
        ):
            topics.setdefault(article_id, []).append(name)
        return topics

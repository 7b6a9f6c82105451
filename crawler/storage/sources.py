"""What the database says about sources: their last polls and what they brought."""

from __future__ import annotations

from typing import Any

import sqlite_utils


class SourceQueries:
    """The Store's reads of ``sources``."""

    db: sqlite_utils.Database

    def source_ids(self) -> dict[str, int]:
        """Each source's id, by name."""
        return {row["name"]: row["id"] for row in self.db["sources"].rows}

    def failing_sources(self) -> list[dict[str, Any]]:
        """The sources whose last poll failed, by name: name, url, last_polled_at,
        last_error, failing_since."""
        return list(
            self.db.query(
                "SELECT name, url, last_polled_at, last_error, failing_since "
                "FROM sources WHERE last_status = 'failed' ORDER BY name"
            )
        )

    def source_polls(self) -> list[dict[str, Any]]:
        """Each source's last poll (name, last_polled_at, last_status, last_error) and
        how many articles it found first (``articles``)."""
        return list(
            self.db.query(
                "SELECT s.name, s.last_polled_at, s.last_status, s.last_error, "
                "(SELECT count(*) FROM articles a WHERE a.source_id = s.id) AS articles "
                "FROM sources s"
            )
        )

    def source_poll(self, name: str) -> dict[str, Any] | None:
        """The last_status and last_error of the source called ``name``, if known."""
        rows = self.db.query("SELECT last_status, last_error FROM sources WHERE name = ?", [name])
        return next(iter(rows), None)

    def articles_per_source(self) -> list[tuple[str, int]]:
        """Each source's name and how many articles it found first, by name."""
        rows = self.db.execute(
            "SELECT s.name, count(a.id) FROM sources s LEFT JOIN articles a "
            "ON a.source_id = s.id GROUP BY s.id ORDER BY s.name"
        )
        return [(name, count) for name, count in rows]

"""What the database says about passes: the ``runs`` table and the errors of each run."""

from __future__ import annotations

from typing import Any

import sqlite_utils

RUN_COUNTS = (
    "sources_polled",
    "sources_failed",
    "articles_new",
    "articles_checked",
    "changes_new",
    "mentions_new",
    "errors",
)
RUN_COLUMNS = ("id", "started_at", "finished_at", "status", *RUN_COUNTS)


class RunQueries:
    """The Store's reads of ``runs`` and ``errors``."""

    db: sqlite_utils.Database

    def recent_runs(self, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` runs, newest first, with RUN_COLUMNS."""
        sql = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY id DESC LIMIT ?"
        return list(self.db.query(sql, [limit]))

    def last_ok_run_end(self) -> str | None:
        """When the latest run that ended ``ok`` finished."""
        row = self.db.execute("SELECT max(finished_at) FROM runs WHERE status = 'ok'").fetchone()
        return row[0]

    def running_runs_since(self, since: str) -> list[int]:
        """The runs still ``running`` that started at or after ``since``, oldest first."""
        rows = self.db.execute(
            "SELECT id FROM runs WHERE status = 'running' AND started_at >= ? ORDER BY id",
            [since],
        )
        return [row[0] for row in rows]

    def run_error_count(self, run_id: int) -> int:
        """How many ``errors`` rows the run has."""
        row = self.db.execute("SELECT count(*) FROM errors WHERE run_id = ?", [run_id]).fetchone()
        return row[0]

    def errors_recorded(self) -> list[dict[str, Any]]:
        """Every error's stage, URL and message, in the order they were recorded."""
        return list(self.db.query("SELECT stage, url, message FROM errors ORDER BY id"))

"""Time each schema step on a database that 0.1 (schema 3) left with N articles.

    python bench/upgrade.py --articles 100000

Each article has one version (its current one), half of them an author, so the steps
that fill new columns from the articles have rows to read. The figure that matters is
growth: a step that takes ten times as long for ten times the articles is linear; one
that takes a hundred times as long scans a table per row and would take days at a
million articles.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import sqlite_utils

from crawler.storage.migrations import MIGRATIONS, sqlite3_statements

RELEASED = 3  # the schema presswatch 0.1 writes
DAY = "2026-01-01T00:00:00+00:00"


def run_step(conn: sqlite3.Connection, step: object) -> None:
    if callable(step):
        step(sqlite_utils.Database(conn))
    else:
        for statement in sqlite3_statements(step):
            conn.execute(statement)


def released_database(path: Path, articles: int) -> sqlite3.Connection:
    """A database at schema 3 with ``articles`` articles, one version each."""
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:RELEASED]:
        run_step(conn, step)
    conn.execute(f"PRAGMA user_version = {RELEASED}")
    conn.executemany(
        "INSERT INTO articles (id, url, first_seen_at, last_checked_at, last_changed_at,"
        " current_version_id, author, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (i, f"https://example.com/{i}", DAY, DAY, DAY, i, "A. Writer" if i % 2 else None, DAY)
            for i in range(1, articles + 1)
        ),
    )
    conn.executemany(
        "INSERT INTO versions (id, article_id, fetched_at, title, text, text_hash)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            (i, i, DAY, f"Story {i}", f"Text of story {i}.", f"{i:064x}")
            for i in range(1, articles + 1)
        ),
    )
    conn.commit()
    return conn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        conn = released_database(Path(folder) / "old.db", args.articles)
        total = 0.0
        for number in range(RELEASED, len(MIGRATIONS)):
            started = time.perf_counter()
            run_step(conn, MIGRATIONS[number])
            conn.commit()
            took = time.perf_counter() - started
            total += took
            print(f"step {number + 1:2d}: {took:7.2f} s")
        print(f"all steps from schema {RELEASED}, {args.articles:,} articles: {total:.2f} s")


if __name__ == "__main__":
    main()

"""Shared fixtures: sample sites served on 127.0.0.1 and the real CLI run against them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils

from crawler.demo.localsite import LocalSite
from crawler.storage.migrations import MIGRATIONS, sqlite3_statements

SITES = Path(__file__).parent / "sites"
REPO = Path(__file__).parent.parent


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 180) -> CliResult:
    """Run ``presswatch ARGS`` as a user would, in a child process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def write_config(
    path: Path,
    site: LocalSite,
    sources: list[tuple[str, str]],
    topics: list[tuple[str, str]],
    extra: str = "",
) -> Path:
    """A config.toml with the given (name, path) feeds on ``site`` and (name, query) topics."""
    lines = [
        "[storage]",
        f'db = "{path.parent / "test.db"}"',
        "",
        "[crawl]",
        "allow_private_addresses = true",
        "timeout = 10",
        "extract_workers = 2",
        "",
        extra,
        "",
    ]
    for name, feed in sources:
        lines += ["[[sources]]", f'name = "{name}"', f'url = "{site.url(feed)}"', ""]
    for name, query in topics:
        lines += ["[[topics]]", f'name = "{name}"', f"query = '{query}'", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def basic_site() -> Iterator[LocalSite]:
    with LocalSite(SITES / "basic") as site:
        yield site


def rows(db_path: Path, sql: str, params: tuple = ()) -> list[dict]:
    db = sqlite_utils.Database(db_path)
    try:
        return list(db.query(sql, params))
    finally:
        db.conn.close()


def rows_so_far(db_path: Path, sql: str, params: tuple = ()) -> list[dict]:
    """``rows`` of a database that a running pass may still be creating: nothing until
    the file and its tables exist."""
    if not db_path.exists():
        return []
    try:
        return rows(db_path, sql, params)
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise


def step_adding(text: str) -> int:
    """The number of the schema step whose SQL contains ``text``."""
    return next(
        number for number, step in enumerate(MIGRATIONS) if isinstance(step, str) and text in step
    )


def database_before(path: Path, step: int) -> sqlite3.Connection:
    """A database made by the schema steps before ``step``, as an older presswatch left
    it (its user_version says so); the caller adds rows, commits and closes it."""
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:step]:
        if callable(migration):
            migration(sqlite_utils.Database(conn))
        else:
            for statement in sqlite3_statements(migration):
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {step}")
    conn.commit()
    return conn

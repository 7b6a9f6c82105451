"""Every command fails in one line: ``presswatch: error: PATH: reason``, exit status 2,
no traceback and no usage banner, and nothing left behind. Also the conventions: -V,
NO_COLOR, where the configuration is found, and ``status --check`` for monitoring."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.commands.common import use_color
from crawler.commands.main import cli
from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import Store
from crawler.times import to_iso, utc_now


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    """No configuration found by accident: an empty working folder and config home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(home)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("PRESSWATCH_CONFIG", raising=False)


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(
        cli, list(args), env=env, catch_exceptions=False, prog_name="presswatch"
    )


def one_line_error(result) -> str:
    """The single line a failed command printed, checked for the shape every error has."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("presswatch: error: "), lines[0]
    assert "Usage:" not in result.output and "Traceback" not in result.output
    return lines[0]


MISSING_DB_COMMANDS = [
    ("status",),
    ("digest",),
    ("digest", "--unsent", "--output", "out.md"),
    ("diff", "1"),
    ("topics", "check", "NATO"),
    ("serve",),
]


@pytest.mark.parametrize("command", MISSING_DB_COMMANDS, ids=" ".join)
def test_a_missing_database_is_one_line_and_leaves_no_file(tmp_path, command):
    db = tmp_path / "missing.db"
    line = one_line_error(invoke(*command, "--db", str(db)))
    assert line == f"presswatch: error: no database at {db}: run `presswatch run` first"
    assert [path.name for path in tmp_path.iterdir()] == ["home"]  # no missing.db(.lock)


def test_a_file_that_is_not_a_database(tmp_path):
    db = tmp_path / "notes.db"
    db.write_text("these are my notes, not SQLite\n" * 100)
    line = one_line_error(invoke("status", "--db", str(db)))
    assert f"{db}: not a presswatch database, or damaged" in line
    assert db.read_text().startswith("these are my notes")


def test_a_database_from_a_newer_presswatch(tmp_path):
    db = tmp_path / "pw.db"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    for command in (("status",), ("run", "--no-sources")):
        line = one_line_error(invoke(*command, "--db", str(db)))
        assert f"{db}: the database has schema version {SCHEMA_VERSION + 3}, newer" in line


def test_a_database_in_a_folder_that_does_not_exist(tmp_path):
    db = tmp_path / "no" / "such" / "pw.db"
    line = one_line_error(invoke("run", "--no-sources", "--db", str(db)))
    assert f"{db}.lock: cannot create the lock file: No such file or directory" in line


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only: chmod, or for root (who ignores it) chattr +i."""
    as_root = os.geteuid() == 0
    if as_root and not shutil.which("chattr"):
        pytest.skip("root ignores chmod and chattr is not installed")
    undo = ["chattr", "-i", str(folder)] if as_root else None
    if as_root:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    try:
        yield
    finally:
        if undo:
            subprocess.run(undo, check=True)
        else:
            folder.chmod(0o755)


def test_a_read_only_folder(tmp_path):
    empty, full = tmp_path / "empty", tmp_path / "full"
    empty.mkdir()
    full.mkdir()
    Store.open(full / "pw.db").close()
    for suffix in ("-wal", "-shm"):
        (full / f"pw.db{suffix}").unlink(missing_ok=True)
    with read_only(empty), read_only(full):
        new = one_line_error(invoke("run", "--no-sources", "--db", str(empty / "pw.db")))
        old = one_line_error(invoke("status", "--db", str(full / "pw.db")))
    assert f"{empty / 'pw.db'}.lock: cannot create the lock file: " in new
    assert f"{full / 'pw.db'}: " in old


def test_a_log_file_folder_is_created_or_refused_in_one_line(tmp_path):
    db = tmp_path / "pw.db"
    log = tmp_path / "var" / "log" / "presswatch" / "run.log"
    result = invoke("run", "--no-sources", "--db", str(db), "--quiet", "--log-file", str(log))
    assert result.exit_code == 0, result.output
    assert "pass 1 ok" in log.read_text()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_line_error(
        invoke("run", "--no-sources", "--db", str(db), "--log-file", str(blocker / "run.log"))
    )
    assert line.startswith(f"presswatch: error: --log-file {blocker / 'run.log'}: ")


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"[crawl\n"])
def test_an_unreadable_config_names_the_file(tmp_path, content):
    config = tmp_path / "config.toml"
    config.write_bytes(content)
    line = one_line_error(invoke("status", "--config", str(config)))
    assert f"presswatch: error: {config}: " in line


def test_a_folder_given_as_config_is_one_line(tmp_path):
    line = one_line_error(invoke("run", "--config", str(tmp_path)))
    assert f"presswatch: error: {tmp_path}: cannot read: Is a directory" == line


def test_a_missing_config_names_the_file(tmp_path):
    line = one_line_error(invoke("digest", "--config", str(tmp_path / "absent.toml")))
    assert f"{tmp_path / 'absent.toml'}: cannot read: No such file or directory" in line


def test_dash_v_prints_the_version():
    short, long = invoke("-V"), invoke("--version")
    assert short.exit_code == long.exit_code == 0
    assert short.output == long.output and "presswatch" in short.output


def test_no_color_turns_colour_off_unless_asked_for(monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(None, True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(None, True)
    assert use_color(True, True)  # --color still wins
    assert not use_color(None, False)  # never into a file


# -- where the configuration is found ----------------------------------------------------


def config_for(folder: Path, db: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f'[storage]\ndb = "{db}"\n', encoding="utf-8")
    return path


def status_config(env: dict[str, str]) -> str:
    result = invoke("status", env=env)
    assert result.exit_code == 0, result.output
    return next(line for line in result.output.splitlines() if line.startswith("config: "))


def test_config_discovery_order(tmp_path, monkeypatch):
    db = tmp_path / "pw.db"
    Store.open(db).close()
    work, xdg = tmp_path / "work", tmp_path / "xdg"
    user = config_for(xdg / "presswatch", db)
    work.mkdir()
    monkeypatch.chdir(work)
    env = {"XDG_CONFIG_HOME": str(xdg), "PRESSWATCH_CONFIG": ""}
    assert status_config(env) == f"config: {user}"
    local = config_for(work, db)
    assert status_config(env) == f"config: {local}"
    named = config_for(tmp_path / "etc", db)
    assert status_config({**env, "PRESSWATCH_CONFIG": str(named)}) == f"config: {named}"
    result = invoke("status", "--config", str(user), "--json", env=env)
    assert result.exit_code == 0 and f'"config": "{user}"' in result.output


# -- status --check ----------------------------------------------------------------------


def desk_db(tmp_path: Path, *, ok_ago: timedelta | None, failing_for: timedelta | None) -> Path:
    db = tmp_path / "pw.db"
    store = Store.open(db)
    now = utc_now()
    if ok_ago is not None:
        run = store.start_run(to_iso(now - ok_ago - timedelta(minutes=1)))
        store.finish_run(run, to_iso(now - ok_ago), "ok", {})
    sources = store.sync_sources([])
    store.db["sources"].insert({"name": "Wire", "url": "https://wire.example/feed", "kind": "feed"})
    sources = {row["name"]: row["id"] for row in store.db["sources"].rows}
    if failing_for is not None:
        store.source_polled(sources["Wire"], to_iso(now - failing_for), "failed", "HTTP 503")
        store.source_polled(sources["Wire"], to_iso(now), "failed", "HTTP 503")
    store.close()
    return db


@pytest.mark.parametrize(
    ("ok_ago", "failing_for", "code", "word"),
    [
        (timedelta(minutes=10), None, 0, "OK"),
        (timedelta(minutes=10), timedelta(minutes=20), 0, "OK"),
        (timedelta(minutes=10), timedelta(hours=3), 1, "WARNING"),
        (timedelta(hours=5), None, 2, "CRITICAL"),
        (None, None, 2, "CRITICAL"),
    ],
)
def test_status_check_exit_codes(tmp_path, ok_ago, failing_for, code, word):
    db = desk_db(tmp_path, ok_ago=ok_ago, failing_for=failing_for)
    result = invoke(
        "status", "--check", "--db", str(db), "--warn-after", "1h", "--crit-after", "2h"
    )
    assert result.exit_code == code, result.output
    [line] = result.output.splitlines()
    assert line.startswith(f"PRESSWATCH {word} - ")
    if code == 1:
        assert "Wire since " in line and "HTTP 503" in line


def test_status_check_is_unknown_when_it_cannot_read(tmp_path):
    missing = invoke("status", "--check", "--db", str(tmp_path / "none.db"))
    assert missing.exit_code == 3
    assert missing.output.startswith("PRESSWATCH UNKNOWN - no database at ")
    bad = tmp_path / "config.toml"
    bad.write_text("[storage\n")
    broken = invoke("status", "--check", "--config", str(bad))
    assert broken.exit_code == 3 and "PRESSWATCH UNKNOWN - " in broken.output
    assert not (tmp_path / "none.db").exists()

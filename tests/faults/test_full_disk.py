"""A full disk: a pass that cannot write fails visibly and the next one loses nothing.

The database meets "database or disk is full" in two ways: SQLite's own page limit
(``PRAGMA max_page_count``, applied by every connection of the pass when
``PRESSWATCH_MAX_PAGE_COUNT`` is set), which needs no privileges, and a small tmpfs,
which needs ``mount`` (root, as on CI). Either way the failed pass must exit 1 with one
line, count only what it committed, save no feed validator, leave no run ``running``,
and the next pass with space again must store every article exactly once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from conftest import CliResult, child_env, run_cli
from test_crash import FEEDS, PER_FEED, build_site, write_config

from crawler.demo.localsite import LocalSite
from crawler.storage.store import MAX_PAGES_ENV, Store

ARTICLE_PHRASE = "Dispatch number"  # in every article's text: never in a log line


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSite, list[str]]]:
    root = tmp_path_factory.mktemp("full-disk-site")
    paths = build_site(root)
    with LocalSite(root) as served:
        yield served, paths


def run_pass(config: Path, *args: str, **env: str) -> CliResult:
    environment = {key: value for key, value in child_env().items() if key != MAX_PAGES_ENV}
    return run_cli(
        "run", "--config", str(config), "--json", *args, env=environment | env, timeout=300
    )


def page_count(db: Path) -> int:
    store = Store.open(db)
    try:
        return store.db.execute("PRAGMA page_count").fetchone()[0]
    finally:
        store.close()


def assert_failed_visibly(done: CliResult, db: Path) -> int:
    """The failed pass: exit 1, one line, its counts true, no validator, no open run.
    Returns how many articles it stored."""
    assert done.code == 1, done.stderr
    assert "database or disk is full" in done.stderr
    assert "Traceback" not in done.stderr and ARTICLE_PHRASE not in done.stderr
    assert len(done.stderr) < 2000, done.stderr
    failures = [line for line in done.stderr.splitlines() if "database write failed" in line]
    assert len(failures) == 1, done.stderr
    database = sqlite_utils.Database(db)
    try:
        stored = database["articles"].count
        runs = list(database.query("SELECT status, articles_new FROM runs ORDER BY id"))
        validators = database.execute(
            "SELECT count(*) FROM sources WHERE etag IS NOT NULL OR last_modified IS NOT NULL"
        ).fetchone()[0]
    finally:
        database.conn.close()
    assert stored < FEEDS * PER_FEED
    assert validators == 0
    # Its end recorded as failed with true counts, or closed by the next pass.
    assert runs[-1]["status"] in ("failed", "running")
    if runs[-1]["status"] == "failed":
        assert runs[-1]["articles_new"] == stored
    return stored


def assert_complete_after(
    done: CliResult,
    db: Path,
    site: LocalSite,
    paths: list[str],
    stored_before: int,
) -> None:
    assert done.code == 0, done.stderr
    database = sqlite_utils.Database(db)
    try:
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        urls = [row[0] for row in database.execute("SELECT url FROM articles")]
        versions = database.execute(
            "SELECT article_id FROM versions GROUP BY article_id HAVING count(*) > 1"
        ).fetchall()
        runs = [row[0] for row in database.execute("SELECT status FROM runs ORDER BY id")]
        etags = database.execute("SELECT count(*) FROM sources WHERE etag IS NOT NULL").fetchone()[
            0
        ]
    finally:
        database.conn.close()
    assert sorted(urls) == sorted(site.url(path) for path in paths)
    assert versions == []
    assert runs == ["failed", "ok"]
    assert etags == FEEDS
    assert json.loads(done.stdout)["articles_new"] == FEEDS * PER_FEED - stored_before


@pytest.mark.slow
def test_a_page_limit_fails_the_pass_visibly_and_the_next_pass_loses_nothing(tmp_path, site):
    served, paths = site
    db = tmp_path / "full.db"
    config = write_config(tmp_path / "config.toml", served, db, workers=0)
    empty = page_count(db)  # the schema alone; 150 articles take some hundreds of pages
    failed = run_pass(config, **{MAX_PAGES_ENV: str(empty + 100)})
    stored = assert_failed_visibly(failed, db)
    assert_complete_after(run_pass(config), db, served, paths, stored)

    # Re-checks recorded without a crawl meet the full disk too: every article is gone
    # (410), and the database has no page left for the changes.
    rules = served.root / "_redirects.txt"
    rules.write_text("".join(f"/{path.lstrip('/')} 410\n" for path in paths), encoding="utf-8")
    try:
        full = run_pass(config, "--recheck", "all", **{MAX_PAGES_ENV: str(page_count(db))})
        assert full.code == 1 and "database or disk is full" in full.stderr, full.stderr
        assert [line for line in full.stderr.splitlines() if "write failed" in line] != []
        assert json.loads(full.stdout)["status"] == "failed"
        again = run_pass(config, "--recheck", "all")
    finally:
        rules.unlink()
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["changes_new"] == FEEDS * PER_FEED
    database = sqlite_utils.Database(db)
    try:
        kinds = database.execute("SELECT kind, count(*) FROM changes GROUP BY kind").fetchall()
    finally:
        database.conn.close()
    assert kinds == [("removed", FEEDS * PER_FEED)]  # each once


def _mount_tmpfs(folder: Path, size: str) -> str | None:
    """Mount a tmpfs of ``size`` on ``folder``; the reason when it cannot be done."""
    command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"cannot run mount: {error}"
    return None if done.returncode == 0 else f"cannot mount a tmpfs: {done.stderr.strip()}"


def _unmount(folder: Path) -> None:
    if os.path.ismount(folder):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def _stale_mounts(tmp_path: Path) -> list[Path]:
    """tmpfs mounts left in the folders pytest is deleting (``garbage-*`` in its
    ``pytest-of-USER`` folder) by a test process killed before it could unmount."""
    root = next((p for p in tmp_path.parents if p.name.startswith("pytest-of-")), None)
    if root is None:
        return []
    with open("/proc/self/mounts", encoding="utf-8") as table:
        points = [line.split()[1] for line in table if line.startswith("tmpfs ")]
    found = [Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), p)) for p in points]
    return [
        point
        for point in found
        if point.is_relative_to(root)
        and any(part.startswith("garbage-") for part in point.relative_to(root).parts)
    ]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    for stale in _stale_mounts(tmp_path):
        _unmount(stale)
    folder = tmp_path / "disk"
    folder.mkdir()
    try:
        reason = _mount_tmpfs(folder, "1m")
        if reason is not None:
            pytest.skip(reason)
        yield folder
    finally:  # on every path: a failed test, or a mount that timed out yet took effect
        _unmount(folder)


@pytest.mark.slow
def test_a_full_file_system_fails_the_pass_visibly_and_the_next_pass_loses_nothing(
    tmp_path, site, small_disk
):
    served, paths = site
    db = small_disk / "full.db"
    config = write_config(tmp_path / "config.toml", served, db, workers=0)
    page_count(db)  # the schema fits; the articles do not
    stored = assert_failed_visibly(run_pass(config), db)
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    assert_complete_after(run_pass(config), db, served, paths, stored)


@pytest.mark.slow
def test_a_disk_too_full_to_open_the_database_fails_in_one_line(tmp_path, site, small_disk):
    """Not even the database's journal fits: a database problem, one line, exit 2; the
    next pass with space again stores everything."""
    served, _paths = site
    db = small_disk / "full.db"
    config = write_config(tmp_path / "config.toml", served, db, workers=0)
    page_count(db)  # the schema, then nothing more fits
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={small_disk / 'filler'}", "bs=4k"],
        capture_output=True,
        check=False,
    )
    done = run_pass(config)
    assert done.code == 2, done.stderr
    assert done.stderr.startswith(f"presswatch: error: {db}: ")
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    (small_disk / "filler").unlink()
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = run_pass(config)
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["articles_new"] == FEEDS * PER_FEED
    database = sqlite_utils.Database(db)
    try:
        assert [row[0] for row in database.execute("SELECT status FROM runs")] == ["ok"]
    finally:
        database.conn.close()

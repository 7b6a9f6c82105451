"""``presswatch status`` after real passes over the served sample site."""

from __future__ import annotations

import pytest
import sqlite_utils
from conftest import (
    SITES,
    copy_database,
    database_before,
    invoke,
    rows,
    run_cli,
    step_adding,
    write_config,
)

from crawler.demo.localsite import LocalSite
from crawler.ops.schedule import record_failed_pass

SOURCES = [("News", "news/feed.xml"), ("Broken", "broken/feed.xml")]
TOPICS = [("NATO", "NATO")]


@pytest.fixture(scope="module")
def passed(tmp_path_factory):
    """The database of one pass over the basic site (a source failing), and the site."""
    folder = tmp_path_factory.mktemp("passed")
    with LocalSite(SITES / "basic") as site:
        config = write_config(folder / "config.toml", site, SOURCES, TOPICS)
        result = run_cli("run", "--config", str(config))
        assert result.code == 0, result.stderr
        yield folder / "test.db", site


def make_db(tmp_path, passed):
    """That pass's database copied to test.db in ``tmp_path``, with its config."""
    db, site = passed
    config = write_config(tmp_path / "config.toml", site, SOURCES, TOPICS)
    return config, copy_database(db, tmp_path)


def test_status_reports_runs_failing_sources_and_due_checks(tmp_path, passed):
    config, db = make_db(tmp_path, passed)
    record_failed_pass(db, "2030-01-01T00:00:00Z", "timeout", "poll: too slow", always=True)
    db_rw = sqlite_utils.Database(db)
    db_rw.execute(
        "UPDATE articles SET next_check_at = '2000-01-01T00:00:00Z' "
        "WHERE id IN (SELECT id FROM articles ORDER BY id LIMIT 2)"
    )
    db_rw.conn.commit()
    db_rw.conn.close()

    result = run_cli("status", "--config", str(config), "--json")
    assert result.code == 0, result.stderr
    status = result.json()
    assert [run["status"] for run in status["runs"]] == ["timeout", "ok"]
    first = status["runs"][1]
    assert (first["id"], first["sources_polled"], first["sources_failed"]) == (1, 2, 1)
    articles = rows(db, "SELECT count(*) AS n FROM articles")[0]["n"]
    assert first["articles_new"] == articles > 2 and first["errors"] >= 1
    assert status["runs"][0]["errors"] == 1
    [failing] = status["failing_sources"]
    assert failing["name"] == "Broken" and failing["last_error"]
    assert status["tracked"] == articles
    assert status["due_now"] == 2
    upcoming = [check["next_check_at"] for check in status["next_checks"]]
    assert len(upcoming) == min(articles - 2, 5) and upcoming == sorted(upcoming)
    assert all(moment > status["now"] for moment in upcoming)


def test_status_as_text(tmp_path, passed):
    config, db = make_db(tmp_path, passed)
    result = run_cli("status", "--config", str(config), "--runs", "1")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"database: {tmp_path / 'test.db'}"
    assert "last runs (newest first):" in lines
    run_line = lines[lines.index("last runs (newest first):") + 2]
    [run] = rows(db, "SELECT started_at FROM runs")
    assert run_line.split()[:3] == ["1", run["started_at"], "ok"]
    assert "failing sources (their last poll failed):" in lines
    assert any(line.startswith("  Broken (") for line in lines)
    articles = rows(db, "SELECT count(*) AS n FROM articles")[0]["n"]
    assert f"re-checks: 0 due now, {articles} articles tracked" in lines


def test_status_with_only_a_database(tmp_path, passed):
    _, db = make_db(tmp_path, passed)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("status", "--db", str(db), "--json", cwd=elsewhere)
    assert result.code == 0, result.stderr
    assert result.json()["failing_sources"][0]["name"] == "Broken"


def test_status_without_a_database_says_so(tmp_path):
    result = invoke("status", "--db", str(tmp_path / "none.db"))
    assert result.code == 2
    assert f"no database at {tmp_path / 'none.db'}" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_an_older_database_gets_failing_since_from_its_failed_sources(tmp_path):
    from crawler.storage.migrations import SCHEMA_VERSION
    from crawler.storage.store import Store

    path = tmp_path / "old.db"
    old = database_before(path, step_adding("failing_since"))
    old.execute(
        "INSERT INTO sources (name, url, kind, last_polled_at, last_status) VALUES "
        "('Down', 'http://d/feed', 'feed', '2026-11-25T07:00:00Z', 'failed'), "
        "('Up', 'http://u/feed', 'feed', '2026-11-25T07:00:00Z', 'ok')"
    )
    old.commit()
    old.close()
    store = Store.open(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    since = dict(store.db.execute("SELECT name, failing_since FROM sources").fetchall())
    assert since == {"Down": "2026-11-25T07:00:00Z", "Up": None}
    down = store.db.execute("SELECT id FROM sources WHERE name = 'Down'").fetchone()[0]
    store.source_polled(down, "2026-11-25T08:00:00Z", "failed", "HTTP 503")
    assert store.db["sources"].get(down)["failing_since"] == "2026-11-25T07:00:00Z"
    store.source_polled(down, "2026-11-25T09:00:00Z", "ok")
    assert store.db["sources"].get(down)["failing_since"] is None
    store.close()

"""Change tracking: revisit stored articles, keep every version, record readable diffs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import SITES, copy_database, rows, run_cli, write_config

from crawler.demo.localsite import LocalSite

TOPICS = [("coalition of the willing", '"coalition of the willing"'), ("Greenland", "Greenland")]
EDITION1, EDITION2 = SITES / "tracking" / "edition1", SITES / "tracking" / "edition2"
SOURCES = [("Desk", "feed.xml")]


@pytest.fixture(scope="module")
def site():
    """The tracking site, serving edition 1 until a test publishes edition 2."""
    with LocalSite(EDITION1) as served:
        yield served


@pytest.fixture(scope="module")
def first_pass(site, tmp_path_factory):
    """The database of a first pass over edition 1, that each test copies."""
    folder = tmp_path_factory.mktemp("first-pass")
    config = write_config(folder / "config.toml", site, SOURCES, TOPICS)
    first = run_cli("run", "--config", str(config), "--json")
    assert first.code == 0, first.stderr
    assert first.json()["articles_new"] == 8
    return folder / "test.db"


def copy_of(first_pass, site, folder):
    """A config and a copy of the first pass's database in ``folder``, with the site
    serving edition 1 again."""
    site.root = EDITION1
    site.requests.clear()
    db = copy_database(first_pass, folder)
    return write_config(folder / "config.toml", site, SOURCES, TOPICS), db


@pytest.fixture
def tracked(site, first_pass, tmp_path):
    """A first pass over edition 1, for a test to publish edition 2 at the same URLs."""
    config, db = copy_of(first_pass, site, tmp_path)
    yield site, config, db
    site.root = EDITION1


@pytest.fixture(scope="module")
def rechecked(site, first_pass, tmp_path_factory):
    """After the first pass, edition 2 published and every article re-checked: the
    summary of that re-check, the site, its config and database, that tests only read."""
    config, db = copy_of(first_pass, site, tmp_path_factory.mktemp("rechecked"))
    summary = recheck_all(site, config)
    site.root = EDITION1
    return summary, site, config, db


def recheck_all(site, config):
    site.root = EDITION2
    result = run_cli("run", "--config", str(config), "--recheck", "all", "--json")
    assert result.code == 0, result.stderr
    return result.json()


def changes_by_path(db, site) -> dict[str, dict]:
    changes = rows(db, "SELECT c.*, a.url FROM changes c JOIN articles a ON a.id = c.article_id")
    return {c["url"].removeprefix(site.base_url): c for c in changes}


def test_edits_are_recorded_as_changes_with_readable_diffs(rechecked):
    summary, site, _, db = rechecked
    assert summary["articles_checked"] == 8
    assert summary["changes_new"] == 7
    changes = changes_by_path(db, site)
    assert set(changes) == {f"/articles/t{n}.html" for n in range(1, 8)}

    reworded = changes["/articles/t1.html"]
    assert reworded["kind"] == "edited"
    assert "[-" in reworded["diff"] and "{+" in reworded["diff"]
    assert len(reworded["diff"]) < 600  # the changed sentence, not the whole article
    assert reworded["title_before"] == reworded["title_after"]

    added = changes["/articles/t2.html"]
    assert added["kind"] == "edited"
    assert added["chars_added"] > 50 and added["chars_removed"] == 0

    retitled = changes["/articles/t3.html"]
    assert retitled["kind"] == "retitled"
    assert retitled["title_before"] == "Minister denies rift over Arctic patrols"
    assert retitled["title_after"] == "Minister admits rift over Arctic patrols"
    assert retitled["diff"] is None


def test_topics_an_edit_adds_or_removes_are_recorded(rechecked):
    _, site, _, db = rechecked
    changes = changes_by_path(db, site)
    assert json.loads(changes["/articles/t4.html"]["mentions_added"]) == [
        "coalition of the willing"
    ]
    assert json.loads(changes["/articles/t4.html"]["mentions_removed"]) == []
    assert json.loads(changes["/articles/t5.html"]["mentions_removed"]) == ["Greenland"]
    for path in ("/articles/t1.html", "/articles/t2.html", "/articles/t3.html"):
        assert changes[path]["mentions_added"] == changes[path]["mentions_removed"] == "[]"
    # A topic that first appears through an edit gets its mention, at the new version.
    mention = rows(
        db,
        "SELECT m.version_id, a.current_version_id FROM mentions m JOIN "
        "articles a ON a.id = m.article_id WHERE a.url = ?",
        (site.url("articles/t4.html"),),
    )
    assert len(mention) == 1
    assert mention[0]["version_id"] == mention[0]["current_version_id"]
    assert mention[0]["version_id"] == changes["/articles/t4.html"]["to_version_id"]


def test_removed_and_redirected_articles(rechecked):
    _, site, _, db = rechecked
    changes = changes_by_path(db, site)
    assert changes["/articles/t6.html"]["kind"] == "removed"
    assert changes["/articles/t6.html"]["to_version_id"] is None
    assert changes["/articles/t7.html"]["kind"] == "redirected"
    assert changes["/articles/t7.html"]["redirect_url"] == site.url("articles/t7-updated.html")
    status = {
        a["url"].removeprefix(site.base_url): a["status"]
        for a in rows(db, "SELECT url, status FROM articles")
    }
    assert status["/articles/t6.html"] == "removed"
    assert status["/articles/t7.html"] == "redirected"
    assert status["/articles/t1.html"] == "live"


def test_noise_alone_makes_no_new_version(rechecked):
    _, site, _, db = rechecked
    versions = rows(
        db,
        "SELECT count(v.id) n FROM versions v JOIN articles a "
        "ON a.id = v.article_id WHERE a.url = ?",
        (site.url("articles/t8.html"),),
    )
    assert versions == [{"n": 1}]
    assert rows(db, "SELECT count(*) n FROM versions") == [{"n": 8 + 5}]


def test_a_second_recheck_records_nothing_twice(tracked):
    site, config, db = tracked
    recheck_all(site, config)
    again = recheck_all(site, config)
    assert again["changes_new"] == 0
    assert again["versions_new"] == 0
    assert len(rows(db, "SELECT * FROM changes")) == 7


def test_unchanged_pages_cost_a_304_and_no_new_version(tracked):
    site, config, _ = tracked
    site.requests.clear()
    result = run_cli("run", "--config", str(config), "--recheck", "all", "--json")
    assert result.json()["articles_checked"] == 8
    assert result.json()["versions_new"] == 0
    article_statuses = [status for path, status in site.requests if path.startswith("/articles")]
    assert article_statuses == [304] * 8


def test_due_rechecks_follow_the_schedule(tracked):
    _, config, db = tracked
    first_seen = datetime.fromisoformat(
        rows(db, "SELECT min(first_seen_at) t FROM articles")[0]["t"].replace("Z", "+00:00")
    )

    def run_at(delta: timedelta) -> dict:
        when = (first_seen + delta).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")
        result = run_cli("run", "--config", str(config), "--now", when, "--json")
        assert result.code == 0, result.stderr
        return result.json()

    assert run_at(timedelta(minutes=5))["articles_checked"] == 0
    assert run_at(timedelta(minutes=20))["articles_checked"] == 8
    next_checks = {row["next_check_at"] for row in rows(db, "SELECT next_check_at FROM articles")}
    assert len(next_checks) >= 1 and None not in next_checks


def test_recheck_none_fetches_no_stored_article(tracked):
    site, config, db = tracked
    site.root = EDITION2
    result = run_cli("run", "--config", str(config), "--recheck", "none", "--json")
    assert result.json()["articles_checked"] == 0
    assert rows(db, "SELECT count(*) n FROM changes") == [{"n": 0}]


def test_diff_command_prints_the_history(rechecked, tmp_path):
    _, site, config, _ = rechecked
    result = run_cli("diff", site.url("articles/t3.html"), "--config", str(config))
    assert result.code == 0, result.stderr
    assert (
        "retitled: 'Minister denies rift over Arctic patrols' -> "
        "'Minister admits rift over Arctic patrols'" in result.stdout
    )
    assert "\x1b[" not in result.stdout  # plain when piped
    edited = run_cli(
        "diff", site.url("articles/t1.html?utm_source=x"), "--config", str(config), "--color"
    )
    assert "\x1b[" in edited.stdout
    page = tmp_path / "t4.html"
    html = run_cli(
        "diff",
        site.url("articles/t4.html"),
        "--config",
        str(config),
        "--format",
        "html",
        "--output",
        str(page),
    )
    assert html.code == 0
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<ins>" in text
    missing = run_cli("diff", "999", "--config", str(config))
    assert missing.code == 2

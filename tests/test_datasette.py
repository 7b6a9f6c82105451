"""The database in Datasette: metadata, views, full-text search, canned queries, serve.

The databases come from real passes over the served sample sites, once per module.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest
from conftest import SITES, child_env, free_port, invoke, rows, run_cli, write_config
from test_pass import SOURCES, TOPICS

from crawler.demo.localsite import LocalSite
from crawler.outputs.datasette import load_metadata, make_datasette
from crawler.storage.migrations import MIGRATIONS, SCHEMA_VERSION, sqlite3_statements
from crawler.storage.store import connect

NATO_HEADLINES = {
    "Allies weigh a coalition of the willing for Ukraine",
    "Baltic air policing rotation changes",
    "Parliament debates drone wall",
}
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def basic_db(tmp_path_factory) -> Path:
    """A database filled by one pass over the basic sample site (its Datasette name: test)."""
    folder = tmp_path_factory.mktemp("basic")
    with LocalSite(SITES / "basic") as site:
        config = write_config(folder / "config.toml", site, SOURCES, TOPICS)
        result = run_cli("run", "--config", str(config), "--json")
    assert result.code == 0, result.stderr
    return folder / "test.db"


@pytest.fixture(scope="module")
def tracked_db(tmp_path_factory) -> Path:
    """A database with changes: the tracking site's first edition, then its second."""
    folder = tmp_path_factory.mktemp("tracked")
    topics = [
        ("coalition of the willing", '"coalition of the willing"'),
        ("Greenland", "Greenland"),
    ]
    tracking = SITES / "tracking"
    with LocalSite(tracking / "edition1") as site:
        config = write_config(folder / "config.toml", site, [("Desk", "feed.xml")], topics)
        assert run_cli("run", "--config", str(config)).code == 0
        site.root = tracking / "edition2"
        result = run_cli("run", "--config", str(config), "--recheck", "all", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["changes_new"] == 7
    return folder / "test.db"


def get(db: Path, *paths: str) -> list[httpx.Response]:
    """Datasette's answers to ``paths``, from its test client, with presswatch's metadata."""

    async def fetch() -> list[httpx.Response]:
        datasette = make_datasette(db)
        await datasette.invoke_startup()
        return [await datasette.client.get(path) for path in paths]

    return asyncio.run(fetch())


def get_json(db: Path, path: str) -> list[dict] | dict:
    response = get(db, path)[0]
    assert response.status_code == 200, response.text[:500]
    return response.json()


def canned(db: Path, query: str, **params: str) -> list[dict]:
    return get_json(db, f"/test/{query}.json?" + urlencode({"_shape": "array", **params}))


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


# -- metadata ----------------------------------------------------------------------------


def test_metadata_loads_without_warnings(basic_db, caplog):
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        home, metadata, database = get(basic_db, "/", "/-/metadata.json", "/test")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert home.status_code == database.status_code == 200
    served = metadata.json()
    assert served["title"] == "presswatch"
    assert set(served["databases"]) == {"test"}
    assert "mention_feed" in database.text and "New mentions in the last 24 hours" in database.text


def test_every_table_view_and_column_is_documented(basic_db):
    documented = load_metadata("test")["databases"]["test"]["tables"]
    db = sqlite3.connect(basic_db)
    names = [
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'"
        )
    ]
    assert {"articles", "mentions", "mention_feed", "change_feed", "source_health"} <= set(names)
    for name in names:
        assert documented.get(name, {}).get("description"), f"{name} has no description"
        columns = [row[1] for row in db.execute(f"PRAGMA table_info([{name}])")]
        missing = [c for c in columns if not documented[name].get("columns", {}).get(c)]
        assert missing == [], f"undocumented columns of {name}: {missing}"
    db.close()


def test_foreign_keys_render_as_headlines_and_names(basic_db):
    mentions = get_json(basic_db, "/test/mentions.json?_labels=on&_shape=array")
    titles = {t["title"] for t in rows(basic_db, "SELECT title FROM articles")}
    assert len(mentions) == 8
    for mention in mentions:
        assert mention["article_id"]["label"] in titles
    assert {m["topic_id"]["label"] for m in mentions} == {t[0] for t in TOPICS}
    articles = get_json(basic_db, "/test/articles.json?_labels=on&_shape=array")
    assert {a["source_id"]["label"] for a in articles} <= {"News", "Wire", "Salvage"}


# -- views -------------------------------------------------------------------------------


def test_mention_feed_lists_every_mention_by_name(basic_db):
    feed = get_json(basic_db, "/test/mention_feed.json?_shape=array")
    assert len(feed) == 8
    assert {m["headline"] for m in feed if m["topic"] == "NATO"} == NATO_HEADLINES
    greenland = next(m for m in feed if m["topic"] == "Greenland")
    assert greenland["headline"] == "Greenland talks resume in Nuuk"
    assert greenland["outlet"] == "News" and greenland["in_title"] == 1
    assert "**Greenland**" in greenland["snippet"]
    assert greenland["found_at"].endswith("Z")
    assert greenland["published_at"].startswith("2026-11-21")


def test_source_health_shows_failing_and_working_sources(basic_db):
    health = {s["source"]: s for s in get_json(basic_db, "/test/source_health.json?_shape=array")}
    assert set(health) == {"News", "Wire", "Broken", "Salvage"}
    assert health["Broken"]["last_status"] == "failed"
    assert health["Broken"]["errors_24h"] == 1 and health["Broken"]["articles"] == 0
    assert health["Broken"]["last_error"].startswith("unreadable feed")
    assert health["Wire"]["errors_24h"] == 0 and health["Wire"]["last_error_at"] is None
    assert sum(s["articles"] for s in health.values()) == 9


def test_source_health_lists_failing_sources_first(basic_db):
    health = get_json(basic_db, "/test/source_health.json?_shape=array")
    assert [(s["source"], s["last_status"]) for s in health] == [
        ("Broken", "failed"),
        ("Salvage", "partial"),
        ("News", "ok"),
        ("Wire", "ok"),
    ]
    gone = {s["source"]: s["links_gone"] for s in health}
    assert gone == {"Broken": 0, "Salvage": 0, "News": 1, "Wire": 0}  # news/missing.html


def test_change_feed_shows_each_edit_with_a_diff_excerpt(tracked_db):
    feed = get_json(tracked_db, "/test/change_feed.json?_shape=array")
    assert len(feed) == 7
    assert {c["kind"] for c in feed} == {"edited", "retitled", "removed", "redirected"}
    retitled = next(c for c in feed if c["kind"] == "retitled")
    assert retitled["title_before"] == "Minister denies rift over Arctic patrols"
    assert retitled["title_after"] == "Minister admits rift over Arctic patrols"
    assert retitled["outlet"] == "Desk"
    added = next(c for c in feed if c["mentions_added"] != "[]")
    assert json.loads(added["mentions_added"]) == ["coalition of the willing"]
    assert "{+" in added["diff_excerpt"] and len(added["diff_excerpt"]) <= 301


# -- full-text search --------------------------------------------------------------------


def test_search_finds_article_text(basic_db):
    found = get_json(basic_db, "/test/versions.json?_shape=array&_search=Greenlandic+fishermen")
    assert [v["title"] for v in found] == ["Arctic research station expands"]
    raw = urlencode({"_searchmode": "raw", "_search": '"coalition of the willing"'})
    phrase = get_json(basic_db, f"/test/versions.json?_shape=array&{raw}")
    assert [v["title"] for v in phrase] == ["Allies weigh a coalition of the willing for Ukraine"]


def test_search_finds_changes_by_headline_and_diff(tracked_db):
    retitled = get_json(tracked_db, "/test/changes.json?_shape=array&_search=admits")
    assert [c["kind"] for c in retitled] == ["retitled"]
    added = get_json(tracked_db, "/test/changes.json?_shape=array&_search=twelve+transformers")
    assert len(added) == 1 and "{+" in added[0]["diff"]


# -- canned queries ----------------------------------------------------------------------


def test_every_canned_query_runs(basic_db, tracked_db):
    queries = load_metadata("test")["databases"]["test"]["queries"]
    assert set(queries) >= {
        "new_mentions",
        "edited_today",
        "most_edited",
        "topic_timeline",
        "failing_sources",
        "search_topic",
        "mention_atom",
    }
    for db in (basic_db, tracked_db):
        for name in queries:
            canned(db, name, topic="NATO", q="air", days="7")
            canned(db, name)  # the page as first opened: empty parameters


def test_new_mentions_by_topic(basic_db):
    nato = canned(basic_db, "new_mentions", topic="NATO")
    assert {m["headline"] for m in nato} == NATO_HEADLINES
    assert len(canned(basic_db, "new_mentions")) == 8
    assert canned(basic_db, "new_mentions", topic="No such topic") == []


def test_topic_timeline_counts_mentions_per_day(basic_db):
    timeline = canned(basic_db, "topic_timeline", topic="NATO")
    assert timeline[-1]["day"] == today()
    assert sum(day["mentions"] for day in timeline) == 3
    assert (
        sum(day["in_headlines"] for day in canned(basic_db, "topic_timeline", topic="Greenland"))
        == 1
    )
    assert canned(basic_db, "topic_timeline", topic="No such topic") == []


def test_failing_sources(basic_db):
    failing = canned(basic_db, "failing_sources")
    assert [s["source"] for s in failing] == ["Broken", "News", "Salvage"]
    assert failing[0]["last_status"] == "failed"
    news = next(s for s in failing if s["source"] == "News")
    assert news["latest_error"].startswith("fetch: HTTP 404 Not Found")


def test_search_within_a_topic(basic_db):
    air = canned(basic_db, "search_topic", topic="NATO", q="air")
    assert "Baltic air policing rotation changes" in {a["headline"] for a in air}
    assert all(a["headline"] in NATO_HEADLINES for a in air)
    assert any("**air**" in a["excerpt"] for a in air)
    assert canned(basic_db, "search_topic", topic="NATO", q="Nuuk") == []
    nuuk = canned(basic_db, "search_topic", topic="Greenland", q="Nuuk")
    assert [a["headline"] for a in nuuk] == ["Greenland talks resume in Nuuk"]


def test_search_within_a_topic_lists_the_newest_thousand_matches_most_relevant_first(
    tmp_path,
):
    """A word in more articles than Datasette shows: the newest 1,000 matching current
    versions, most relevant (most occurrences) first; older versions are never listed."""
    db = tmp_path / "test.db"
    connect(db).close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO topics (id, name, query) VALUES (1, 'Ukraine', 'Ukraine')")
        for n in range(1, 1201):
            at = f"2026-01-01T00:00:{n % 60:02d}Z"
            conn.execute(
                "INSERT INTO articles (id, url, first_seen_at, last_checked_at,"
                " last_changed_at, current_version_id) VALUES (?, ?, ?, ?, ?, ?)",
                [n, f"https://example.org/{n}", at, at, at, 2 * n],
            )
            for version, text in ((2 * n - 1, "ceasefire"), (2 * n, "ceasefire " * (n % 5 + 1))):
                conn.execute(
                    "INSERT INTO versions (id, article_id, fetched_at, title, text, text_hash)"
                    " VALUES (?, ?, ?, ?, ?, 'h')",
                    [version, n, at, f"Story {n}", f"{text} talks in Ukraine"],
                )
            conn.execute(
                "INSERT INTO mentions (topic_id, article_id, version_id, found_at, in_title,"
                " match_count) VALUES (1, ?, ?, ?, 0, 1)",
                [n, 2 * n, at],
            )
    conn.close()

    found = canned(db, "search_topic", topic="Ukraine", q="ceasefire")

    assert len(found) == 1000
    assert {a["article_id"] for a in found} == set(range(201, 1201))  # the newest 1,000
    counts = [a["excerpt"].count("**ceasefire**") for a in found]
    assert counts == sorted(counts, reverse=True) and counts[0] == 5 and counts[-1] == 1


def test_edited_today_and_most_edited(tracked_db):
    edited = canned(tracked_db, "edited_today")
    assert len(edited) == 7
    assert {e["kinds"] for e in edited} == {"edited", "retitled", "removed", "redirected"}
    most = canned(tracked_db, "most_edited", days="1")
    assert len(most) == 7 and all(m["changes"] == 1 for m in most)
    assert len(canned(tracked_db, "most_edited")) == 7


def test_the_mention_feed_as_atom(basic_db):
    response = get(basic_db, "/test/mention_atom.atom?topic=NATO")[0]
    assert response.status_code == 200, response.text[:500]
    feed = ElementTree.fromstring(response.content)
    assert feed.findtext(f"{ATOM}title") == "presswatch mentions"
    entries = feed.findall(f"{ATOM}entry")
    assert {e.findtext(f"{ATOM}title").removeprefix("NATO: ") for e in entries} == NATO_HEADLINES
    assert all(e.find(f"{ATOM}link").get("href").startswith("http://127.0.0.1") for e in entries)


# -- upgrading an older database -----------------------------------------------------------


def test_an_older_database_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    for statement in sqlite3_statements(MIGRATIONS[0]):
        old.execute(statement)
    old.executescript("""
        PRAGMA user_version = 1;
        INSERT INTO sources (id, name, url, kind) VALUES (1, 'Courier', 'http://x/feed', 'feed');
        INSERT INTO topics (id, name, query) VALUES (1, 'Greenland', 'Greenland');
        INSERT INTO articles (id, url, source_id, first_seen_at, last_checked_at, title,
                              last_changed_at, current_version_id)
            VALUES (1, 'http://x/a', 1, '2026-11-20T08:00:00Z', '2026-11-20T08:00:00Z',
                    'Talks resume in Nuuk', '2026-11-20T08:00:00Z', 2);
        INSERT INTO versions (id, article_id, fetched_at, title, text, text_hash) VALUES
            (1, 1, '2026-11-20T08:00:00Z', 'Talks in Nuuk', 'Negotiators met.', 'h1'),
            (2, 1, '2026-11-21T08:00:00Z', 'Talks resume in Nuuk',
             'Negotiators from Greenland met again.', 'h2');
        INSERT INTO mentions (topic_id, article_id, version_id, found_at, in_title,
                              match_count, snippet)
            VALUES (1, 1, 2, '2026-11-21T08:00:00Z', 0, 1, 'from **Greenland** met');
        INSERT INTO changes (article_id, from_version_id, to_version_id, detected_at, kind,
                             title_before, title_after, diff)
            VALUES (1, 1, 2, '2026-11-21T08:00:00Z', 'edited', 'Talks in Nuuk',
                    'Talks resume in Nuuk', 'Negotiators {+from Greenland+} met {+again+}.');
    """)
    old.commit()
    old.close()

    db = connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 2

    def search(table: str, query: str) -> list[int]:
        return [
            row[0]
            for row in db.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid", [query]
            )
        ]

    assert search("versions_fts", "Nuuk") == [1, 2]
    assert search("versions_fts", "Greenland") == [2]
    assert search("changes_fts", "again") == [1]
    assert [tuple(r) for r in db.execute("SELECT topic, headline, outlet FROM mention_feed")] == [
        ("Greenland", "Talks resume in Nuuk", "Courier")
    ]
    # From now on the triggers keep the indexes in step with the tables.
    with db.conn:
        db.execute(
            "INSERT INTO versions (id, article_id, fetched_at, title, text, text_hash) "
            "VALUES (3, 1, '2026-11-22T08:00:00Z', 'Talks end', 'Icebreaker.', 'h3')"
        )
        db.execute(
            "UPDATE versions SET title = 'Talks in Ilulissat', "
            "text = 'Negotiators met in Ilulissat.' WHERE id = 1"
        )
    assert search("versions_fts", "Icebreaker") == [3]
    assert search("versions_fts", "Ilulissat") == [1]
    assert search("versions_fts", "Nuuk") == [2]  # version 1's old title and text are gone
    with db.conn:
        db.execute("DELETE FROM versions WHERE id = 3")
    assert search("versions_fts", "Icebreaker") == []
    db.conn.close()


# -- presswatch serve ----------------------------------------------------------------------


def test_serve_starts_datasette_with_the_metadata(basic_db):
    port = free_port()
    env = child_env()
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler", "serve", "--db", str(basic_db), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        versions = wait_for(f"{base}/-/versions.json", server)
        assert versions.json()["datasette"]["version"]
        metadata = httpx.get(f"{base}/-/metadata.json").json()
        assert set(metadata["databases"]) == {"test"}
        nato = httpx.get(
            f"{base}/test/new_mentions.json", params={"_shape": "array", "topic": "NATO"}
        ).json()
        assert {m["headline"] for m in nato} == NATO_HEADLINES
    finally:
        server.terminate()
        server.communicate(timeout=20)


def wait_for(url: str, server: subprocess.Popen, seconds: float = 30) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"presswatch serve exited: {server.communicate()[1]}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"presswatch serve did not answer at {url} within {seconds}s")


def test_serve_without_datasette_says_how_to_install_it(basic_db):
    code = (
        "import sys; sys.modules['datasette'] = None; from crawler.commands.main import main; "
        f"sys.argv = ['presswatch', 'serve', '--db', {str(basic_db)!r}]; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert "Datasette is not installed: pip install 'presswatch[datasette]'" in done.stderr


def test_serve_without_a_database_is_a_usage_error(tmp_path):
    result = invoke("serve", "--db", str(tmp_path / "none.db"))
    assert result.code == 2
    assert "no database at" in result.stderr

"""One real pass of the crawler over the served basic sample site, asserted on rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    BASIC_SOURCES,
    BASIC_TOPICS,
    SITES,
    child_env,
    copy_database,
    rows,
    run_cli,
    write_config,
)

from crawler.demo.localsite import LocalSite

SOURCES, TOPICS = BASIC_SOURCES, BASIC_TOPICS


@pytest.fixture(scope="module")
def first_pass(tmp_path_factory):
    """One pass over the basic site with the default pace and the extraction pool, that
    the module's tests read; a test that writes copies its database."""
    folder = tmp_path_factory.mktemp("first-pass")
    with LocalSite(SITES / "basic") as site:
        config = write_config(
            folder / "config.toml", site, SOURCES, TOPICS, workers=2, autothrottle=True
        )
        result = run_cli("run", "--config", str(config), "--json")
        assert result.code == 0, result.stderr
        yield result, folder / "test.db", site


def mentions_by_title(db: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in rows(
        db,
        "SELECT a.title, t.name FROM articles a LEFT JOIN mentions m "
        "ON m.article_id = a.id LEFT JOIN topics t ON t.id = m.topic_id",
    ):
        found.setdefault(row["title"], set())
        if row["name"]:
            found[row["title"]].add(row["name"])
    return found


def test_the_summary_counts_what_the_pass_did(first_pass):
    result, _, _ = first_pass
    summary = result.json()
    assert summary["status"] == "ok"
    assert summary["sources_polled"] == 4
    assert summary["sources_failed"] == 1
    assert summary["articles_new"] == 9
    assert summary["mentions_new"] == 8
    assert summary["errors"] == 3


def test_articles_are_stored_once_with_extracted_text_and_metadata(first_pass):
    _, db, site = first_pass
    articles = rows(db, "SELECT * FROM articles ORDER BY url")
    urls = [a["url"] for a in articles]
    assert len(urls) == len(set(urls)) == 9
    a1 = next(a for a in articles if a["url"] == site.url("news/a1.html"))
    assert a1["title"] == "Allies weigh a coalition of the willing for Ukraine"
    assert a1["author"] == "Maria Keller"
    assert a1["published_at"].startswith("2026-")
    assert a1["language"] == "en"
    assert a1["summary"]
    version = rows(db, "SELECT * FROM versions WHERE article_id = ?", (a1["id"],))
    assert len(version) == 1
    assert version[0]["text"].count("coalition of the willing") == 2
    assert "Maria Keller" not in version[0]["text"].splitlines()[-1]  # no footer/byline noise
    assert not any(url.startswith("https://www.example.com") for url in urls)


def test_topic_mentions_match_whole_words_and_phrases(first_pass):
    _, db, _ = first_pass
    found = mentions_by_title(db)
    assert found["Allies weigh a coalition of the willing for Ukraine"] == {
        "coalition of the willing",
        "NATO",
        "Ukraine",
    }
    assert found["Greenland talks resume in Nuuk"] == {"Greenland"}
    assert found["Arctic research station expands"] == set()  # Greenlandic, not Greenland
    assert found["Budget committee approves rail funds"] == set()
    assert found["Kyiv hosts defence ministers"] == {"Ukraine", "European Security Council"}
    assert found["Baltic air policing rotation changes"] == {"NATO"}
    assert found["Parliament debates drone wall"] == {"NATO"}
    mention = rows(
        db,
        "SELECT m.* FROM mentions m JOIN articles a ON a.id = m.article_id "
        "WHERE a.title LIKE 'Greenland talks%'",
    )[0]
    assert mention["in_title"] == 1
    assert "**Greenland**" in mention["snippet"]
    nato = rows(
        db,
        "SELECT m.match_count FROM mentions m JOIN articles a ON a.id = "
        "m.article_id JOIN topics t ON t.id = m.topic_id "
        "WHERE a.title LIKE 'Baltic air%' AND t.name = 'NATO'",
    )
    assert nato == [{"match_count": 3}]


def test_failures_are_recorded_and_the_rest_of_the_pass_completes(first_pass):
    _, db, site = first_pass
    errors = {(e["stage"], e["url"]): e["message"] for e in rows(db, "SELECT * FROM errors")}
    assert errors[("fetch", site.url("news/missing.html"))] == "HTTP 404 Not Found"
    assert errors[("feed", site.url("broken/feed.xml"))].startswith("unreadable feed")
    assert errors[("feed", site.url("salvage/feed.xml"))].startswith(
        "malformed feed, 2 entries used"
    )
    status = {s["name"]: s["last_status"] for s in rows(db, "SELECT * FROM sources")}
    assert status == {"News": "ok", "Wire": "ok", "Broken": "failed", "Salvage": "partial"}
    skipped = rows(db, "SELECT url, reason FROM skipped")
    assert skipped == [
        {
            "url": "https://www.example.com/offsite.html",
            "reason": "off-site link: not on the source's domain",
        }
    ]
    run = rows(db, "SELECT * FROM runs")[0]
    assert run["status"] == "ok" and run["finished_at"] and run["errors"] == 3


def test_a_second_pass_with_nothing_new_adds_only_a_run(first_pass, tmp_path):
    _, shared, site = first_pass
    db = copy_database(shared, tmp_path)
    config = write_config(tmp_path / "config.toml", site, SOURCES, TOPICS)
    counts = (
        "SELECT (SELECT count(*) FROM articles) a, (SELECT count(*) FROM versions) v, "
        "(SELECT count(*) FROM mentions) m, (SELECT count(*) FROM changes) c, "
        "(SELECT count(*) FROM skipped) s"
    )
    before = rows(db, counts)
    result = run_cli("run", "--config", str(config), "--json")
    assert result.code == 0, result.stderr
    summary = result.json()
    assert (summary["articles_new"], summary["mentions_new"]) == (0, 0)
    assert rows(db, counts) == before
    assert len(rows(db, "SELECT * FROM runs")) == 2
    # Feeds whose articles were all stored, or remembered as gone (the 404), cost a 304
    # now; the gone link waits for its next try; the unreadable feed fails again.
    assert ("/wire/atom.xml", 304) in site.requests
    assert ("/news/feed.xml", 304) in site.requests
    assert site.requests.count(("/news/missing.html", 404)) == 1
    assert sorted(e["url"] for e in rows(db, "SELECT * FROM errors WHERE run_id = 2")) == [
        site.url("broken/feed.xml")
    ]


def test_human_summary(tmp_path, basic_site):
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES[:1], TOPICS)
    result = run_cli("run", "--config", str(config))
    assert result.code == 0, result.stderr
    assert "sources:  1 polled, 0 failed" in result.stdout
    assert "articles: 5 new" in result.stdout


def test_a_pass_runs_without_the_cluster_extra(tmp_path, basic_site):
    # Redis comes with `presswatch[cluster]` only: a plain install passes without it.
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES[:1], TOPICS)
    code = (
        "import sys; sys.modules['redis'] = None; from crawler.commands.main import main; "
        f"sys.argv = ['presswatch', 'run', '--config', {str(config)!r}]; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "articles: 5 new" in done.stdout


def test_every_source_failing_exits_1(tmp_path, basic_site):
    config = write_config(
        tmp_path / "config.toml",
        basic_site,
        [("Broken", "broken/feed.xml"), ("Gone", "nowhere/feed.xml")],
        TOPICS,
    )
    result = run_cli("run", "--config", str(config), "--json")
    assert result.code == 1
    assert result.json()["status"] == "failed"
    messages = {e["message"] for e in rows(tmp_path / "test.db", "SELECT * FROM errors")}
    assert "HTTP 404 Not Found" in messages


def test_private_addresses_are_refused_unless_allowed(tmp_path, basic_site):
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES[:1], TOPICS)
    text = config.read_text().replace(
        "allow_private_addresses = true", "allow_private_addresses = false"
    )
    config.write_text(text)
    result = run_cli("run", "--config", str(config), "--json")
    assert result.code == 1
    error = rows(tmp_path / "test.db", "SELECT message FROM errors")[0]["message"]
    assert "127.0.0.1 is a private address" in error


def test_pages_over_the_size_limit_are_refused_and_recorded(tmp_path, basic_site):
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES[:1], TOPICS, extra="")
    text = config.read_text().replace("timeout = 10", "timeout = 10\nmax_page_size_mb = 0.0045")
    config.write_text(text)
    result = run_cli("run", "--config", str(config), "--json")
    assert result.code == 0, result.stderr
    errors = rows(tmp_path / "test.db", "SELECT url, message FROM errors WHERE stage = 'fetch'")
    too_big = [e for e in errors if "larger than" in e["message"]]
    assert too_big, errors


def test_only_the_named_source_is_polled(tmp_path, basic_site):
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, TOPICS)
    result = run_cli("run", "--config", str(config), "--source", "Wire", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["sources_polled"] == 1
    assert result.json()["articles_new"] == 3

"""The quick check: sources and due re-checks that answer 304 are recorded without
Scrapy, exactly as a full pass records them; anything else is left to the crawl."""

from __future__ import annotations

import contextlib
import shutil
import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import (
    BASIC_TOPICS,
    SITES,
    SlowSite,
    child_env,
    copy_database,
    rows,
    run_cli,
    start_cli,
    write_config,
)

from crawler.config import CrawlConfig
from crawler.demo.localsite import LocalSite
from crawler.fetching.quick_check import FULL_PASS_ENV, Poll, ask

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
IDLE = START + timedelta(minutes=5)  # nothing due yet: the first re-checks are at 15 min
SOURCES = [("News", "news/feed.xml"), ("Wire", "wire/atom.xml")]
ROBOTS = "User-agent: *\nDisallow: /private/\n"
NO_CRAWL = "answered by the quick check: no crawl"
# Columns that hold the time a row was written: the only ones two passes may differ in.
TIMES = {"started_at", "finished_at", "last_polled_at", "last_checked_at", "next_check_at"}
MOMENTS = ("started_at", "finished_at", "seconds", "db")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(SITES / "basic", root, dirs_exist_ok=True)
    # without the feed's link that answers 404 (a gone link, tried again when due, which
    # would make every re-check pass crawl)
    feed = root / "news" / "feed.xml"
    text = feed.read_text(encoding="utf-8")
    start = text.index("<item>\n      <title>Missing story")
    feed.write_text(text[:start] + text[text.index("</item>", start) + 7 :], encoding="utf-8")
    (root / "robots.txt").write_text(ROBOTS, encoding="utf-8")
    (root / "_redirects.txt").write_text("/moved.xml 301 /news/feed.xml\n", encoding="utf-8")
    slow: set[str] = set()  # the paths a test makes the site answer slowly
    arrived: list[str] = []  # every request's path as it arrives (before it is answered)

    def slowly(path: str) -> bool:
        arrived.append(path)
        return path in slow

    with SlowSite(root, delay=5, slow=slowly) as served:
        served.slow_paths, served.arrived = slow, arrived
        yield served


@pytest.fixture(scope="module")
def first(site, tmp_path_factory):
    """The database after a first pass over the site's two feeds (robots.txt obeyed)."""
    folder = tmp_path_factory.mktemp("first")
    config = write_config(folder / "config.toml", site, SOURCES, BASIC_TOPICS)
    summary = run_at(config, folder / "test.db", START)
    assert summary["articles_new"] > 0
    return config, folder / "test.db"


def run_at(config: Path, db: Path, when: datetime, **env: str) -> dict:
    result = run_pass(config, db, when, **env)
    assert result.code == 0, result.stderr
    return result.json()


def run_pass(config: Path, db: Path, when: datetime, *args: str, **env: str):
    return run_cli(
        "run", "--config", str(config), "--db", str(db), "--json",
        "--now", when.strftime("%Y-%m-%dT%H:%M:%S"), *args,
        env=child_env(**env),
    )  # fmt: skip


def snapshot(db: Path, also_ignored: frozenset[str] = frozenset()) -> dict[str, list[dict]]:
    """Every table's rows, without the columns that only hold write times."""
    tables = [
        row["name"]
        for row in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if not row["name"].startswith("sqlite_")
    ]
    return {
        table: [
            {key: value for key, value in row.items() if key not in TIMES | also_ignored}
            for row in rows(db, f"SELECT * FROM [{table}] ORDER BY rowid")
        ]
        for table in tables
        if not table.endswith(("_data", "_idx", "_docsize", "_config", "_content"))
    }


def without_moments(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key not in MOMENTS}


def both_ways(config: Path, db: Path, folder: Path, site: LocalSite, when: datetime, *args: str):
    """A full pass and a pass with the quick check, each on its own copy of ``db`` at
    ``when``: (result, database, requests the site received) for each."""
    runs = []
    for name, env in (("full", {FULL_PASS_ENV: "1"}), ("quick", {})):
        copy = copy_database(db, folder / name)
        before = len(site.request_headers)
        result = run_pass(config, copy, when, *args, **env)
        assert result.code == 0, result.stderr
        runs.append((result, copy, sorted(requests_since(site, before))))
    return runs


@contextlib.contextmanager
def edition(site: LocalSite, folder: Path) -> Iterator[Path]:
    """A copy of the site's files, served instead of them within the block."""
    root = folder / "edition"
    shutil.copytree(site.root, root)
    original, site.root = site.root, root
    try:
        yield root
    finally:
        site.root = original


def requests_since(site: LocalSite, before: int) -> list[tuple[str, dict[str, str]]]:
    return [
        (path, {k.lower(): v for k, v in h.items()}) for path, h in site.request_headers[before:]
    ]


def test_an_idle_pass_records_what_a_full_pass_records_without_starting_scrapy(
    site, first, tmp_path
):
    config, db = first
    full_db = copy_database(db, tmp_path / "full")
    quick_db = copy_database(db, tmp_path / "quick")

    before = len(site.request_headers)
    full = run_pass(config, full_db, IDLE, **{FULL_PASS_ENV: "1"})
    full_requests = requests_since(site, before)
    before = len(site.request_headers)
    quick = run_pass(config, quick_db, IDLE)
    quick_requests = requests_since(site, before)

    assert full.code == quick.code == 0, (full.stderr, quick.stderr)
    assert NO_CRAWL in quick.stderr and NO_CRAWL not in full.stderr
    assert without_moments(quick.json()) == without_moments(full.json())
    assert quick.json()["sources_polled"] == 2 and quick.json()["errors"] == 0
    assert snapshot(quick_db) == snapshot(full_db)
    polled = rows(quick_db, "SELECT last_status, last_polled_at FROM sources ORDER BY id")
    assert [row["last_status"] for row in polled] == ["not modified", "not modified"]
    assert all(row["last_polled_at"].startswith(IDLE.strftime("%Y-%m-%dT%H:%M")) for row in polled)

    # The same requests, with the same headers, each answered 304; robots.txt kept.
    assert sorted(path for path, _ in quick_requests) == ["/news/feed.xml", "/wire/atom.xml"]
    assert sorted(quick_requests) == sorted(full_requests)
    assert all(headers["user-agent"].startswith("presswatch/") for _, headers in quick_requests)
    assert all("if-none-match" in headers for _, headers in quick_requests)


@pytest.mark.slow
def test_a_feed_that_changed_is_crawled_normally(site, first, tmp_path):
    config, db = first
    db = copy_database(db, tmp_path / "db")
    with edition(site, tmp_path) as root:
        page = (root / "news" / "a4.html").read_text(encoding="utf-8")
        (root / "news" / "a9.html").write_text(
            page.replace("a4.html", "a9.html").replace("rail funds", "tram funds"),
            encoding="utf-8",
        )
        feed = root / "news" / "feed.xml"
        feed.write_text(
            feed.read_text(encoding="utf-8").replace(
                "<item>",
                "<item><title>Tram funds</title><link>{{BASE}}/news/a9.html</link></item><item>",
                1,
            ),
            encoding="utf-8",
        )
        result = run_pass(config, db, IDLE)
    assert result.code == 0, result.stderr
    assert NO_CRAWL not in result.stderr
    summary = result.json()
    assert summary["articles_new"] == 1 and summary["sources_polled"] == 2
    assert [row["url"] for row in rows(db, "SELECT url FROM articles WHERE url LIKE '%a9.html'")]
    statuses = dict((row["name"], row["last_status"]) for row in rows(db, "SELECT * FROM sources"))
    assert statuses == {"News": "ok", "Wire": "not modified"}


@pytest.mark.parametrize(
    ("when", "recheck"), [(START + timedelta(hours=1), "due"), (IDLE, "all")], ids=["due", "all"]
)
def test_re_checks_that_answer_304_are_recorded_as_a_full_pass_records_them_without_scrapy(
    site, first, tmp_path, when, recheck
):
    config, db = first
    tracked = rows(db, "SELECT count(*) AS n FROM articles WHERE next_check_at IS NOT NULL")
    (full, full_db, full_requests), (quick, quick_db, quick_requests) = both_ways(
        config, db, tmp_path, site, when, "--recheck", recheck
    )
    assert NO_CRAWL in quick.stderr and NO_CRAWL not in full.stderr
    assert "2 source(s) and 7 re-check(s) answered by the quick check" in quick.stderr
    assert without_moments(quick.json()) == without_moments(full.json())
    assert quick.json()["articles_checked"] == tracked[0]["n"] == 7
    assert snapshot(quick_db) == snapshot(full_db)
    # the same requests with the same headers, each answered 304
    assert quick_requests == full_requests
    assert len(quick_requests) == 9 and all("if-none-match" in h for _, h in quick_requests)
    checked = rows(quick_db, "SELECT last_checked_at, next_check_at FROM articles")
    assert all(row["last_checked_at"] >= when.strftime("%Y-%m-%dT%H:%M") for row in checked)
    assert all(row["next_check_at"] > row["last_checked_at"] for row in checked)


def test_an_article_that_changed_is_left_to_the_crawl_and_recorded_as_a_full_pass_would(
    site, first, tmp_path
):
    config, db = first
    with edition(site, tmp_path) as root:
        page = root / "news" / "a4.html"
        page.write_text(
            page.read_text(encoding="utf-8").replace("rail funds", "tram funds"), encoding="utf-8"
        )
        (full, full_db, full_requests), (quick, quick_db, quick_requests) = both_ways(
            config, db, tmp_path, site, START + timedelta(hours=1)
        )
    assert "2 source(s) and 6 re-check(s) answered by the quick check; the crawl asks" in (
        quick.stderr
    )
    assert quick.json()["versions_new"] == full.json()["versions_new"] == 1
    assert without_moments(quick.json()) == without_moments(full.json())
    # the same, but for the moments the new version was found (and its chain hash, which
    # seals that moment)
    found = frozenset({"last_changed_at", "detected_at", "fetched_at", "chain_hash"})
    assert snapshot(quick_db, found) == snapshot(full_db, found)
    # asked twice: by the quick check (200, its body not read), then by the crawl
    paths = [path for path, _ in quick_requests]
    assert paths.count("/news/a4.html") == 2 and len(paths) == len(full_requests) + 1


def test_an_article_that_is_gone_is_recorded_as_removed_without_scrapy(site, first, tmp_path):
    config, db = first
    with edition(site, tmp_path) as root:
        with open(root / "_redirects.txt", "a", encoding="utf-8") as rules:
            rules.write("/news/a3.html 410\n")
        (full, full_db, full_requests), (quick, quick_db, quick_requests) = both_ways(
            config, db, tmp_path, site, START + timedelta(hours=1)
        )
    assert NO_CRAWL in quick.stderr
    assert without_moments(quick.json()) == without_moments(full.json())
    assert quick.json()["changes_new"] == 1
    found = frozenset({"last_changed_at", "detected_at"})
    assert snapshot(quick_db, found) == snapshot(full_db, found)
    removed = rows(quick_db, "SELECT url, status FROM articles WHERE status != 'live'")
    assert removed == [{"url": site.url("news/a3.html"), "status": "removed"}]
    assert quick_requests == full_requests


def test_a_re_check_the_database_refuses_is_a_store_error_and_the_pass_goes_on(
    site, first, tmp_path
):
    config, db = first
    db = copy_database(db, tmp_path / "damaged")
    with sqlite3.connect(db) as conn:  # a value no re-check can be scheduled from
        conn.execute("UPDATE articles SET last_changed_at = 'soon' WHERE url LIKE '%a2.html'")
    (full, full_db, _), (quick, quick_db, _) = both_ways(
        config, db, tmp_path, site, START + timedelta(hours=1)
    )
    assert NO_CRAWL in quick.stderr
    assert without_moments(quick.json()) == without_moments(full.json())
    assert quick.json()["errors"] == 1 and quick.json()["articles_checked"] == 7
    errors = "SELECT stage, url, message FROM errors WHERE run_id = 2"
    assert rows(quick_db, errors) == rows(full_db, errors)
    [error] = rows(quick_db, errors)
    assert (error["stage"], error["url"]) == ("store", site.url("news/a2.html"))
    assert error["message"].startswith("ValueError: ")


def test_a_feed_the_kept_robots_txt_forbids_takes_the_full_pass(site, first, tmp_path):
    config, db = first
    db = copy_database(db, tmp_path / "db")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE robots_txt SET body = ?", [b"User-agent: *\nDisallow: /news/\n"])
    result = run_pass(config, db, IDLE)
    assert result.code == 0, result.stderr
    assert NO_CRAWL not in result.stderr
    errors = rows(
        db, "SELECT url, message FROM errors WHERE run_id = ?", (result.json()["run_id"],)
    )
    assert errors == [
        {"url": site.url("news/feed.xml"), "message": "refused by the site's robots.txt"}
    ]


def test_a_signal_during_the_quick_check_stops_the_pass_as_it_stops_a_crawl(site, first, tmp_path):
    config, db = first
    db = copy_database(db, tmp_path / "db")
    before = len(site.arrived)
    site.slow_paths.add("/news/feed.xml")  # nothing due: the quick check asks the feeds
    try:
        with open(tmp_path / "out", "w+b") as out, open(tmp_path / "err", "w+b") as err:
            child = start_cli(
                "run", "--config", str(config), "--db", str(db), "--json",
                "--now", IDLE.strftime("%Y-%m-%dT%H:%M:%S"), stdout=out, stderr=err,
            )  # fmt: skip
            deadline = time.monotonic() + 30
            while "/news/feed.xml" not in site.arrived[before:]:
                assert time.monotonic() < deadline and child.poll() is None
                time.sleep(0.05)
            child.send_signal(signal.SIGTERM)
            assert child.wait(30) == 1
            out.seek(0)
            assert b'"status": "interrupted"' in out.read()
    finally:
        site.slow_paths.clear()
    last = rows(db, "SELECT status, sources_polled FROM runs ORDER BY id DESC LIMIT 1")
    assert last == [{"status": "interrupted", "sources_polled": 0}]


# -- the check itself, in this process ------------------------------------------------


def poll(site: LocalSite, first, url: str, name: str = "News") -> Poll:
    _, db = first
    etag = rows(db, "SELECT etag FROM sources WHERE name = ?", (name,))[0]["etag"]
    return Poll(url, etag, None, source_id=1)


ALLOWED = CrawlConfig(allow_private_addresses=True, timeout=5)
ONE_AT_A_TIME = CrawlConfig(allow_private_addresses=True, timeout=5, per_domain_concurrency=1)


def kept(origin: str) -> bytes:
    return ROBOTS.encode()


def asked(polls: list[Poll], crawl: CrawlConfig = ALLOWED, robots=kept) -> list[Poll]:
    """The polls whose answers are recorded as they are (304s, a re-check's 404/410)."""
    return [answer.poll for answer in ask(polls, crawl, robots)]


def test_the_check_returns_the_polls_that_answered_304_with_their_validators(site, first):
    feed = poll(site, first, site.url("news/feed.xml"))
    wire = poll(site, first, site.url("wire/atom.xml"), "Wire")
    before = len(site.requests)
    answers = ask([feed, wire], ONE_AT_A_TIME, kept)
    assert [answer.poll for answer in answers] == [feed, wire]
    assert [answer.etag for answer in answers] == [feed.etag, wire.etag]  # sent again
    assert site.requests[before:] == [("/news/feed.xml", 304), ("/wire/atom.xml", 304)]
    changed = Poll(feed.url, '"another"', None, source_id=1)
    assert asked([changed, wire]) == [wire]
    assert ("/news/feed.xml", 200) in site.requests[before + 2 :]
    assert asked([]) == []


def test_the_check_stops_asking_a_site_whose_answers_are_not_304(site, first):
    pages = [Poll(site.url(f"news/a{n}.html"), '"stale"', None) for n in range(1, 6)]
    before = len(site.requests)
    assert asked(pages, ONE_AT_A_TIME) == []
    # the first two answered 200: the other three are left to the crawl, asked once
    assert site.requests[before:] == [("/news/a1.html", 200), ("/news/a2.html", 200)]

    redirects = site.root / "_redirects.txt"
    rules = redirects.read_text(encoding="utf-8")
    redirects.write_text(rules + "/busy.html 503\n", encoding="utf-8")
    try:
        feed = poll(site, first, site.url("news/feed.xml"))
        before = len(site.requests)
        assert asked([Poll(site.url("busy.html"), '"x"', None), feed], ONE_AT_A_TIME) == []
        assert site.requests[before:] == [("/busy.html", 503)]  # at once: the crawl retries
    finally:
        redirects.write_text(rules, encoding="utf-8")


def test_a_site_that_does_not_answer_in_time_is_left_to_the_crawl(site, first):
    feed = poll(site, first, site.url("news/feed.xml"))
    wire = poll(site, first, site.url("wire/atom.xml"), "Wire")
    impatient = CrawlConfig(allow_private_addresses=True, timeout=0.5, per_domain_concurrency=1)
    site.slow_paths.add("/news/feed.xml")  # answers after 5 s
    try:
        started = time.monotonic()
        assert asked([feed, wire], impatient) == []
        assert time.monotonic() - started < 4
    finally:
        site.slow_paths.clear()


def test_the_check_refuses_what_a_full_pass_would_not_ask_as_it_is(site, first, monkeypatch):
    feed = poll(site, first, site.url("news/feed.xml"))
    before = len(site.requests)
    port = site.url("").split(":")[2].rstrip("/")
    policy = CrawlConfig(timeout=5)  # private addresses refused, as by default
    for host in ("127.0.0.1", "2130706433", "0x7f.1", "localhost", "[::ffff:127.0.0.1]"):
        url = f"http://{host}:{port}/news/feed.xml"
        assert asked([Poll(url, feed.etag, None)], policy) == [], host
    assert asked([feed], robots=lambda origin: None) == []  # no robots.txt kept
    forbidding = b"User-agent: *\nDisallow: /news/\n"
    assert asked([feed], robots=lambda origin: forbidding) == []
    assert site.requests[before:] == []  # none of them was even asked

    moved = Poll(site.url("moved.xml"), feed.etag, None)
    assert asked([moved]) == []  # a redirect: the full pass follows it
    assert site.requests[before:] == [("/moved.xml", 301)]

    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert asked([feed]) == []  # a proxy: only Scrapy uses it
    assert site.requests[before:] == [("/moved.xml", 301)]

"""Crash safety: a pass killed with SIGKILL at a random moment loses nothing.

A sample site of 150 articles in three feeds is built from the basic site's pages and
served a little slowly, so that a pass spends a few seconds storing articles, across
several batch commits. For each seed, ``presswatch run`` is killed (with its extraction
workers) twice: once while it is storing articles, then once at any moment of a usual
pass (start-up, polling, storing, finishing). Then it runs to completion,
and the database must be intact, hold no duplicates and hold every article of the feeds,
exactly as one uninterrupted pass leaves it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import conftest
import pytest
import sqlite_utils
from conftest import SITES, ForkedChild, SlowSite, run_cli, start_cli

from crawler.demo.localsite import LocalSite

FEEDS = 3
PER_FEED = 50
SEEDS = range(5)
PAGE_DELAY = 0.03  # seconds the site takes to answer each article page
TEMPLATES = [
    "news/a1.html",
    "news/a2.html",
    "news/a3.html",
    "news/a5.html",
    "wire/w1.html",
    "wire/w2.html",
    "salvage/s1.html",
    "salvage/s2.html",
]
PLACES = [
    "Tallinn",
    "Riga",
    "Vilnius",
    "Gdansk",
    "Turku",
    "Bergen",
    "Aarhus",
    "Kiel",
    "Oulu",
    "Tromso",
]
TOPICS = [
    ("NATO", "NATO"),
    ("Greenland", "Greenland"),
    ("Ukraine", "Ukraine"),
    ("coalition", '"coalition of the willing"'),
]
pytestmark = pytest.mark.slow  # passes killed again and again
# Tables a re-run may add to by design: one row per pass, or per problem met in a pass.
PER_PASS = {"runs", "errors", "digests"}


@dataclass(frozen=True)
class Reference:
    counts: dict[str, int]  # rows per table after one uninterrupted pass
    seconds: float  # how long that pass took, start-up included
    storing: tuple[float, float]  # when its first and last articles were committed
    commits: int  # how many times the article count grew while it ran


def build_site(root: Path) -> list[str]:
    """Write 150 article pages and three RSS feeds; return the articles' paths."""
    templates = [(SITES / "basic" / name).read_text(encoding="utf-8") for name in TEMPLATES]
    paths = []
    for feed in range(FEEDS):
        items = []
        for n in range(PER_FEED):
            number = feed * PER_FEED + n
            path = f"p/{number:03d}.html"
            title = f"Report {number} from {PLACES[number % len(PLACES)]}"
            page = _retitle(templates[number % len(templates)], title, path, number)
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(page, encoding="utf-8")
            items.append(
                f"<item><title>{title}</title><link>{{{{BASE}}}}/{path}</link>"
                f"<guid>{{{{BASE}}}}/{path}</guid></item>"
            )
            paths.append(path)
        (root / f"feed{feed}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {feed}</title><link>{{{{BASE}}}}/</link><description>d</description>"
            + "".join(items)
            + "</channel></rss>",
            encoding="utf-8",
        )
    return paths


def _retitle(html: str, title: str, path: str, number: int) -> str:
    """The template page as its own article: new headline, own URL, a distinct lead."""
    html = re.sub(r"<title>.*?</title>", f"<title>{title} | Courier</title>", html)
    html = re.sub(r'(og:title" content=")[^"]*', rf"\g<1>{title}", html)
    html = re.sub(r"<h1>.*?</h1>", f"<h1>{title}</h1>", html)
    html = re.sub(r'(rel="canonical" href=")[^"]*', rf"\g<1>{{{{BASE}}}}/{path}", html)
    html = re.sub(r'(og:url" content=")[^"]*', rf"\g<1>{{{{BASE}}}}/{path}", html)
    lead = (
        f"<p>Dispatch number {number} was filed from "
        f"{PLACES[number % len(PLACES)]} on day {number % 28 + 1} of the month.</p>"
    )
    return html.replace('<div class="story-body">', f'<div class="story-body">{lead}', 1)


def write_config(path: Path, site: LocalSite, db: Path, workers: int = 2) -> Path:
    """A config of the three feeds, a pass as it runs by default: paced by AutoThrottle,
    extracting in a pool of ``workers`` (the processes a kill must take with it)."""
    feeds = [(f"Feed {feed}", f"feed{feed}.xml") for feed in range(FEEDS)]
    return conftest.write_config(
        path, site, feeds, TOPICS, db=db, workers=workers, autothrottle=True
    )


def slow_site(root: Path, delay: float = PAGE_DELAY) -> SlowSite:
    """The site of ``build_site``, answering its article pages after ``delay`` seconds."""
    return SlowSite(root, delay, lambda path: path.startswith("/p/"))


def table_counts(db_path: Path) -> dict[str, int]:
    """Rows in every table a re-run must not grow (FTS index internals left out)."""
    db = sqlite_utils.Database(db_path)
    try:
        names = [
            name
            for name in db.table_names()
            if name not in PER_PASS and not _fts_internal(db, name)
        ]
        return {name: db[name].count for name in names}
    finally:
        db.conn.close()


def _fts_internal(db: sqlite_utils.Database, name: str) -> bool:
    return any(name.startswith(f"{fts}_") for fts in _fts_tables(db))


def _fts_tables(db: sqlite_utils.Database) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%USING fts5%'"
        )
    ]


def start_pass(
    config: Path, *args: str, stdout: IO[bytes] | None = None
) -> subprocess.Popen[bytes] | ForkedChild:
    """``presswatch run`` in a session of its own, so it can be killed with its workers;
    its output into ``stdout`` (default: nowhere)."""
    with open(os.devnull, "wb") as nowhere:
        return start_cli(
            "run",
            "--config",
            str(config),
            *args,
            stdout=stdout or nowhere,
            stderr=nowhere,
            session=True,
        )


def kill_during_a_pass(config: Path, after: float) -> bool:
    """SIGKILL a pass and its workers ``after`` seconds after its start.
    True if it was still running then."""
    process = start_pass(config)
    time.sleep(after)
    running = process.poll() is None
    with contextlib.suppress(ProcessLookupError):  # it may have finished already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return running


def kill_while_storing(config: Path, db: Path, after: float) -> bool:
    """SIGKILL a pass and its workers ``after`` seconds after its first commit of
    articles (when it is storing, however fast the machine is today). True if it was
    still running then."""
    process = start_pass(config)
    while process.poll() is None and article_count(db) == 0:
        time.sleep(0.02)
    time.sleep(after)
    running = process.poll() is None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return running


def article_count(db: Path) -> int:
    """Committed articles, read as another process would (WAL: never blocks the pass)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:  # not created yet, or the schema is being written
        return 0


@pytest.fixture(scope="module")
def crash_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSite, list[str]]]:
    root = tmp_path_factory.mktemp("crash-site")
    paths = build_site(root)
    with slow_site(root) as site:
        yield site, paths


@pytest.fixture(scope="module")
def reference(crash_site, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """One uninterrupted pass, watched: its duration and when it stored articles."""
    site, paths = crash_site
    tmp = tmp_path_factory.mktemp("reference")
    db = tmp / "reference.db"
    output = (tmp / "summary.json").open("w+b")
    started = time.monotonic()
    process = start_pass(write_config(tmp / "config.toml", site, db), "--json", stdout=output)
    counts = [0]
    first = last = 0.0
    while process.poll() is None:
        count = article_count(db)
        if count > counts[-1]:
            counts.append(count)
            first, last = first or time.monotonic() - started, time.monotonic() - started
        time.sleep(0.02)
    seconds = time.monotonic() - started
    output.seek(0)
    with output:
        summary = json.loads(output.read() or "{}")
    assert process.returncode == 0
    assert summary["articles_new"] == len(paths) and summary["errors"] == 0
    return Reference(table_counts(db), seconds, (first, last), len(counts) - 1)


def test_the_sample_site_makes_a_pass_that_stores_across_several_commits(reference):
    assert reference.counts["articles"] == FEEDS * PER_FEED
    assert reference.counts["mentions"] > 0
    assert reference.commits >= 2
    first, last = reference.storing
    assert last - first >= 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_pass_loses_nothing_and_duplicates_nothing(tmp_path, crash_site, reference, seed):
    site, paths = crash_site
    db = tmp_path / "test.db"
    config = write_config(tmp_path / "config.toml", site, db)
    rng = random.Random(seed)
    first, last = reference.storing
    assert kill_while_storing(config, db, rng.uniform(0, (last - first) / 4))  # storing
    kill_during_a_pass(config, rng.uniform(0.3, reference.seconds))  # any moment

    result = run_cli("run", "--config", str(config), "--json")
    assert result.code == 0, result.stderr
    assert result.json()["errors"] == 0

    database = sqlite_utils.Database(db)
    try:
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert database.execute("PRAGMA foreign_key_check").fetchall() == []
        for fts in _fts_tables(database):
            database.execute(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')")
        stored = {row[0] for row in database.execute("SELECT url FROM articles")}
        duplicates = database.execute(
            "SELECT article_id FROM versions GROUP BY article_id HAVING count(*) > 1"
        ).fetchall()
        repeated_mentions = database.execute(
            "SELECT 1 FROM mentions GROUP BY topic_id, article_id HAVING count(*) > 1"
        ).fetchall()
    finally:
        database.conn.close()
    assert stored == {site.url(path) for path in paths}
    assert duplicates == [] and repeated_mentions == []
    assert table_counts(db) == reference.counts

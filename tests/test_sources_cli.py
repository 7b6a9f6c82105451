"""``presswatch sources add|list|test`` against the served discovery sites."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SITES, CliResult, invoke, rows, run_cli

from crawler.commands.sources import append_source, write_source
from crawler.config import ConfigError, load_config
from crawler.demo.localsite import LocalSite
from crawler.sources.discovery import declared_feeds, is_sitemap, robots_sitemaps

DISCOVERY = SITES / "discovery"


def presswatch(*args: str, input: str | None = None, timeout: float = 180) -> CliResult:
    """``presswatch ARGS`` in a child process with ``input`` on stdin (a pipe, never a
    terminal; without input, stdin is empty)."""
    return run_cli(*args, input=input, timeout=timeout)


@pytest.fixture
def post() -> Iterator[LocalSite]:
    """The Lindholm Post: feeds declared in the page, a sitemap in robots.txt."""
    with LocalSite(DISCOVERY / "declared") as site:
        yield site


@pytest.fixture
def herald() -> Iterator[LocalSite]:
    """The Eastbrook Herald: one feed at /rss.xml, nothing declared."""
    with LocalSite(DISCOVERY / "feedonly") as site:
        yield site


def config_parts(tmp_path: Path, herald: LocalSite) -> tuple[str, str]:
    """A commented config.toml in two parts: up to the end of the sources, and the rest."""
    head = f"""# Test configuration: every comment and blank line must survive `sources add`.

[storage]
db = "{tmp_path / "test.db"}"   # next to this file

[crawl]
allow_private_addresses = true   # the sites are served on 127.0.0.1
timeout = 10
extract_workers = 0
autothrottle = false   # the sample sites answer at once

# ----------------------------------------------------------------------------
# Sources
[[sources]]
name = "Eastbrook Herald"   # a town paper
url = "{herald.url("rss.xml")}"
kind = "feed"
# kind = "sitemap" would read its sitemap instead
"""
    tail = """
# ----------------------------------------------------------------------------
# Topics
[[topics]]
name = "Harbour"
query = 'harbour'

[[topics]]
name = "Ferry"
query = 'ferry'   # the night crossing

[schedule]
interval = "30m"    # poll every half hour
"""
    return head, tail


def write(tmp_path: Path, herald: LocalSite) -> tuple[Path, str]:
    head, tail = config_parts(tmp_path, herald)
    path = tmp_path / "config.toml"
    path.write_text(head + tail, encoding="utf-8")
    return path, head + tail


def new_table(name: str, url: str, kind: str) -> str:
    return f'\n[[sources]]\nname = "{name}"\nurl = "{url}"\nkind = "{kind}"\n'


def candidate_lines(stdout: str) -> list[list[str]]:
    return [line.split()[1:3] for line in stdout.splitlines() if line[:4].strip().endswith(".")]


# -- sources add -----------------------------------------------------------------------------


def test_add_first_appends_one_table_and_keeps_the_rest_byte_for_byte(tmp_path, post, herald):
    config, _ = write(tmp_path, herald)
    head, tail = config_parts(tmp_path, herald)
    result = presswatch("sources", "add", post.url(""), "--first", "--config", str(config))
    assert result.code == 0, result.stderr
    assert candidate_lines(result.stdout) == [
        ["feed", post.url("news/rss.xml")],
        ["feed", post.url("opinion/atom.xml")],
        ["sitemap", post.url("sitemap.xml")],
    ]
    assert "(Lindholm Post)" in result.stdout and "(Lindholm Post Opinion)" in result.stdout
    added = new_table("Lindholm Post", post.url("news/rss.xml"), "feed")
    assert config.read_text(encoding="utf-8") == head + added + tail
    source = load_config(config).source("Lindholm Post")
    assert (source.url, source.kind) == (post.url("news/rss.xml"), "feed")
    assert "added source 'Lindholm Post'" in result.stdout


def test_add_the_second_candidate_chosen_on_stdin(tmp_path, post, herald):
    config, original = write(tmp_path, herald)
    result = presswatch("sources", "add", post.url(""), "--config", str(config), input="2\n")
    assert result.code == 0, result.stderr
    assert "Add which one?" in result.stdout
    sources = load_config(config).sources
    assert [(s.name, s.url, s.kind) for s in sources][1:] == [
        ("Lindholm Post Opinion", post.url("opinion/atom.xml"), "feed")
    ]
    assert config.read_text(encoding="utf-8").startswith(original.split("\n# ---")[0])


def test_add_a_sitemap_under_a_chosen_name(tmp_path, post, herald):
    config, _ = write(tmp_path, herald)
    result = presswatch(
        "sources",
        "add",
        post.url(""),
        "--name",
        "Lindholm sitemap",
        "--config",
        str(config),
        input="3\n",
    )
    assert result.code == 0, result.stderr
    source = load_config(config).source("Lindholm sitemap")
    assert (source.url, source.kind) == (post.url("sitemap.xml"), "sitemap")


def test_add_refuses_a_url_or_a_name_already_configured(tmp_path, post, herald):
    config, original = write(tmp_path, herald)
    same_url = presswatch("sources", "add", herald.url(""), "--first", "--config", str(config))
    assert same_url.code == 2
    assert f"source 'Eastbrook Herald' already polls {herald.url('rss.xml')}" in same_url.stderr
    same_name = presswatch(
        "sources",
        "add",
        post.url(""),
        "--first",
        "--name",
        "Eastbrook Herald",
        "--config",
        str(config),
    )
    assert same_name.code == 2
    assert "a source named 'Eastbrook Herald' exists already" in same_name.stderr
    assert config.read_text(encoding="utf-8") == original


def test_add_without_a_terminal_or_an_answer_asks_for_first(tmp_path, post, herald):
    config, original = write(tmp_path, herald)
    result = presswatch("sources", "add", post.url(""), "--config", str(config))
    assert result.code == 2
    assert "use --first" in result.stderr
    assert config.read_text(encoding="utf-8") == original


def bare_config(tmp_path: Path, extra: str = "allow_private_addresses = true\n") -> Path:
    """A config without sources; its crawls extract inline at the sample sites' pace."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\ndb = "{tmp_path / "test.db"}"\n\n[crawl]\n{extra}'
        "extract_workers = 0\nautothrottle = false\n",
        encoding="utf-8",
    )
    return path


def test_add_offers_only_what_really_is_a_feed(tmp_path, herald):
    config = bare_config(tmp_path)
    result = presswatch("sources", "add", herald.url(""), "--first", "--config", str(config))
    assert result.code == 0, result.stderr
    assert candidate_lines(result.stdout) == [["feed", herald.url("rss.xml")]]
    assert ("/feed/", 200) in herald.requests  # an HTML page at a feed path: not offered
    [source] = load_config(config).sources
    assert (source.name, source.url) == ("Eastbrook Herald", herald.url("rss.xml"))
    assert config.read_text(encoding="utf-8").endswith(
        "\n\n" + new_table("Eastbrook Herald", herald.url("rss.xml"), "feed").lstrip()
    )


def test_add_a_feed_url_offers_that_feed_alone(tmp_path, post):
    config = bare_config(tmp_path)
    result = presswatch(
        "sources", "add", post.url("opinion/atom.xml"), "--first", "--config", str(config)
    )
    assert result.code == 0, result.stderr
    assert candidate_lines(result.stdout) == [["feed", post.url("opinion/atom.xml")]]
    assert not {path for path, _ in post.requests} & {"/", "/feed", "/rss.xml"}


def test_add_obeys_the_private_address_setting(tmp_path, post):
    config = bare_config(tmp_path, extra="timeout = 10\n")
    original = config.read_text(encoding="utf-8")
    result = presswatch("sources", "add", post.url(""), "--first", "--config", str(config))
    assert result.code == 1
    assert "private address" in result.stderr
    assert config.read_text(encoding="utf-8") == original
    assert post.requests == []


# -- editing the file ------------------------------------------------------------------------

ENTRY = {"name": "New", "url": "https://example.org/feed", "kind": "feed"}


def load_sources(text: str) -> list[str]:
    return [source["name"] for source in tomllib.loads(text)["sources"]]


def test_append_source_to_an_inline_array():
    text = 'sources = [\n  { name = "Old", url = "https://old.example/rss" },  # old\n]\n'
    updated = append_source(text, ENTRY)
    assert updated.startswith('sources = [\n  { name = "Old", url = "https://old.example/rss" }')
    assert "# old" in updated
    assert load_sources(updated) == ["Old", "New"]


def test_append_source_to_a_file_without_sources_or_final_newline():
    updated = append_source("# mine\n[crawl]\ntimeout = 5", ENTRY)
    assert updated == (
        '# mine\n[crawl]\ntimeout = 5\n\n[[sources]]\nname = "New"\n'
        'url = "https://example.org/feed"\nkind = "feed"\n'
    )


def test_comments_right_under_the_last_source_stay_with_it():
    text = (
        '[[sources]]\nname = "Old"\nurl = "https://old.example/rss"\n# about Old\n'
        '\n# Topics\n[[topics]]\nname = "T"\nquery = "t"\n'
    )
    updated = append_source(text, ENTRY)
    assert updated == text.replace(
        "# about Old\n", "# about Old\n" + new_table("New", "https://example.org/feed", "feed")
    )


def test_write_source_restores_a_file_that_would_not_validate(tmp_path):
    config = bare_config(tmp_path)
    original = config.read_bytes()
    with pytest.raises(ConfigError, match=r"left unchanged.*must be an http"):
        write_source(config, {**ENTRY, "url": "ftp://example.org/feed"})
    assert config.read_bytes() == original


# -- what counts as a candidate --------------------------------------------------------------


def test_declared_feeds_are_rss_and_atom_alternates_resolved_against_the_page():
    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/a.xml">'
        b'<link rel="Alternate Feed" type="application/atom+xml" title=" Atom " '
        b'href="https://other.example/b.xml"><link rel="alternate" hreflang="de" '
        b'href="/de/"><link rel="stylesheet" type="text/css" href="/s.css"></head></html>'
    )
    assert declared_feeds(page, "https://news.example/section/") == [
        ("https://news.example/a.xml", None),
        ("https://other.example/b.xml", "Atom"),
    ]


def test_robots_sitemaps_and_sitemap_documents():
    robots = (
        "User-agent: *\nDisallow: /private\nSitemap: /s1.xml\n  sitemap:https://x.example/s2.xml\n"
    )
    assert robots_sitemaps(robots, "https://x.example/robots.txt") == [
        "https://x.example/s1.xml",
        "https://x.example/s2.xml",
    ]
    assert is_sitemap(
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
        b'sitemap/0.9"><url><loc>https://x.example/</loc></url></urlset>'
    )
    assert is_sitemap(
        b"<sitemapindex><sitemap><loc>https://x.example/a.xml</loc></sitemap></sitemapindex>"
    )
    assert not is_sitemap(b"<html><body>Sitemap</body></html>")
    assert not is_sitemap(b"<<< not xml")


# -- sources list ----------------------------------------------------------------------------


def test_list_shows_polls_and_article_counts_after_a_real_run(tmp_path, post, herald):
    config, _ = write(tmp_path, herald)
    assert presswatch("sources", "add", post.url(""), "--first", "--config", str(config)).code == 0

    before = invoke("sources", "list", "--config", str(config))
    assert before.code == 0, before.stderr
    assert [line.split()[-4:] for line in before.stdout.splitlines()[1:]] == [
        ["never", "-", "0", "-"],
        ["never", "-", "0", "-"],
    ]

    ran = run_cli("run", "--config", str(config), "--source", "Lindholm Post")
    assert ran.code == 0, ran.stderr
    listed = invoke("sources", "list", "--config", str(config), "--json")
    assert listed.code == 0, listed.stderr
    herald_row, post_row = listed.json()
    assert herald_row == {
        "name": "Eastbrook Herald",
        "url": herald.url("rss.xml"),
        "kind": "feed",
        "last_polled_at": None,
        "last_status": None,
        "last_error": None,
        "articles": 0,
    }
    assert (post_row["name"], post_row["last_status"], post_row["articles"]) == (
        "Lindholm Post",
        "ok",
        2,
    )
    [run] = rows(tmp_path / "test.db", "SELECT started_at FROM runs")
    assert post_row["last_polled_at"] >= run["started_at"]

    text = invoke("sources", "list", "--config", str(config)).stdout.splitlines()
    assert text[0].split() == [
        "name",
        "kind",
        "last",
        "poll",
        "status",
        "articles",
        "last",
        "error",
    ]
    assert text[1].startswith("Eastbrook Herald") and " never " in text[1]
    assert text[2].split()[-4:] == [post_row["last_polled_at"], "ok", "2", "-"]


# -- sources test ----------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha1(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())
    }


def test_test_prints_what_a_pass_would_store_and_stores_nothing(tmp_path, post, herald):
    config, _ = write(tmp_path, herald)
    assert presswatch("sources", "add", post.url(""), "--first", "--config", str(config)).code == 0
    before = snapshot(tmp_path)

    result = presswatch("sources", "test", "Lindholm Post", "--config", str(config))
    assert result.code == 0, result.stderr
    assert snapshot(tmp_path) == before  # no database, no lock, nothing else
    out = result.stdout
    assert "poll: ok" in out and "articles found: 2" in out and "errors: 0" in out
    assert (
        "  Harbour dredging to start in spring\n"
        f"    {post.url('news/p1.html')}\n"
        "    published: 2026-11-20T08:00:00Z   topics: Harbour"
    ) in out
    assert (
        "  Ferry timetable adds a late crossing\n"
        f"    {post.url('news/p2.html')}\n"
        "    published: 2026-11-21T09:30:00Z   topics: Ferry"
    ) in out

    assert run_cli("run", "--config", str(config)).code == 0
    stored = snapshot(tmp_path)
    again = presswatch("sources", "test", "Lindholm Post", "--config", str(config))
    assert again.code == 0, again.stderr
    assert "articles found: 2" in again.stdout  # a fresh database: everything is new
    assert snapshot(tmp_path) == stored


def test_test_reports_errors_and_a_failed_poll(tmp_path, post):
    config = bare_config(tmp_path)
    with config.open("a", encoding="utf-8") as file:
        file.write(f'\n[[sources]]\nname = "Gone"\nurl = "{post.url("comments/rss.xml")}"\n')
    result = presswatch("sources", "test", "Gone", "--config", str(config))
    assert result.code == 1
    assert "poll: failed: HTTP 404 Not Found" in result.stdout
    assert "articles found: 0" in result.stdout
    assert f"fetch: {post.url('comments/rss.xml')}: HTTP 404 Not Found" in result.stdout
    assert not (tmp_path / "test.db").exists()


DEAD_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Dead links</title><link>{{BASE}}/</link>
<item><title>Taken down</title><link>{{BASE}}/news/taken-down.html</link></item>
<item><title>Never published</title><link>{{BASE}}/news/never.html</link></item>
</channel></rss>
"""


def test_test_exits_1_when_no_article_it_tried_could_be_stored(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "feed.xml").write_text(DEAD_FEED, encoding="utf-8")
    config = bare_config(tmp_path)
    with LocalSite(root) as site:
        with config.open("a", encoding="utf-8") as file:
            file.write(f'\n[[sources]]\nname = "Dead"\nurl = "{site.url("feed.xml")}"\n')
        result = presswatch("sources", "test", "Dead", "--config", str(config))
    assert result.code == 1, result.stdout + result.stderr
    assert "poll: ok" in result.stdout and "articles found: 0" in result.stdout
    assert "errors: 2" in result.stdout
    assert f"fetch: {site.url('news/never.html')}: HTTP 404 Not Found" in result.stdout


def test_test_exits_0_when_some_articles_were_stored_and_some_failed(tmp_path):
    with LocalSite(SITES / "basic") as site:
        config = bare_config(tmp_path)
        with config.open("a", encoding="utf-8") as file:
            file.write(f'\n[[sources]]\nname = "News"\nurl = "{site.url("news/feed.xml")}"\n')
        result = presswatch("sources", "test", "News", "--config", str(config))
    assert result.code == 0, result.stdout + result.stderr
    assert "articles found: 5" in result.stdout and "errors: 1" in result.stdout
    assert f"fetch: {site.url('news/missing.html')}: HTTP 404 Not Found" in result.stdout


def test_test_an_unknown_source(tmp_path, herald):
    config, _ = write(tmp_path, herald)
    result = presswatch("sources", "test", "Nope", "--config", str(config))
    assert result.code == 2
    assert "no source named 'Nope' (configured: Eastbrook Herald)" in result.stderr

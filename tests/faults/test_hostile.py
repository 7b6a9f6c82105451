"""The fault suite, round two: hostile input that once got through or stopped a pass.

Each section is one class of docs/reliability.md ("Hostile input"): real passes against
the loopback fault server, and the pure policy they rest on.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ForkedChild, invoke, rows, run_cli, start_cli
from digest_fixtures import INVISIBLE, INVISIBLE_CHARS, INVISIBLE_SHOWN, Desk
from server import FaultServer, _big_feed
from test_faults import PROXY_RESOLVES, PUBLIC, REFUSED, assert_rest_completed, crawl, proxy

from crawler.fetching.urls import canonical_adoptable, canonical_url, ip_of, is_public_address
from crawler.outputs.digest import Digest, Period, collect, render, subject
from crawler.visible import visible


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as faults:
        yield faults


GOOD_PATH = "/story/good.html"


def slug_hits(server: FaultServer, slug: str) -> list[str]:
    return [hit.path for hit in server.hits if slug in hit.path]


# -- 1. the address policy, with or without a proxy ----------------------------------------


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0xa.0xa.0xa.0xa", "10.10.10.10"),
        ("3232235521", "192.168.0.1"),
    ],
)
def test_ipv4_is_read_in_every_spelling_a_browser_accepts(spelling, address):
    assert str(ip_of(spelling)) == address
    assert not is_public_address(spelling)


@pytest.mark.parametrize(
    "host", ["news.example", "1.2.3.4.5", "09.1.1.1", "0x", "1e3", "256.1.1.1", "4294967296"]
)
def test_names_and_impossible_numbers_are_not_addresses(host):
    assert ip_of(host) is None or host == "0x"


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",
        "::ffff:7f00:1",
        "::127.0.0.1",
        "::1",
        "::",  # mapped, compatible
        "64:ff9b::7f00:1",
        "64:ff9b::a00:1",
        "64:ff9b:1::1",  # NAT64
        "2002:7f00:1::1",
        "2002:c0a8:1::1",  # 6to4
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
        "2001:0:7f00:1:0:0:80ff:fffe",  # Teredo, server 127.0.0.1
        "fec0::1",
        "fd12:3456::1",
        "fc00::1",
        "fe80::1",
        "fe80::1%eth0",  # site/unique/link-local
        "2001:db8::1",
        "3fff::1",
        "ff02::1",
        "100::1",  # doc, multicast, discard
        "224.0.0.1",
        "100.64.0.1",
        "198.18.0.1",
        "240.0.0.1",
        "255.255.255.255",
    ],
)
def test_non_public_and_private_carrying_addresses_are_refused(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"],
)
def test_public_addresses_pass(address):
    assert is_public_address(address)


def test_ip_literal_urls_keep_their_brackets_and_a_canonical_spelling():
    assert canonical_url("http://[::1]:80/a") == "http://[::1]/a"
    assert canonical_url("http://[::1]:8080/a?utm_source=x") == "http://[::1]:8080/a"
    assert canonical_url("http://[2001:DB8:0::1]/") == "http://[2001:db8::1]/"
    assert canonical_url("http://0x7f000001:81/x") == "http://127.0.0.1:81/x"


SPELLINGS = {
    "Decimal": "2130706433",
    "Hex": "0x7f000001",
    "Octal": "0177.0.0.1",
    "Short": "127.1",
    "Mapped": "[::ffff:127.0.0.1]",
    "Nat64": "[64:ff9b::7f00:1]",
    "Sixtofour": "[2002:7f00:1::1]",
    "Name": "localhost",
}


def test_private_addresses_in_any_spelling_are_refused_through_a_proxy(tmp_path, server):
    # Every request goes to the fault server as a proxy (no exception for localhost), so
    # anything let through would reach it. The proxy may resolve names that do not
    # resolve here (news.example), but whatever resolves here is judged here.
    port = server.base_url.rsplit(":", 1)[1]
    sources = {
        name: f"http://{host}:{port}/feed.xml?link=/story/{name.lower()}.html"
        for name, host in SPELLINGS.items()
    }
    env = {**proxy(server), "no_proxy": "", "NO_PROXY": ""}
    result = crawl(
        tmp_path,
        server,
        sources,
        good_base=PUBLIC,
        allow_private=False,
        env=env,
        extra=PROXY_RESOLVES,
    )
    assert_rest_completed(result, PUBLIC)
    for name, host in SPELLINGS.items():
        error = result.error_for(sources[name])
        assert error["stage"] == "fetch"
        if name == "Name":
            assert error["message"] == (
                f"refused: localhost resolves to a private address 127.0.0.1 {REFUSED}"
            )
        else:
            assert error["message"].startswith(
                f"refused: {host.strip('[]')} is a private address"
            ), error
        assert result.source_status(name) == "failed"
        assert not slug_hits(server, f"/story/{name.lower()}.html")
    assert [hit.path for hit in server.hits if "feed.xml" in hit.path] == [
        "/feed.xml?link=/story/good.html"
    ]


def test_a_name_that_does_not_resolve_here_is_not_handed_to_a_proxy(tmp_path, server):
    result = crawl(tmp_path, server, {}, good_base=PUBLIC, allow_private=False, env=proxy(server))
    url = f"{PUBLIC}/feed.xml?link=/story/good.html"
    assert result.error_for(url) == {
        "stage": "fetch",
        "message": "refused: news.example does not resolve here, so its address cannot be "
        "checked before the proxy fetches it (set [crawl] proxy_resolves_names "
        "= true to let the proxy resolve it)",
    }
    assert server.hits == []


def test_an_ipv6_literal_url_is_fetched_when_private_addresses_are_allowed(tmp_path):
    with FaultServer("::1") as six:
        result = crawl(tmp_path, six, {"Six": six.feed_url("/story/six.html")})
        assert_rest_completed(result, six.base_url)
        assert result.errors == []
        article = result.article(six.url("/story/six.html"))
        assert article is not None and article["url"].startswith("http://[::1]:")


# -- 2. unbounded structure ------------------------------------------------------------------

# 2,000 minutes of entries, the newest last: the newest 500 are big-1501 ... big-2000.
CUT_FEED = "/big-feed?entries=2000"


def test_a_long_feed_is_cut_to_its_newest_entries(tmp_path, server):
    result = crawl(
        tmp_path,
        server,
        {"Long": server.url(CUT_FEED)},
        source_keys={"Long": "max_feed_entries = 5"},
    )
    assert_rest_completed(result, server.base_url)
    assert result.error_for(server.url(CUT_FEED)) == {
        "stage": "feed",
        "message": "2000 entries, only the newest 5 used ([[sources]] max_feed_entries = 5)",
    }
    assert result.source_status("Long") == "partial"
    stories = sorted(hit.path for hit in server.hits if hit.path.startswith("/story/big-"))
    assert stories == [f"/story/big-{n}.html" for n in range(1996, 2001)]


def test_an_endless_sitemap_index_is_cut_at_its_depth(tmp_path, server):
    root = server.url("/sitemap-tree/r?fanout=1")
    result = crawl(
        tmp_path,
        server,
        {"Deep": root},
        source_keys={"Deep": 'kind = "sitemap"\nmax_sitemap_depth = 2'},
    )
    assert_rest_completed(result, server.base_url)
    tree = [hit.path for hit in server.hits if hit.path.startswith("/sitemap-tree/")]
    assert tree == [
        "/sitemap-tree/r?fanout=1",
        "/sitemap-tree/r-0?fanout=1",
        "/sitemap-tree/r-0-0?fanout=1",
    ]
    assert result.error_for(server.url("/sitemap-tree/r-0-0?fanout=1")) == {
        "stage": "sitemap",
        "message": "sitemap index nested too deeply: its 1 child sitemaps (at depth 3) and any "
        "like them not fetched ([[sources]] max_sitemap_depth = 2)",
    }
    assert result.source_status("Deep") == "ok"


@pytest.mark.slow
def test_a_sitemap_tree_without_end_stops_at_max_sitemaps(tmp_path, server):
    # Ten children per index, forever: the defaults (depth 3, 100 sitemaps) end it.
    root = server.url("/sitemap-tree/t")
    result = crawl(tmp_path, server, {"Tree": root}, source_keys={"Tree": 'kind = "sitemap"'})
    assert_rest_completed(result, server.base_url)
    tree = [hit.path for hit in server.hits if hit.path.startswith("/sitemap-tree/")]
    assert len(tree) == 101  # the source and 100 child sitemaps
    cuts = [e["message"] for e in result.errors if e["stage"] == "sitemap"]
    assert cuts == [  # recorded once, on the first index cut
        "too many sitemaps: 10 of its 10 child sitemaps and any after them not fetched "
        "([[sources]] max_sitemaps = 100 per pass)"
    ]
    assert result.summary["seconds"] < 60


@pytest.mark.slow
def test_a_200000_entry_feed_is_cut_and_the_pass_finishes(tmp_path, server):
    # About 25 MB: the size limit is raised so that the parser, not the limit, meets it.
    _big_feed(server.base_url, 200_000)  # built before the pass asks for it
    url = server.url("/big-feed?entries=200000")
    result = crawl(
        tmp_path,
        server,
        {"Huge": url},
        extra="max_page_size_mb = 30",
        source_keys={"Huge": "max_feed_entries = 20"},
    )
    assert_rest_completed(result, server.base_url)
    assert result.error_for(url)["message"] == (
        "200000 entries, only the newest 20 used ([[sources]] max_feed_entries = 20)"
    )
    assert result.article(server.url("/story/big-200000.html")) is not None
    assert result.article(server.url("/story/big-199980.html")) is None


def start_pass(tmp_path: Path, url: str, kind: str = "feed") -> subprocess.Popen | ForkedChild:
    """``presswatch run --json`` over ``url``, started; its stdout goes to pass.out."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\ndb = "{tmp_path / "test.db"}"\n[crawl]\n'
        "allow_private_addresses = true\nmax_page_size_mb = 30\n"
        f'[[sources]]\nname = "Big"\nurl = "{url}"\nkind = "{kind}"\n',
        encoding="utf-8",
    )
    with open(tmp_path / "pass.out", "wb") as out, open(tmp_path / "pass.err", "wb") as err:
        return start_cli("run", "--config", str(config), "--json", stdout=out, stderr=err)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "kind", "prefix", "hits"),
    [
        ("/big-feed?entries=200000", "feed", "/big-feed", 1),  # while the feed is parsed
        ("/sitemap-tree/s", "sitemap", "/sitemap-tree/", 15),  # while the tree is walked
        # while articles are fetched (a feed of 2000, cut to the newest 500, parsed at once)
        ("/big-feed?entries=2000", "feed", "/story/", 20),
    ],
)
def test_sigterm_stops_a_pass_at_every_stage(tmp_path, server, path, kind, prefix, hits):
    _big_feed(server.base_url, 200_000 if "200000" in path else 2000)
    child = start_pass(tmp_path, server.url(path), kind)
    deadline = time.monotonic() + 90
    while sum(hit.path.startswith(prefix) for hit in server.hits) < hits:
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.02)
    child.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    child.wait(timeout=60)
    assert json.loads((tmp_path / "pass.out").read_text())["status"] == "interrupted"
    # The target is 5 s (bench/hostile.py measures it); the bound here allows for a
    # loaded machine.
    assert time.monotonic() - signalled < 15


# -- 3. one bad character ---------------------------------------------------------------------


def test_a_lone_surrogate_reference_costs_one_character_not_the_feed(tmp_path, server):
    url = server.url("/content/surrogate-feed")
    result = crawl(tmp_path, server, {"Odd": url})
    assert_rest_completed(result, server.base_url)
    assert result.error_for(url) == {
        "stage": "feed",
        "message": "malformed feed, 3 entries used: 1 character references to impossible "
        "code points (the first &#xD800;) read as U+FFFD",
    }
    assert result.source_status("Odd") == "partial"
    assert result.summary["errors"] == 1
    for slug in ("one", "two", "three"):
        assert result.article(server.url(f"/story/surrogate-{slug}.html")) is not None


def test_a_sitemap_error_that_recover_mode_skips_is_recorded(tmp_path, server):
    url = server.url("/content/broken-sitemap")
    result = crawl(tmp_path, server, {"Map": url}, source_keys={"Map": 'kind = "sitemap"'})
    assert_rest_completed(result, server.base_url)
    error = result.error_for(url)
    assert error["stage"] == "sitemap"
    assert error["message"].startswith("malformed sitemap, 2 entries used: XML error at line 5")
    assert result.source_status("Map") == "partial"
    assert result.article(server.url("/story/sitemap-2.html")) is not None


# -- 4. queries and configs that would exhaust the stack ---------------------------------------

DEEP = "(" * 200 + "harbour" + ")" * 200
NOTS = "NOT " * 5000 + "harbour"
TOO_DEEP = "query nested too deeply (more than 50 levels of parentheses, NOT and title:)"


@pytest.mark.parametrize(("query", "position"), [(DEEP, 50), (NOTS, 200)])
def test_a_query_nested_too_deeply_is_a_usage_error(tmp_path, query, position):
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndb = "{tmp_path / "test.db"}"\n', encoding="utf-8")
    checked = run_cli("topics", "check", query, "--config", str(config))
    assert checked.code == 2, checked.stderr
    assert f"bad query: {TOO_DEEP} at position {position}" in checked.stderr
    assert "Traceback" not in checked.stderr
    assert max(len(line) for line in checked.stderr.splitlines()) < 200


@pytest.mark.parametrize("query", [DEEP, NOTS])
def test_a_config_with_a_query_nested_too_deeply_names_the_topic(tmp_path, query):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\ndb = "{tmp_path / "test.db"}"\n[[sources]]\nname = "A"\n'
        f'url = "http://news.example/feed"\n[[topics]]\nname = "Deep"\n'
        f"query = '{query}'\n",
        encoding="utf-8",
    )
    result = run_cli("run", "--config", str(config))
    assert result.code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"presswatch: error: {config}: topics: topic 'Deep': query '")
    # Short, the file's path aside (its length depends on the test's temporary folder).
    assert TOO_DEEP in line and len(line.replace(str(config), "config.toml")) < 240


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = " + "[" * 3000 + "]" * 3000, "values nested too deeply"),
        (
            '[[sources]]\nname = "A"\nurl = "http://news.example/feed"\ninterval = "'
            + "9" * 400
            + 'd"',
            "a duration must be under 100 years",
        ),
    ],
)
def test_a_config_that_would_overflow_is_a_usage_error(tmp_path, text, message):
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    result = run_cli("run", "--config", str(config))
    assert result.code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_page_with_json_ld_nested_thousands_deep_is_still_an_article(tmp_path, server):
    url = server.url("/content/deep-json-ld-page")
    result = crawl(tmp_path, server, {"Deep": server.feed_url("/content/deep-json-ld-page")})
    assert_rest_completed(result, server.base_url)
    assert result.errors == []
    assert result.article(url) is not None


# -- 7. a canonical link to another port -------------------------------------------------------


def test_a_canonical_link_to_another_port_is_not_adopted(tmp_path, server):
    other, same = "/content/canonical-other-port", "/content/canonical-same-port"
    result = crawl(tmp_path, server, {"Pages": server.feed_url(other, same)})
    assert_rest_completed(result, server.base_url)
    assert result.article(server.url(other)) is not None  # kept where it was found
    assert not result.rows("SELECT url FROM articles WHERE url LIKE '%:6379/%'")
    assert result.article(server.url("/story/same-port-canonical.html")) is not None
    assert result.article(server.url(same)) is None  # adopted: now an alias


@pytest.mark.parametrize(
    ("canonical", "reached", "adopted"),
    [
        ("https://news.example/a", "http://news.example/a?x", True),
        ("http://www.harbour-gazette.co.uk/a", "http://harbour-gazette.co.uk/b", True),
        ("http://news.example:6379/a", "http://news.example/a", False),
        ("http://news.example:8080/a", "http://news.example:8080/b", True),
        ("http://news.example/a", "http://news.example:8080/b", False),
        ("http://news.example:99999/a", "http://news.example/b", False),
        ("ftp://news.example/a", "http://news.example/b", False),
        ("http://other.example/a", "http://news.example/b", False),
    ],
)
def test_canonical_links_are_adopted_on_the_same_site_and_port(canonical, reached, adopted):
    assert canonical_adoptable(canonical, reached) is adopted


# -- 5. text that misleads a reader ------------------------------------------------------------


def test_invisible_characters_are_never_shown_but_kept_in_the_database(tmp_path, server):
    path = "/content/invisible-page"
    result = crawl(tmp_path, server, {"Odd": server.feed_url(path)})
    assert_rest_completed(result, server.base_url)
    stored = result.article(server.url(path))
    assert stored["title"] == INVISIBLE  # the original is kept
    config = str(tmp_path / "config.toml")
    shown = {
        fmt: invoke("digest", "--config", config, "--format", fmt)
        for fmt in ("markdown", "html", "text", "json", "atom")
    }
    shown["status"] = invoke("status", "--config", config)
    shown["check"] = invoke("topics", "check", "harbour", "--config", config)
    for name, output in shown.items():
        assert output.code == 0, (name, output.stderr)
        assert not set(INVISIBLE_CHARS) & set(output.stdout), name
    for fmt in ("markdown", "text", "check"):
        assert INVISIBLE_SHOWN in shown[fmt].stdout, fmt
    assert INVISIBLE_SHOWN in json.loads(shown["json"].stdout)["topics"][0]["mentions"][0]["title"]


def test_invisible_characters_in_snippets_and_diffs_are_never_shown(tmp_path):
    desk = Desk.open(tmp_path / "desk.db")
    desk.source("Harbour Gazette")
    desk.topic("harbour")
    story = desk.article("Harbour Gazette", INVISIBLE, "2026-11-24T09:00:00Z")
    desk.mention(
        "harbour", story, "2026-11-24T09:00:00Z", snippet=f"… the **harbour** {INVISIBLE} …"
    )
    desk.change(story, "2026-11-24T10:00:00Z", diff=f"The [-{INVISIBLE}-]{{+cranes+}}.")
    digest = collect(desk.store, Period("2026-11-24T07:00:00Z", "2026-11-25T07:00:00Z"))
    for fmt in ("markdown", "html", "text", "json", "atom"):
        rendered = render(digest, fmt)
        assert not set(INVISIBLE_CHARS) & set(rendered), fmt
        assert "gnp.exe" in rendered
    assert desk.store.db["mentions"].get(1)["snippet"].count("\u202e") == 1


def test_the_visible_text_keeps_what_scripts_need():
    assert visible("می\u200cخواهم") == "می\u200cخواهم"  # Persian's zero-width non-joiner
    assert visible("tab\there\nline") == "tab\there\nline"
    assert visible("a\x1b[31mred\x7f") == "a[31mred"
    assert visible(INVISIBLE) == INVISIBLE_SHOWN


def test_the_mail_subject_shows_no_invisible_characters():
    period = Period("2026-11-24T07:00:00Z", "2026-11-25T07:00:00Z")
    digest = Digest(period=period)
    assert subject("News \u202e{date}\u202c\u200b", digest) == "News 2026-11-25"


# -- 6. cluster messages that would stop the ingester ------------------------------------------


def test_bad_cluster_messages_are_set_aside_with_their_reason_and_the_rest_stored(
    tmp_path, redis_url, server
):
    pytest.importorskip("redis")
    from redis import Redis

    from crawler.cluster.ingest import Ingester, IngestOptions
    from crawler.cluster.keys import Keys
    from crawler.cluster.messages import event_message, item_message
    from crawler.items import Article, ArticleItem

    db = tmp_path / "test.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\ndb = "{db}"\n[cluster]\nredis = "{redis_url}"\n'
        f'[[sources]]\nname = "News"\nurl = "{server.feed_url(GOOD_PATH)}"\n',
        encoding="utf-8",
    )
    published = run_cli("enqueue", "--config", str(config), "--no-sources", "--json")
    assert published.code == 0, published.stderr
    generation = published.json()["generation"]
    source_id = rows(db, "SELECT id FROM sources")[0]["id"]
    at = "2026-11-25T08:00:00Z"

    def error(**fields: object) -> str:
        values = {
            "stage": "fetch",
            "message": "HTTP 500",
            "url": "http://news.example/a",
            "source_id": source_id,
            **fields,
        }
        return event_message("error", values, at=at, generation=generation)

    bad_time = event_message(
        "skipped",
        {"source_id": source_id, "url": "u", "reason": "r"},
        at="yesterday",
        generation=generation,
    )
    private = item_message(
        ArticleItem(
            url="http://127.0.0.1:6379/x", source_id=source_id, article=Article("Title", "Text")
        ),
        at=at,
        generation=generation,
    )
    hostile = [bad_time, error(message=42), error(stage=None), "[" * 100_000, private]
    redis, keys = Redis.from_url(redis_url), Keys()
    for message in [*hostile, error(message="the good one")]:
        redis.xadd(keys.items, {"m": message})

    Ingester(IngestOptions(db, keys.prefix, idle_exit=0.5), redis).serve()

    assert rows(db, "SELECT message FROM errors") == [{"message": "the good one"}]
    assert not rows(db, "SELECT url FROM articles")
    aside = [
        {key.decode(): value.decode() for key, value in fields.items()}
        for _, fields in redis.xrange(keys.dead_letters)
    ]
    assert [entry["reason"] for entry in aside] == [
        "malformed 'skipped' message: at: not an ISO 8601 time: 'yesterday'",
        "malformed 'error' message: fields.message: expected text, got an integer 42",
        "malformed 'error' message: fields.stage: expected text, got null null",
        "not a presswatch message: maximum recursion depth exceeded while decoding a JSON "
        "array from a unicode string",
        "item names a private address (127.0.0.1): http://127.0.0.1:6379/x",
    ]
    assert [entry["message"] for entry in aside][:3] == hostile[:3]
    assert redis.xlen(keys.items) == 0

    status = run_cli("status", "--config", str(config))
    assert status.code == 0, status.stderr
    assert (
        f"cluster messages set aside: 5 (in Redis, {keys.dead_letters}); the newest"
        in status.stdout
    )
    assert "item names a private address (127.0.0.1)" in status.stdout

"""The fault suite: real passes against the faults that tests/faults/server.py serves.

Every test asserts what a user would see: the one ``errors`` row of its case (stage and
a readable message) and that the rest of the pass completed, i.e. the good feed's
article is stored. Faults whose timing is asserted get a pass of their own; the others
share a pass (one for bad content, one for broken article fetches), which also shows
that many faults at once do not stop a pass. docs/reliability.md describes each case.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
import sqlite_utils
from bodies import ACCENTED_TITLE, CYRILLIC_PARAGRAPHS, CYRILLIC_TITLE, story_title
from conftest import child_env, run_cli
from server import HUGE_SIZE, FaultServer

REPO = Path(__file__).resolve().parents[2]
GOOD = "/story/good.html"
PUBLIC = "http://news.example"  # a public-looking origin, reached through the proxy
LIMIT = "larger than the size limit ([crawl] max_page_size_mb)"
REFUSED = "(set [crawl] allow_private_addresses = true to allow it)"
# news.example does not resolve here: the tests that reach it through the proxy say the
# proxy may resolve names.
PROXY_RESOLVES = "proxy_resolves_names = true"


@dataclass
class Pass:
    """One finished ``presswatch run --json`` and its database."""

    code: int
    summary: dict
    stderr: str
    db: Path

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        db = sqlite_utils.Database(self.db)
        try:
            return list(db.query(sql, params))
        finally:
            db.conn.close()

    @property
    def errors(self) -> list[dict]:
        return self.rows("SELECT stage, url, message FROM errors ORDER BY id")

    def error_for(self, url: str) -> dict:
        """The one error row recorded for ``url``."""
        found = [error for error in self.errors if error["url"] == url]
        assert len(found) == 1, self.errors
        return {"stage": found[0]["stage"], "message": found[0]["message"]}

    def article(self, url: str) -> dict | None:
        found = self.rows(
            "SELECT a.*, v.text FROM articles a JOIN versions v "
            "ON v.id = a.current_version_id WHERE a.url = ?",
            (url,),
        )
        return found[0] if found else None

    def source_status(self, name: str) -> str:
        found = self.rows("SELECT last_status FROM sources WHERE name = ?", (name,))
        return found[0]["last_status"]


def crawl(
    tmp_path: Path,
    server: FaultServer,
    sources: dict[str, str],
    *,
    good_base: str | None = None,
    timeout: float = 2,
    allow_private: bool = True,
    env: dict[str, str] | None = None,
    extra: str = "",
    source_keys: dict[str, str] | None = None,
) -> Pass:
    """One pass over ``sources`` plus the good feed (on ``good_base``, default the server);
    ``extra`` adds lines to ``[crawl]``, ``source_keys`` lines to the named sources."""
    good = (good_base or server.base_url) + f"/feed.xml?link={GOOD}"
    lines = [
        "[storage]",
        f'db = "{tmp_path / "test.db"}"',
        "",
        "[crawl]",
        f"allow_private_addresses = {str(allow_private).lower()}",
        f"timeout = {timeout}",
        "extract_workers = 0",
        extra,
        "",
    ]
    for name, url in {"Good": good, **sources}.items():
        lines += [
            "[[sources]]",
            f'name = "{name}"',
            f"url = '{url}'",
            (source_keys or {}).get(name, ""),
            "",
        ]
    lines += ["[[topics]]", 'name = "Harbour"', "query = 'harbour'"]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    done = run_cli(
        "run", "--config", str(config), "--json", env=child_env(**(env or {})), timeout=120
    )
    summary = json.loads(done.stdout) if done.stdout.strip() else {}
    return Pass(done.code, summary, done.stderr, tmp_path / "test.db")


def assert_rest_completed(result: Pass, base: str) -> None:
    """The pass finished, and the good feed's article was stored."""
    assert result.code == 0, result.stderr
    good = result.article(base + GOOD)
    assert good is not None, result.errors
    assert good["title"] == story_title("good")
    assert "container cranes" in good["text"]


def gaps(server: FaultServer, path: str) -> list[float]:
    times = [hit.at for hit in server.hits_on(path)]
    return [later - earlier for earlier, later in pairwise(times)]


def proxy(server: FaultServer) -> dict[str, str]:
    """Environment that sends every request except those to localhost through the server."""
    return {
        "http_proxy": server.base_url,
        "HTTP_PROXY": server.base_url,
        "no_proxy": "localhost",
        "NO_PROXY": "localhost",
    }


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as faults:
        yield faults


# -- faults with a pass of their own ------------------------------------------------------


def test_a_server_error_is_retried_with_backoff_then_recorded(tmp_path, server):
    result = crawl(tmp_path, server, {"Down": server.url("/status/500")})
    assert_rest_completed(result, server.base_url)
    assert result.errors == [
        {
            "stage": "fetch",
            "url": server.url("/status/500"),
            "message": "HTTP 500 Internal Server Error",
        }
    ]
    assert result.source_status("Down") == "failed"
    assert len(server.hits_on("/status/500")) == 3  # the request and two retries
    first, second = gaps(server, "/status/500")
    assert first >= 0.35 and second >= 0.7  # backing off: ~0.5 s, then ~1 s


def test_429_waits_as_long_as_retry_after_asks(tmp_path, server):
    path = "/throttle/2/feed.xml?link=/story/throttled.html"
    result = crawl(tmp_path, server, {"Busy": server.url(path)})
    assert_rest_completed(result, server.base_url)
    assert result.errors == []
    assert result.article(server.url("/story/throttled.html")) is not None
    [gap] = gaps(server, path)
    assert 1.95 <= gap < 3.5


def test_503_with_retry_after_is_retried_then_recorded(tmp_path, server):
    path = "/status/503?retry_after=1"
    result = crawl(tmp_path, server, {"Feed": server.feed_url(path)})
    assert_rest_completed(result, server.base_url)
    assert result.errors == [
        {"stage": "fetch", "url": server.url(path), "message": "HTTP 503 Service Unavailable"}
    ]
    assert len(server.hits_on(path)) == 3
    assert all(gap >= 0.95 for gap in gaps(server, path))


def test_a_server_that_never_answers_times_out(tmp_path, server):
    result = crawl(tmp_path, server, {"Silent": server.url("/hang")}, timeout=1)
    assert_rest_completed(result, server.base_url)
    assert result.errors == [
        {
            "stage": "fetch",
            "url": server.url("/hang"),
            "message": "timed out: no complete answer within 1 s ([crawl] timeout)",
        }
    ]
    assert result.source_status("Silent") == "failed"
    assert result.summary["seconds"] < 20


def test_a_public_feed_redirecting_to_a_private_address_is_refused(tmp_path, server):
    private = server.url("/story/private.html")
    feed = f"{PUBLIC}/feed.xml?link=/redirect?to={private}"
    result = crawl(
        tmp_path,
        server,
        {"Feed": feed},
        good_base=PUBLIC,
        allow_private=False,
        env=proxy(server),
        extra=PROXY_RESOLVES,
    )
    assert_rest_completed(result, PUBLIC)
    assert result.errors == [
        {
            "stage": "fetch",
            "url": private,
            "message": f"refused: 127.0.0.1 is a private address {REFUSED}",
        }
    ]
    assert not server.hits_on("/story/private.html")


def test_a_name_resolving_to_a_private_address_is_refused_after_dns(tmp_path, server):
    # localhost passes the URL check (it is a name) and is refused once resolved.
    port = server.base_url.rsplit(":", 1)[1]
    local = f"http://localhost:{port}/feed.xml?link=/story/local.html"
    result = crawl(
        tmp_path,
        server,
        {"Local": local},
        good_base=PUBLIC,
        allow_private=False,
        env=proxy(server),
        extra=PROXY_RESOLVES,
    )
    assert_rest_completed(result, PUBLIC)
    assert result.errors == [
        {
            "stage": "fetch",
            "url": local,
            "message": f"refused: localhost resolves to a private address 127.0.0.1 {REFUSED}",
        }
    ]
    assert result.source_status("Local") == "failed"
    assert not [hit for hit in server.hits if "local.html" in hit.path]


def test_requests_carry_the_user_agent_and_respect_the_per_domain_limit(tmp_path, server):
    slugs = [f"/slow/story-{n}.html" for n in range(12)]
    result = crawl(
        tmp_path,
        server,
        {"Busy": server.feed_url(*slugs)},
        extra='user_agent = "presswatch-test/1.0 (+mailto:desk@example.org)"',
    )
    assert_rest_completed(result, server.base_url)
    assert result.summary["articles_new"] == 13
    assert {hit.user_agent for hit in server.hits} == {
        "presswatch-test/1.0 (+mailto:desk@example.org)"
    }
    assert 1 < server.most_in_flight <= 4


# -- broken article fetches, in one pass ----------------------------------------------------

BROKEN = [
    "/status/404",
    "/status/410",
    "/reset",
    "/short",
    "/drip",
    "/loop/a",
    "/chain/1",
    "/redirect?to=file:///etc/passwd",
    "/huge?length=declared",
    "/huge?length=unknown",
    "/bomb",
]
NOWHERE = "http://nowhere.invalid/feed.xml"  # .invalid never resolves (RFC 2606)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pass, FaultServer]]:
    with FaultServer() as faults:
        tmp_path = tmp_path_factory.mktemp("broken")
        sources = {
            "Articles": faults.feed_url(*BROKEN),
            "Closed": closed_port_url(),
            "Nowhere": NOWHERE,
        }
        yield crawl(tmp_path, faults, sources, timeout=1), faults


def closed_port_url() -> str:
    """A URL on a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"


@pytest.mark.parametrize(
    ("status", "message"), [(404, "HTTP 404 Not Found"), (410, "HTTP 410 Gone")]
)
def test_a_missing_article_is_recorded_once_without_retries(broken, status, message):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    path = f"/status/{status}"
    assert result.error_for(server.url(path)) == {"stage": "fetch", "message": message}
    assert len(server.hits_on(path)) == 1


def test_a_reset_connection_is_recorded(broken):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    assert result.error_for(server.url("/reset")) == {
        "stage": "fetch",
        "message": "connection lost: the server closed or reset the connection before answering",
    }
    assert len(server.hits_on("/reset")) == 3


def test_a_body_shorter_than_its_content_length_is_recorded(broken):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    assert result.error_for(server.url("/short")) == {
        "stage": "fetch",
        "message": "incomplete answer: the connection closed before the whole body arrived",
    }
    assert len(server.hits_on("/short")) == 3


def test_a_refused_connection_and_an_unknown_host_are_recorded(broken):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    closed = [
        e
        for e in result.errors
        if e["url"].startswith("http://127.0.0.1") and e["url"].endswith("/feed.xml")
    ]
    assert [(e["stage"], e["message"]) for e in closed] == [("fetch", "connection refused")]
    nowhere = result.error_for(NOWHERE)
    assert nowhere["stage"] == "fetch" and nowhere["message"].startswith("DNS lookup failed")
    assert result.source_status("Closed") == result.source_status("Nowhere") == "failed"


def test_a_body_that_trickles_slower_than_the_timeout_is_cut_off(broken):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    assert result.error_for(server.url("/drip")) == {
        "stage": "fetch",
        "message": "timed out: no complete answer within 1 s ([crawl] timeout)",
    }
    assert server.sent["/drip"] < 20


def test_a_redirect_loop_is_recorded(broken):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    a, b = server.url("/loop/a"), server.url("/loop/b")
    assert result.error_for(b) == {"stage": "fetch", "message": f"redirect loop: {a} -> {b} -> {a}"}


def test_too_many_redirects_are_recorded(broken):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    assert result.error_for(server.url("/chain/6")) == {
        "stage": "fetch",
        "message": "too many redirects",
    }
    assert not server.hits_on("/chain/7")


def test_a_redirect_out_of_http_is_refused(broken):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    assert result.error_for(server.url("/redirect?to=file:///etc/passwd")) == {
        "stage": "fetch",
        "message": "refused: redirect to a non-HTTP address file:///etc/passwd",
    }


@pytest.mark.parametrize(
    ("length", "message"),
    [
        ("declared", f"{LIMIT}: {HUGE_SIZE} bytes declared, the limit is 10485760"),
        ("unknown", f"{LIMIT}: cut off while downloading"),
    ],
)
def test_a_50_mb_body_is_cut_off_at_the_limit(broken, length, message):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    path = f"/huge?length={length}"
    assert result.error_for(server.url(path)) == {"stage": "fetch", "message": message}
    assert server.sent[path] < HUGE_SIZE / 2


def test_a_gzip_bomb_is_cut_off_after_decompression(broken):
    result, server = broken
    assert_rest_completed(result, server.base_url)
    error = result.error_for(server.url("/bomb"))
    assert error["stage"] == "fetch"
    assert error["message"].startswith(f"{LIMIT} once decompressed: ")
    assert error["message"].endswith("compressed bytes inflate past the limit of 10485760 bytes")


def test_the_broken_fetches_are_all_the_errors(broken):
    result, server = broken
    last_urls = {"/loop/a": "/loop/b", "/chain/1": "/chain/6"}
    urls = {server.url(last_urls.get(path, path)) for path in BROKEN}
    article_errors = [e for e in result.errors if e["url"].startswith(server.base_url)]
    assert {error["url"] for error in article_errors} == urls
    assert len(article_errors) == len(urls)
    assert len(result.errors) == len(urls) + 2  # and the two unreachable sources
    assert result.source_status("Articles") == "ok"


# -- bad content, in one pass -------------------------------------------------------------

NOT_FEEDS = {
    "HTML": "/content/html-as-feed",
    "Empty": "/content/empty-feed",
    "Binary": "/content/binary?as=feed",
    "Invalid": "/content/invalid-xml-feed",
}
PAGES = [
    "/content/binary",
    "/content/pdf",
    "/content/empty-page",
    "/content/image-only-page",
    "/content/gallery-page",
    "/content/cp1251-page",
    "/content/cp1251-meta-page",
    "/content/cp1251-undeclared-page",
    "/content/lying-meta-page",
    "/content/lying-header-page",
    "/private/secret.html",
]


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pass, FaultServer]]:
    with FaultServer() as faults:
        sources = {
            **{name: faults.url(path) for name, path in NOT_FEEDS.items()},
            "Pages": faults.feed_url(*PAGES),
            "Truncated": faults.url("/content/truncated-feed"),
            "Mislabelled": faults.url("/content/feed-as-text-html"),
            "Latin": faults.url("/content/latin1-feed"),
        }
        yield crawl(tmp_path_factory.mktemp("content"), faults, sources), faults


@pytest.mark.parametrize(
    ("name", "stage", "message"),
    [
        ("HTML", "feed", "unreadable feed: an HTML page, not an RSS or Atom feed"),
        ("Empty", "fetch", "empty response (HTTP 200 with no body)"),
        ("Binary", "feed", "unreadable feed: not an RSS or Atom feed: binary content (image/png)"),
        (
            "Invalid",
            "feed",
            "unreadable feed: XML error at line 2, column 20: not well-formed (invalid token)",
        ),
    ],
)
def test_a_source_that_is_not_a_feed_is_recorded(content, name, stage, message):
    result, server = content
    assert_rest_completed(result, server.base_url)
    url = server.url(NOT_FEEDS[name])
    assert result.error_for(url) == {"stage": stage, "message": message}
    assert result.source_status(name) == "failed"


def test_a_truncated_feed_keeps_the_entries_before_the_cut(content):
    result, server = content
    assert_rest_completed(result, server.base_url)
    error = result.error_for(server.url("/content/truncated-feed"))
    assert error["stage"] == "feed"
    assert error["message"].startswith("malformed feed, 2 entries used: XML error at line 5")
    assert error["message"].endswith("no element found")
    assert result.source_status("Truncated") == "partial"
    for slug in ("truncated-one", "truncated-two"):
        assert result.article(server.url(f"/story/{slug}.html")) is not None


@pytest.mark.parametrize(
    ("path", "stage", "message"),
    [
        ("/content/binary", "fetch", "not an HTML page (Content-Type: image/png)"),
        ("/content/pdf", "fetch", "not an HTML page (Content-Type: application/pdf)"),
        ("/content/empty-page", "fetch", "empty response (HTTP 200 with no body)"),
        ("/content/image-only-page", "extract", "no article text found on the page"),
    ],
)
def test_an_article_that_is_not_a_readable_page_is_recorded(content, path, stage, message):
    result, server = content
    assert_rest_completed(result, server.base_url)
    assert result.error_for(server.url(path)) == {"stage": stage, "message": message}
    assert result.article(server.url(path)) is None


def test_a_page_with_only_a_menu_and_pictures_has_no_article_text(content):
    result, server = content
    url = server.url("/content/gallery-page")
    assert result.error_for(url) == {
        "stage": "extract",
        "message": "no article text found on the page",
    }


def test_robots_txt_is_obeyed(content):
    result, server = content
    assert_rest_completed(result, server.base_url)
    assert result.error_for(server.url("/private/secret.html")) == {
        "stage": "fetch",
        "message": "refused by the site's robots.txt",
    }
    assert not server.hits_on("/private/secret.html")
    assert len(server.hits_on("/robots.txt")) == 1


def test_wrong_content_types_are_read_by_content(content):
    # A good feed served as text/html, listing a good page served as a download.
    result, server = content
    assert_rest_completed(result, server.base_url)
    assert not [e for e in result.errors if e["url"] == server.url("/content/feed-as-text-html")]
    assert result.source_status("Mislabelled") == "ok"
    page = result.article(server.url("/content/page-as-octet-stream"))
    assert page is not None and page["title"] == story_title("octet-stream")


@pytest.mark.parametrize(
    "path",
    [
        "/content/cp1251-page",  # declared in the Content-Type header
        "/content/cp1251-meta-page",  # declared in a meta tag
        "/content/cp1251-undeclared-page",  # declared nowhere
        "/content/lying-meta-page",  # the meta tag claims UTF-8
    ],
)
def test_a_windows_1251_page_is_stored_in_cyrillic(content, path):
    result, server = content
    assert_rest_completed(result, server.base_url)
    page = result.article(server.url(path))
    assert page is not None, result.errors
    assert page["title"] == CYRILLIC_TITLE
    assert CYRILLIC_PARAGRAPHS[0][:60] in page["text"]
    assert "\ufffd" not in page["text"]


def test_utf8_under_a_latin1_header_is_stored_as_utf8(content):
    result, server = content
    assert_rest_completed(result, server.base_url)
    page = result.article(server.url("/content/lying-header-page"))
    assert page is not None, result.errors
    assert page["title"] == ACCENTED_TITLE
    assert "autorité portuaire a confirmé" in page["text"]


def test_an_iso_8859_1_feed_and_page_keep_their_accents(content):
    result, server = content
    assert_rest_completed(result, server.base_url)
    assert not [e for e in result.errors if e["url"] == server.url("/content/latin1-feed")]
    page = result.article(server.url("/content/latin1-page"))
    assert page is not None, result.errors
    assert page["summary"] == "Brégançon: les grues réparées reprennent"
    assert page["title"] == ACCENTED_TITLE
    assert "endommagées par la tempête" in page["text"]


def test_the_bad_content_errors_are_one_row_each(content):
    result, server = content
    expected = {server.url(path) for path in NOT_FEEDS.values()} | {
        server.url(path)
        for path in (
            "/content/binary",
            "/content/pdf",
            "/content/empty-page",
            "/content/image-only-page",
            "/private/secret.html",
            "/content/truncated-feed",
        )
    }
    urls = [error["url"] for error in result.errors]
    assert set(urls) - {server.url("/content/gallery-page")} == expected
    assert len(urls) == len(set(urls))


# -- feeds as real outlets publish them ---------------------------------------------------

REAL_FEEDS = {
    "Undeclared": "/content/undeclared-cp1252-feed",
    "Mislabelled Cyrillic": "/content/mislabelled-cp1251-feed",
    "UTF-16": "/content/utf16-feed",
}


@pytest.fixture(scope="module")
def real_feeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pass, FaultServer]]:
    with FaultServer() as faults:
        sources = {name: faults.url(path) for name, path in REAL_FEEDS.items()}
        yield crawl(tmp_path_factory.mktemp("feeds"), faults, sources), faults


def test_a_feed_declaring_no_encoding_is_not_said_to_declare_utf8(real_feeds):
    result, server = real_feeds
    assert_rest_completed(result, server.base_url)
    error = result.error_for(server.url(REAL_FEEDS["Undeclared"]))
    assert error == {
        "stage": "feed",
        "message": "malformed feed, 1 entries used: wrong "
        "encoding: no encoding declared and not UTF-8, read as windows-1252",
    }
    assert result.article(server.url("/story/undeclared-feed.html")) is not None


def test_entries_without_a_web_link_are_skipped_with_their_title(real_feeds):
    result, server = real_feeds
    skipped = {row["url"]: row["reason"] for row in result.rows("SELECT * FROM skipped")}
    feed_url = server.url(REAL_FEEDS["Undeclared"])
    assert skipped == {
        f"{feed_url}#Sans%20lien%20%3A%20la%20capitainerie%20r%C3%A9pond": (
            "no link: the entry 'Sans lien : la capitainerie répond' gives no address to fetch"
        ),
        "tag:harbour.example,2026:7": (
            'not a web link: tag address of the entry "Entrée d\'archive"'
        ),
    }


def test_a_feed_in_another_encoding_than_declared_reaches_the_database_readable(real_feeds):
    result, server = real_feeds
    assert_rest_completed(result, server.base_url)
    error = result.error_for(server.url(REAL_FEEDS["Mislabelled Cyrillic"]))
    assert error["message"].startswith(
        "malformed feed, 1 entries used: wrong encoding: document declared as utf-8, but read as "
    )
    article = result.article(server.url("/story/cyrillic-feed.html"))
    assert article is not None
    assert article["summary"] == CYRILLIC_PARAGRAPHS[0]  # no mojibake


def test_a_utf16_feed_with_a_byte_order_mark_is_read(real_feeds):
    result, server = real_feeds
    assert result.source_status("UTF-16") == "ok"
    assert not [e for e in result.errors if e["url"] == server.url(REAL_FEEDS["UTF-16"])]
    assert result.article(server.url("/story/utf16-feed.html")) is not None

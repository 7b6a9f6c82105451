"""The pure parts of fault handling, without a crawl: messages, waits, encodings, policy."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from bodies import CONTENT, CYRILLIC_TITLE, feed
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionLost, DNSLookupError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed

from crawler.fetching.failures import describe_failure
from crawler.fetching.middlewares import (
    EmptyResponseMiddleware,
    PoliteRetryMiddleware,
    PrivateAddressMiddleware,
    RedirectGuardMiddleware,
    corrected_encoding,
    retry_after,
)
from crawler.fetching.resolver import PublicAddressResolver
from crawler.sources.feeds import parse_feed

URL = "http://news.example/story.html"


# -- Retry-After and backoff -------------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 25, 8, 0, 0, tzinfo=UTC)
    assert retry_after(b"120") == 120.0
    assert retry_after("Wed, 25 Nov 2026 08:00:30 GMT", now) == 30.0
    assert retry_after("Wed, 25 Nov 2026 07:00:00 GMT", now) == 0.0
    assert retry_after(b"soon") is None
    assert retry_after(None) is None


def test_waits_are_capped_and_back_off():
    settings = Settings({"PRESSWATCH_RETRY_AFTER_MAX": 120, "PRESSWATCH_RETRY_BACKOFF": 0.5})
    middleware = PoliteRetryMiddleware(settings)
    first, second = (Request(URL, meta={"retry_times": n}) for n in (1, 2))
    assert middleware._wait(first, 3600.0) == 120.0
    assert middleware._wait(first, 7.0) == 7.0
    assert 0.4 <= middleware._wait(first, None) <= 0.6
    assert 0.8 <= middleware._wait(second, None) <= 1.2


# -- what may be fetched -----------------------------------------------------------------


def check(middleware: PrivateAddressMiddleware, url: str) -> None:
    """Run the middleware's check on a literal URL (no lookup, so no reactor needed)."""
    asyncio.run(middleware.process_request(Request(url)))


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/a",
        "http://[::1]/a",
        "http://169.254.1.1/a",
        "http://[::ffff:127.0.0.1]/a",
        "http://0.0.0.0/a",
    ],
)
def test_private_ip_literals_are_refused_unless_allowed(url):
    with pytest.raises(IgnoreRequest, match="is a private address"):
        check(PrivateAddressMiddleware(allow=False), url)
    assert check(PrivateAddressMiddleware(allow=True), url) is None


def test_public_literals_pass_and_only_http_passes():
    middleware = PrivateAddressMiddleware(allow=False)
    assert check(middleware, "https://93.184.215.14/a") is None
    assert check(middleware, "http://[2606:4700::1111]/a") is None
    with pytest.raises(IgnoreRequest, match="ftp: is not http or https"):
        check(middleware, "ftp://news.example/a")


def test_the_resolver_refuses_private_results_with_the_reason():
    resolver = PublicAddressResolver(reactor=None, cache_size=0, timeout=1)
    assert resolver._check("93.184.215.14", "news.example") == "93.184.215.14"
    refused = "refused: intranet.example resolves to a private address 10.0.0.1"
    with pytest.raises(DNSLookupError, match=re.escape(refused)):
        resolver._check("10.0.0.1", "intranet.example")
    assert resolver.refused == {"intranet.example": "10.0.0.1"}


def redirect(request: Request, location: str, status: int = 302) -> Response:
    return Response(request.url, status=status, headers={"Location": location}, request=request)


def test_redirect_loops_and_non_http_redirects_are_refused():
    guard = RedirectGuardMiddleware()
    second = Request("http://news.example/b", meta={"redirect_urls": ["http://news.example/a"]})
    loop = "redirect loop: http://news.example/a -> http://news.example/b -> http://news.example/a"
    with pytest.raises(IgnoreRequest, match=re.escape(loop)):
        guard.process_response(second, redirect(second, "/a"))
    first = Request("http://news.example/a")
    with pytest.raises(IgnoreRequest, match="non-HTTP address file:///etc/passwd"):
        guard.process_response(first, redirect(first, "file:///etc/passwd"))
    response = redirect(first, "/c", 301)
    assert guard.process_response(first, response) is response
    handled = Request("http://news.example/a", meta={"handle_httpstatus_list": [302]})
    assert guard.process_response(handled, redirect(handled, "/a")) is not None


def test_an_empty_answer_fails_but_robots_txt_may_be_empty():
    middleware = EmptyResponseMiddleware()
    request = Request(URL)
    with pytest.raises(IgnoreRequest, match=r"empty response \(HTTP 200 with no body\)"):
        middleware.process_response(request, Response(URL, status=200, request=request))
    robots = Request("http://news.example/robots.txt", meta={"dont_obey_robotstxt": True})
    empty = Response(robots.url, status=200, request=robots)
    assert middleware.process_response(robots, empty) is empty
    not_modified = Response(URL, status=304, request=request)
    assert middleware.process_response(request, not_modified) is not_modified


# -- encodings ---------------------------------------------------------------------------


def test_encodings_are_corrected_only_when_the_declaration_is_wrong():
    utf8 = "Brégançon".encode()
    cyrillic = CONTENT["lying-meta-page"]("http://x")[1]
    assert corrected_encoding(b"plain ascii", "cp1252") is None
    assert corrected_encoding(utf8, "utf-8") is None
    assert corrected_encoding(utf8, "iso-8859-1") == "utf-8"  # a lying legacy header
    assert corrected_encoding(cyrillic, "utf-8") == "cp1251"  # a lying UTF-8 meta tag
    assert corrected_encoding("Brégançon".encode("latin-1"), "iso-8859-1") is None


def test_a_page_decodes_as_scrapy_reads_it_after_correction():
    content_type, body = CONTENT["lying-meta-page"]("http://x")
    response = HtmlResponse(URL, body=body, headers={"Content-Type": content_type})
    fixed = response.replace(encoding=corrected_encoding(response.body, response.encoding))
    assert CYRILLIC_TITLE in fixed.text


# -- feeds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("html-as-feed", "an HTML page, not an RSS or Atom feed"),
        ("empty-feed", "empty response"),
        ("binary", "not an RSS or Atom feed: binary content (image/png)"),
        ("invalid-xml-feed", "XML error at line 2, column 20: not well-formed (invalid token)"),
    ],
)
def test_unreadable_feeds_say_why(name, problem):
    content_type, body = CONTENT[name]("http://x")
    parsed = parse_feed(body, "http://x/feed", content_type)
    assert parsed.unreadable and parsed.problem == problem


@pytest.mark.parametrize(
    "content_type", ["text/xml", "text/html", "text/plain", None, "application/rss+xml"]
)
def test_a_good_feed_is_read_whatever_its_content_type(content_type):
    body = feed("http://x", ["/a.html"], title="Brégançon")
    parsed = parse_feed(body, "http://x/feed", content_type)
    assert parsed.problem is None
    assert [link.url for link in parsed.links] == ["http://x/a.html"]
    assert parsed.links[0].entry.title == "Brégançon 1"


def test_a_wrong_charset_is_reported_and_the_entries_kept():
    body = feed("http://x", ["/a.html"], encoding="iso-8859-1", summary="réparées")
    parsed = parse_feed(body, "http://x/feed", "application/rss+xml; charset=utf-8")
    assert parsed.problem == "wrong encoding: document declared as utf-8, but read as iso-8859-1"
    assert parsed.links[0].entry.summary == "réparées"


# -- messages ----------------------------------------------------------------------------


def message(error: Exception) -> str:
    return describe_failure(Failure(error))


def test_download_failures_read_as_one_line():
    response = Response(URL, status=503, request=Request(URL))
    assert message(HttpError(response, "ignored")) == "HTTP 503 Service Unavailable"
    assert message(DownloadTimeoutError(f"Getting {URL} took longer than 30.0 seconds.")) == (
        "timed out: no complete answer within 30 s ([crawl] timeout)"
    )
    assert (
        message(CannotResolveHostError("no results for hostname lookup: nowhere.example"))
        == "DNS lookup failed: no address for nowhere.example"
    )
    lost = DownloadFailedError("[...]")
    lost.__cause__ = ResponseFailed([Failure(ConnectionLost())])
    assert message(lost) == (
        "connection lost: the server closed or reset the connection before answering"
    )
    assert message(ResponseDataLossError()) == (
        "incomplete answer: the connection closed before the whole body arrived"
    )
    assert message(IgnoreRequest("Forbidden by robots.txt")) == "refused by the site's robots.txt"
    assert message(IgnoreRequest("max redirections reached")) == "too many redirects"


def test_size_limits_read_as_one_line():
    limit = "larger than the size limit ([crawl] max_page_size_mb)"
    declared = DownloadCancelledError(
        f"Expected to receive 52428800 bytes which is larger than download max size "
        f"(10485760) in request <GET {URL}>."
    )
    assert message(declared) == f"{limit}: 52428800 bytes declared, the limit is 10485760"
    assert message(DownloadCancelledError()) == f"{limit}: cut off while downloading"
    bomb = IgnoreRequest(
        f"Ignored response <200 {URL}> because its body (32636 B compressed, 10551296 B "
        "decompressed so far) exceeded DOWNLOAD_MAXSIZE (10485760 B) during decompression."
    )
    assert message(bomb) == (
        f"{limit} once decompressed: 32636 compressed bytes inflate past "
        "the limit of 10485760 bytes"
    )


def test_a_utf16_feed_without_entries_is_not_binary():
    xml = '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><title>Kai</title>'
    body = (xml + "</channel></rss>").encode("utf-16")
    parsed = parse_feed(body, "http://x/feed", "application/rss+xml")
    assert parsed.problem is None and parsed.links == []

"""Downloader middlewares: what may be fetched, how failures are retried, how pages decode.

Each class has one job; ``crawler/settings.py`` orders them around Scrapy's own.
"""

from __future__ import annotations

import codecs
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import getproxies

from charset_normalizer import from_bytes
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Response, TextResponse, XmlResponse
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError
from twisted.internet.task import deferLater
from w3lib.url import safe_url_string

from crawler.fetching.resolver import HostLookup, refusal
from crawler.fetching.urls import environment_proxy, host_of, is_ip, refused_address

SCHEMES = ("http", "https")
PROXY_HINT = "(set [crawl] proxy_resolves_names = true to let the proxy resolve it)"
REDIRECTS = (301, 302, 303, 307, 308)
THROTTLED = (429, 503)  # the statuses whose Retry-After header is honoured


class PrivateAddressMiddleware:
    """Only http and https URLs are fetched, and nothing on an address that is not
    public (``crawler.fetching.urls.is_public_address``) unless ``[crawl]
    allow_private_addresses = true``, whether the request goes through a proxy or not.

    An IP literal is judged in every spelling (``2130706433``, ``0x7f.1``,
    ``[::ffff:127.0.0.1]``); a host name by every address it resolves to here, before the
    request is made. A name that does not resolve here is refused when the request would
    go through a proxy (which would resolve it unchecked), unless ``[crawl]
    proxy_resolves_names = true``; without a proxy it fails as a DNS error. Redirects
    and robots.txt requests pass through here too."""

    def __init__(
        self,
        allow: bool,
        proxy_resolves_names: bool = False,
        timeout: float = 30.0,
        proxies: dict[str, str] | None = None,
    ) -> None:
        self.allow = allow
        self.proxy_resolves_names = proxy_resolves_names
        self.lookup = HostLookup(timeout)
        self.proxies = getproxies() if proxies is None else proxies

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        proxies = None if settings.getbool("HTTPPROXY_ENABLED", True) else {}
        return cls(
            settings.getbool("PRESSWATCH_ALLOW_PRIVATE_ADDRESSES"),
            settings.getbool("PRESSWATCH_PROXY_RESOLVES_NAMES"),
            settings.getfloat("DNS_TIMEOUT", 30.0),
            proxies,
        )

    async def process_request(self, request: Request) -> None:
        scheme = urlsplit(request.url).scheme
        if scheme not in SCHEMES:
            raise IgnoreRequest(f"refused: {scheme}: is not http or https")
        if self.allow:
            return
        host = host_of(request.url)
        addresses = () if is_ip(host) else await self.lookup.addresses(host)
        refused = refused_address(host, addresses)
        if refused:
            raise IgnoreRequest(refused)
        if is_ip(host):
            return
        if not addresses and self.proxied(request) and not self.proxy_resolves_names:
            raise IgnoreRequest(
                f"refused: {host} does not resolve here, so its address "
                f"cannot be checked before the proxy fetches it {PROXY_HINT}"
            )

    def proxied(self, request: Request) -> bool:
        """Would this request go through a proxy (its own, or the environment's)?"""
        if "proxy" in request.meta:
            return bool(request.meta["proxy"])
        return environment_proxy(request.url, self.proxies)


class RefusedHostMiddleware:
    """A host name that the resolver refused fails at once with the resolver's reason,
    instead of a bare DNS error that would be retried."""

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, CannotResolveHostError | DNSLookupError):
            reason = refusal(host_of(request.url))
            if reason:
                raise IgnoreRequest(reason) from exception


class RedirectGuardMiddleware:
    """Refuse a redirect that leaves http(s) or comes back to a URL already in its chain,
    with a readable reason, before Scrapy's RedirectMiddleware follows it."""

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location")
        if (
            response.status not in REDIRECTS
            or not location
            or _redirects_disabled(request, response.status)
        ):
            return response
        target = urljoin(request.url, safe_url_string(location.decode("latin-1")))
        if urlsplit(target).scheme not in SCHEMES:
            raise IgnoreRequest(f"refused: redirect to a non-HTTP address {target}")
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if urldefrag(target).url in {urldefrag(url).url for url in chain}:
            raise IgnoreRequest("redirect loop: " + " -> ".join([*chain, target]))
        return response


class PoliteRetryMiddleware(RetryMiddleware):
    """Scrapy's bounded retries, spaced out: a 429 or 503 waits as long as its Retry-After
    header asks (at most ``PRESSWATCH_RETRY_AFTER_MAX`` seconds), anything else backs off
    exponentially from ``PRESSWATCH_RETRY_BACKOFF`` seconds. The wait blocks only the
    request being retried."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("PRESSWATCH_RETRY_BACKOFF", 0.5)
        self.max_wait = settings.getfloat("PRESSWATCH_RETRY_AFTER_MAX", 120.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        retry = super().process_response(request, response)
        if isinstance(retry, Request):
            asked = (
                retry_after(response.headers.get("Retry-After"))
                if response.status in THROTTLED
                else None
            )
            await _sleep(self._wait(retry, asked))
        return retry

    async def process_exception(
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        retry = super().process_exception(request, exception)
        if isinstance(retry, Request):
            await _sleep(self._wait(retry, None))
        return retry

    def _wait(self, retry: Request, asked: float | None) -> float:
        if asked is not None:
            return min(asked, self.max_wait)
        attempt = retry.meta.get("retry_times", 1)
        return min(backoff_delay(self.backoff, attempt), self.max_wait)


class EmptyResponseMiddleware:
    """A successful answer with an empty body fails as "empty response" instead of
    reaching a parser that would report something vaguer. robots.txt may be empty."""

    def process_response(self, request: Request, response: Response) -> Response:
        if (
            200 <= response.status < 300
            and not response.body
            and not request.meta.get("dont_obey_robotstxt")
        ):
            raise IgnoreRequest(f"empty response (HTTP {response.status} with no body)")
        return response


class EncodingMiddleware:
    """Correct a page's encoding when its declaration is wrong: UTF-8 bytes declared as a
    legacy charset (a common server default) are read as UTF-8, and bytes that are not
    UTF-8 under a UTF-8 declaration are read in the detected charset."""

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or isinstance(response, XmlResponse):
            return response
        better = corrected_encoding(response.body, response.encoding)
        return response.replace(encoding=better) if better else response


# -- pure helpers ---------------------------------------------------------------------


def retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds asked by a Retry-After header (delay-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(base: float, attempt: int) -> float:
    """Exponential backoff with jitter: about base, 2 x base, 4 x base, ..."""
    return base * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)


def corrected_encoding(body: bytes, chosen: str) -> str | None:
    """A better encoding than ``chosen`` for ``body``, or None if ``chosen`` is right."""
    if body.isascii():
        return None
    chosen_is_utf8 = _codec(chosen) == "utf-8"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        if not chosen_is_utf8:
            return None
        match = from_bytes(body).best()
        return match.encoding if match and _codec(match.encoding) != "utf-8" else None
    return None if chosen_is_utf8 else "utf-8"


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _redirects_disabled(request: Request, status: int) -> bool:
    meta = request.meta
    return bool(
        meta.get("dont_redirect")
        or meta.get("handle_httpstatus_all")
        or status in meta.get("handle_httpstatus_list", ())
    )


async def _sleep(seconds: float) -> None:
    """Wait without blocking the reactor."""
    if seconds > 0:
        from twisted.internet import reactor

        await maybe_deferred_to_future(deferLater(reactor, seconds))

"""Host names judged by the addresses they resolve to, twice.

Before any request (proxied or not), ``HostLookup`` resolves the name here and
``crawler.fetching.middlewares.PrivateAddressMiddleware`` refuses it if any of its addresses is not
public. When the crawler connects directly, ``PublicAddressResolver`` checks again, on
the very address it then connects to, so a name re-pointed at the local network between
the two lookups is refused too, on redirects as well. IP literals never reach the
resolver's check: the middleware refuses those by URL. The policy itself (what is
public) lives in ``crawler.fetching.urls``.

The resolver is Scrapy's ``TWISTED_DNS_RESOLVER``. A failed lookup reaches the spider as
a plain "no results" DNS error, so the resolver keeps the reason for each refused name;
``refusal`` reads it back for the middleware that turns it into a readable error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import DNSLookupError
from twisted.internet.threads import deferToThread

from crawler.fetching.urls import all_addresses, ip_of, is_ip, is_public_address, refusal_message

ALLOW_SETTING = "PRESSWATCH_ALLOW_PRIVATE_ADDRESSES"
CACHE_SIZE = 4096


class PublicAddressResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing loopback, private, link-local and other
    non-public results unless ``[crawl] allow_private_addresses = true``."""

    allow_private: bool = False

    def __init__(self, reactor: Any, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.refused: dict[str, str] = {}  # host name -> the non-public address it gave

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> Self:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool(ALLOW_SETTING)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        literal = ip_of(name)
        if literal is not None and literal.version == 6:
            # An IPv6 literal is its own address (the threaded lookup is IPv4 only).
            return succeed(literal.compressed)
        lookup = super().getHostByName(name, timeout)
        if not self.allow_private and not is_ip(name):
            lookup.addCallback(self._check, name)
        return lookup

    def _check(self, address: str, name: str) -> str:
        if is_public_address(address):
            return address
        self.refused[name.lower().rstrip(".")] = address
        raise DNSLookupError(refusal_message(name, address))


def refusal(host: str) -> str | None:
    """Why the installed resolver refused ``host``, or None if it did not."""
    from twisted.internet import reactor

    resolver = getattr(reactor, "resolver", None)
    if not isinstance(resolver, PublicAddressResolver):
        return None
    address = resolver.refused.get(host.lower().rstrip("."))
    return refusal_message(host, address) if address else None


class HostLookup:
    """Every address a host name resolves to on this machine, looked up in a thread
    (the reactor never waits on DNS) with a timeout, and kept for the rest of the pass.
    A name that does not resolve, or not in time, has no addresses."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.known: dict[str, tuple[str, ...]] = {}

    async def addresses(self, host: str) -> tuple[str, ...]:
        host = host.lower().rstrip(".")
        if host not in self.known:
            from twisted.internet import reactor

            lookup = deferToThread(all_addresses, host)
            lookup.addTimeout(self.timeout, reactor)
            try:
                found = await maybe_deferred_to_future(lookup)
            except Exception:  # no such name, a DNS failure or a timeout: no addresses
                found = ()
            if len(self.known) >= CACHE_SIZE:
                self.known.clear()
            self.known[host] = found
        return self.known[host]

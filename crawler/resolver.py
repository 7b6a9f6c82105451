"""A DNS resolver that refuses host names resolving to non-public addresses.

The check runs after resolution, on the very address the crawler then connects to, so a
public-looking name that points at the local network (or is re-pointed there between two
lookups) is refused, on redirects too. IP literals in URLs never reach the resolver's
check: the PrivateAddressMiddleware refuses those by URL.

The resolver is Scrapy's ``TWISTED_DNS_RESOLVER``. A failed lookup reaches the spider as
a plain "no results" DNS error, so the resolver keeps the reason for each refused name;
``refusal`` reads it back for the middleware that turns it into a readable error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from crawler.urls import is_ip, is_public_address

ALLOW_SETTING = "PRESSWATCH_ALLOW_PRIVATE_ADDRESSES"


class PublicAddressResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing loopback, private, link-local and other
    non-public results unless ``[crawl] allow_private_addresses = true``."""

    allow_private: bool = False

    def __init__(self, reactor: Any, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.refused: dict[str, str] = {}   # host name -> the non-public address it gave

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> Self:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool(ALLOW_SETTING)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
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


def refusal_message(host: str, address: str) -> str:
    return (f"refused: {host} resolves to a private address {address} "
            "(set [crawl] allow_private_addresses = true to allow it)")

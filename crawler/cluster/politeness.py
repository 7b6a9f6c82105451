"""Politeness across the cluster: before a request goes to the network, it takes one of its
site's ``per_domain_concurrency`` slots in Redis and waits for the site's next allowed
start, so the whole cluster is as polite to a site as one pass (a site is a host name, as
Scrapy's download slots have it; times are Redis's own; docs/scaling.md, "Politeness")."""

from __future__ import annotations

import itertools
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater

from crawler.cluster.keys import Keys, redis_client
from crawler.fetching.middlewares import THROTTLED, retry_after

SLOT = "cluster_site_slot"  # request.meta key: (site keys, token) of the slot it holds
FULL_WAIT_MS = 50  # how often a request waiting for a slot asks again

# KEYS: the site's slots (ZSET token -> expiry), its next start (STRING).
# ARGV: token, slots, slot time to live (ms), interval (ms). Returns 0 when the slot is
# taken, else the milliseconds to wait before asking again.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local free_at = tonumber(redis.call('GET', KEYS[2]) or '0')
if free_at > now then return free_at - now end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[2], now + tonumber(ARGV[4]), 'PX', ARGV[4])
end
return 0
"""

# Give the slot back; with ARGV[2] > 0, no start on the site for that many ms.
RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local pause = tonumber(ARGV[2])
if pause > 0 then
  local t = redis.call('TIME')
  local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + pause
  if until_ms > tonumber(redis.call('GET', KEYS[2]) or '0') then
    redis.call('SET', KEYS[2], until_ms, 'PX', pause)
  end
end
return 1
"""


def site_of(request: Request) -> str:
    """The site a request is to: its host name, as Scrapy's download slots have it."""
    return urlparse_cached(request).hostname or ""


class ClusterPolitenessMiddleware:
    def __init__(self, settings: Settings) -> None:
        server = redis_client(settings["PRESSWATCH_REDIS_URL"])
        self.keys = Keys(settings["PRESSWATCH_CLUSTER_PREFIX"])
        self.worker = settings["PRESSWATCH_WORKER_ID"]
        self.slots = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.interval_ms = int(settings.getfloat("DOWNLOAD_DELAY") * 1000)
        # a slot a killed worker held expires after the download timeout
        self.ttl_ms = int(settings.getfloat("DOWNLOAD_TIMEOUT") * 1000) + 10_000
        self.max_pause = settings.getfloat("PRESSWATCH_RETRY_AFTER_MAX", 120.0)
        self.tokens = itertools.count(1)
        self.acquire = server.register_script(ACQUIRE)
        self.release = server.register_script(RELEASE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings)

    async def process_request(self, request: Request) -> None:
        from twisted.internet import reactor  # installed by Scrapy by now

        site, token = site_of(request), f"{self.worker}:{next(self.tokens)}"
        keys = [self.keys.key("site", site), self.keys.key("site", site, "free-at")]
        while (wait := self.acquire(keys, [token, self.slots, self.ttl_ms, self.interval_ms])) != 0:
            seconds = (FULL_WAIT_MS if wait < 0 else min(int(wait), 1000)) / 1000
            await maybe_deferred_to_future(deferLater(reactor, seconds))
        request.meta[SLOT] = (keys, token)

    def process_response(self, request: Request, response: Response) -> Response:
        pause = 0.0
        if response.status in THROTTLED:
            pause = min(retry_after(response.headers.get("Retry-After")) or 0.0, self.max_pause)
        self._give_back(request, pause)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_back(request, 0.0)

    def _give_back(self, request: Request, pause: float) -> None:
        held: Any = request.meta.pop(SLOT, None)
        if held is not None:
            keys, token = held
            self.release(keys, [token, int(pause * 1000)])

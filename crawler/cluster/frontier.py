"""The shared crawl frontier: one request queue and one duplicate filter in Redis.

The queue is scrapy-redis's ``PriorityQueue`` (a sorted set) and the duplicate filter its
``RFPDupeFilter`` (a set of request fingerprints). What scrapy-redis's own ``Scheduler``
lacks is a way back for the requests of a worker that dies: it pops a request from the
queue and the request exists nowhere else until it is done. Here a worker *leases* a
request instead: one Lua script moves it from the queue into the ``leases`` hash under
``<worker>:<n>``, atomically. The lease is released only when the request and everything
it produced (its follow-up requests on the queue, its item or error on the item queue) are
in Redis. A worker keeps a heartbeat key alive; when the key has expired, anyone (another
worker when idle, the ingester, enqueue) moves that worker's leases back to the queue.

So a request is always in exactly one of: the queue, a lease, or done; and everything it
produced is in Redis before its lease goes. Delivery is at least once: a worker killed
after handing over an item but before releasing its lease makes another worker fetch that
page again, which the ingester records as an unchanged re-check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redis import Redis
from scrapy import Request, Spider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue

from crawler.cluster.codec import CodecError, RequestCodec
from crawler.cluster.keys import Keys

log = logging.getLogger("presswatch.cluster")

# Queue -> lease, atomically. A lease keeps the request's score, to go back where it was.
LEASE = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('HSET', KEYS[2], ARGV[1], top[2] .. ' ' .. top[1])
return top[1]
"""

# A worker's leases -> queue. With ARGV[2] == '1', only if its heartbeat has expired
# (returns -1 when it is alive), so that two reapers cannot requeue a lease twice.
REQUEUE = """
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local n = 0
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #ARGV[1]) == ARGV[1] then
    local at = string.find(all[i + 1], ' ', 1, true)
    redis.call('ZADD', KEYS[1], string.sub(all[i + 1], 1, at - 1), string.sub(all[i + 1], at + 1))
    redis.call('HDEL', KEYS[2], all[i])
    n = n + 1
  end
end
return n
"""

# Forget the fingerprints of the last pass, but only while nothing at all is under way.
RESET_IF_IDLE = """
if redis.call('ZCARD', KEYS[1]) + redis.call('HLEN', KEYS[2]) + redis.call('LLEN', KEYS[3])
   + redis.call('LLEN', KEYS[4]) > 0 then return 0 end
redis.call('DEL', KEYS[5])
return 1
"""


class FrontierQueue(PriorityQueue):
    """scrapy-redis's priority queue, with a lease instead of a destructive pop."""

    def __init__(
        self, server: Redis, spider: Spider, key: str, serializer: RequestCodec, leases_key: str
    ) -> None:
        super().__init__(server, spider, key, serializer=serializer)
        self.leases_key = leases_key

    def lease(self, lease_id: str) -> Request | None:
        """Take the first request under ``lease_id``; None when the queue is empty."""
        data = self.server.eval(LEASE, 2, self.key, self.leases_key, lease_id)
        if data is None:
            return None
        try:
            return self._decode_request(data)
        except (CodecError, ValueError, KeyError, TypeError, AttributeError) as error:
            # unreadable, or naming a callback or field the spider does not have
            log.error("dropped a request from the frontier: %s", error)
            self.server.hdel(self.leases_key, lease_id)
            return None

    def push(self, request: Request, release: str | None = None) -> None:
        """Queue ``request``; release the lease ``release`` in the same transaction."""
        with self.server.pipeline(transaction=True) as pipe:
            pipe.execute_command("ZADD", self.key, -request.priority, self._encode_request(request))
            if release:
                pipe.hdel(self.leases_key, release)
            pipe.execute()


class Frontier:
    """The frontier as a worker or enqueue sees it: submit, lease, release requests.

    ``on_duplicate(request)`` hears of requests the duplicate filter turned away, so that
    a second source offering an article in the same pass is still recorded.
    """

    def __init__(
        self,
        server: Redis,
        keys: Keys,
        spider: Spider,
        codec: RequestCodec,
        on_duplicate: Callable[[Request], None] | None = None,
    ) -> None:
        self.server, self.keys = server, keys
        self.queue = FrontierQueue(server, spider, keys.requests, codec, keys.leases)
        self.dupefilter = RFPDupeFilter(server, keys.dupefilter)
        self.on_duplicate = on_duplicate

    def submit(self, request: Request, *, release: str | None = None) -> bool:
        """Queue ``request`` unless the duplicate filter has seen it; False when it has.
        ``release``: the lease it continues (a retry or a redirect), released with it."""
        if not request.dont_filter and self.dupefilter.request_seen(request):
            if release:
                self.release(release)
            if self.on_duplicate is not None:
                self.on_duplicate(request)
            return False
        self.queue.push(request, release)
        return True

    def lease(self, lease_id: str) -> Request | None:
        return self.queue.lease(lease_id)

    def release(self, lease_id: str) -> None:
        self.server.hdel(self.keys.leases, lease_id)

    def __len__(self) -> int:
        return len(self.queue)


# -- the cluster's state, for whoever looks after it ------------------------------------


def requeue_leases(server: Redis, keys: Keys, worker: str, *, only_if_dead: bool) -> int:
    """Put ``worker``'s leased requests back on the queue; -1 if it is alive (and
    ``only_if_dead``)."""
    return int(
        server.eval(
            REQUEUE,
            3,
            keys.requests,
            keys.leases,
            keys.alive(worker),
            f"{worker}:",
            "1" if only_if_dead else "0",
        )
    )


def reap_dead_workers(server: Redis, keys: Keys) -> int:
    """Return the requests of every worker whose heartbeat expired to the queue."""
    recovered = 0
    for raw in server.smembers(keys.workers):
        worker = raw.decode() if isinstance(raw, bytes) else raw
        if server.exists(keys.alive(worker)):
            continue
        count = requeue_leases(server, keys, worker, only_if_dead=True)
        if count >= 0:
            server.srem(keys.workers, worker)
            if count:
                log.warning(
                    "worker %s stopped answering: %d request(s) back on the frontier", worker, count
                )
            recovered += count
    return recovered


def pending_work(server: Redis, keys: Keys) -> dict[str, int]:
    """How much is under way, read in one transaction: a consistent snapshot."""
    with server.pipeline(transaction=True) as pipe:
        pipe.zcard(keys.requests).hlen(keys.leases).llen(keys.items).llen(keys.processing)
        queued, leased, items, processing = pipe.execute()
    return {"queued": queued, "leased": leased, "items": items, "processing": processing}


def crawl_busy(server: Redis, keys: Keys) -> bool:
    """Is any request queued or leased?"""
    work = pending_work(server, keys)
    return bool(work["queued"] or work["leased"])


def reset_duplicate_filter(server: Redis, keys: Keys) -> bool:
    """Start the next pass with an empty duplicate filter, if nothing is under way."""
    return bool(
        server.eval(
            RESET_IF_IDLE,
            5,
            keys.requests,
            keys.leases,
            keys.items,
            keys.processing,
            keys.dupefilter,
        )
    )

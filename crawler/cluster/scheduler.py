"""The Scrapy scheduler of ``presswatch worker``: requests come from and go to the frontier.

scrapy-redis's own ``Scheduler`` runs under Scrapy 2.19 (with deprecation warnings for
the ``spider`` arguments it still passes to the stats collector), but it pops requests
destructively, so a worker killed mid-pass would lose the requests it was working on.
This scheduler keeps scrapy-redis's queue and duplicate filter (``crawler.cluster.
frontier``) and adds leases:

- ``next_request`` leases a request and notes the lease in ``request.meta``.
- A request Scrapy schedules again with a lease in its meta is a retry or a redirect of
  a leased request: it is queued and the old lease released in one transaction.
- Any other leased request is done when Scrapy has handled its response or failure:
  the spider callback has run, its follow-up requests are on the queue and its item has
  been through the pipelines (so on the item queue). Scrapy has no signal for that
  moment; ``Scraper.enqueue_scrape`` returns a Deferred that fires exactly then, so the
  scheduler wraps it (``_watch_scraper``) and releases the lease there.

An idle Scrapy engine asks its scheduler for requests only every five seconds. So that a
worker starts on new requests at once, the scheduler checks the frontier twice a second
while the downloader is empty, and hands one request to the engine (``engine.crawl``),
which then asks for more.

While the spider is idle the scheduler also looks after the cluster: it hands back leases it
still holds (none should be left), returns the requests of dead workers to the queue,
adopts a newer published configuration, and keeps the spider open (or lets it close
after ``PRESSWATCH_IDLE_EXIT`` seconds with nothing under way anywhere).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from typing import Any, Self

from redis import Redis
from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall

from crawler.cluster.codec import RequestCodec
from crawler.cluster.frontier import (
    Frontier,
    crawl_busy,
    reap_dead_workers,
    requeue_leases,
)
from crawler.cluster.keys import Keys
from crawler.cluster.liveness import Heartbeat
from crawler.cluster.worker import fail_stop, newer_context, redis_client

log = logging.getLogger("presswatch.cluster")

LEASE = "cluster_lease"  # request.meta key: the lease a request is fetched under
HANDED = "cluster_handed"  # request.meta key: handed to an idle engine, already leased
WAKE_SECONDS = 0.5


class ClusterScheduler:
    """Scrapy's scheduler interface over the shared frontier, with leases."""

    def __init__(
        self,
        crawler: Crawler,
        server: Redis,
        keys: Keys,
        worker: str,
        heartbeat: float,
        idle_exit: float | None,
    ) -> None:
        self.crawler, self.server, self.keys, self.worker = crawler, server, keys, worker
        self.heartbeat = Heartbeat(server, keys.alive(worker), "1", heartbeat)
        self.idle_exit = idle_exit
        self._leases = itertools.count(1)
        self._idle_since: float | None = None
        self._ready: deque[Request] = deque()
        self._waker = LoopingCall(self._wake)
        self.frontier: Frontier | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        idle_exit = settings.getfloat("PRESSWATCH_IDLE_EXIT", -1)
        return cls(
            crawler,
            redis_client(settings["PRESSWATCH_REDIS_URL"]),
            Keys(settings["PRESSWATCH_CLUSTER_PREFIX"]),
            settings["PRESSWATCH_WORKER_ID"],
            settings.getfloat("PRESSWATCH_HEARTBEAT"),
            idle_exit if idle_exit >= 0 else None,
        )

    # -- Scrapy's scheduler interface ------------------------------------------------

    def open(self, spider: Spider) -> None:
        spider_any: Any = spider
        codec = RequestCodec(spider_any.source_named)
        self.frontier = Frontier(self.server, self.keys, spider, codec, self._duplicate)
        self.server.sadd(self.keys.workers, self.worker)
        self.heartbeat.start()
        self._watch_scraper()
        self.crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)
        self._waker.start(WAKE_SECONDS, now=False)
        log.info("worker %s on %d queued request(s)", self.worker, len(self.frontier))

    def close(self, reason: str) -> None:
        """Whatever this worker still holds goes back to the queue, for another worker."""
        if self._waker.running:
            self._waker.stop()
        try:
            back = requeue_leases(self.server, self.keys, self.worker, only_if_dead=False)
            if back:
                log.info("%d unfinished request(s) back on the frontier", back)
            self.server.srem(self.keys.workers, self.worker)
        finally:
            self.heartbeat.stop()

    def has_pending_requests(self) -> bool:
        return bool(self._ready) or len(self._frontier) > 0

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.pop(HANDED, False):
            self._ready.append(request)
            return True
        lease = request.meta.pop(LEASE, None)
        try:
            return self._frontier.submit(request, release=lease)
        except RedisError as error:
            fail_stop(error)
            raise

    def next_request(self) -> Request | None:
        if self._ready:
            return self._ready.popleft()
        lease = f"{self.worker}:{next(self._leases)}"
        try:
            request = self._frontier.lease(lease)
        except RedisError as error:
            fail_stop(error)
            raise
        if request is not None:
            request.meta[LEASE] = lease
        return request

    def __len__(self) -> int:
        return len(self._ready) + len(self._frontier)

    def _wake(self) -> None:
        """Hand the engine a request when it has none to download and the frontier has."""
        engine = self.crawler.engine
        if self._ready or engine.downloader.active or engine.spider is None:
            return
        try:
            request = self.next_request() if len(self._frontier) else None
        except Exception:  # the waker must keep running
            log.exception("could not take a request from the frontier")
            return
        if request is not None:
            request.meta[HANDED] = True
            engine.crawl(request)

    # -- leases ----------------------------------------------------------------------

    @property
    def _frontier(self) -> Frontier:
        if self.frontier is None:
            raise RuntimeError("the scheduler is not open")
        return self.frontier

    def _watch_scraper(self) -> None:
        """Release a request's lease once Scrapy has handled its response or failure."""
        scraper = self.crawler.engine.scraper
        handle = scraper.enqueue_scrape

        def enqueue_scrape(result: Any, request: Request) -> Deferred[Any]:
            deferred = handle(result, request)
            deferred.addBoth(self._handled, request)
            return deferred

        scraper.enqueue_scrape = enqueue_scrape  # type: ignore[method-assign]

    def _handled(self, result: Any, request: Request) -> Any:
        lease = request.meta.get(LEASE)
        if lease:
            try:
                self._frontier.release(lease)
            except RedisError as error:
                fail_stop(error)
        return result

    def _duplicate(self, request: Request) -> None:
        spider: Any = self.crawler.spider
        spider.recorder.duplicate(request)

    # -- while idle --------------------------------------------------------------------

    def _spider_idle(self, spider: Spider) -> None:
        leaked = requeue_leases(self.server, self.keys, self.worker, only_if_dead=False)
        if leaked:
            log.warning("%d lease(s) held while idle went back on the frontier", leaked)
        reap_dead_workers(self.server, self.keys)
        self._adopt_newest_config(spider)
        if self.idle_exit is None or crawl_busy(self.server, self.keys):
            self._idle_since = None
            raise DontCloseSpider
        self._idle_since = self._idle_since or time.monotonic()
        if time.monotonic() - self._idle_since < self.idle_exit:
            raise DontCloseSpider
        log.info("nothing under way for %gs: worker %s stops", self.idle_exit, self.worker)

    def _adopt_newest_config(self, spider: Spider) -> None:
        cluster_spider: Any = spider
        context = newer_context(
            self.server, self.keys, cluster_spider.context, cluster_spider.generation
        )
        if context is not None:
            cluster_spider.use(context)
            log.info(
                "worker %s now works with configuration %s", self.worker, cluster_spider.generation
            )

"""The Scrapy scheduler of ``presswatch worker`` (Scrapy's public ``BaseScheduler``
interface) over the frontier stream, and the spider middleware that says when a request
is finished: its response or failure handled, its follow-up requests on the frontier and
its items through the pipelines; only then is its entry acknowledged (docs/scaling.md,
"Nothing lost")."""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from typing import Any, Self

from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.internet.task import LoopingCall

from crawler.cluster.frontier import ENTRY, RUN, TOKEN, Frontier
from crawler.cluster.keys import Keys, redis_client
from crawler.cluster.messages import current_run
from crawler.cluster.published import NotPublished, current_generation, load
from crawler.cluster.streams import Entry
from crawler.cluster.worker import fail_stop, worker_context

log = logging.getLogger("presswatch.cluster")

HANDED = "cluster_handed"  # request.meta key: handed to an idle engine, already read
WAKE_SECONDS = 0.5
READ_AHEAD = 4  # entries read at a time
PARENT = "cluster_parent"  # request.meta key: the entry whose callback yielded it
request_finished = object()  # signal(entry): a frontier request is wholly handled
request_submitted = object()  # signal(parent): a follow-up request reached the frontier


class ClusterScheduler(BaseScheduler):
    """Every third of ``--heartbeat`` it renews the idle time of the entries it holds and
    takes over those other workers left idle for longer. An idle engine asks for requests
    only every five seconds, so while the downloader is empty the scheduler checks the
    frontier twice a second and hands a request to the engine (``engine.crawl``)."""

    def __init__(self, crawler: Crawler) -> None:
        settings, self.crawler = crawler.settings, crawler
        self.server = redis_client(settings["PRESSWATCH_REDIS_URL"])
        self.keys = Keys(settings["PRESSWATCH_CLUSTER_PREFIX"])
        self.worker = settings["PRESSWATCH_WORKER_ID"]
        self.heartbeat = settings.getfloat("PRESSWATCH_HEARTBEAT")
        self.idle_exit = settings.getfloat("PRESSWATCH_IDLE_EXIT")  # < 0: never
        self._idle_since: float | None = None
        self._ready: deque[Request] = deque()
        self._held: dict[str, dict] = {}  # entries read and not finished -> their meta
        self._waker = LoopingCall(self._wake)
        self._keeper = LoopingCall(self._keep)
        self.frontier: Frontier  # made on open, for the spider

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open(self, spider: Any) -> None:
        self.frontier = Frontier(
            self.server,
            self.keys,
            spider,
            consumer=self.worker,
            idle=self.heartbeat,
            on_duplicate=lambda request: spider.recorder.duplicate(request),
        )
        self.crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)
        self.crawler.signals.connect(self._finished, signal=request_finished)
        self._hold(self.frontier.stream.resume())
        self._waker.start(WAKE_SECONDS, now=False)
        self._keeper.start(self.heartbeat / 3, now=False)
        log.info("worker %s on %d waiting request(s)", self.worker, self.frontier.stream.waiting())

    def close(self, reason: str) -> None:
        """Requests read and not started go back to the frontier, for another worker."""
        for looping in (self._waker, self._keeper):
            if looping.running:
                looping.stop()
        if self._ready:
            self.frontier.give_back(list(self._ready))
            log.info("%d unstarted request(s) back on the frontier", len(self._ready))

    def has_pending_requests(self) -> bool:
        return bool(self._ready) or self.frontier.stream.waiting() > 0

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.pop(HANDED, False):
            self._ready.appendleft(request)
            return True
        entry = request.meta.pop(ENTRY, None)  # a retry or redirect continues it
        parent = request.meta.pop(PARENT, None)  # a callback's follow-up request
        try:
            submitted = self.frontier.submit(request, done=entry)
        except RedisError as error:
            fail_stop(error)
        self._held.pop(entry or "", None)
        if parent is not None:  # on the frontier, or turned away as a duplicate
            self.crawler.signals.send_catch_log(signal=request_submitted, parent=parent)
        return submitted

    def next_request(self) -> Request | None:
        if not self._ready:
            try:
                self._hold(self.frontier.stream.read(READ_AHEAD))
            except RedisError as error:
                fail_stop(error)
        return self._ready.popleft() if self._ready else None

    def __len__(self) -> int:
        return len(self._ready) + self.frontier.stream.waiting()

    def _hold(self, entries: list[Entry]) -> None:
        """Rebuild the requests of entries read from the frontier, ready to be crawled."""
        requests = self.frontier.requests(entries)
        self._ready.extend(requests)
        self._held.update((request.meta[ENTRY], request.meta) for request in requests)

    def _finished(self, entry: str | None) -> None:
        meta = self._held.pop(entry or "", None)
        if entry is None or meta is None:
            return
        try:
            self.frontier.finish(entry, meta)
        except RedisError as error:
            fail_stop(error)

    def _wake(self) -> None:
        """Hand the engine a request when it has none to download and the frontier has."""
        engine = self.crawler.engine
        if self._ready or engine.downloader.active or engine.spider is None:
            return
        try:
            request = self.next_request()
        except Exception:  # the waker must keep running
            log.exception("could not take a request from the frontier")
            return
        if request is not None:
            request.meta[HANDED] = True
            engine.crawl(request)

    def _keep(self) -> None:
        """Renew the entries this worker holds; take over those a stopped worker left."""
        try:
            self.frontier.stream.touch(sorted(self._held))
            if len(self._ready) < READ_AHEAD:
                self._hold(self.frontier.stream.take_over(READ_AHEAD))
        except RedisError as error:
            log.warning("could not renew this worker's requests: %s", error)

    def _spider_idle(self, spider: Any) -> None:
        leaked = set(self._held) - {r.meta[ENTRY] for r in self._ready}
        if leaked:  # never reported finished: no longer renewed, so taken over later
            log.warning("%d request(s) never reported finished: left to be taken over", len(leaked))
            for entry in leaked:
                del self._held[entry]
        self._adopt_newest_config(spider)
        if self.idle_exit < 0 or self.server.xlen(self.keys.frontier):  # under way
            self._idle_since = None
            raise DontCloseSpider
        self._idle_since = self._idle_since or time.monotonic()
        if time.monotonic() - self._idle_since < self.idle_exit:
            raise DontCloseSpider
        log.info("nothing under way for %gs: worker %s stops", self.idle_exit, self.worker)

    def _adopt_newest_config(self, spider: Any) -> None:
        current = current_generation(self.server, self.keys)
        if current is None or current == spider.generation:
            return
        try:
            spider.use(
                worker_context(self.server, self.keys, load(self.server, self.keys, current))
            )
        except NotPublished as error:
            log.warning("keeping configuration %s: %s", spider.generation, error)
        else:
            log.info("worker %s now works with configuration %s", self.worker, current)


class FinishedMiddleware:
    """Spider middleware: a frontier request is finished when its callback's output has
    been read to the end, each request it yielded is on the frontier and each item it
    yielded has left the pipelines. What the callback yields and reports belongs to the
    request's run: its follow-up requests and items carry it, and while the output is
    read (one asyncio task per response) ``current_run`` names it for the recorder."""

    def __init__(self, crawler: Crawler) -> None:
        self.signals = crawler.signals
        self.waiting: Counter[str] = Counter()  # entry -> its outputs still on their way
        self.running: set[str] = set()  # entries whose callback output is being read
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_done, signal=signal)
        crawler.signals.connect(self._output_done, signal=request_submitted)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_spider_output(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        entry = response.meta.get(ENTRY) or ""
        current_run.set(response.meta.get(RUN))
        self.running.add(entry)
        try:
            async for output in result:
                if entry and output is not None:
                    self._count(entry, output)
                yield output
        finally:
            self.running.discard(entry)
            if entry:
                self._maybe_finished(entry)

    def _count(self, entry: str, output: Any) -> None:
        if isinstance(output, Request):
            for inherited in (ENTRY, TOKEN):  # never a copy of the parent's
                output.meta.pop(inherited, None)
            output.meta[PARENT] = entry
            output.meta.setdefault(RUN, current_run.get())
        elif hasattr(output, "run"):
            output.run = current_run.get()
        self.waiting[entry] += 1

    def _item_done(self, item: Any, response: Any, **kwargs: Any) -> None:
        if isinstance(response, Response):
            self._output_done(response.meta.get(ENTRY))

    def _output_done(self, parent: str | None) -> None:
        if parent and self.waiting[parent] > 0:
            self.waiting[parent] -= 1
            self._maybe_finished(parent)

    def _maybe_finished(self, entry: str) -> None:
        if entry in self.running or self.waiting[entry] > 0:
            return
        del self.waiting[entry]
        self.signals.send_catch_log(signal=request_finished, entry=entry)

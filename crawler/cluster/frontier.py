"""The shared crawl frontier: a Redis Stream of requests and one duplicate filter.

Requests are entries of the ``frontier`` stream, read by the workers as consumers of the
group ``workers`` (``crawler.cluster.streams``: delivery to one worker, acknowledgement
once done, take-over of a stopped worker's entries after ``--heartbeat`` seconds,
poison entries to the dead-letter stream). A request is acknowledged only when Scrapy
has handled its response or failure and everything it produced is in Redis: its
follow-up requests on the frontier, its item or error on the item stream. A retry or a
redirect is added and the request it continues acknowledged in one transaction.

Delivery is at least once: a worker killed after handing over an item but before
acknowledging makes another worker fetch that page again, which the ingester records as
an unchanged re-check.

The duplicate filter is scrapy-redis's ``RFPDupeFilter`` (a set of request
fingerprints), shared by every worker.

Runs: every request carries the id of the run ``presswatch enqueue`` opened
(``request.meta[RUN]``; follow-up requests inherit it) and a token of its own. The token
is in the run's ``open`` set from the transaction that adds the request until the one
that acknowledges it (a retry or a redirect keeps it), so the run's work is done when
that set is empty (``crawler.cluster.ingest``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

from redis import Redis, WatchError
from redis.client import Pipeline
from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict
from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.cluster.codec import CodecError, RequestCodec
from crawler.cluster.keys import INGEST_GROUP, WORKERS_GROUP, Keys
from crawler.cluster.streams import Entry, Stream
from crawler.times import to_iso, utc_now

log = logging.getLogger("presswatch.cluster")

ENTRY = "cluster_entry"  # request.meta key: the frontier entry a request was read from
RUN = "cluster_run"  # request.meta key: the run it belongs to
TOKEN = "cluster_token"  # request.meta key: its token in the run's open set
ENQUEUING = "enqueue"  # in a run's open set while enqueue adds its requests


class Frontier:
    """The frontier as a worker or enqueue sees it: submit, take, finish requests.

    ``on_duplicate(request)`` hears of requests the duplicate filter turned away, so that
    a second source offering an article in the same pass is still recorded.
    """

    def __init__(
        self,
        server: Redis,
        keys: Keys,
        spider: Spider,
        codec: RequestCodec,
        *,
        consumer: str = "enqueue",
        idle: float = 30.0,
        on_duplicate: Callable[[Request], None] | None = None,
        run: int | None = None,
    ) -> None:
        self.server, self.keys, self.spider, self.codec = server, keys, spider, codec
        self.run = run  # given to requests that name none (enqueue's)
        self.stream = Stream(
            server, keys.frontier, WORKERS_GROUP, consumer, keys.dead_letters, idle, self._forget
        )
        self.stream.create_group()
        self.dupefilter = RFPDupeFilter(server, keys.dupefilter)
        self.on_duplicate = on_duplicate

    def submit(self, request: Request, *, done: str | None = None) -> bool:
        """Add ``request`` unless the duplicate filter has seen it; False when it has.
        ``done``: the entry it continues (a retry or a redirect), acknowledged with it.

        The fingerprint and the entry are written in one transaction, so a worker killed
        in between cannot leave a request marked seen that is nowhere in the stream. A
        request seen before is taken back out at once (a worker that read it in that
        instant fetches it twice, which stores nothing twice)."""
        filtered = not request.dont_filter
        run = request.meta.setdefault(RUN, self.run)
        token = request.meta.setdefault(TOKEN, uuid.uuid4().hex)
        data = self.codec.dumps(request.to_dict(spider=self.spider))
        with self.server.pipeline(transaction=True) as pipe:
            if filtered:
                pipe.sadd(self.dupefilter.key, self.dupefilter.request_fingerprint(request))
            if run is not None:
                pipe.sadd(self.keys.run_open(run), token)
            self.stream.add(data, pipe)
            if done:
                self.stream.ack([done], pipe)
            replies = pipe.execute()
        if filtered and not replies[0]:  # seen before
            with self.server.pipeline(transaction=True) as pipe:
                pipe.xdel(self.stream.key, replies[1 + (run is not None)])
                self._done(request.meta, pipe)
                pipe.execute()
            if self.on_duplicate is not None:
                self.on_duplicate(request)
            return False
        return True

    def resume(self) -> list[Request]:
        """The requests this worker held when it last stopped (same name)."""
        return self._requests(self.stream.resume())

    def take(self, count: int) -> list[Request]:
        """Up to ``count`` new requests, without waiting."""
        return self._requests(self.stream.read(count))

    def take_over(self, count: int) -> list[Request]:
        """Requests a stopped worker left unfinished for longer than ``idle``."""
        return self._requests(self.stream.take_over(count))

    def finish(self, entry: str, meta: dict) -> None:
        """``entry`` is wholly handled: acknowledged, and its token out of its run."""
        with self.server.pipeline(transaction=True) as pipe:
            self.stream.ack([entry], pipe)
            self._done(meta, pipe)
            pipe.execute()

    def _done(self, meta: dict, pipe: Pipeline) -> None:
        if meta.get(RUN) is not None and meta.get(TOKEN):
            pipe.srem(self.keys.run_open(meta[RUN]), meta[TOKEN])

    def _forget(self, entry: Entry) -> None:
        """A request set aside will never finish: its token leaves its run."""
        try:
            meta = json.loads(entry.data)["meta"]
            run, token = int(meta[RUN]), str(meta[TOKEN])
        except (ValueError, KeyError, TypeError):
            return  # no run to tell (the run closes after --max-run)
        self.server.srem(self.keys.run_open(run), token)

    def give_back(self, requests: list[Request]) -> None:
        """Put requests this worker will not finish back for another, at once."""
        with self.server.pipeline(transaction=True) as pipe:
            for request in requests:
                entry = request.meta.pop(ENTRY)
                self.stream.add(self.codec.dumps(request.to_dict(spider=self.spider)), pipe)
                self.stream.ack([entry], pipe)
            pipe.execute()

    def _requests(self, entries: list[Entry]) -> list[Request]:
        requests = []
        for entry in entries:
            try:
                request = request_from_dict(self.codec.loads(entry.data), spider=self.spider)
            except (CodecError, ValueError, KeyError, TypeError, AttributeError) as error:
                # unreadable, or naming a callback or field the spider does not have
                self.stream.dead_letter(entry, f"unreadable request: {error}", to_iso(utc_now()))
                continue
            request.meta[ENTRY] = entry.id
            requests.append(request)
        return requests


# -- runs ---------------------------------------------------------------------------------


def open_run(server: Redis, keys: Keys, generation: str) -> int:
    """A new run under ``generation``, held open (ENQUEUING) until ``enqueued``."""
    run = int(server.incr(keys.run_ids))
    with server.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.run_open(run), ENQUEUING)
        pipe.hset(keys.runs, str(run), generation)
        pipe.execute()
    return run


def enqueued(server: Redis, keys: Keys, run: int) -> None:
    """Enqueue has added the run's requests: it is done when they are."""
    server.srem(keys.run_open(run), ENQUEUING)


def forget_run(server: Redis, keys: Keys, run: int) -> None:
    """The run is closed: no longer listed, its open set gone."""
    with server.pipeline(transaction=True) as pipe:
        pipe.hdel(keys.runs, str(run))
        pipe.delete(keys.run_open(run))
        pipe.execute()


def open_runs(server: Redis, keys: Keys) -> dict[int, str]:
    """The runs not closed yet: id -> generation."""
    return {int(run): _text(gen) for run, gen in server.hgetall(keys.runs).items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# -- the cluster's state, for whoever looks after it ------------------------------------


def pending_work(server: Redis, keys: Keys) -> dict[str, int]:
    """How much is under way: requests waiting and held, messages waiting and held."""
    requests = Stream(server, keys.frontier, WORKERS_GROUP, "", keys.dead_letters)
    items = Stream(server, keys.items, INGEST_GROUP, "", keys.dead_letters)
    held, taken = requests.pending(), items.pending()
    return {
        "queued": max(int(server.xlen(keys.frontier)) - held, 0),
        "held": held,
        "items": max(int(server.xlen(keys.items)) - taken, 0),
        "processing": taken,
    }


def crawl_busy(server: Redis, keys: Keys) -> bool:
    """Is any request waiting or held by a worker? (Acknowledged entries are deleted.)"""
    return bool(server.xlen(keys.frontier))


def reset_duplicate_filter(server: Redis, keys: Keys) -> bool:
    """Start the next pass with an empty duplicate filter, if nothing is under way
    (both streams empty, checked and done in one transaction)."""
    with server.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(keys.frontier, keys.items)
            if pipe.xlen(keys.frontier) or pipe.xlen(keys.items):
                return False
            pipe.multi()
            pipe.delete(keys.dupefilter)
            pipe.execute()
            return True
        except WatchError:  # something was added meanwhile: the pass goes on
            return False

"""The shared crawl frontier: a stream of requests as JSON, the duplicate filter
(scrapy-redis's), and the runs whose requests it holds (docs/scaling.md, "Runs")."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from redis import Redis, WatchError
from redis.client import Pipeline
from scrapy import Request
from scrapy.utils.request import request_from_dict
from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.cluster.keys import WORKERS_GROUP, Keys, text
from crawler.cluster.streams import Entry, Stream
from crawler.config import Source
from crawler.items import FeedEntry

ENTRY = "cluster_entry"  # request.meta key: the frontier entry a request was read from
RUN = "cluster_run"  # request.meta key: the run it belongs to
TOKEN = "cluster_token"  # request.meta key: its token in the run's open set
ENQUEUING = "enqueue"  # in a run's open set while enqueue adds its requests
BYTES, SOURCE, FEED_ENTRY, PAIRS = "$b", "$source", "$entry", "$pairs"
TAGS = (BYTES, SOURCE, FEED_ENTRY, PAIRS)


# KEYS: the duplicate filter, the run's open set, the frontier. ARGV: the fingerprint
# ("" when not filtered), the run's token ("" when no run), the request, the group, the
# entry it continues (or ""). 1 when added; 0, and the token out of its run, when seen.
SUBMIT = """
if ARGV[5] ~= '' then
  redis.call('XACK', KEYS[3], ARGV[4], ARGV[5])
  redis.call('XDEL', KEYS[3], ARGV[5])
end
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  if ARGV[2] ~= '' then redis.call('SREM', KEYS[2], ARGV[2]) end
  return 0
end
if ARGV[2] ~= '' then redis.call('SADD', KEYS[2], ARGV[2]) end
redis.call('XADD', KEYS[3], '*', 'm', ARGV[3])
return 1
"""


class CodecError(ValueError):
    """A request that cannot travel through the frontier, or came back unreadable."""


class RequestCodec:
    """Scrapy's ``Request.to_dict()`` as JSON, never pickle: bytes, the ``Source`` a request
    polls (by name, looked up with ``source``) and a ``FeedEntry`` are tagged; anything else
    JSON cannot hold is refused, and so is a request naming its own class (``_class``)."""

    def __init__(self, source: Callable[[str], Source]) -> None:
        self.source = source

    def dumps(self, request: dict[str, Any]) -> str:
        # Sorted keys: the same request is the same string.
        return json.dumps(_plain(request), sort_keys=True, separators=(",", ":"), default=_tag)

    def loads(self, data: str | bytes) -> dict[str, Any]:
        try:
            request = json.loads(data, object_hook=self._untag)
        except (ValueError, KeyError, TypeError, RecursionError) as error:
            raise CodecError(f"unreadable request on the frontier: {error}") from error
        if not isinstance(request, dict) or "_class" in request:
            raise CodecError("the frontier holds a request presswatch did not write")
        return request

    def _untag(self, value: dict[str, Any]) -> Any:
        tag, tagged = next(iter(value.items()), (None, None))
        if len(value) != 1 or tag not in TAGS:
            return value
        if tag == BYTES:
            return base64.b64decode(tagged)
        if tag == SOURCE:
            return self.source(tagged)
        return FeedEntry(**tagged) if tag == FEED_ENTRY else {k: v for k, v in tagged}


def _plain(value: Any) -> Any:
    """Dicts whose keys JSON cannot hold (bytes, or a tag) as ``{"$pairs": [[k, v], ...]}``."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    if all(isinstance(k, str) and k not in TAGS for k in value):
        return {k: _plain(v) for k, v in value.items()}
    return {PAIRS: [[_plain(k), _plain(v)] for k, v in value.items()]}


def _tag(value: Any) -> Any:
    if isinstance(value, bytes):
        return {BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, Source):
        return {SOURCE: value.name}
    if isinstance(value, FeedEntry):
        return {FEED_ENTRY: asdict(value)}
    raise CodecError(f"cannot put a {type(value).__name__} on the frontier: {value!r}")


class Frontier:
    """The frontier as a worker or enqueue sees it. ``on_duplicate(request)`` hears of
    requests the duplicate filter turned away."""

    def __init__(
        self,
        server: Redis,
        keys: Keys,
        spider: Any,  # a ClusterSpider: requests name its sources and callbacks
        *,
        consumer: str = "enqueue",
        idle: float = 30.0,
        on_duplicate: Callable[[Request], None] = lambda request: None,
        run: int | None = None,
    ) -> None:
        self.server, self.keys, self.spider = server, keys, spider
        self.codec = RequestCodec(spider.source_named)
        self.run = run  # given to requests that name none (enqueue's)
        self.stream = Stream(
            server, keys.frontier, WORKERS_GROUP, consumer, keys.dead_letters, idle, self._forget
        )
        self.stream.create_group()
        self.dupefilter = RFPDupeFilter(server, keys.dupefilter)
        self._submit = server.register_script(SUBMIT)
        self.on_duplicate = on_duplicate

    def submit(self, request: Request, *, done: str | None = None) -> bool:
        """Add ``request`` unless the duplicate filter has seen it (then False), at once
        with its fingerprint and its run's token, and acknowledge ``done``, the entry it
        continues (a retry or a redirect): one script, so no worker ever reads a request
        that is then found to be a duplicate."""
        run = request.meta.setdefault(RUN, self.run)
        token = request.meta.setdefault(TOKEN, uuid.uuid4().hex)
        fingerprint = "" if request.dont_filter else self.dupefilter.request_fingerprint(request)
        keys = [self.dupefilter.key, self.keys.key("run", run, "open"), self.stream.key]
        arguments = [fingerprint, "" if run is None else token, self._dumps(request)]
        if self._submit(keys, [*arguments, self.stream.group, done or ""]):
            return True
        self.on_duplicate(request)
        return False

    def finish(self, entry: str, meta: dict) -> None:
        """``entry`` is wholly handled: acknowledged, and its token out of its run."""
        with self.server.pipeline(transaction=True) as pipe:
            self.stream.ack([entry], pipe)
            self._done(meta, pipe)
            pipe.execute()

    def give_back(self, requests: list[Request]) -> None:
        """Put requests this worker will not finish back for another, at once."""
        with self.server.pipeline(transaction=True) as pipe:
            for request in requests:
                entry = request.meta.pop(ENTRY)
                self.stream.add(self._dumps(request), pipe)
                self.stream.ack([entry], pipe)
            pipe.execute()

    def _dumps(self, request: Request) -> str:
        return self.codec.dumps(request.to_dict(spider=self.spider))

    def _done(self, meta: dict, pipe: Pipeline) -> None:
        if meta.get(RUN) is not None and meta.get(TOKEN):
            pipe.srem(self.keys.key("run", meta[RUN], "open"), meta[TOKEN])

    def _forget(self, entry: Entry) -> None:
        """A request set aside will never finish: its token leaves its run."""
        try:
            meta = json.loads(entry.data)["meta"]
            run, token = int(meta[RUN]), str(meta[TOKEN])
        except (ValueError, KeyError, TypeError):
            return  # no run to tell (the run closes after --max-run)
        self.server.srem(self.keys.key("run", run, "open"), token)

    def requests(self, entries: list[Entry]) -> list[Request]:
        """The requests of entries read from the stream; an unreadable one is set aside."""
        requests = []
        for entry in entries:
            try:
                request = request_from_dict(self.codec.loads(entry.data), spider=self.spider)
            except (CodecError, ValueError, KeyError, TypeError, AttributeError) as error:
                # unreadable, or naming a callback or field the spider does not have
                self.stream.dead_letter(entry, f"unreadable request: {error}")
                continue
            request.meta[ENTRY] = entry.id
            requests.append(request)
        return requests


def open_run(server: Redis, keys: Keys, generation: str) -> int:
    """A new run under ``generation``, held open (ENQUEUING) until ``enqueued``."""
    run = int(server.incr(keys.run_ids))
    with server.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.key("run", run, "open"), ENQUEUING)
        pipe.hset(keys.runs, str(run), generation)
        pipe.execute()
    return run


def enqueued(server: Redis, keys: Keys, run: int) -> None:
    """Enqueue has added the run's requests: it is done when they are."""
    server.srem(keys.key("run", run, "open"), ENQUEUING)


def forget_run(server: Redis, keys: Keys, run: int) -> None:
    """The run is closed: no longer listed, its open set gone."""
    with server.pipeline(transaction=True) as pipe:
        pipe.hdel(keys.runs, str(run))
        pipe.delete(keys.key("run", run, "open"))
        pipe.execute()


def open_runs(server: Redis, keys: Keys) -> dict[int, str]:
    """The runs not closed yet: id -> generation."""
    return {int(run): text(gen) for run, gen in server.hgetall(keys.runs).items()}


def reset_duplicate_filter(server: Redis, keys: Keys) -> bool:
    """Empty the duplicate filter for the next pass, if both streams are empty."""
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

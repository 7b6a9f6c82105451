"""``presswatch ingest``: the cluster's one SQLite writer. It replays the workers' messages
on a ``PassRecorder``, so the database is what ``presswatch run`` would write."""

from __future__ import annotations

import logging
import math
import signal
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

from redis import ConnectionPool, Redis, WatchError
from redis.exceptions import RedisError

from crawler import items
from crawler.cluster import frontier
from crawler.cluster.keys import INGEST_GROUP, Keys, process_id, text
from crawler.cluster.messages import Message, MessageError, decode
from crawler.cluster.published import NotPublished, Published, load
from crawler.cluster.streams import Entry, Stream, id_key
from crawler.cluster.upgrade import migrate
from crawler.config import NotifyTarget
from crawler.context import record_or_error
from crawler.fetching.urls import host_of, private_address
from crawler.run import PassSummary
from crawler.storage.lock import DatabaseLock, LockHeld
from crawler.storage.store import Store
from crawler.times import from_iso, to_iso, utc_now
from crawler.tracking.recorder import PassRecorder

log = logging.getLogger("presswatch.cluster")

SEED_CHUNK = 10_000
CONSUMER = "ingest"  # always the same name: a restarted ingester reads what it held


class IngesterRunning(RuntimeError):
    """Another ingester serves this Redis prefix."""


class WrongDatabase(RuntimeError):
    """The published source ids are not this database's: enqueue used another file."""


@dataclass(frozen=True)
class IngestOptions:
    db: Path
    prefix: str
    idle_exit: float | None = None  # exit after this long with nothing under way
    max_run: float = 1800.0  # a run open this long is closed; it goes on in a new row
    batch: int = 500  # messages per commit, at most
    notify: tuple[NotifyTarget, ...] = ()  # this host's alert targets (never published)


class Claim:
    """One ingester per prefix: the ``ingester`` key names the claim's own Redis connections
    (``CLIENT SETNAME``). A claim whose connections are gone (its process died, on any
    host) is taken over at once; one that Redis lost is taken again."""

    def __init__(self, server: Redis, key: str, me: str = "") -> None:
        # unique, even for a process that has the same host name and pid as the last one
        self.key, self.me = key, me or f"presswatch-ingest-{process_id()}-{uuid.uuid4().hex[:8]}"
        pool = server.connection_pool
        named = ConnectionPool(
            pool.connection_class, **pool.connection_kwargs | {"client_name": self.me}
        )
        self.server = Redis(connection_pool=named)

    def take(self) -> str | None:
        """Take the claim (None), or say who holds it."""
        with self.server.pipeline(transaction=True) as pipe:
            pipe.watch(self.key)
            holder = text(pipe.get(self.key) or b"")
            if holder not in ("", self.me) and self._connected(holder):
                return holder
            pipe.multi()
            pipe.set(self.key, self.me)
            try:
                pipe.execute()
            except WatchError:  # another took it meanwhile
                return text(self.server.get(self.key) or b"another ingester")
        if holder not in ("", self.me):
            log.warning("took over the claim of %s, which is no longer connected", holder)
        return None

    def keep(self) -> None:
        """Still ours (taken again if Redis lost it)? IngesterRunning if not."""
        _, held = self.server.pipeline().set(self.key, self.me, nx=True).get(self.key).execute()
        if (holder := text(held or b"")) != self.me:
            raise IngesterRunning(f"ingester {holder} took over {self.key}")

    def release(self) -> None:
        try:
            if self.server.get(self.key) == self.me.encode():
                self.server.delete(self.key)
        except RedisError as error:
            log.warning("could not remove the claim %s: %s", self.key, error)
        self.server.connection_pool.disconnect()

    def _connected(self, name: str) -> bool:
        return any(client.get("name") == name for client in self.server.client_list())


@dataclass(frozen=True)
class Offer:
    """A second source's offer of an article another request fetches."""

    entry: str
    at: datetime
    url: str
    source_id: int


@dataclass
class OpenRun:
    """A cluster run being recorded, as one ``runs`` row."""

    recorder: PassRecorder
    started_at: str
    started: float  # time.monotonic() at the start
    kept: list[str] = field(default_factory=list)  # entries acknowledged when it ends
    offers: list[Offer] = field(default_factory=list)  # linked when it ends
    boundary: str | None = None  # once its requests are done: the newest entry then


class Ingester:
    def __init__(
        self,
        options: IngestOptions,
        server: Redis,
        on_run_closed: Callable[[PassSummary], None] = lambda summary: None,
    ) -> None:
        self.options, self.server, self.on_run_closed = options, server, on_run_closed
        self.keys = Keys(options.prefix)
        self.stream = Stream(
            server, self.keys.items, INGEST_GROUP, CONSUMER, self.keys.dead_letters
        )
        self.store = Store.open(options.db)
        self.at: datetime | None = None  # when the message being replayed happened
        self.runs: dict[int, OpenRun] = {}  # by cluster run
        self.late: int | None = None  # the run opened for messages of no open run
        self.lock: DatabaseLock | None = None  # held while a run is open
        self.acks: list[str] = []  # entries to acknowledge with the batch being replayed
        self.configs: dict[str, Published] = {}
        self.stopping = False

    def serve(self) -> None:
        """Ingest until stopped, or until idle for ``idle_exit`` seconds."""
        claim = Claim(self.server, self.keys.ingester)
        if (holder := claim.take()) is not None:
            self.store.close()
            raise IngesterRunning(f"ingester {holder} already serves {self.keys.prefix!r}")
        try:
            self._serve(claim)
        finally:
            for run in list(self.runs):
                self.close_run(run, complete=False, status="interrupted")
            claim.release()
            self.store.close()

    def _serve(self, claim: Claim) -> None:
        migrate(self.server, self.keys)
        seed_stored_urls(self.server, self.keys, self.store)
        recovered = self.recover()
        if recovered:
            log.warning(
                "%d message(s) an ingester took and never committed: ingesting them again",
                len(recovered),
            )
        for start in range(0, len(recovered), self.options.batch):
            self.ingest(recovered[start : start + self.options.batch])
        quiet_since = time.monotonic()
        while not self.stopping:
            claim.keep()
            messages = self.stream.read(self.options.batch, block=1.0)
            if messages:
                self.ingest(messages)
                quiet_since = time.monotonic()
            self._close_finished_runs()
            if not messages and self._idle(quiet_since):
                return

    def recover(self) -> list[Entry]:
        """What a previous ingester took and never committed."""
        self.stream.create_group()
        return self.stream.resume() + self.stream.take_over(10_000)

    def _idle(self, quiet_since: float) -> bool:
        """Between messages: close the runs open too long; True when it is time to exit."""
        # busy: requests on the frontier, or messages beyond those this ingester holds back
        held = sum(len(run.kept) + len(run.offers) for run in self.runs.values())
        with self.server.pipeline(transaction=False) as pipe:
            requests, messages = pipe.xlen(self.keys.frontier).xlen(self.keys.items).execute()
        busy, now = bool(requests) or messages > held, time.monotonic()
        for run, opened in list(self.runs.items()):
            if now - opened.started >= self.options.max_run:
                self.close_run(run, complete=False)
                if not busy:  # its enqueue never finished
                    frontier.forget_run(self.server, self.keys, run)
                if not self.runs:
                    time.sleep(0.5)  # a digest waiting for the lock gets its turn
        if self.runs or busy:
            return False
        idle_exit = self.options.idle_exit
        return idle_exit is not None and now - quiet_since >= idle_exit

    def _close_finished_runs(self) -> None:
        """Open the runs listed in Redis; close those whose work is all committed: once the
        run's open set is empty, when every entry up to the newest one then was read."""
        delivered = id_key(self.stream.delivered())
        for run, generation in frontier.open_runs(self.server, self.keys).items():
            if run not in self.runs and not self._open(run, generation):
                continue
            open_run = self.runs[run]
            open_run.boundary = open_run.boundary or self._finished_at(run)
            if open_run.boundary is not None and id_key(open_run.boundary) <= delivered:
                self.close_run(run, complete=True)
                frontier.forget_run(self.server, self.keys, run)

    def _finished_at(self, run: int) -> str | None:
        """None while the run's requests are under way; else the newest message's id."""
        with self.server.pipeline(transaction=True) as pipe:
            pipe.scard(self.keys.key("run", run, "open"))
            pipe.xrevrange(self.keys.items, count=1)
            under_way, newest = pipe.execute()
        if under_way:
            return None
        return text(newest[0][0]) if newest else "0-0"

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping = True

    def ingest(self, entries: list[Entry]) -> None:
        """Replay a batch of messages, commit it, then acknowledge it."""
        stored: list[str] = []
        self.acks = []
        for entry in entries:
            try:
                message = decode(entry.data)
                self._check_address(message)
                run = self._run_of(message)
                self.at = from_iso(message.at)
                with self.store.transaction():  # a failing message writes nothing
                    stored += self._replay(run, entry.id, message)
            except WrongDatabase:
                raise
            except (MessageError, NotPublished) as error:
                self.stream.dead_letter(entry, str(error))
            except Exception as error:  # checked, yet the database refused it
                self.stream.dead_letter(entry, f"{type(error).__name__}: {error}")
        self.at = None
        if self.runs:
            self.store.commit_batch()
            self.store.begin_batch()
        self._ack(self.acks, stored)

    def _ack(self, ids: list[str], stored_urls: Sequence[str] = ()) -> None:
        """Committed: acknowledge, and publish the URLs now stored, in one transaction."""
        with self.server.pipeline(transaction=True) as pipe:
            self.stream.ack(ids, pipe)
            if stored_urls:
                pipe.sadd(self.keys.stored, *stored_urls)
            pipe.execute()

    def _check_address(self, message: Message) -> None:
        """Refuse an article at a private address, as a worker would refuse to fetch it."""
        config = self._published(message.generation).config
        if message.item is None or config.crawl.allow_private_addresses:
            return
        address = private_address(host_of(message.item.url))
        if address is not None:
            raise MessageError(
                f"item names a private address ({address}): {message.item.url[:100]}"
            )

    def _run_of(self, message: Message) -> int:
        """The message's own run if it is open, else the run this ingester opens for late
        messages (closed like any other)."""
        run = message.run
        if run is not None and (run in self.runs or self._open_listed(run)):
            return run
        if self.late not in self.runs:
            self.late = frontier.open_run(self.server, self.keys, message.generation)
            frontier.enqueued(self.server, self.keys, self.late)  # it has no requests
            self.runs[self.late] = self._open_run(self._published(message.generation))
            log.info("cluster run %d opened for messages of no open run", self.late)
        return self.late

    def _open_listed(self, run: int) -> bool:
        generation = self.server.hget(self.keys.runs, str(run))
        return generation is not None and self._open(run, text(generation))

    def _open(self, run: int, generation: str) -> bool:
        """Start recording a run Redis lists; False (and the run forgotten) if it cannot."""
        try:
            self.runs[run] = self._open_run(self._published(generation))
        except NotPublished as error:
            log.error("run %d cannot be recorded: %s", run, error)
            frontier.forget_run(self.server, self.keys, run)
            return False
        return True

    def _published(self, generation: str) -> Published:
        if generation not in self.configs:
            self.configs[generation] = load(self.server, self.keys, generation)
        return self.configs[generation]

    def _open_run(self, published: Published) -> OpenRun:
        self.lock = self.lock or self._lock()
        try:
            self._check_database(published)
            started_at = to_iso(utc_now())
            recorder = PassRecorder(
                store=self.store,
                config=published.config.model_copy(update={"notify": self.options.notify}),
                run_id=self.store.start_run(started_at),
                source_ids=dict(published.source_ids),
                topic_ids=dict(published.topic_ids),
                clock=lambda: self.at or utc_now(),  # when the message happened
                # the ingester commits once per batch it reads (``ingest``), never
                # inside a message's own transaction
                batch_items=sys.maxsize,
                batch_seconds=math.inf,
            )
        except BaseException:
            self._release_lock()
            raise
        recorder.begin()
        log.info("run %d opened (configuration %s)", recorder.run_id, published.generation)
        return OpenRun(recorder, started_at, time.monotonic())

    def _link_offers(self, key: int, run: OpenRun) -> list[str]:
        """Link the run's offers to their articles; the entries done. An offer of an
        article not stored yet waits in an older open run, whose request may fetch it."""
        older = [other for number, other in self.runs.items() if number < key]
        linked = []
        for offer in run.offers:
            if older and not self.store.article_exists(offer.url):
                older[0].offers.append(offer)
                continue
            self.at = offer.at
            run.recorder.seen_in_source(offer.url, offer.source_id)
            linked.append(offer.entry)
        self.at = None
        return linked

    def _release_lock(self) -> None:
        if self.lock is not None and not self.runs:
            self.lock.release()
            self.lock = None

    def close_run(self, key: int, *, complete: bool, status: str | None = None) -> PassSummary:
        """Finish an open run: validators saved only if ``complete``; the entries it kept
        acknowledged unless it is ``interrupted``."""
        run = self.runs.pop(key)
        try:
            recorder = run.recorder
            linked = self._link_offers(key, run)
            recorder.finish(complete=complete)
            counts = recorder.summary_counts()
            polled, failed = counts["sources_polled"], counts["sources_failed"]
            status = status or ("failed" if polled and failed == polled else "ok")
            finished_at = to_iso(utc_now())
            self.store.finish_run(recorder.run_id, finished_at, status, counts)
        finally:
            self._release_lock()
        if status != "interrupted":
            self._ack(run.kept + linked)
        if self.runs:  # the others go on writing in batches
            self.store.begin_batch()
        if complete:
            frontier.reset_duplicate_filter(self.server, self.keys)
        summary = PassSummary(
            run_id=recorder.run_id,
            status=status,
            db=str(self.options.db),
            started_at=run.started_at,
            finished_at=finished_at,
            seconds=round(time.monotonic() - run.started, 2),
            **counts,
        )
        self.on_run_closed(summary)
        return summary

    def _lock(self) -> DatabaseLock:
        """The database lock, waited for as long as it takes."""
        while True:
            lock = DatabaseLock(self.options.db, wait=60)
            try:
                lock.acquire()
                return lock
            except LockHeld as held:
                log.warning("%s; still waiting", held)

    def _check_database(self, published: Published) -> None:
        ids = self.store.source_ids()
        wrong = [name for name, id_ in published.source_ids.items() if ids.get(name) != id_]
        if wrong:
            raise WrongDatabase(
                f"{self.options.db} does not have the source ids enqueue published "
                f"({', '.join(sorted(wrong)[:3])}...): enqueue and ingest must use the "
                "same database"
            )

    def _replay(self, run: int, entry: str, message: Message) -> list[str]:
        """The message's recorder call (an event's kind is the method, its fields the
        arguments by name); the URLs it stored. Its entry is acknowledged with the batch,
        or when its run ends if its effect waits for then (below)."""
        recorder, fields = self.runs[run].recorder, message.fields
        if message.item is not None:
            self.acks.append(entry)
            return self._item(recorder, message.item)
        if message.kind == "offered":  # linked when its run ends (``close_run``)
            offer = Offer(entry, self.at or utc_now(), fields["url"], fields["source_id"])
            self.runs[run].offers.append(offer)
            return []
        getattr(recorder, message.kind)(**fields)
        (self.runs[run].kept if _kept_until_run_ends(message) else self.acks).append(entry)
        return []

    def _item(self, recorder: PassRecorder, item: items.ArticleItem) -> list[str]:
        """Record an item as the store pipeline does; the URLs it is now stored under."""
        reached_by = item.url
        if record_or_error(recorder, item) is None and item.outcome == items.PAGE:
            return [reached_by, item.url] if self.store.article_exists(item.url) else []
        return []


def _kept_until_run_ends(message: Message) -> bool:
    """Is this a message whose effect waits for the end of its run (a feed's validators;
    a failed new article, which keeps its feed's from being saved)? It stays
    unacknowledged until then, so the successor of an ingester that died replays it."""
    if message.kind == "source_polled":
        return bool(message.fields["etag"] or message.fields["last_modified"])
    return message.kind == "article_error" and bool(message.fields["new"])


def seed_stored_urls(server: Redis, keys: Keys, store: Store, *, force: bool = False) -> int:
    """Fill the ``stored`` set from the database when Redis lost it; how many were added."""
    if not force and server.exists(keys.stored):
        return 0
    added = 0
    for chunk in store.stored_urls(SEED_CHUNK):
        added += int(server.sadd(keys.stored, *chunk))
    return added


def run_ingest(
    options: IngestOptions, server: Redis, on_run_closed: Callable[[PassSummary], None]
) -> None:
    """Serve until SIGTERM or SIGINT (or idle for ``idle_exit`` seconds)."""
    ingester = Ingester(options, server, on_run_closed)
    previous = {sig: signal.signal(sig, ingester.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        ingester.serve()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

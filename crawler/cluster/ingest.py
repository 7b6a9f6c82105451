"""``presswatch ingest``: the cluster's one SQLite writer. It replays the workers' messages
on a ``PassRecorder`` (so the database is what ``presswatch run`` would write), commits
each batch before acknowledging it, and closes each run when its work is all committed
(docs/scaling.md, "Runs")."""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType

from redis import Redis
from redis.exceptions import LockNotOwnedError, RedisError
from redis.lock import Lock

from crawler import items
from crawler.cluster import DEFAULT_HEARTBEAT
from crawler.cluster.frontier import forget_run, open_runs, reset_duplicate_filter
from crawler.cluster.keys import INGEST_GROUP, Keys, process_id, text
from crawler.cluster.messages import ITEM, Message, MessageError, decode
from crawler.cluster.published import NotPublished, Published, load
from crawler.cluster.streams import Entry, Stream, id_key
from crawler.cluster.upgrade import migrate
from crawler.config import NotifyTarget
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
    settle: float = 2.0  # quiet seconds before a run of no name closes
    max_run: float = 1800.0  # a run open this long is closed and a new one opened
    batch: int = 500  # messages per commit, at most
    heartbeat: float = DEFAULT_HEARTBEAT  # the claim's time to live
    notify: tuple[NotifyTarget, ...] = ()  # this host's alert targets (never published)


class Claim:
    """One ingester per prefix: redis-py's ``Lock`` on the ``ingester`` key, holding
    ``host-pid`` and renewed every third of its time to live from a thread of its own (so
    a slow commit never makes it look dead). A holder that is a process of this host that
    no longer exists is replaced at once; another host's claim is waited out."""

    def __init__(self, server: Redis, key: str, ttl: float) -> None:
        self.server, self.key, self.me = server, key, process_id()
        self.lock = Lock(server, key, timeout=max(ttl, 1.0), thread_local=False)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._renew, name="claim", daemon=True)

    def take(self) -> str | None:
        """Take the claim (None), or say who holds it."""
        if not self.lock.acquire(blocking=False, token=self.me):
            holder = text(self.server.get(self.key) or b"")
            if not (_dead_here(holder) and self._replace(holder)):
                return holder
            log.warning("took over the claim of %s, a process of this host that is gone", holder)
        self.thread.start()
        return None

    def release(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        try:
            self.lock.release()
        except RedisError as error:
            log.warning("could not remove the claim %s: %s", self.key, error)

    def _replace(self, holder: str) -> bool:
        try:
            self.lock.do_release(holder)  # only if it still holds it
        except LockNotOwnedError:
            return False
        return bool(self.lock.acquire(blocking=False, token=self.me))

    def _renew(self) -> None:
        while not self.stopped.wait(self.lock.timeout / 3):
            try:
                try:
                    self.lock.reacquire()
                except LockNotOwnedError:  # gone from Redis (restarted): taken again if free
                    self.lock.acquire(blocking=False, token=self.me)
            except RedisError as error:  # keep trying: the key may survive a short outage
                log.warning("claim %s not renewed: %s", self.key, error)


def _dead_here(holder: str) -> bool:
    """Is ``holder`` (``host-pid``) a process of this host that no longer exists?"""
    host, _, pid = holder.rpartition("-")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


@dataclass
class OpenRun:
    recorder: PassRecorder
    generation: str
    started_at: str
    started: float  # time.monotonic() at the start
    last_message: float  # time.monotonic() of the last message


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
            server,
            self.keys.items,
            INGEST_GROUP,
            CONSUMER,
            self.keys.dead_letters,
            options.heartbeat,
        )
        self.store = Store.open(options.db)
        self.at: datetime | None = None  # when the message being replayed happened
        self.runs: dict[int | None, OpenRun] = {}  # by cluster run (None: no run named)
        self.lock: DatabaseLock | None = None  # held while a run is open
        self.boundaries: dict[int, str] = {}  # finished run -> its last message, or later
        self.current: int | None = None  # the run of the message being replayed
        # URL -> (source, entry, run) of the offers of an article not stored yet: their
        # entries stay unacknowledged until it is, so an ingester that dies keeps them
        self.pending: dict[str, list[tuple[int, str, int | None]]] = {}
        self.released: list[str] = []  # offer entries applied in the current batch
        self.kept: dict[int | None, list[str]] = {}  # run -> entries acknowledged at its end
        self.entry: Entry | None = None  # the entry being replayed
        self.configs: dict[str, Published] = {}
        self.stopping = False

    def serve(self) -> None:
        """Ingest until stopped, or until idle for ``idle_exit`` seconds."""
        claim = Claim(self.server, self.keys.ingester, self.options.heartbeat)
        if (holder := claim.take()) is not None:
            self.store.close()
            raise IngesterRunning(f"ingester {holder} already serves {self.keys.prefix!r}")
        try:
            self._serve()
        finally:
            for run in list(self.runs):
                self.close_run(run, complete=False, status="interrupted")
            claim.release()
            self.store.close()

    def _serve(self) -> None:
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
            messages = self.stream.read(self.options.batch, block=1.0)
            if messages:
                self.ingest(messages)
                quiet_since = time.monotonic()
                self._close_finished_runs()
            elif self._idle(quiet_since):
                return

    def recover(self) -> list[Entry]:
        """What a previous ingester took and never committed."""
        self.stream.create_group()
        return self.stream.resume() + self.stream.take_over(10_000)

    def _idle(self, quiet_since: float) -> bool:
        """Between messages: close finished runs; True when it is time to exit."""
        self._close_finished_runs()
        # busy: requests on the frontier, or messages beyond those this ingester holds back
        held = sum(map(len, self.pending.values())) + sum(map(len, self.kept.values()))
        with self.server.pipeline(transaction=False) as pipe:
            requests, messages = pipe.xlen(self.keys.frontier).xlen(self.keys.items).execute()
        busy, now = bool(requests) or messages > held, time.monotonic()
        unnamed = self.runs.get(None)
        if unnamed and not busy and now - unnamed.last_message >= self.options.settle:
            self.close_run(None, complete=True)
        for run, open_run in list(self.runs.items()):
            if now - open_run.started >= self.options.max_run:
                self.close_run(run, complete=False)
                if not busy and run is not None:  # its enqueue never finished
                    forget_run(self.server, self.keys, run)
                if not self.runs:
                    time.sleep(0.5)  # a digest waiting for the lock gets its turn
        if self.runs or busy:
            return False
        idle_exit = self.options.idle_exit
        return idle_exit is not None and now - quiet_since >= idle_exit

    def _close_finished_runs(self) -> None:
        """Open the runs enqueue opened; close those whose work is all committed: the
        run's open set is empty (its last message is on the stream, before the newest
        entry there now) and everything up to that entry was delivered, so committed."""
        delivered = self.stream.delivered()
        for run, generation in open_runs(self.server, self.keys).items():
            if run not in self.runs:
                try:
                    self.runs[run] = self._open_run(self._published(generation))
                except NotPublished as error:
                    log.error("run %d cannot be recorded: %s", run, error)
                    forget_run(self.server, self.keys, run)
                    continue
            boundary = self.boundaries.get(run) or self._finished_at(run)
            if boundary is None:  # requests of the run are still under way
                continue
            self.boundaries[run] = boundary
            if id_key(boundary) <= id_key(delivered):
                self.close_run(run, complete=True)
                forget_run(self.server, self.keys, run)
                del self.boundaries[run]

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
        done: list[str] = []
        for entry in entries:
            self.entry = entry
            try:
                message = decode(entry.data)
                recorder = self._recorder_for(message)
                self._check_addresses(message)
                self.at = from_iso(message.at)
                with self.store.transaction():  # a failing message writes nothing
                    stored += self._replay(recorder, message)
            except (MessageError, NotPublished) as error:
                self.stream.dead_letter(entry, str(error))
                continue
            except Exception as error:  # checked, yet the database refused it
                self.stream.dead_letter(entry, f"{type(error).__name__}: {error}")
                continue
            if _kept_until_run_ends(message):
                self.kept.setdefault(self.current, []).append(entry.id)
            else:
                done.append(entry.id)
        self.at, self.entry = None, None
        if self.runs:
            self.store.commit_batch()
            self.store.begin_batch()
        held = {entry for offers in self.pending.values() for _, entry, _ in offers}
        released, self.released = self.released, []
        self._ack([*(e for e in done if e not in held), *released], stored)

    def _ack(self, ids: list[str], stored_urls: Sequence[str] = ()) -> None:
        """Committed: acknowledge, and publish the URLs now stored, in one transaction."""
        with self.server.pipeline(transaction=True) as pipe:
            self.stream.ack(ids, pipe)
            if stored_urls:
                pipe.sadd(self.keys.stored, *stored_urls)
            pipe.execute()

    def _check_addresses(self, message: Message) -> None:
        """An article at a private address is refused as a worker would refuse to fetch
        it (its revisits would be enqueued), unless the configuration allows them."""
        if message.item is None:
            return
        if self.configs[message.generation].config.crawl.allow_private_addresses:
            return
        address = private_address(host_of(message.item.url))
        if address is not None:
            raise MessageError(
                f"item names a private address ({address}): {message.item.url[:100]}"
            )

    def _recorder_for(self, message: Message) -> PassRecorder:
        """The recorder of the message's run, opening it if needed. A message of a run
        that is not open (an older worker's, or late) goes to the run of no name."""
        run = message.run
        if run not in self.runs and not (
            run is not None and self.server.hexists(self.keys.runs, str(run))
        ):
            run = None
        unnamed = self.runs.get(None)
        if run is None and unnamed is not None and unnamed.generation != message.generation:
            self.close_run(None, complete=False)
        if run not in self.runs:
            self.runs[run] = self._open_run(self._published(message.generation))
        self.runs[run].last_message, self.current = time.monotonic(), run
        return self.runs[run].recorder

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
        now = time.monotonic()
        log.info("run %d opened (configuration %s)", recorder.run_id, published.generation)
        return OpenRun(recorder, published.generation, started_at, now, now)

    def _release_lock(self) -> None:
        if self.lock is not None and not self.runs:
            self.lock.release()
            self.lock = None

    def close_run(
        self, key: int | None, *, complete: bool, status: str | None = None
    ) -> PassSummary:
        """Finish an open run: validators saved only if ``complete``."""
        run = self.runs.pop(key)
        kept = self.kept.pop(key, [])
        try:
            recorder = run.recorder
            recorder.finish(complete=complete)
            counts = recorder.summary_counts()
            polled, failed = counts["sources_polled"], counts["sources_failed"]
            status = status or ("failed" if polled and failed == polled else "ok")
            finished_at = to_iso(utc_now())
            self.store.finish_run(recorder.run_id, finished_at, status, counts)
        finally:
            self._release_lock()
        if status != "interrupted":  # else a successor replays them (still pending)
            self._ack(kept)
        if self.runs:  # the others go on writing in batches
            self.store.begin_batch()
        if complete:  # its work is done: its offers still waiting lead to no article
            self._drop_offers(key)
            reset_duplicate_filter(self.server, self.keys)
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

    def _drop_offers(self, run: int | None) -> None:
        dropped = []
        for url, offers in list(self.pending.items()):
            dropped += [entry for _, entry, of_run in offers if of_run == run]
            if kept := [offer for offer in offers if offer[2] != run]:
                self.pending[url] = kept
            else:
                del self.pending[url]
        self._ack(dropped)

    def _lock(self) -> DatabaseLock:
        """The database lock, waited for as long as it takes (messages keep in Redis)."""
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

    def _replay(self, recorder: PassRecorder, message: Message) -> list[str]:
        """The message's recorder call (an event's kind is the method, its fields the
        arguments by name); the URLs it stored."""
        if message.kind == ITEM:
            return self._item(recorder, message)
        if message.kind == "offered":
            self._offered(recorder, message)
        else:
            getattr(recorder, message.kind)(**message.fields)
        return []

    def _item(self, recorder: PassRecorder, message: Message) -> list[str]:
        item = message.item
        assert item is not None  # decode() gives every item message its item
        reached_by = item.url
        offers = self.pending.pop(reached_by, [])
        item.also_from += [source_id for source_id, _, _ in offers]
        stored = False
        try:
            recorder.record(item)
            stored = item.outcome == items.PAGE and self.store.article_exists(item.url)
        except Exception as error:  # recorded, as the store pipeline does
            recorder.article_error(
                "store",
                f"{type(error).__name__}: {error}",
                url=item.url,
                source_id=item.source_id,
                new=item.article_id is None,
            )
        finally:
            if stored:  # the offers are linked: acknowledged with this batch
                self.released += [entry for _, entry, _ in offers]
            elif offers:  # wait for a fetch of it that stores it
                self.pending[reached_by] = offers
        return [reached_by, item.url] if stored else []

    def _offered(self, recorder: PassRecorder, message: Message) -> None:
        """Another source offered an article: link it now if stored, else when it is."""
        url, source_id = message.fields["url"], message.fields["source_id"]
        if self.store.article_exists(url):
            recorder.seen_in_source(url, source_id)
        elif self.entry is not None:
            self.pending.setdefault(url, []).append((source_id, self.entry.id, self.current))


def _kept_until_run_ends(message: Message) -> bool:
    """Is this a message whose effect waits for the end of its run (a feed's validators;
    a failed new article, which keeps its feed's from being saved)? It stays
    unacknowledged until then, so the successor of an ingester that died replays it."""
    if message.kind == "source_polled":
        return bool(message.fields["etag"] or message.fields["last_modified"])
    return message.kind == "article_error" and bool(message.fields["new"])


def seed_stored_urls(server: Redis, keys: Keys, store: Store, *, force: bool = False) -> int:
    """Fill the ``stored`` set from the database when it is missing (a new Redis, or
    one restarted without persistence); return how many URLs were added."""
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

"""A work queue on a Redis Stream read by a consumer group, as both of the cluster's queues
are: acknowledged once done, taken over after ``idle`` seconds, set aside when delivered
too often (docs/scaling.md, "Nothing lost")."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import ResponseError

from crawler.cluster.keys import text
from crawler.times import to_iso, utc_now

log = logging.getLogger("presswatch.cluster")

MAX_DELIVERIES = 5
DEAD_LETTERS_KEPT = 10_000  # the dead-letter stream is trimmed to about this length


@dataclass(frozen=True)
class Entry:
    id: str
    data: bytes


class Stream:
    def __init__(
        self,
        server: Redis,
        key: str,
        group: str,
        consumer: str,
        dead_letters: str,
        idle: float = 30.0,
        on_set_aside: Callable[[Entry], None] = lambda entry: None,
    ) -> None:
        self.server, self.key, self.group, self.consumer = server, key, group, consumer
        self.dead_key, self.idle_ms = dead_letters, max(int(idle * 1000), 1)
        self.on_set_aside = on_set_aside

    def create_group(self) -> None:
        """The consumer group, reading from the start of the stream (made if missing)."""
        try:
            self.server.xgroup_create(self.key, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def add(self, data: str | bytes, pipe: Pipeline | None = None) -> None:
        (pipe if pipe is not None else self.server).xadd(self.key, {"m": data})

    def resume(self) -> list[Entry]:
        """This consumer's own pending entries (held before a restart under its name)."""
        return self._checked(self._read("0", None))

    def read(self, count: int, block: float | None = None) -> list[Entry]:
        """Up to ``count`` new entries; wait up to ``block`` seconds for one if given."""
        return self._read(">", count, None if block is None else max(int(block * 1000), 1))

    def take_over(self, count: int) -> list[Entry]:
        """Entries other consumers left idle for longer than ``idle`` (XAUTOCLAIM)."""
        reply = self.server.xautoclaim(
            self.key, self.group, self.consumer, self.idle_ms, "0-0", count=count
        )
        entries = [_entry(id_, fields) for id_, fields in reply[1] if fields is not None]
        if entries:
            idle = self.idle_ms / 1000
            log.warning(
                "took over %d entr(ies) of %s left unfinished for %gs", len(entries), self.key, idle
            )
        return self._checked(entries)

    def touch(self, ids: Sequence[str]) -> None:
        """Still working on these: reset their idle time (no delivery is counted)."""
        if ids:
            self.server.xclaim(self.key, self.group, self.consumer, 0, list(ids), justid=True)

    def ack(self, ids: Iterable[str], pipe: Pipeline | None = None) -> None:
        """Done: acknowledge and delete, so ``XLEN`` counts what is not done."""
        if not (ids := list(ids)):
            return
        target = pipe if pipe is not None else self.server.pipeline(transaction=True)
        target.xack(self.key, self.group, *ids)
        target.xdel(self.key, *ids)
        if pipe is None:
            target.execute()

    def dead_letter(self, entry: Entry, reason: str) -> None:
        """Set ``entry`` aside with the reason, and take it off this stream."""
        record = {
            "at": to_iso(utc_now()),
            "reason": reason,
            "stream": self.key,
            "message": entry.data,
        }
        with self.server.pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_key, record, maxlen=DEAD_LETTERS_KEPT, approximate=True)
            self.ack([entry.id], pipe)
            pipe.execute()
        log.error("%s entry %s set aside in %s: %s", self.key, entry.id, self.dead_key, reason)
        self.on_set_aside(entry)

    def pending(self) -> int:
        """Entries delivered to some consumer and not acknowledged."""
        try:
            return int(self.server.xpending(self.key, self.group)["pending"])
        except ResponseError:  # no group yet
            return 0

    def waiting(self) -> int:
        """Entries no consumer has taken yet."""
        return max(int(self.server.xlen(self.key)) - self.pending(), 0)

    def delivered(self) -> str:
        """The id of the last entry handed to the group (all before it were, too)."""
        for group in self.server.xinfo_groups(self.key):
            if text(group["name"]) == self.group:
                return text(group["last-delivered-id"])
        return "0-0"

    def _read(self, after: str, count: int | None, block_ms: int | None = None) -> list[Entry]:
        reply: Any = self.server.xreadgroup(
            self.group, self.consumer, {self.key: after}, count=count, block=block_ms
        )
        if not reply:
            return []
        raw = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
        self.ack(text(id_) for id_, fields in raw if not fields)  # deleted meanwhile
        return [_entry(id_, fields) for id_, fields in raw if fields]

    def _checked(self, entries: list[Entry]) -> list[Entry]:
        """The entries delivered at most MAX_DELIVERIES times; the others are set aside."""
        with self.server.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xpending_range(self.key, self.group, entry.id, entry.id, 1)
            counts = [rows[0]["times_delivered"] if rows else 1 for rows in pipe.execute()]
        kept = []
        for entry, times in zip(entries, counts, strict=True):
            if times > MAX_DELIVERIES:
                self.dead_letter(entry, f"delivered {times} times and never finished (poison)")
            else:
                kept.append(entry)
        return kept


def dead_letters(server: Redis, key: str, most: int = 1) -> tuple[int, list[dict[str, str]]]:
    """How many entries are set aside in ``key``, and the newest ``most`` of them."""
    newest = [
        {text(k): text(v) for k, v in fields.items()}
        for _, fields in server.xrevrange(key, count=most)
    ]
    return int(server.xlen(key)), newest


def id_key(entry_id: str) -> tuple[int, int]:
    """A stream entry id (``ms-seq``) as something that sorts as the stream does."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _entry(id_: bytes | str, fields: dict[Any, Any]) -> Entry:
    data = fields.get(b"m", fields.get("m", b""))
    return Entry(text(id_), data if isinstance(data, bytes) else str(data).encode())

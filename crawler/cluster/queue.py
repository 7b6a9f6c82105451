"""The item stream from the workers to the ingester (``crawler.cluster.streams``).

Workers ``XADD`` messages. The ingester, consumer ``ingest`` of group ``ingest``, reads a
batch, writes it to SQLite, commits, and only then acknowledges the batch (``XACK`` and
``XDEL``, in one transaction with the URLs it stored). An ingester killed before that
leaves the batch pending under its name: the next one, started under the same name,
reads it again at once (``XREADGROUP ... 0``). A message is lost by no crash, and is
written twice only if the ingester died between its commit and its XACK, which the
recorder's idempotent writes absorb (an article is one URL; a second copy is an unchanged
re-check).
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis

from crawler.cluster.keys import INGEST_GROUP, Keys
from crawler.cluster.streams import Entry, Stream, dead_letters

CONSUMER = "ingest"


class ItemQueue:
    def __init__(self, server: Redis, keys: Keys, idle: float = 30.0) -> None:
        self.server, self.keys = server, keys
        self.stream = Stream(server, keys.items, INGEST_GROUP, CONSUMER, keys.dead_letters, idle)

    # -- the workers' side --------------------------------------------------------------

    def push(self, message: str) -> None:
        self.stream.add(message)

    # -- the ingester's side ------------------------------------------------------------

    def recover(self) -> list[Entry]:
        """What a previous ingester took and never committed."""
        self.stream.create_group()
        return self.stream.resume() + self.stream.take_over(10_000)

    def claim(self, most: int, wait: float) -> list[Entry]:
        """Take up to ``most`` messages, oldest first, waiting up to ``wait`` s for one."""
        return self.stream.read(most, block=wait)

    def ack(self, ids: Iterable[str], stored_urls: Iterable[str] = ()) -> None:
        """The messages are committed: acknowledge them, and publish the URLs now stored."""
        urls = list(stored_urls)
        with self.server.pipeline(transaction=True) as pipe:
            self.stream.ack(ids, pipe)
            if urls:
                pipe.sadd(self.keys.stored, *urls)
            pipe.execute()

    def delivered(self) -> str:
        """The id of the last message handed to the ingester (all before it, too)."""
        for group in self.server.xinfo_groups(self.keys.items):
            if _text(group["name"]) == INGEST_GROUP:
                return _text(group["last-delivered-id"])
        return "0-0"

    def finished_at(self, open_set: str) -> str | None:
        """None while ``open_set`` (a run's requests under way) is not empty; else the
        id of the newest message on the stream, a point after the run's last message."""
        with self.server.pipeline(transaction=True) as pipe:
            pipe.scard(open_set)
            pipe.xrevrange(self.keys.items, count=1)
            under_way, newest = pipe.execute()
        if under_way:
            return None
        return _text(newest[0][0]) if newest else "0-0"

    def dead_letter(self, entry: Entry, reason: str, at: str) -> None:
        """Set a message that fails its checks aside, out of the way of the others."""
        self.stream.dead_letter(entry, reason, at)

    def dead_letters(self, most: int = 1) -> tuple[int, list[dict[str, str]]]:
        """How many entries (messages or requests) are set aside, and the newest ones:
        ``{"at", "reason", "stream", "message"}``."""
        return dead_letters(self.server, self.keys.dead_letters, most)

    def __len__(self) -> int:
        return int(self.server.xlen(self.keys.items))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

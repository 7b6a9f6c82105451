"""Upgrading a cluster from Redis lists to Redis Streams: what the old frontier, item queue
and set-aside list hold is moved onto the streams, oldest first, and the old keys deleted,
in one transaction per kind, tried again if an old process writes meanwhile
(docs/scaling.md, "Upgrading from the Redis lists"). ``enqueue`` and ``ingest`` call it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis, WatchError
from redis.client import Pipeline

from crawler.cluster.keys import Keys

log = logging.getLogger("presswatch.cluster")


@dataclass(frozen=True)
class Migrated:
    requests: int = 0
    messages: int = 0
    dead_letters: int = 0


def migrate(server: Redis, keys: Keys) -> Migrated:
    """Move whatever the old lists hold onto the streams; say how much moved."""
    moved = Migrated(
        _move(server, keys, [keys.key("requests"), keys.key("leases")], _requests),
        _move(server, keys, [keys.key("items"), keys.key("items", "processing")], _messages),
        _move(server, keys, [keys.key("items", "dead")], _dead_letters),
    )
    server.delete(keys.key("workers"))  # the old workers' registry
    if moved != Migrated():
        log.warning(
            "moved from the lists of an older presswatch: %d request(s), %d message(s), "
            "%d set-aside message(s)",
            moved.requests,
            moved.messages,
            moved.dead_letters,
        )
    return moved


Reader = Callable[[Pipeline, Keys], list[tuple[str, dict[str, Any]]]]


def _move(server: Redis, keys: Keys, old: list[str], read: Reader) -> int:
    """Read ``old`` while watching it, then write to the streams and delete it."""
    while True:
        with server.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(*old)
                writes = read(pipe, keys)
                if writes:
                    pipe.multi()
                    for stream, fields in writes:
                        pipe.xadd(stream, fields)
                    pipe.delete(*old)
                    pipe.execute()
                return len(writes)
            except WatchError:
                continue


def _requests(pipe: Pipeline, keys: Keys) -> list[tuple[str, dict[str, Any]]]:
    waiting = list(pipe.zrange(keys.key("requests"), 0, -1, withscores=True))
    for value in pipe.hvals(keys.key("leases")):  # "score request", by "worker:n"
        score, _, member = value.partition(b" ")
        waiting.append((member, float(score)))
    waiting.sort(key=lambda pair: pair[1])  # the highest priority first, as it was served
    return [(keys.frontier, {"m": member}) for member, _ in waiting]


def _messages(pipe: Pipeline, keys: Keys) -> list[tuple[str, dict[str, Any]]]:
    # both lists were consumed from the right: the oldest message is the last one
    taken = pipe.lrange(keys.key("items", "processing"), 0, -1)[::-1]
    waiting = pipe.lrange(keys.key("items"), 0, -1)[::-1]
    return [(keys.items, {"m": message}) for message in [*taken, *waiting]]


def _dead_letters(pipe: Pipeline, keys: Keys) -> list[tuple[str, dict[str, Any]]]:
    writes = []
    for raw in pipe.lrange(keys.key("items", "dead"), 0, -1)[::-1]:  # the oldest first
        try:
            record = {str(k): str(v) for k, v in json.loads(raw).items()}
        except (ValueError, AttributeError):
            record = {"at": "", "reason": "unreadable", "message": raw.decode("utf-8", "replace")}
        writes.append((keys.dead_letters, {**record, "stream": keys.key("items")}))
    return writes

"""Upgrading a cluster from Redis lists to Redis Streams: nothing left behind.

Before Redis Streams, the frontier was a sorted set (``requests``) with leased requests
in a hash (``leases``), the item queue a list (``items``) with the ingester's taken
messages in another (``items:processing``), and set-aside messages a third
(``items:dead``). ``migrate`` moves everything they hold onto the streams, oldest first
(taken messages before waiting ones, leased requests with the others), and deletes the
old keys, in one transaction per kind that fails if an old process wrote to them
meanwhile (then it tries again). ``enqueue`` and ``ingest`` call it when they start.
"""

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
        _move(server, keys, [keys.legacy_requests, keys.legacy_leases], _requests),
        _move(server, keys, [keys.legacy_items, keys.legacy_processing], _messages),
        _move(server, keys, [keys.legacy_dead_letters], _dead_letters),
    )
    server.delete(keys.legacy_workers)
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
    waiting = list(pipe.zrange(keys.legacy_requests, 0, -1, withscores=True))
    for value in pipe.hvals(keys.legacy_leases):
        score, _, member = value.partition(b" ")
        waiting.append((member, float(score)))
    waiting.sort(key=lambda pair: pair[1])  # the highest priority first, as it was served
    return [(keys.frontier, {"m": member}) for member, _ in waiting]


def _messages(pipe: Pipeline, keys: Keys) -> list[tuple[str, dict[str, Any]]]:
    # both lists were consumed from the right: the oldest message is the last one
    taken = pipe.lrange(keys.legacy_processing, 0, -1)[::-1]
    waiting = pipe.lrange(keys.legacy_items, 0, -1)[::-1]
    return [(keys.items, {"m": message}) for message in [*taken, *waiting]]


def _dead_letters(pipe: Pipeline, keys: Keys) -> list[tuple[str, dict[str, Any]]]:
    writes = []
    for raw in pipe.lrange(keys.legacy_dead_letters, 0, -1)[::-1]:  # the oldest first
        try:
            record = {str(k): str(v) for k, v in json.loads(raw).items()}
        except (ValueError, AttributeError):
            record = {"at": "", "reason": "unreadable", "message": raw.decode("utf-8", "replace")}
        writes.append((keys.dead_letters, {**record, "stream": keys.legacy_items}))
    return writes

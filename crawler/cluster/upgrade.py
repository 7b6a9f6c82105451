"""Upgrading a cluster from Redis lists to Redis Streams: what the old frontier, item queue
and set-aside list hold is moved onto the streams, oldest first, and the old keys deleted,
in one transaction per kind, tried again if an old process writes meanwhile. What moves
becomes one run, so the ingester closes it when that work is done (docs/scaling.md,
"Upgrading from the Redis lists"). ``enqueue`` and ``ingest`` call it."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis, WatchError
from redis.client import Pipeline

from crawler.cluster import frontier
from crawler.cluster.keys import Keys
from crawler.cluster.published import current_generation

log = logging.getLogger("presswatch.cluster")

Writes = list[tuple[str, tuple[Any, ...]]]  # (pipeline method, its arguments)


@dataclass(frozen=True)
class Migrated:
    requests: int = 0
    messages: int = 0
    dead_letters: int = 0


def migrate(server: Redis, keys: Keys) -> Migrated:
    """Move whatever the old lists hold onto the streams; say how much moved."""
    requests = [keys.key("requests"), keys.key("leases")]
    messages = [keys.key("items"), keys.key("items", "processing")]
    generation = current_generation(server, keys) if server.exists(*requests, *messages) else None
    run = None if generation is None else frontier.open_run(server, keys, generation)
    moved = Migrated(
        _move(server, requests, lambda pipe: _requests(pipe, keys, run)),
        _move(server, messages, lambda pipe: _messages(pipe, keys, run)),
        _move(server, [keys.key("items", "dead")], lambda pipe: _dead_letters(pipe, keys)),
    )
    if run is not None:
        frontier.enqueued(server, keys, run)
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


def _move(server: Redis, old: list[str], read: Callable[[Pipeline], Writes]) -> int:
    """Read ``old`` while watching it, then write to the streams and delete it; the number
    of entries added."""
    while True:
        with server.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(*old)
                writes = read(pipe)
                if writes:
                    pipe.multi()
                    for method, arguments in writes:
                        getattr(pipe, method)(*arguments)
                    pipe.delete(*old)
                    pipe.execute()
                return sum(method == "xadd" for method, _ in writes)
            except WatchError:
                continue


def _requests(pipe: Pipeline, keys: Keys, run: int | None) -> Writes:
    waiting = list(pipe.zrange(keys.key("requests"), 0, -1, withscores=True))
    for value in pipe.hvals(keys.key("leases")):  # "score request", by "worker:n"
        score, _, member = value.partition(b" ")
        waiting.append((member, float(score)))
    waiting.sort(key=lambda pair: pair[1])  # the highest priority first, as it was served
    writes: Writes = []
    for member, _ in waiting:
        request, token = _in_run(member, run)
        writes.append(("xadd", (keys.frontier, {"m": request})))
        if token is not None:  # in its run's open set until it is finished
            writes.append(("sadd", (keys.key("run", run, "open"), token)))
    return writes


def _in_run(request: bytes, run: int | None) -> tuple[bytes, str | None]:
    """An old request with the run of what moves, and a token, in its meta; as it is if
    there is no run or it is not such JSON (the worker that reads it sets it aside)."""
    if run is None:
        return request, None
    try:
        data = json.loads(request)
        token = data["meta"].setdefault(frontier.TOKEN, uuid.uuid4().hex)
        data["meta"][frontier.RUN] = run
    except (ValueError, RecursionError, LookupError, TypeError, AttributeError):
        return request, None
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode(), token


def _messages(pipe: Pipeline, keys: Keys, run: int | None) -> Writes:
    # both lists were consumed from the right: the oldest message is the last one
    taken = pipe.lrange(keys.key("items", "processing"), 0, -1)[::-1]
    waiting = pipe.lrange(keys.key("items"), 0, -1)[::-1]
    return [("xadd", (keys.items, {"m": _of_run(m, run)})) for m in [*taken, *waiting]]


def _of_run(message: bytes, run: int | None) -> bytes:
    """An old message (which names no run) as one of the run of what moves; as it is if
    there is no run or it is not such JSON (the ingester sets it aside)."""
    try:
        data = json.loads(message) if run is not None else None
    except (ValueError, RecursionError):
        return message
    if not isinstance(data, dict):
        return message
    return json.dumps(data | {"run": run}, ensure_ascii=False, separators=(",", ":")).encode()


def _dead_letters(pipe: Pipeline, keys: Keys) -> Writes:
    writes: Writes = []
    for raw in pipe.lrange(keys.key("items", "dead"), 0, -1)[::-1]:  # the oldest first
        try:
            record = {str(k): str(v) for k, v in json.loads(raw).items()}
        except (ValueError, AttributeError):
            record = {"at": "", "reason": "unreadable", "message": raw.decode("utf-8", "replace")}
        writes.append(("xadd", (keys.dead_letters, {**record, "stream": keys.key("items")})))
    return writes

"""Where the cluster's state lives: the Redis server, the names of presswatch's keys under
one prefix (so several clusters can share a server; docs/scaling.md lists each key's type
and job), and the name a process goes by there."""

from __future__ import annotations

import os
import socket

from redis import Redis

DEFAULT_PREFIX = "presswatch"
WORKERS_GROUP = "workers"  # the consumer group of the frontier: every worker
INGEST_GROUP = "ingest"  # the consumer group of the item stream: the one ingester


class Keys:
    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix
        self.frontier = self.key("stream:requests")
        self.items = self.key("stream:items")
        self.dead_letters = self.key("stream:dead")
        self.dupefilter = self.key("dupefilter")
        self.runs = self.key("runs")  # open runs: id -> generation
        self.run_ids = self.key("runs:last")
        self.ingester = self.key("ingester")
        self.stored = self.key("stored")
        self.config_current = self.key("config:current")

    def key(self, *parts: object) -> str:
        """The name of a key under the prefix: ``key("run", 7, "open")`` is
        ``presswatch:run:7:open``."""
        return ":".join([self.prefix, *map(str, parts)])


def redis_client(url: str) -> Redis:
    """A client for ``redis://`` or ``rediss://`` (TLS) URLs, with a password if given."""
    return Redis.from_url(
        url,
        socket_timeout=30,
        socket_connect_timeout=10,
        retry_on_timeout=True,
        health_check_interval=30,
    )


def process_id() -> str:
    """This process's name in the cluster: host and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


def text(value: bytes | str) -> str:
    """A Redis reply as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value

"""Heartbeats: how the cluster tells a dead worker (or ingester) from a busy one.

A process keeps a key alive with a time to live of ``ttl`` seconds, renewing it every
``ttl / 3`` seconds from a thread of its own (so a long extraction or a slow SQLite commit
in the main thread never makes it look dead). When the process dies, however it dies, the
key expires ``ttl`` seconds later and its work can be taken over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from redis import Redis
from redis.exceptions import RedisError

from crawler.cluster import DEFAULT_HEARTBEAT

log = logging.getLogger("presswatch.cluster")


def process_id() -> str:
    """This process's name in the cluster: host and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Heartbeat:
    """Keeps ``key`` set to ``value`` while running; deletes it on ``stop``."""

    def __init__(self, server: Redis, key: str, value: str, ttl: float = DEFAULT_HEARTBEAT) -> None:
        self.server, self.key, self.value, self.ttl = server, key, value, ttl
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def claim(self) -> bool:
        """Set the key only if nobody holds it (for a role that must be unique)."""
        return bool(self.server.set(self.key, self.value, px=self._ttl_ms, nx=True))

    def holder(self) -> str | None:
        value = self.server.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def start(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def beat(self) -> None:
        self.server.set(self.key, self.value, px=self._ttl_ms)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            if self.holder() == self.value:
                self.server.delete(self.key)
        except RedisError as error:
            log.warning("could not remove heartbeat %s: %s", self.key, error)

    @property
    def _ttl_ms(self) -> int:
        return max(int(self.ttl * 1000), 1000)

    def _run(self) -> None:
        while not self._stopped.wait(self.ttl / 3):
            try:
                self.beat()
            except RedisError as error:  # keep trying: the key may survive a short outage
                log.warning("heartbeat %s failed: %s", self.key, error)

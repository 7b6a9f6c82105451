"""The ingester's claim: one ingester per prefix.

(Workers need no heartbeat of their own: the frontier stream's pending entries and their
idle time say which requests a stopped worker held, see ``crawler.cluster.streams``.)

The ingester keeps a key holding ``host-pid`` alive with a time to live of ``ttl``
seconds, renewing it every ``ttl / 3`` seconds from a thread of its own (so a slow SQLite
commit never makes it look dead). A claim whose holder is a process of this host that no
longer exists is taken over at once, so an ingester restarted after a crash starts
immediately; a claim from another host is waited out (``ttl``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from redis import Redis, WatchError
from redis.exceptions import RedisError

from crawler.cluster import DEFAULT_HEARTBEAT

log = logging.getLogger("presswatch.cluster")


def process_id() -> str:
    """This process's name in the cluster: host and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


def dead_here(holder: str) -> bool:
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


class Heartbeat:
    """Keeps ``key`` set to ``value`` while running; deletes it on ``stop``."""

    def __init__(self, server: Redis, key: str, value: str, ttl: float = DEFAULT_HEARTBEAT) -> None:
        self.server, self.key, self.value, self.ttl = server, key, value, ttl
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def claim(self) -> bool:
        """Set the key if nobody holds it, or its holder is a dead process of this host."""
        if self.server.set(self.key, self.value, px=self._ttl_ms, nx=True):
            return True
        with self.server.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(self.key)
                value = pipe.get(self.key)
                holder = value.decode() if isinstance(value, bytes) else value
                if holder is not None and not dead_here(holder):
                    return False
                pipe.multi()
                pipe.set(self.key, self.value, px=self._ttl_ms)
                pipe.execute()
            except WatchError:  # another process claimed it meanwhile
                return False
        log.warning("took over the claim of %s, a process of this host that is gone", holder)
        return True

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

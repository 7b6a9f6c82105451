"""The names of everything presswatch keeps in Redis, under one prefix.

Several clusters (or a test and a cluster) can share one Redis server with different
prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "presswatch"


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    @property
    def requests(self) -> str:
        """ZSET: the frontier, requests waiting for a worker (scrapy-redis PriorityQueue)."""
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        """SET: fingerprints of the requests made since the cluster was last idle."""
        return f"{self.prefix}:dupefilter"

    @property
    def leases(self) -> str:
        """HASH: requests a worker has taken and not finished, ``worker:n`` -> request."""
        return f"{self.prefix}:leases"

    @property
    def workers(self) -> str:
        """SET: the ids of the workers that may hold leases."""
        return f"{self.prefix}:workers"

    def alive(self, worker: str) -> str:
        """STRING with a time to live: a worker's heartbeat."""
        return f"{self.prefix}:alive:{worker}"

    @property
    def items(self) -> str:
        """LIST: items and events on their way to the ingester."""
        return f"{self.prefix}:items"

    @property
    def processing(self) -> str:
        """LIST: messages the ingester has taken and not yet committed to SQLite."""
        return f"{self.prefix}:items:processing"

    @property
    def dead_letters(self) -> str:
        """LIST: messages the ingester could not read, kept for inspection."""
        return f"{self.prefix}:items:dead"

    @property
    def ingester(self) -> str:
        """STRING with a time to live: the one ingester's heartbeat and id."""
        return f"{self.prefix}:ingester"

    @property
    def stored(self) -> str:
        """SET: URLs (canonical and aliases) of the articles in the database."""
        return f"{self.prefix}:stored"

    @property
    def config_current(self) -> str:
        """STRING: the generation of the configuration enqueue published last."""
        return f"{self.prefix}:config:current"

    def config(self, generation: str) -> str:
        """HASH: one published configuration: its TOML, source and topic ids."""
        return f"{self.prefix}:config:{generation}"

"""The names of everything presswatch keeps in Redis, under one prefix.

Several clusters (or a test and a cluster) can share one Redis server with different
prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "presswatch"
WORKERS_GROUP = "workers"  # the consumer group of the frontier: every worker
INGEST_GROUP = "ingest"  # the consumer group of the item stream: the one ingester


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    @property
    def frontier(self) -> str:
        """STREAM (group ``workers``): requests waiting for, or held by, a worker."""
        return f"{self.prefix}:stream:requests"

    @property
    def items(self) -> str:
        """STREAM (group ``ingest``): items and events on their way to the ingester."""
        return f"{self.prefix}:stream:items"

    @property
    def dead_letters(self) -> str:
        """STREAM: entries set aside (unreadable, or delivered too often), with the reason."""
        return f"{self.prefix}:stream:dead"

    @property
    def dupefilter(self) -> str:
        """SET: fingerprints of the requests made since the cluster was last idle."""
        return f"{self.prefix}:dupefilter"

    def site(self, host: str) -> str:
        """ZSET: the requests in flight to one site, cluster-wide (token -> expiry, ms)."""
        return f"{self.prefix}:site:{host}"

    def site_free_at(self, host: str) -> str:
        """STRING: when the next request to one site may start (Redis time, ms)."""
        return f"{self.prefix}:site:{host}:free-at"

    @property
    def runs(self) -> str:
        """HASH: the runs enqueue opened and the ingester has not closed, id -> generation."""
        return f"{self.prefix}:runs"

    @property
    def run_ids(self) -> str:
        """STRING: the last run id given out (INCR)."""
        return f"{self.prefix}:runs:last"

    def run_open(self, run: int) -> str:
        """SET: the tokens of one run's requests not finished yet (and enqueue's own
        while it is adding them)."""
        return f"{self.prefix}:run:{run}:open"

    @property
    def ingester(self) -> str:
        """STRING with a time to live: the one ingester's claim, ``host-pid``."""
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

    # -- before Redis Streams: read only to move what they hold (crawler.cluster.upgrade)

    @property
    def legacy_requests(self) -> str:
        """ZSET: the old frontier (scrapy-redis PriorityQueue)."""
        return f"{self.prefix}:requests"

    @property
    def legacy_leases(self) -> str:
        """HASH: the old frontier's leased requests, ``worker:n`` -> ``score request``."""
        return f"{self.prefix}:leases"

    @property
    def legacy_items(self) -> str:
        """LIST: the old item queue."""
        return f"{self.prefix}:items"

    @property
    def legacy_processing(self) -> str:
        """LIST: messages the old ingester had taken and not committed."""
        return f"{self.prefix}:items:processing"

    @property
    def legacy_dead_letters(self) -> str:
        """LIST: messages the old ingester set aside."""
        return f"{self.prefix}:items:dead"

    @property
    def legacy_workers(self) -> str:
        """SET: the old registry of workers (heartbeats under ``alive:<worker>``)."""
        return f"{self.prefix}:workers"

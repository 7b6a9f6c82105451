"""presswatch on several machines: crawl workers sharing a Redis frontier, one SQLite writer.

    presswatch enqueue  (next to the database)  due feed polls and revisits -> frontier
    presswatch worker   (any number, any host)  frontier -> fetch, extract, match -> items
    presswatch ingest   (next to the database)  items -> PassRecorder -> SQLite

Modules, each with one job:

- ``keys``: the names of everything presswatch keeps in Redis.
- ``codec``: requests on the frontier as JSON (no pickle travels through Redis).
- ``frontier``: the shared request queue and duplicate filter (scrapy-redis's), with
  leases so that a killed worker's requests return to the queue.
- ``scheduler``: the Scrapy scheduler of a worker, on top of the frontier.
- ``messages``: items and events as versioned JSON, and back to presswatch's dataclasses.
- ``queue``: the reliable item queue between the workers and the ingester.
- ``recorder``: what a worker's spider and pipelines report to, in place of PassRecorder.
- ``published``: the configuration enqueue shares with the workers and the ingester.
- ``liveness``: heartbeats, by which a dead worker or ingester is recognised.
- ``worker``, ``ingest``, ``enqueue``: the three commands; ``cli``: their click layer.

See docs/scaling.md for the design and how to run it.
"""

DEFAULT_HEARTBEAT = 30.0  # seconds without a heartbeat after which a process is dead

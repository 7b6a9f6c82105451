"""presswatch on several machines: crawl workers sharing a Redis frontier, one SQLite writer.

    presswatch enqueue  (next to the database)  due feed polls and revisits -> frontier
    presswatch worker   (any number, any host)  frontier -> fetch, extract, match -> items
    presswatch ingest   (next to the database)  items -> PassRecorder -> SQLite

Modules, each with one job:

- ``keys``: the names of everything presswatch keeps in Redis.
- ``codec``: requests on the frontier as JSON (no pickle travels through Redis).
- ``streams``: a work queue on a Redis Stream consumer group; both queues are one.
- ``frontier``: the shared request stream and duplicate filter (scrapy-redis's).
- ``scheduler``: the Scrapy scheduler of a worker, on top of the frontier, and the spider
  middleware that says when a request is finished.
- ``politeness``: per-site limits shared by the whole cluster, through Redis.
- ``messages``: items and events as versioned JSON, and back to presswatch's dataclasses.
- ``queue``: the item stream between the workers and the ingester.
- ``recorder``: what a worker's spider and pipelines report to, in place of PassRecorder.
- ``published``: the configuration enqueue shares with the workers and the ingester.
- ``liveness``: the one ingester's claim.
- ``upgrade``: what an older presswatch left in Redis lists, moved onto the streams.
- ``worker``, ``ingest``, ``enqueue``: the three commands (click: crawler/commands/).

See docs/scaling.md for the design and how to run it.
"""

DEFAULT_HEARTBEAT = 30.0  # idle seconds after which a process's held work is taken over

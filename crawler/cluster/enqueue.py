"""``presswatch enqueue``: open a run and put one pass's feed polls and due revisits on the
frontier, built by the spider methods a local pass starts with. Like ``crawler.run``, it
imports ``spiders/``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from redis import Redis

from crawler.cluster.frontier import Frontier, enqueued, open_run, reset_duplicate_filter
from crawler.cluster.ingest import seed_stored_urls
from crawler.cluster.keys import Keys
from crawler.cluster.messages import RemoteRecorder
from crawler.cluster.published import publish, shared_toml
from crawler.cluster.upgrade import migrate
from crawler.config import Config, ConfigError
from crawler.context import RECHECK_CHOICES, PassContext
from crawler.items import FeedEntry
from crawler.matching import TopicMatcher
from crawler.storage.store import Store
from crawler.times import to_iso, utc_now


@dataclass(frozen=True)
class EnqueueSummary:
    """What ``presswatch enqueue`` did; ``--json`` prints exactly this."""

    generation: str  # the configuration published for the workers
    run: int  # the run opened for these requests (the ingester closes it when they are done)
    polls: int  # source polls put on the frontier
    revisits: int  # stored articles (and gone links) put on the frontier again
    queued: int  # requests on the frontier now, waiting or held by a worker
    recovered: int  # requests moved from the frontier of an older presswatch (upgrade)
    seeded: int  # stored URLs copied into Redis (when it had none)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def enqueue(
    config: Config,
    server: Redis,
    keys: Keys,
    *,
    db_path: str | Path | None = None,
    source_names: Sequence[str] = (),
    poll_sources: bool = True,
    recheck: str = "due",
    reseed: bool = False,
    clock: Callable[[], datetime] = utc_now,
) -> EnqueueSummary:
    """Queue the polls of the configured sources (or ``source_names``) and the stored
    articles to re-check (``recheck``: due, all or none)."""
    if recheck not in RECHECK_CHOICES:
        raise ConfigError(f"--recheck must be one of {', '.join(RECHECK_CHOICES)}")
    sources = tuple(config.source(name) for name in source_names) or config.sources
    store = Store.open(Path(db_path) if db_path else config.storage.db)
    try:
        recorder = _recorder(config, server, keys, store)
        context = PassContext(
            config,
            recorder,
            TopicMatcher.compile(()),
            sources if poll_sources else (),
            recheck,
            to_iso(clock()),
        )
        seeded = seed_stored_urls(server, keys, store, force=reseed)
        recovered = migrate(server, keys).requests
        reset_duplicate_filter(server, keys)  # a new pass, if the last one is over
        recorder.run = run = open_run(server, keys, recorder.generation)
        try:
            polls, revisits = _submit(context, recorder, store, server, keys)
        finally:
            enqueued(server, keys, run)
    finally:
        store.close()
    queued = int(server.xlen(keys.frontier))  # acknowledged requests are deleted
    return EnqueueSummary(recorder.generation, run, polls, revisits, queued, recovered, seeded)


def _recorder(config: Config, server: Redis, keys: Keys, store: Store) -> RemoteRecorder:
    """Mirror sources and topics, publish the configuration, and report to the ingester
    under it."""
    source_ids = store.sync_sources(config.sources)
    topic_ids = store.sync_topics(config.topics)
    generation = publish(server, keys, shared_toml(config.path), source_ids, topic_ids)
    return RemoteRecorder(server, keys, config, source_ids, generation, store=store)


def _submit(
    context: PassContext, recorder: RemoteRecorder, store: Store, server: Redis, keys: Keys
) -> tuple[int, int]:
    from spiders.cluster import ClusterSpider

    spider = ClusterSpider(context)
    frontier = Frontier(server, keys, spider, on_duplicate=recorder.duplicate, run=recorder.run)
    requests = [spider.source_request(source) for source in context.sources]
    polls = sum(frontier.submit(request) for request in requests if request is not None)
    revisits = 0
    if context.recheck != "none":
        due_by = context.started_at if context.recheck == "due" else None
        for row in store.due_articles(due_by):
            revisits += frontier.submit(spider.revisit_request(row))
        for row in store.due_gone_links(due_by):
            request = spider.new_article_request(row["url"], row["source_id"], FeedEntry())
            revisits += frontier.submit(request)
    return polls, revisits

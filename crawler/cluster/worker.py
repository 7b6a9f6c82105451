"""``presswatch worker``: one long Scrapy crawl of ``ClusterSpider`` over the shared
frontier, with a local pass's extraction and matching pipelines and a last one that hands
each item to the ingester. Like ``crawler.run`` it starts a crawl, so it imports
``spiders/``."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any, NoReturn

from redis import Redis
from redis.exceptions import RedisError
from scrapy.crawler import CrawlerProcess

from crawler.cluster import DEFAULT_HEARTBEAT
from crawler.cluster.keys import Keys, process_id, redis_client
from crawler.cluster.messages import RemoteRecorder
from crawler.cluster.published import NotPublished, Published, load
from crawler.context import PassContext
from crawler.matching import TopicMatcher
from crawler.times import to_iso, utc_now

log = logging.getLogger("presswatch.cluster")

EXIT_LOST_REDIS = 75  # EX_TEMPFAIL: a supervisor should start the worker again
CONFIG_POLL_SECONDS = 1.0
WORKER_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.match.MatchPipeline": 200,
    "pipelines.push.PushPipeline": 300,
}


@dataclass(frozen=True)
class WorkerOptions:
    redis_url: str
    prefix: str
    worker_id: str = ""
    heartbeat: float = DEFAULT_HEARTBEAT  # idle seconds before others take over its requests
    idle_exit: float | None = None  # stop after this long with nothing under way
    log_level: str = "WARNING"


def fail_stop(error: RedisError) -> NoReturn:
    """Redis refused a hand-over: stop at once. Acknowledging nothing, this worker's
    requests stay pending under its name, and another worker takes them over after
    ``--heartbeat`` seconds (or this one, restarted under the same name, at once)."""
    log.critical("lost Redis (%s): stopping; other workers take over this worker's requests", error)
    logging.shutdown()
    os._exit(EXIT_LOST_REDIS)


def worker_context(server: Redis, keys: Keys, published: Published) -> PassContext:
    recorder = RemoteRecorder(
        server,
        keys,
        published.config,
        published.source_ids,
        published.generation,
        on_lost=fail_stop,
    )
    return PassContext(
        published.config,
        recorder,
        TopicMatcher.compile(published.config.topics),
        (),
        "none",
        to_iso(utc_now()),
    )


def wait_for_config(server: Redis, keys: Keys, give_up: float | None) -> Published | None:
    """The current published configuration; wait for one (None after ``give_up`` s)."""
    started, told = time.monotonic(), False
    while True:
        try:
            return load(server, keys)
        except NotPublished as error:
            if give_up is not None and time.monotonic() - started >= give_up:
                return None
            if not told:
                log.warning("%s; waiting", error)
                told = True
        time.sleep(CONFIG_POLL_SECONDS)


def worker_settings(options: WorkerOptions, published: Published) -> dict[str, Any]:
    from crawler.settings import pass_settings

    settings = pass_settings(published.config, log_level=options.log_level)
    settings.update(
        {
            "SCHEDULER": "crawler.cluster.scheduler.ClusterScheduler",
            "ITEM_PIPELINES": WORKER_PIPELINES,
            "SPIDER_MIDDLEWARES": {
                **settings["SPIDER_MIDDLEWARES"],
                "crawler.cluster.scheduler.FinishedMiddleware": 25,
            },
            "DOWNLOADER_MIDDLEWARES": {
                **settings["DOWNLOADER_MIDDLEWARES"],
                "crawler.cluster.politeness.ClusterPolitenessMiddleware": 990,
            },
            "PRESSWATCH_REDIS_URL": options.redis_url,
            "PRESSWATCH_CLUSTER_PREFIX": options.prefix,
            "PRESSWATCH_WORKER_ID": options.worker_id or process_id(),
            "PRESSWATCH_HEARTBEAT": options.heartbeat,
            "PRESSWATCH_IDLE_EXIT": -1 if options.idle_exit is None else options.idle_exit,
            "LOG_INSTALL_ROOT_HANDLER": False,
        }
    )
    return settings


def run_worker(options: WorkerOptions) -> str:
    """Work until stopped (or idle for ``idle_exit`` s); return Scrapy's finish reason,
    or ``no configuration`` when none was published in time."""
    from spiders.cluster import ClusterSpider

    logging.getLogger("scrapy").setLevel(options.log_level)
    server, keys = redis_client(options.redis_url), Keys(options.prefix)
    published = wait_for_config(server, keys, options.idle_exit)
    if published is None:
        return "no configuration"
    process = CrawlerProcess(worker_settings(options, published))
    crawler = process.create_crawler(ClusterSpider)
    process.crawl(crawler, context=worker_context(server, keys, published))
    process.start()
    return crawler.stats.get_value("finish_reason") or "error"

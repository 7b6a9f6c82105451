"""Scrapy settings: the static defaults of the presswatch Scrapy project, and the
settings one pass derives from its configuration.

This is also the Scrapy project's settings module (see scrapy.cfg), so ``scrapy list``
and ``scrapy shell`` work from the repository root.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import default_settings

from crawler.config import Config, CrawlConfig

BOT_NAME = "presswatch"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.match.MatchPipeline": 200,
    "pipelines.store.StorePipeline": 300,
}
DOWNLOADER_MIDDLEWARES = {
    "crawler.fetching.middlewares.PrivateAddressMiddleware": 50,  # before robots.txt is asked
    # robots.txt kept across passes in the database, for its cache lifetime (at most 24 h)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.fetching.robots.CachedRobotsTxtMiddleware": 100,
    "crawler.fetching.middlewares.EmptyResponseMiddleware": 70,
    "crawler.fetching.middlewares.EncodingMiddleware": 80,  # after decompression (590)
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.fetching.middlewares.PoliteRetryMiddleware": 550,
    # its errors skip the retries
    "crawler.fetching.middlewares.RefusedHostMiddleware": 560,
    # before RedirectMiddleware (600)
    "crawler.fetching.middlewares.RedirectGuardMiddleware": 610,
}
SPIDER_MIDDLEWARES = {
    "crawler.storage.guard.StorageGuardMiddleware": 950,  # nearest the spider: sees errors first
}
# Only http and https: no other scheme can be fetched, even by a redirect.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
TWISTED_DNS_RESOLVER = "crawler.fetching.resolver.PublicAddressResolver"

EXTENSIONS = {
    "crawler.ops.progress.ProgressDisplay": 500,
}
# Scrapy's extensions without those a pass never uses, which are then not even imported
# (Scrapy imports every extension it lists; RemoteControl imports aiohttp): a pass with
# nothing to do is mostly start-up (docs/performance.md).
_UNUSED_EXTENSIONS = ("remote_control", "telnet", "feedexport", "memdebug", "spiderstate")
EXTENSIONS_BASE = {
    name: order
    for name, order in default_settings.EXTENSIONS_BASE.items()
    if name.split(".")[2] not in _UNUSED_EXTENSIONS
}
PRESSWATCH_PROGRESS = False

# Politeness: robots.txt, AutoThrottle within a per-domain limit, Retry-After honoured.
# The defaults of [crawl] come from its schema; a pass sets them from its config.
_crawl_defaults = CrawlConfig()
ROBOTSTXT_OBEY = _crawl_defaults.obey_robots
AUTOTHROTTLE_ENABLED = _crawl_defaults.autothrottle
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
DOWNLOAD_DELAY = 0
CONCURRENT_REQUESTS_PER_DOMAIN = _crawl_defaults.per_domain_concurrency
AUTOTHROTTLE_TARGET_CONCURRENCY = float(CONCURRENT_REQUESTS_PER_DOMAIN)
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy checks every response's callback for a generator that returns a value by parsing
# its source (inspect, tokenize, ast): callbacks are bound methods, which its cache cannot
# keep, so that was about 8% of a re-check pass's CPU. tests/test_spider_callbacks.py makes
# the same check once, over every callback of spiders/.
WARN_ON_GENERATOR_RETURN_VALUE = False

# Limits: bounded retries spaced out (crawler.fetching.middlewares.PoliteRetryMiddleware), bounded
# redirects; DOWNLOAD_MAXSIZE (from the config) also bounds a decompressed body.
RETRY_TIMES = 2
PRESSWATCH_RETRY_BACKOFF = 0.5  # seconds before the first retry, doubling after
PRESSWATCH_RETRY_AFTER_MAX = 120.0  # the longest Retry-After wait honoured, in seconds
REDIRECT_MAX_TIMES = 5
DOWNLOAD_WARNSIZE = 0
# A response yields one article item at most (a feed yields requests): Scrapy's default of
# 100 parallel item slots per response would start 100 tasks for each page.
CONCURRENT_ITEMS = 8
LOG_LEVEL = "WARNING"
# Never an item (it holds the page) in a log line: presswatch logs each failure once.
LOG_FORMATTER = "crawler.ops.logformatter.ItemlessLogFormatter"
# Extraction awaits a process pool: asyncio's reactor runs coroutine pipelines natively.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def pass_settings(
    config: Config, *, log_level: str = "WARNING", progress: bool = False
) -> dict[str, Any]:
    """All Scrapy settings for one pass over ``config``."""
    names = [name for name in globals() if name.isupper()]
    settings = {name: globals()[name] for name in names}
    crawl = config.crawl
    per_domain = crawl.per_domain_concurrency
    settings.update(
        {
            "USER_AGENT": crawl.user_agent,
            "CONCURRENT_REQUESTS": crawl.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
            "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": float(per_domain),
            "DOWNLOAD_TIMEOUT": crawl.timeout,
            "DNS_TIMEOUT": crawl.timeout,
            "DOWNLOAD_MAXSIZE": crawl.max_page_size,
            "ROBOTSTXT_OBEY": crawl.obey_robots,
            "PRESSWATCH_ALLOW_PRIVATE_ADDRESSES": crawl.allow_private_addresses,
            "PRESSWATCH_PROXY_RESOLVES_NAMES": crawl.proxy_resolves_names,
            "LOG_LEVEL": log_level,
            # Scrapy's stats: counted per request and dumped at the end only when verbose
            "STATS_DUMP": log_level == "DEBUG",
            "DOWNLOADER_STATS": log_level == "DEBUG",
            "PRESSWATCH_PROGRESS": progress,
        }
    )
    return settings

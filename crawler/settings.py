"""Scrapy settings: the static defaults of the presswatch Scrapy project, and the
settings one pass derives from its configuration.

This is also the Scrapy project's settings module (see scrapy.cfg), so ``scrapy list``
and ``scrapy shell`` work from the repository root.
"""

from __future__ import annotations

from typing import Any

from crawler.config import Config

BOT_NAME = "presswatch"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.match.MatchPipeline": 200,
    "pipelines.store.StorePipeline": 300,
}
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.PrivateAddressMiddleware": 50,
}

ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
CONCURRENT_REQUESTS_PER_DOMAIN = 8
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
DOWNLOAD_WARNSIZE = 0
LOG_LEVEL = "WARNING"
# Extraction awaits a process pool: asyncio's reactor runs coroutine pipelines natively.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def pass_settings(config: Config, *, log_level: str = "WARNING") -> dict[str, Any]:
    """All Scrapy settings for one pass over ``config``."""
    names = [name for name in globals() if name.isupper()]
    settings = {name: globals()[name] for name in names}
    crawl = config.crawl
    settings.update({
        "USER_AGENT": crawl.user_agent,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_page_size,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "PRESSWATCH_ALLOW_PRIVATE_ADDRESSES": crawl.allow_private_addresses,
        "LOG_LEVEL": log_level,
    })
    return settings

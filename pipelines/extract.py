"""Extraction pipeline: page bytes -> Article, in a pool of worker processes.

Extraction is the costly step of a pass. Running it in other processes keeps the
reactor free to fetch and write while every core extracts. ``[crawl] extract_workers
= 0`` extracts inline instead (same results, one core). The pool starts at the first page
to extract: a pass with nothing new starts no worker and never imports trafilatura.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from scrapy.exceptions import DropItem

from crawler import items
from crawler.extraction.article import ExtractionError, extract_page
from crawler.extraction.partial import is_partial
from crawler.items import Article, ArticleItem
from crawler.ops.lifeline import die_with_parent
from crawler.tracking.similarity import simhash
from pipelines.base import PassPipeline

# What the forkserver imports once, for every worker it forks.
PRELOAD = [
    "pipelines.extract",
    "pipelines.extract_server",
    "trafilatura",
    "crawler.extraction.metadata",
    "crawler.extraction.tails",
]
MIN_FINGERPRINT_WORDS = 50  # shorter texts (teasers, briefs) look alike without being copies
PageJob = tuple[bytes, str, str, str | None]  # process_page's arguments


def process_page(
    body: bytes, encoding: str, url: str, body_selector: str | None
) -> tuple[Article, int | None]:
    """The work done in a worker: the article and the SimHash of its text."""
    article = extract_page(body, encoding, url, body_selector)
    long_enough = len(article.text.split()) >= MIN_FINGERPRINT_WORDS
    return article, simhash(article.text) if long_enough else None


class ExtractPipeline(PassPipeline):
    pool: ProcessPoolExecutor | None = None

    def _start_pool(self) -> ProcessPoolExecutor | None:
        """The worker pool, started at the first page (None: extract inline)."""
        workers = self.context.config.crawl.extract_workers
        if self.pool is None and workers > 0:
            context = multiprocessing.get_context("forkserver")
            # The forkserver dies with the pass, each worker with the forkserver.
            context.set_forkserver_preload(PRELOAD)
            self.pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=die_with_parent
            )
        return self.pool

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.outcome != items.PAGE:
            return item
        source = self.context.recorder.sources_by_id.get(item.source_id)
        job = (item.body, item.encoding, item.url, source.body_selector if source else None)
        try:
            article, item.fingerprint = await self._run(job)
        except ExtractionError as error:
            self._fail(item, str(error))
        except Exception as error:  # a worker crash must not end the pass
            self._fail(item, f"{type(error).__name__}: {error}")
        item.article, item.is_partial = article, is_partial(article, item.entry.summary)
        if self.context.config.archive.keep == "none":
            item.body = b""  # the text is what flows on; let the page go
        return item

    async def _run(self, job: PageJob) -> tuple[Article, int | None]:
        pool = self._start_pool()
        if pool is None:
            return process_page(*job)
        return await asyncio.wrap_future(pool.submit(process_page, *job))

    def _fail(self, item: ArticleItem, message: str) -> None:
        self.context.recorder.article_error(
            "extract", message, url=item.url, source_id=item.source_id, new=item.article_id is None
        )
        raise DropItem(f"{item.url}: {message}")

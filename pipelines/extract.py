"""Extraction pipeline: page HTML -> Article, in a pool of worker processes.

Extraction is the costly step of a pass. Running it in other processes keeps the
reactor free to fetch and write while every core extracts. ``[crawl] extract_workers
= 0`` extracts inline instead (same results, one core).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from scrapy.exceptions import DropItem

from crawler import items
from crawler.extract import Article, ExtractionError, extract_page
from crawler.items import ArticleItem
from pipelines.base import PassPipeline


class ExtractPipeline(PassPipeline):
    pool: ProcessPoolExecutor | None = None

    def open_spider(self) -> None:
        workers = self.context.config.crawl.extract_workers
        if workers > 0:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["crawler.extract"])
            self.pool = ProcessPoolExecutor(workers, mp_context=context)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.outcome != items.PAGE:
            return item
        try:
            item.article = await self._extract(item.body, item.encoding, item.url)
        except ExtractionError as error:
            self._fail(item, str(error))
        except Exception as error:  # a worker crash must not end the pass
            self._fail(item, f"{type(error).__name__}: {error}")
        item.body = b""  # the text is what flows on; let the page go
        return item

    async def _extract(self, body: bytes, encoding: str, url: str) -> Article:
        if self.pool is None:
            return extract_page(body, encoding, url)
        return await asyncio.wrap_future(self.pool.submit(extract_page, body, encoding, url))

    def _fail(self, item: ArticleItem, message: str) -> None:
        self.context.recorder.article_error("extract", message, url=item.url,
                                            source_id=item.source_id,
                                            new=item.article_id is None)
        raise DropItem(f"{item.url}: {message}")

"""Storage pipeline: one transaction per article into the SQLite database."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.context import record_or_error
from crawler.items import ArticleItem
from crawler.storage.guard import stop_pass
from crawler.storage.store import StorageFailed
from pipelines.base import PassPipeline


class StorePipeline(PassPipeline):
    def process_item(self, item: ArticleItem) -> ArticleItem:
        recorder = self.context.recorder
        if recorder.failure is not None:  # the pass is stopping: fetched again next pass
            return item
        try:
            problem = record_or_error(recorder, item)
        except StorageFailed as error:  # the batch is lost: the pass stops, in one line
            stop_pass(self.crawler, error)
            return item
        if problem is not None:  # recorded, and the pass goes on with the next article
            raise DropItem(f"{item.url}: not stored: {problem}")
        return item

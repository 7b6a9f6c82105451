"""Storage pipeline: one transaction per article into the SQLite database."""

from __future__ import annotations

from scrapy.exceptions import DropItem

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
            recorder.record(item)
        except StorageFailed as error:  # the batch is lost: the pass stops, in one line
            stop_pass(self.crawler, error)
        except Exception as error:  # recorded, and the pass goes on with the next article
            try:
                recorder.article_error(
                    "store",
                    f"{type(error).__name__}: {error}",
                    url=item.url,
                    source_id=item.source_id,
                    new=item.article_id is None,
                )
            except StorageFailed as failure:
                stop_pass(self.crawler, failure)
                return item
            raise DropItem(f"{item.url}: not stored: {error}") from error
        return item

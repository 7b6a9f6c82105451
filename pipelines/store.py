"""Storage pipeline: one transaction per article into the SQLite database."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.items import ArticleItem
from pipelines.base import PassPipeline


class StorePipeline(PassPipeline):
    def process_item(self, item: ArticleItem) -> ArticleItem:
        recorder = self.context.recorder
        try:
            recorder.record(item)
        except Exception as error:  # recorded, and the pass goes on with the next article
            recorder.article_error("store", f"{type(error).__name__}: {error}", url=item.url,
                                   source_id=item.source_id, new=item.article_id is None)
            raise DropItem(f"{item.url}: not stored: {error}") from error
        return item

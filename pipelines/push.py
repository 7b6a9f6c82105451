"""Push pipeline: on a cluster worker, hand the finished item to the ingester.

It takes the place of the storage pipeline: the item, extracted and matched, goes onto the
item queue in Redis as JSON (``crawler.cluster.messages``), and ``presswatch ingest``
stores it through the same recorder as a local pass. If Redis cannot take it, the worker
stops at once (``crawler.cluster.worker.fail_stop``) so that the request is fetched again
by another worker rather than lost.
"""

from __future__ import annotations

from crawler.items import ArticleItem
from pipelines.base import PassPipeline


class PushPipeline(PassPipeline):
    def process_item(self, item: ArticleItem) -> ArticleItem:
        self.context.recorder.record(item)
        return item

"""Matching pipeline: Article -> the watched topics it mentions."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.items import ArticleItem
from pipelines.base import PassPipeline


class MatchPipeline(PassPipeline):
    def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.article is None:
            return item
        title = item.article.title or item.entry.title or ""
        try:
            item.matches = self.context.matcher.match(title, item.article.text)
        except Exception as error:  # a matcher bug must cost one article, recorded, not the pass
            message = f"{type(error).__name__}: {error}"
            self.context.recorder.article_error("match", message, url=item.url,
                                                source_id=item.source_id,
                                                new=item.article_id is None)
            raise DropItem(f"{item.url}: {message}") from error
        return item

"""Matching pipeline: Article -> the watched topics it mentions."""

from __future__ import annotations

from crawler.items import ArticleItem
from pipelines.base import PassPipeline


class MatchPipeline(PassPipeline):
    def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.article is not None:
            title = item.article.title or item.entry.title or ""
            item.matches = self.context.matcher.match(title, item.article.text)
        return item

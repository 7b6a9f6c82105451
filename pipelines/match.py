"""Matching pipeline: Article -> the watched topics it mentions."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.items import ArticleItem
from crawler.matching.models import TopicMatch
from pipelines.base import PassPipeline


class MatchPipeline(PassPipeline):
    def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.article is None:
            return item
        title = item.article.title or item.entry.title or ""
        try:
            item.matches = self.context.matcher.match(title, item.article.text)
            item.summary_matches = self._in_summary(item)
        except Exception as error:  # a matcher bug must cost one article, recorded, not the pass
            message = f"{type(error).__name__}: {error}"
            self.context.recorder.article_error(
                "match",
                message,
                url=item.url,
                source_id=item.source_id,
                new=item.article_id is None,
            )
            raise DropItem(f"{item.url}: {message}") from error
        return item

    def _in_summary(self, item: ArticleItem) -> list[TopicMatch]:
        """Topics the feed's summary mentions and the page does not (a teaser's summary
        often says more than the teaser)."""
        if not item.entry.summary:
            return []
        found = {match.topic for match in item.matches}
        return [
            match
            for match in self.context.matcher.match("", item.entry.summary)
            if match.topic not in found
        ]

"""Everything one pass shares between its spider and its pipelines."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.config import Config, Source
from crawler.matching import TopicMatcher
from crawler.tracking.recorder import PassRecorder

RECHECK_CHOICES = ("due", "all", "none")


@dataclass
class PassContext:
    """Handed to the spider as an argument; pipelines reach it through ``crawler.spider``."""

    config: Config
    recorder: PassRecorder
    matcher: TopicMatcher
    sources: tuple[Source, ...]  # the sources this pass polls
    recheck: str = "due"  # which stored articles to re-fetch: due, all or none
    started_at: str = ""  # ISO time the pass started; "due" means due by then

    def source_id(self, source: Source) -> int:
        return self.recorder.source_ids[source.name]

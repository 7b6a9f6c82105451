"""Everything one pass shares between its spider and its pipelines: the pass context, and
the :class:`Recorder` they report what they find to."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from crawler.config import Config, Source
from crawler.items import ArticleItem
from crawler.storage.store import StorageFailed, Store

if TYPE_CHECKING:  # the matcher is compiled only for a crawl (crawler/run.py)
    from crawler.matching import TopicMatcher

RECHECK_CHOICES = ("due", "all", "none")


class Recorder(Protocol):
    """Where the spider and the pipelines report a pass's findings.

    A local pass writes them to the database (crawler.tracking.recorder.PassRecorder); a
    cluster worker sends each call to the ingester (crawler.cluster.messages.RemoteRecorder),
    which replays it on a PassRecorder. The reports' parameters are what a cluster
    message carries: crawler.cluster.messages checks each event against these signatures.
    """

    source_ids: dict[str, int]  # each configured source's id in the database, by name
    sources_by_id: dict[int, Source]
    counts: Counter[str]  # what the pass found so far (the progress line shows it)

    @property
    def store(self) -> Store | None:
        """The database the pass reads its due re-checks and feeds' validators from;
        None on a cluster worker, whose requests come built from the frontier."""
        ...

    @property
    def failure(self) -> str | None:
        """Why the pass can no longer write, once it cannot; None while it can."""
        ...

    # -- reported by the spider -------------------------------------------------------

    def error(
        self, stage: str, message: str, *, url: str | None = None, source_id: int | None = None
    ) -> None: ...

    def article_error(
        self, stage: str, message: str, *, url: str, source_id: int | None, new: bool
    ) -> None: ...

    def skipped(self, source_id: int, url: str, reason: str) -> None: ...

    def source_polled(
        self,
        source_id: int,
        status: str,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None: ...

    def is_stored(self, url: str) -> bool: ...

    def seen_in_source(self, url: str, source_id: int) -> None: ...

    def link_gone(
        self,
        url: str,
        source_id: int | None,
        status: int,
        message: str,
        final_url: str | None = None,
    ) -> None: ...

    def gone_not_due(self, url: str) -> bool: ...

    # -- handed over by the last pipeline -----------------------------------------------

    def record(self, item: ArticleItem) -> None: ...


@dataclass
class PassContext:
    """Handed to the spider as an argument; pipelines reach it through ``crawler.spider``."""

    config: Config
    recorder: Recorder
    matcher: TopicMatcher
    sources: tuple[Source, ...]  # the sources this pass polls
    recheck: str = "due"  # which stored articles to re-fetch: due, all or none
    started_at: str = ""  # ISO time the pass started; "due" means due by then
    rechecked: frozenset[int] = frozenset()  # articles re-checked before the crawl

    def source_id(self, source: Source) -> int:
        return self.recorder.source_ids[source.name]


def record_or_error(recorder: Recorder, item: ArticleItem) -> str | None:
    """Hand ``item`` to ``recorder``; when that fails for any reason but a lost batch,
    record the one-line reason as the article's ``store`` error and return it. A
    :class:`StorageFailed` propagates: the pass stops."""
    try:
        recorder.record(item)
    except StorageFailed:
        raise
    except Exception as error:
        problem = f"{type(error).__name__}: {error}"
        new = item.article_id is None
        recorder.article_error("store", problem, url=item.url, source_id=item.source_id, new=new)
        return problem
    return None

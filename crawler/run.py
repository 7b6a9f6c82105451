"""Where crawls start: one monitoring pass (configuration, storage and a Scrapy crawl
wired together), and the discovery crawl of ``presswatch sources add``.

A pass is one Scrapy crawl in the calling process. Twisted's reactor cannot be started
twice in one process, so anything that runs many passes (the scheduler, the tests)
starts each pass as a child process: ``presswatch run``.

A pass first asks its sources and due re-checks with the quick check
(crawler/fetching/quick_check.py) and records each 304 Not Modified; when nothing else is
left, it ends without starting Scrapy: Scrapy, Twisted and the pass's stages are imported
only when a crawl runs.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.config import Config, ConfigError, Source
from crawler.context import RECHECK_CHOICES
from crawler.storage.store import StorageFailed, Store, describe_failure
from crawler.times import to_iso, utc_now
from crawler.tracking.recorder import PassRecorder

if TYPE_CHECKING:
    from scrapy.crawler import CrawlerProcess

    from crawler.context import PassContext
    from crawler.fetching import quick_check
    from crawler.sources.discovery import Candidate

log = logging.getLogger("presswatch.pass")

# A crawl here runs one spider class, given to it: Scrapy's spider loader need not import
# every module of spiders/ (the cluster's spider imports Redis); `scrapy crawl` still can.
ONE_SPIDER = {"LOG_INSTALL_ROOT_HANDLER": False, "SPIDER_MODULES": []}


@dataclass(frozen=True)
class PassSummary:
    """What one pass did; ``presswatch run --json`` prints exactly this."""

    run_id: int
    status: str  # ok; failed (every source failed, or the database could not
    # be written); interrupted (by a signal)
    db: str
    started_at: str
    finished_at: str
    seconds: float
    sources_polled: int
    sources_failed: int
    articles_new: int
    articles_checked: int
    versions_new: int
    changes_new: int
    mentions_new: int
    errors: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def run_pass(
    config: Config,
    *,
    db_path: str | Path | None = None,
    source_names: Sequence[str] = (),
    poll_sources: bool = True,
    recheck: str = "due",
    clock: Callable[[], datetime] = utc_now,
    log_level: str = "WARNING",
    progress: bool = False,
) -> PassSummary:
    """Poll the configured sources once, fetch what is new or due, store it all.

    ``source_names`` limits polling to those sources; ``poll_sources=False`` polls none
    and only re-checks stored articles.
    """
    if recheck not in RECHECK_CHOICES:
        raise ConfigError(f"--recheck must be one of {', '.join(RECHECK_CHOICES)}")
    sources = tuple(config.source(name) for name in source_names) or config.sources
    if not poll_sources:
        sources = ()
    db = Path(db_path) if db_path else config.storage.db
    store = Store.open(db)
    try:
        return _run(config, store, db, sources, recheck, clock, log_level, progress)
    finally:
        store.close()


def _run(
    config: Config,
    store: Store,
    db: Path,
    sources: tuple[Source, ...],
    recheck: str,
    clock: Callable[[], datetime],
    log_level: str,
    progress: bool,
) -> PassSummary:
    started = time.monotonic()
    started_at = to_iso(clock())
    recorder = PassRecorder(
        store=store, config=config, clock=clock, **_open_run(store, config, started_at)
    )
    recorder.begin()
    log.info(
        "pass %d started: %d source(s) to poll, re-check %s", recorder.run_id, len(sources), recheck
    )
    finish_reason = "error"
    try:
        left = _quick_pass(recorder, sources, recheck, started_at)
        finish_reason = left.finish_reason or _crawl(
            _context(config, recorder, left, recheck, started_at), log_level, progress
        )
    finally:
        recorder.finish(complete=finish_reason == "finished")
    counts = recorder.summary_counts()
    status = _status(finish_reason, len(sources), counts["sources_failed"])
    if recorder.failure is not None:
        status = "failed"
    finished_at = to_iso(clock())
    _finish_run(store, recorder.run_id, finished_at, status, counts)
    _log_finished(recorder.run_id, status, time.monotonic() - started, counts)
    return PassSummary(
        run_id=recorder.run_id,
        status=status,
        db=str(db),
        started_at=started_at,
        finished_at=finished_at,
        seconds=round(time.monotonic() - started, 2),
        **counts,
    )


def _log_finished(run_id: int, status: str, seconds: float, counts: dict[str, int]) -> None:
    c = counts
    log.log(
        logging.INFO if status == "ok" else logging.WARNING,
        "pass %d %s in %.1fs: %d source(s) polled, %d failed; %d new article(s), "
        "%d re-checked, %d changed; %d mention(s); %d error(s)",
        run_id,
        status,
        seconds,
        c["sources_polled"],
        c["sources_failed"],
        c["articles_new"],
        c["articles_checked"],
        c["changes_new"],
        c["mentions_new"],
        c["errors"],
    )


def _open_run(store: Store, config: Config, started_at: str) -> dict[str, Any]:
    """Close abandoned runs, start this one, mirror sources and topics into the database;
    StorageFailed (one line) when the database cannot take even that."""
    try:
        _close_abandoned_runs(store, started_at)
        opened = {
            "run_id": store.start_run(started_at),
            "source_ids": store.sync_sources(config.sources),
            "topic_ids": store.sync_topics(config.topics),
        }
    except sqlite3.Error as error:
        raise StorageFailed(
            f"cannot start a pass in {store.path}: {describe_failure(error)}"
        ) from error
    missing = {s.name for s in config.sources} - set(opened["source_ids"])
    if missing:
        raise StorageFailed(
            f"cannot start a pass in {store.path}: the sources could not "
            "be written (is the disk full?)"
        )
    return opened


def _close_abandoned_runs(store: Store, now: str) -> None:
    """Close the runs earlier passes left ``running``: this pass holds the lock, so none
    of them is still going (killed, or stopped by a database it could not write)."""
    closed = store.close_abandoned_runs(
        now,
        "the pass ended without recording its end (killed, or the database could not "
        "be written); closed by the next pass",
    )
    if closed:
        log.warning(
            "closed %d run(s) an earlier pass left running: %s",
            len(closed),
            ", ".join(map(str, closed)),
        )


def _finish_run(store: Store, run_id: int, now: str, status: str, counts: dict[str, int]) -> None:
    """Record the run's end; when the database cannot take even that, say so in one
    line: the next pass closes the run."""
    try:
        store.finish_run(run_id, now, status, counts)
    except (StorageFailed, sqlite3.Error) as error:
        reason = describe_failure(error) if isinstance(error, sqlite3.Error) else error
        log.error(
            "run %d: cannot record its end (%s): %s; the next pass closes it",
            run_id,
            status,
            reason,
        )


def _status(finish_reason: str, sources: int, failed: int) -> str:
    """ok; failed when every source failed; interrupted when stopped by a signal."""
    if finish_reason != "finished":
        return "interrupted"
    return "failed" if sources and failed == sources else "ok"


class _Stopped(Exception):
    """SIGINT or SIGTERM arrived during the quick check."""


QUICK_RECHECKS = 20_000
"""At most this many due re-checks are asked by the quick check in one pass; the crawl
asks the others."""


@dataclass(frozen=True)
class _Left:
    """What the crawl still has to do after the quick check (``finished`` when nothing,
    ``shutdown`` when a signal stopped the pass)."""

    finish_reason: str | None = None
    sources: tuple[Source, ...] = ()
    rechecked: frozenset[int] = frozenset()  # articles the quick check recorded


def _quick_pass(
    recorder: PassRecorder, sources: tuple[Source, ...], recheck: str, started_at: str
) -> _Left:
    """Ask the sources and due re-checks that can be asked conditionally with the quick
    check (crawler/fetching/quick_check.py); record each 304 as the crawl records it."""
    from crawler.fetching import quick_check

    if not quick_check.enabled():
        return _Left(sources=sources)
    store, due_by = recorder.store, (started_at if recheck == "due" else None)
    polls = []
    for source in sources:
        source_id = recorder.source_ids[source.name]
        poll = quick_check.source_poll(source, source_id, *store.source_validators(source_id))
        polls += [poll] if poll else []
    rows = [] if recheck == "none" else list(islice(store.due_articles(due_by), QUICK_RECHECKS + 1))
    polls += [poll for row in rows[:QUICK_RECHECKS] if (poll := quick_check.revisit_poll(row))]
    now = recorder.now()
    try:
        with _signals_stop():
            answers = quick_check.ask(
                polls, recorder.config.crawl, lambda origin: store.cached_robots_txt(origin, now)
            )
    except _Stopped:
        return _Left("shutdown")
    try:
        rechecked = _record_answers(recorder, answers)
    except StorageFailed as error:  # the batch is lost: the pass stops, as a crawl stops
        recorder.storage_failed(error)
        return _Left("failed")
    polled = {answer.poll.source_id for answer in answers if answer.poll.article is None}
    left = tuple(s for s in sources if recorder.source_ids[s.name] not in polled)
    crawl = bool(left or len(rechecked) < len(rows))
    if recheck != "none" and not crawl:
        crawl = bool(store.due_gone_links(due_by))
    _log_quick(recorder.run_id, len(polled), len(rechecked), crawl)
    return _Left(None if crawl else "finished", left, frozenset(rechecked))


def _record_answers(recorder: PassRecorder, answers: Sequence[quick_check.Answer]) -> list[int]:
    """Record each source that answered 304, and each article that answered 304, 404 or
    410, as the crawl records them; the articles' ids."""
    from crawler.context import record_or_error
    from crawler.items import REMOVED, UNCHANGED, ArticleItem

    rechecked = []
    for answer in answers:
        row = answer.poll.article
        if row is None:
            recorder.source_polled(answer.poll.source_id, "not modified")
            continue
        item = ArticleItem(
            url=row["url"],
            source_id=row["source_id"],
            article_id=row["id"],
            status=answer.status,
            last_changed_at=row["last_changed_at"],
            stored_status=row["status"],
        )
        item.etag, item.last_modified = answer.etag, answer.last_modified
        item.outcome = UNCHANGED if answer.status == 304 else REMOVED
        record_or_error(recorder, item)  # as the store pipeline records it
        rechecked.append(row["id"])
    return rechecked


def _log_quick(run_id: int, sources: int, rechecks: int, crawl: bool) -> None:
    if not (sources or rechecks or crawl):
        log.info("pass %d: nothing due and no source to poll: no crawl", run_id)
    elif sources or rechecks:
        log.info(
            "pass %d: %d source(s) and %d re-check(s) answered by the quick check%s",
            run_id,
            sources,
            rechecks,
            "; the crawl asks the rest" if crawl else ": no crawl",
        )


@contextmanager
def _signals_stop() -> Iterator[None]:
    """Meanwhile SIGINT and SIGTERM raise _Stopped, as they stop a crawl (main thread
    only: elsewhere signals cannot be handled)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _Stopped

    stopping = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.getsignal(number) for number in stopping}
    for number in stopping:
        signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def _context(
    config: Config, recorder: PassRecorder, left: _Left, recheck: str, started_at: str
) -> PassContext:
    from crawler.context import PassContext
    from crawler.matching import TopicMatcher

    matcher = TopicMatcher.compile(config.topics)
    return PassContext(config, recorder, matcher, left.sources, recheck, started_at, left.rechecked)


def _crawl(context: PassContext, log_level: str, progress: bool) -> str:
    """Run the crawl; return Scrapy's finish reason (``finished``, or ``shutdown`` when a
    signal stopped it)."""
    from crawler.settings import pass_settings
    from spiders.sources import SourceSpider

    logging.getLogger("scrapy").setLevel(log_level)
    settings = pass_settings(context.config, log_level=log_level, progress=progress)
    process = _crawler_process(settings | ONE_SPIDER)
    crawler = process.create_crawler(SourceSpider)
    process.crawl(crawler, context=context)
    process.start()
    return crawler.stats.get_value("finish_reason") or "error"


def discover(config: Config, url: str, *, log_level: str = "WARNING") -> list[Candidate]:
    """Crawl ``url`` for feeds and sitemaps, as a pass over ``config`` would fetch.

    Raises DiscoveryError when the URL itself failed and nothing else was found.
    Runs the Twisted reactor: call it at most once per process.
    """
    from crawler.settings import pass_settings
    from crawler.sources.discovery import DiscoveryError, Findings, with_scheme
    from spiders.discover import DiscoverySpider

    findings = Findings(with_scheme(url))
    logging.getLogger("scrapy").setLevel(log_level)
    settings = pass_settings(config, log_level=log_level)
    process = _crawler_process(settings | ONE_SPIDER | {"ITEM_PIPELINES": {}})
    process.crawl(DiscoverySpider, findings=findings)
    process.start()
    candidates = findings.candidates()
    if not candidates and findings.problem:
        raise DiscoveryError(f"{findings.url}: {findings.problem}")
    return candidates


def _crawler_process(settings: dict[str, Any]) -> CrawlerProcess:
    """Scrapy's CrawlerProcess for one crawl, Scrapy imported only now."""
    # Imported here, near the top of the stack, not by the engine deep inside the crawl's
    # start: Scrapy's deprecation shims in it call inspect.stack(), whose cost grows with
    # the depth of the stack (about 0.4 s of CPU at the engine's depth;
    # docs/performance.md).
    import scrapy.core.downloader.handlers.http11  # noqa: F401
    from scrapy.crawler import CrawlerProcess

    return CrawlerProcess(settings)

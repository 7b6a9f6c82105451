"""Turn what a pass finds into database rows: new articles, versions, changes, mentions.

The spider reports source polls, errors and skipped links here; the store pipeline hands
over each processed article. Every article's rows are written in one transaction, and
every write is idempotent across a re-run: a URL is one article, a topic is mentioned at
most once per article, and a version is added only when the page really changed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler import items
from crawler.config import Config, Source
from crawler.extraction.article import EXTRACTOR, upgrade_text
from crawler.fetching.urls import canonical_adoptable, canonical_url
from crawler.items import ArticleItem
from crawler.storage.archive import Archive
from crawler.storage.store import StorageFailed, Store, StoredArticle
from crawler.times import from_iso, to_iso
from crawler.tracking import alert_events
from crawler.tracking.classify import Side, classify
from crawler.tracking.diffs import diff_texts
from crawler.tracking.evidence import chain_hash
from crawler.tracking.normalize import Normalizer, content_hash
from crawler.tracking.revisit import next_check_at
from crawler.tracking.similarity import (
    band_probes,
    bands,
    from_signed,
    is_near_duplicate,
    to_signed,
)

log = logging.getLogger("presswatch.store")

FROM_FEED = "feed"  # a publication date taken from the feed entry (versions.published_from)
COUNTERS = (
    "sources_polled",
    "sources_failed",
    "articles_new",
    "articles_checked",
    "versions_new",
    "changes_new",
    "mentions_new",
    "errors",
)


@dataclass
class PassRecorder:
    """Writes one pass's findings; counts what it wrote for the run's summary."""

    store: Store
    config: Config
    run_id: int
    source_ids: dict[str, int]
    topic_ids: dict[str, int]
    clock: Callable[[], datetime]
    counts: Counter[str] = field(default_factory=Counter)
    batch_items: int = 200  # commit after this many articles ...
    batch_seconds: float = 1.0  # ... or this many seconds, whichever comes first
    failure: str | None = None  # why the database could not be written, once it could not

    def __post_init__(self) -> None:
        self.sources_by_id = {self.source_ids[s.name]: s for s in self.config.sources}
        self._normalizers: dict[int | None, Normalizer] = {}
        self._validators: dict[int, tuple[str | None, str | None]] = {}
        self._incomplete_feeds: set[int] = set()
        self._was_failing = {
            source_id
            for source_id, status in self.store.source_statuses().items()
            if status == "failed"
        }
        self._committed: Counter[str] = Counter()  # the counts as of the last commit
        keep = self.config.archive.keep
        self.archive = Archive.attach(self.store) if keep != "none" else None

    def begin(self) -> None:
        """Start writing: articles are committed in batches, each article atomic."""
        self.store.begin_batch()
        self._committed = Counter(self.counts)

    def finish(self, *, complete: bool = True) -> None:
        """Commit what is left, and remember the feeds' validators for a conditional GET.

        A feed's ETag and Last-Modified are saved only at the end of a complete pass in
        which all of its new articles were stored: a feed answering 304 next time must
        not hide an article that an interrupted or failed pass never stored. After a
        failed write none is saved.
        """
        try:
            for source_id, (etag, last_modified) in self._validators.items():
                if complete and self.failure is None and source_id not in self._incomplete_feeds:
                    self.store.save_validators(source_id, etag, last_modified)
            self.store.commit_batch()
        except StorageFailed as error:
            self.storage_failed(error)

    def _written(self) -> None:
        if self.store.batch_due(self.batch_items, self.batch_seconds):
            self.store.commit_batch()
            self.begin()

    def storage_failed(self, error: StorageFailed) -> bool:
        """The open batch was rolled back: count nothing it held, save no validator, say
        so in one line, and record it when the database takes it. True the first time
        (later failures, of single writes after the batch was lost, count nothing)."""
        if self.failure is not None:
            return False
        self.counts = Counter(self._committed)
        self.failure = str(error)
        log.error(
            "run %d: database write failed: %s; the pass stops, nothing after its "
            "last commit is counted, and the next pass fetches it again",
            self.run_id,
            error,
        )
        with suppress(StorageFailed, sqlite3.Error):
            self._store_error(
                "store",
                f"database write failed: {error}; the pass stopped, "
                "and what it had not committed is fetched again next "
                "pass",
            )
        return True

    def now(self) -> str:
        return to_iso(self.clock())

    # -- reported by the spider -----------------------------------------------------

    def error(
        self, stage: str, message: str, *, url: str | None = None, source_id: int | None = None
    ) -> None:
        """Record an error and log it in one line."""
        self._store_error(stage, message, url=url, source_id=source_id)
        source = self.sources_by_id.get(source_id) if source_id is not None else None
        if source is None or url != source.url:  # a source's own failure: source_polled
            log.warning(
                "%s%s failed (%s): %s",
                f"{source.name}: " if source else "",
                url or "-",
                stage,
                message,
            )

    def _store_error(
        self, stage: str, message: str, *, url: str | None = None, source_id: int | None = None
    ) -> None:
        self.store.record_error(
            self.run_id, stage, message, self.now(), url=url, source_id=source_id
        )
        self.counts["errors"] += 1

    def article_error(
        self, stage: str, message: str, *, url: str, source_id: int | None, new: bool
    ) -> None:
        """An article could not be fetched or read; a new one keeps its feed un-cached."""
        self.error(stage, message, url=url, source_id=source_id)
        if new and source_id is not None:
            self._incomplete_feeds.add(source_id)

    def skipped(self, source_id: int, url: str, reason: str) -> None:
        self.store.record_skipped(source_id, url, reason, self.now())

    def source_polled(
        self,
        source_id: int,
        status: str,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        self.store.source_polled(source_id, self.now(), status, error)
        if etag or last_modified:
            self._validators[source_id] = (etag, last_modified)
        self.counts["sources_polled"] += 1
        if status == "failed":
            self.counts["sources_failed"] += 1
        self._log_poll(source_id, status, error)

    def _log_poll(self, source_id: int, status: str, error: str | None) -> None:
        """One line for a source that failed: an error (shown by --quiet) the first time."""
        source = self.sources_by_id.get(source_id)
        name = source.name if source else f"#{source_id}"
        if status == "failed":
            newly = source_id not in self._was_failing
            log.log(
                logging.ERROR if newly else logging.WARNING,
                "source %s %s: %s",
                name,
                "started failing" if newly else "failed again",
                error or "no reason given",
            )
        elif status == "partial":
            log.warning("source %s read in part: %s", name, error)

    def is_stored(self, url: str) -> bool:
        return self.store.article_exists(url)

    # -- links that went away --------------------------------------------------------

    def link_gone(
        self,
        url: str,
        source_id: int | None,
        status: int,
        message: str,
        final_url: str | None = None,
    ) -> None:
        """The link ``url``, never stored, answered 404/410 (at ``final_url`` after
        redirects): remember it, with its next try on the revisit schedule counted from
        when it first went away. Only the first answer is an error; a feed listing it is
        complete all the same, so it can be cached."""
        known = self.store.gone_link(url)
        first_seen = known["first_seen_at"] if known else self.now()
        with self.store.transaction():
            self.store.remember_gone_link(
                url, source_id, status, self.now(), self._next_check(source_id, first_seen)
            )
        if known is None:
            self.error("fetch", message, url=final_url or url, source_id=source_id)

    def gone_not_due(self, url: str) -> bool:
        """Is ``url`` a remembered gone link that is not due for another try?"""
        known = self.store.gone_link(url)
        if known is None:
            return False
        due = known["next_try_at"]
        return due is None or due > self.now()

    # -- handed over by the store pipeline -----------------------------------------

    def record(self, item: ArticleItem) -> None:
        """Store one processed fetch of an article."""
        self._record(item)
        self._written()

    def _record(self, item: ArticleItem) -> None:
        if item.outcome == items.UNCHANGED and item.last_changed_at is not None:
            self.counts["articles_checked"] += 1
            self._touch(
                item, item.article_id, item.source_id, item.stored_status, item.last_changed_at
            )
            return
        if item.article_id is None:
            aliases = self._adopt_canonical(item)
            existing = self.store.article_id(item.url)
            if existing is None:
                self._record_new(item, aliases)
                return
            item.article_id = existing
            with self.store.transaction():
                self._link(existing, [item.source_id, *item.also_from], aliases)
                self._forget_gone([item.url, *aliases])
        stored = self.store.stored_article(item.article_id)
        if stored is None:
            return
        self.counts["articles_checked"] += 1
        handlers = {
            items.PAGE: self._record_revisit,
            items.UNCHANGED: self._record_unchanged,
            items.REMOVED: self._record_removed,
            items.REDIRECTED: self._record_redirected,
        }
        handlers[item.outcome](item, stored)

    def _adopt_canonical(self, item: ArticleItem) -> list[str]:
        """Use the page's rel=canonical as its identity when it stays on the same site and
        port (``crawler.fetching.urls.canonical_adoptable``); return the URL it was reached by, to
        remember as an alias."""
        declared = item.article.canonical_url if item.article else None
        if not declared:
            return []
        canonical = canonical_url(declared)
        if canonical == item.url or not canonical_adoptable(canonical, item.url):
            return []
        alias, item.url = item.url, canonical
        return [alias]

    def _link(self, article_id: int, source_ids: list[int | None], aliases: list[str]) -> None:
        for alias in aliases:
            self.store.add_alias(alias, article_id)
        for source_id in source_ids:
            if source_id is not None:
                self.store.add_article_source(article_id, source_id, self.now())

    def _forget_gone(self, urls: list[str]) -> None:
        """A link that came back and is stored now is no longer a gone link."""
        for url in urls:
            self.store.forget_gone_link(url)

    def seen_in_source(self, url: str, source_id: int) -> None:
        """A source offered an article already stored: remember it carries it too."""
        article_id = self.store.article_id(url)
        if article_id is not None:
            self.store.add_article_source(article_id, source_id, self.now())

    def _record_new(self, item: ArticleItem, aliases: list[str]) -> None:
        article = item.article
        if item.outcome != items.PAGE or article is None:
            return
        now = self.now()
        title = article.title or item.entry.title
        normalizer = self.normalizer(item.source_id)
        text_hash = content_hash(
            normalizer.normalize_title(title or ""), normalizer.normalize(article.text)
        )
        metadata = version_metadata(item)
        with self.store.transaction():
            article_id = self.store.insert_article(
                {
                    "url": item.url,
                    "source_id": item.source_id,
                    "first_seen_at": now,
                    "last_checked_at": now,
                    "last_changed_at": now,
                    "next_check_at": self._next_check(item.source_id, now),
                    "summary": item.entry.summary,
                    "etag": item.etag,
                    "last_modified": item.last_modified,
                    "body_hash": item.body_hash,
                    **self._current(item, title, metadata),
                }
            )
            version_id = self.store.insert_version(
                article_id, now, title, article.text, text_hash, _topics(item), EXTRACTOR, metadata
            )
            self.store.update_article(
                article_id,
                {
                    "current_version_id": version_id,
                    "story_id": self._story(article_id, item.fingerprint),
                },
            )
            self._link(article_id, [item.source_id, *item.also_from], aliases)
            self._forget_gone([item.url, *aliases])
            self._mentions(article_id, version_id, item, now)
            self._alert(alert_events.new_article, article_id, _all_topics(item), now)
            self._seal(item, article_id, version_id, None, now)
        self.counts["articles_new"] += 1
        self.counts["versions_new"] += 1

    def _record_revisit(self, item: ArticleItem, stored: StoredArticle) -> None:
        article = item.article
        if article is None:
            return
        normalizer = self.normalizer(item.source_id or stored.source_id)
        title = article.title or item.entry.title or stored.title
        before, after = normalizer.normalize(stored.text), normalizer.normalize(article.text)
        new_title = normalizer.normalize_title(title or "")
        retitled = new_title != normalizer.normalize_title(stored.title or "")
        metadata = version_metadata(item, stored)
        # A headline read by other rules from an unchanged page is the new rules' reading
        # (cleaner headlines after an upgrade), not an edit.
        new_rules = stored.extractor != EXTRACTOR
        compared = self._compared_text(stored, before, after, normalizer)
        # Authors or declared dates alone are a change too, unless new rules read them.
        declared = compared is None and not new_rules and declared_changed(metadata, stored)
        if compared is None and (not retitled or new_rules) and not declared:
            if before != after or retitled or metadata_changed(metadata, stored):
                self._record_baseline(item, stored, title, metadata, content_hash(new_title, after))
            else:
                self._record_unchanged(item, stored)
            return
        now = self.now()
        topics = _topics(item)
        diff = diff_texts(compared, after) if compared is not None else None
        edited = diff is not None or (declared and not retitled)
        kind = change_kind(edited, stored.is_partial, item.is_partial)
        shown = diff if kind == "edited" else None  # a paywall change keeps both versions
        found = classify(
            self._side(stored, compared if compared is not None else after, normalizer),
            Side(new_title, after, *_declared(metadata), frozenset(topics)),
            self.config.tracking.significance,
        )
        with self.store.transaction():
            version_id = self.store.insert_version(
                stored.id,
                now,
                title,
                article.text,
                content_hash(new_title, after),
                topics,
                EXTRACTOR,
                metadata,
            )
            change_id = self.store.insert_change(
                {
                    "article_id": stored.id,
                    "from_version_id": stored.version_id,
                    "to_version_id": version_id,
                    "detected_at": now,
                    "kind": kind,
                    "title_before": stored.title,
                    "title_after": title,
                    "chars_added": diff.chars_added if diff else 0,
                    "chars_removed": diff.chars_removed if diff else 0,
                    "diff": shown.text if shown else None,
                    "diff_html": shown.html if shown else None,
                    "mentions_added": _json(set(topics) - set(stored.topics)),
                    "mentions_removed": _json(set(stored.topics) - set(topics)),
                    "kinds": json.dumps(found.kinds),
                    "significance": found.significance,
                }
            )
            self._mentions(stored.id, version_id, item, now)
            self._alert(
                alert_events.edited, stored.id, change_id, stored.topics, topics, retitled, now
            )
            self._seal(item, stored.id, version_id, stored.chain_hash, now)
            self.store.update_article(
                stored.id,
                {
                    **self._checked(item, stored.source_id, now, last_changed_at=now),
                    **self._current(item, title, metadata),
                    "current_version_id": version_id,
                    "status": "live",
                    "redirect_url": None,
                },
            )
        self.counts["versions_new"] += 1
        self.counts["changes_new"] += 1

    def _side(self, stored: StoredArticle, text: str, normalizer: Normalizer) -> Side:
        """The stored version as the classifier sees it, with ``text`` normalised."""
        return Side(
            normalizer.normalize_title(stored.title or ""),
            text,
            stored.authors,
            stored.published_at,
            stored.modified_at,
            stored.is_partial,
            frozenset(stored.topics),
        )

    def _compared_text(
        self, stored: StoredArticle, before: str, after: str, normalizer: Normalizer
    ) -> str | None:
        """The normalised stored text to diff the new one against, or None when the two
        differ only by what the extraction rules make of the same page.

        A version made by other rules is first brought up to the current rules
        (:func:`crawler.extraction.article.upgrade_text`); rules this build cannot re-create
        (another trafilatura) are assumed to make all the difference (docs/tracking.md).
        """
        if before == after:
            return None
        if stored.extractor == EXTRACTOR:
            return before
        upgraded = upgrade_text(stored.text, stored.extractor)
        if upgraded is None:
            return None
        upgraded = normalizer.normalize(upgraded)
        return upgraded if upgraded != after else None

    def _record_baseline(
        self,
        item: ArticleItem,
        stored: StoredArticle,
        title: str | None,
        metadata: dict[str, Any],
        text_hash: str,
    ) -> None:
        """The page did not change, only the way it is read: the extraction rules (text,
        headline) or its metadata (authors, dates, paywall state). A new version to
        compare with, and no change row; ``last_changed_at`` does not move."""
        article = item.article
        assert article is not None
        now = self.now()
        with self.store.transaction():
            version_id = self.store.insert_version(
                stored.id, now, title, article.text, text_hash, _topics(item), EXTRACTOR, metadata
            )
            self._mentions(stored.id, version_id, item, now)
            self._seal(item, stored.id, version_id, stored.chain_hash, now)
            self.store.update_article(
                stored.id,
                {
                    **self._checked(item, stored.source_id, now, stored.last_changed_at),
                    **self._current(item, title, metadata),
                    "current_version_id": version_id,
                    "status": "live",
                    "redirect_url": None,
                },
            )
        self.counts["versions_new"] += 1

    def _seal(
        self, item: ArticleItem, article_id: int, version_id: int, previous: str | None, now: str
    ) -> None:
        """Chain the new version to the one before (crawler.tracking.evidence) and, as
        ``[archive] keep`` says, archive the response behind it."""
        record = next(self.store.version_records(article_id, version_id))
        self.store.set_chain_hash(version_id, chain_hash(previous, record))
        if self.archive is None or not item.body:
            return
        if self.config.archive.keep == "matched" and not self.store.mentioned_topic_ids(article_id):
            return
        self.archive.put(
            version_id,
            article_id,
            item.url,
            now,
            item.status,
            item.headers,
            item.encoding,
            item.body,
        )

    def _current(
        self, item: ArticleItem, title: str | None, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        """The article's metadata columns, from the version being stored."""
        article = item.article
        assert article is not None
        authors = list(metadata["authors"])
        return {
            "title": title,
            "author": ", ".join(authors) or None,
            "authors": json.dumps(authors, ensure_ascii=False),
            "published_at": metadata["published_at"],
            "published_from": metadata["published_from"],
            "modified_at": metadata["modified_at"],
            "language": article.language or self._source_language(item.source_id),
            "is_partial": metadata["is_partial"],
        }

    def _record_unchanged(self, item: ArticleItem, stored: StoredArticle) -> None:
        self._touch(item, stored.id, stored.source_id, stored.status, stored.last_changed_at)

    def _touch(
        self,
        item: ArticleItem,
        article_id: int,
        source_id: int | None,
        status: str | None,
        last_changed_at: str,
    ) -> None:
        """A re-check found nothing new: move the check times only."""
        values = self._checked(item, source_id, self.now(), last_changed_at)
        if status != "live" and item.outcome in (items.PAGE, items.UNCHANGED):
            values |= {"status": "live", "redirect_url": None}
        with self.store.transaction():
            self.store.update_article(article_id, values)

    def _record_removed(self, item: ArticleItem, stored: StoredArticle) -> None:
        self._record_gone(item, stored, "removed", None)

    def _record_redirected(self, item: ArticleItem, stored: StoredArticle) -> None:
        self._record_gone(item, stored, "redirected", item.redirect_url)

    def _record_gone(
        self, item: ArticleItem, stored: StoredArticle, kind: str, target: str | None
    ) -> None:
        """Record once that a live article was removed or now redirects elsewhere."""
        now = self.now()
        if stored.status == kind and stored.redirect_url == target:
            self._record_unchanged(item, stored)
            return
        with self.store.transaction():
            self.store.insert_change(
                {
                    "article_id": stored.id,
                    "from_version_id": stored.version_id,
                    "detected_at": now,
                    "kind": kind,
                    "title_before": stored.title,
                    "redirect_url": target,
                }
            )
            self.store.update_article(
                stored.id,
                {
                    **self._checked(item, stored.source_id, now, last_changed_at=now),
                    "status": kind,
                    "redirect_url": target,
                },
            )
        self.counts["changes_new"] += 1

    # -- helpers --------------------------------------------------------------------

    def _alert(self, events: Callable[..., list[dict[str, Any]]], *args: Any) -> None:
        """Queue the alerts ``events`` makes of these rows for the [[notify]] targets, in
        the open transaction (crawler/tracking/alert_events.py)."""
        if self.config.notify:
            self.store.outbox.queue(events(self.config.notify, self.topic_ids, *args))

    def _story(self, article_id: int, fingerprint: int | None) -> int:
        """The story an article belongs to: that of a near-duplicate already stored (the
        same wire copy on another outlet), or a story of its own."""
        if fingerprint is None:
            return article_id
        band_values = bands(fingerprint)
        story = article_id
        for _, other, other_story in self.store.fingerprint_candidates(band_probes(fingerprint)):
            if is_near_duplicate(fingerprint, from_signed(other)):
                story = other_story or story
                break
        self.store.add_fingerprint(article_id, to_signed(fingerprint), band_values)
        return story

    def _mentions(self, article_id: int, version_id: int, item: ArticleItem, now: str) -> None:
        found = [(match, 0) for match in item.matches]
        found += [(match, 1) for match in item.summary_matches]
        for match, in_summary in found:
            added = self.store.insert_mention(
                {
                    "topic_id": self.topic_ids[match.topic],
                    "article_id": article_id,
                    "version_id": version_id,
                    "found_at": now,
                    "in_title": int(match.in_title),
                    "match_count": match.match_count,
                    "snippet": match.snippet,
                    "terms": _json(match.terms),
                    "backfilled": 0,
                    "in_summary": in_summary,
                }
            )
            self.counts["mentions_new"] += int(added)

    def _checked(
        self, item: ArticleItem, source_id: int | None, now: str, last_changed_at: str
    ) -> dict[str, str | None]:
        values = {
            "last_checked_at": now,
            "last_changed_at": last_changed_at,
            "next_check_at": self._next_check(source_id, last_changed_at),
        }
        if item.etag or item.last_modified:
            values |= {"etag": item.etag, "last_modified": item.last_modified}
        if item.body_hash:
            values["body_hash"] = item.body_hash
        return values

    def _next_check(self, source_id: int | None, last_changed_at: str) -> str | None:
        source = self.sources_by_id.get(source_id)
        steps = (
            source.revisit
            if source and source.revisit is not None
            else self.config.tracking.revisit
        )
        due = next_check_at(
            from_iso(last_changed_at), self.clock(), steps, forever=bool(source and source.forever)
        )
        return to_iso(due) if due else None

    def _source_language(self, source_id: int | None) -> str | None:
        source = self.sources_by_id.get(source_id)
        return source.language if source else None

    def normalizer(self, source_id: int | None) -> Normalizer:
        if source_id not in self._normalizers:
            source: Source | None = self.sources_by_id.get(source_id)
            extra = self.config.tracking.noise + (source.noise if source else ())
            self._normalizers[source_id] = Normalizer(extra)
        return self._normalizers[source_id]

    def summary_counts(self) -> dict[str, int]:
        return {name: self.counts[name] for name in COUNTERS}


def _topics(item: ArticleItem) -> list[str]:
    return sorted({match.topic for match in item.matches})


def _all_topics(item: ArticleItem) -> list[str]:
    """The topics found in the page or only in its feed summary."""
    return sorted({match.topic for match in (*item.matches, *item.summary_matches)})


def _json(values: Iterable[str]) -> str:
    return json.dumps(sorted(values), ensure_ascii=False)


def version_metadata(item: ArticleItem, stored: StoredArticle | None = None) -> dict[str, Any]:
    """The metadata columns of the version ``item`` makes (storage.VERSION_METADATA).

    The publication date is the page's; the feed's when the page gives none or only the
    day of the feed's full timestamp; on a re-check (which has no feed entry) the stored
    one when the page still gives none.
    """
    article = item.article
    assert article is not None
    published, source = _best_date(
        article.published_at, article.published_from, item.entry.published_at
    )
    if published is None and stored is not None:
        published, source = stored.published_at, stored.published_from
    return {
        "authors": list(article.authors),
        "title_raw": article.title_raw or "",
        "published_at": published,
        "published_from": source,
        "modified_at": article.modified_at,
        "modified_from": article.modified_from,
        "is_partial": int(item.is_partial),
        "body_sha256": item.body_sha256,
    }


def metadata_changed(metadata: dict[str, Any], stored: StoredArticle) -> bool:
    """Did the authors, the publication date or the paywall state change? (A modified
    date alone is not a new version: pages bump it without changing anything.)"""
    return (
        tuple(metadata["authors"]) != stored.authors
        or metadata["published_at"] != stored.published_at
        or bool(metadata["is_partial"]) != stored.is_partial
    )


def declared_changed(metadata: dict[str, Any], stored: StoredArticle) -> bool:
    """Did the page name other authors, another publication date or a new modified date?
    (A page that stops declaring a modified date has not changed it.)"""
    modified = metadata["modified_at"]
    return (
        tuple(metadata["authors"]) != stored.authors
        or metadata["published_at"] != stored.published_at
        or (modified is not None and modified != stored.modified_at)
    )


def _declared(metadata: dict[str, Any]) -> tuple[Any, ...]:
    """The authors, dates and paywall state of a version, in :class:`Side`'s order."""
    return (
        tuple(metadata["authors"]),
        metadata["published_at"],
        metadata["modified_at"],
        bool(metadata["is_partial"]),
    )


def change_kind(text_changed: bool, was_partial: bool, is_partial: bool) -> str:
    """``paywall`` when a teaser became the full text or the reverse."""
    if text_changed and was_partial != is_partial:
        return "paywall"
    return "edited" if text_changed else "retitled"


def _best_date(
    extracted: str | None, source: str | None, from_feed: str | None
) -> tuple[str | None, str | None]:
    """The page's own date, unless the feed gives a full timestamp for a date-only page."""
    if extracted and from_feed and len(extracted) == 10 and from_feed.startswith(extracted):
        return from_feed, FROM_FEED
    if extracted:
        return extracted, source
    return (from_feed, FROM_FEED) if from_feed else (None, None)

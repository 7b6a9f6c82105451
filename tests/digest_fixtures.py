"""Build small presswatch databases for digest tests: sources, topics, articles, versions,
mentions, changes and errors written through the Store, as a pass would write them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from crawler.config import Source, Topic
from crawler.storage.store import Store

HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1))"
# Invisible characters that would mislead a reader: a right-to-left override that shows
# "exe.png" as the end of "gnp.exe", an isolate, a zero-width space, a soft hyphen, a BOM,
# and a tag character. Without them the headline reads INVISIBLE_SHOWN.
INVISIBLE = (
    "Harbour \u202egnp.exe\u202c cranes\u200b re\u00adturn\u2066 early\u2069\ufeff\U000e0041"
)
INVISIBLE_SHOWN = "Harbour gnp.exe cranes return early"
INVISIBLE_CHARS = "\u202e\u202c\u200b\u00ad\u2066\u2069\ufeff\u0085\U000e0041"


@dataclass
class Desk:
    """A database being filled; names of sources and topics stand for their ids."""

    store: Store
    sources: dict[str, int] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)  # article id -> current version

    @classmethod
    def open(cls, path: Path) -> Desk:
        return cls(Store.open(path))

    def source(self, name: str, url: str | None = None) -> int:
        url = url or f"https://{name.lower().replace(' ', '-')}.example/feed.xml"
        self.sources.update(self.store.sync_sources([Source(name=name, url=url)]))
        return self.sources[name]

    def topic(self, name: str, query: str | None = None) -> int:
        self.topics.update(
            self.store.sync_topics([Topic(name=name, queries=(query or f'"{name}"',))])
        )
        return self.topics[name]

    def article(
        self,
        source: str,
        title: str,
        seen_at: str,
        *,
        url: str | None = None,
        published_at: str | None = None,
        text: str = "First paragraph.",
    ) -> int:
        slug = "-".join(title.lower().split())[:60]
        with self.store.transaction():
            article_id = self.store.insert_article(
                {
                    "url": url or f"https://{source.lower().replace(' ', '-')}.example/{slug}",
                    "source_id": self.sources[source],
                    "first_seen_at": seen_at,
                    "last_checked_at": seen_at,
                    "last_changed_at": seen_at,
                    "published_at": published_at or seen_at,
                    "title": title,
                }
            )
            self._version(article_id, seen_at, title, text)
        return article_id

    def mention(
        self,
        topic: str,
        article_id: int,
        found_at: str,
        *,
        snippet: str | None = None,
        in_title: bool = False,
    ) -> None:
        with self.store.transaction():
            added = self.store.insert_mention(
                {
                    "topic_id": self.topics[topic],
                    "article_id": article_id,
                    "version_id": self.versions[article_id],
                    "found_at": found_at,
                    "in_title": int(in_title),
                    "match_count": 1,
                    "snippet": snippet or f"… the **{topic}** was discussed …",
                    "terms": json.dumps([topic]),
                    "backfilled": 0,
                }
            )
        assert added, f"{topic!r} already mentioned by article {article_id}"

    def change(
        self,
        article_id: int,
        detected_at: str,
        *,
        kind: str = "edited",
        title_after: str | None = None,
        diff: str | None = None,
        added: tuple[str, ...] = (),
        removed: tuple[str, ...] = (),
    ) -> int:
        before = self.store.db["articles"].get(article_id)["title"]
        after = title_after or before
        with self.store.transaction():
            old_version = self.versions[article_id]
            new_version = self._version(article_id, detected_at, after, diff or "edited")
            self.store.update_article(article_id, {"title": after})
            return self.store.insert_change(
                {
                    "article_id": article_id,
                    "from_version_id": old_version,
                    "to_version_id": new_version,
                    "detected_at": detected_at,
                    "kind": kind,
                    "title_before": before,
                    "title_after": after,
                    "chars_added": 12 if diff else 0,
                    "chars_removed": 5 if diff else 0,
                    "diff": diff,
                    "mentions_added": json.dumps(list(added)),
                    "mentions_removed": json.dumps(list(removed)),
                }
            )

    def error(self, source: str, at: str, message: str, *, stage: str = "fetch") -> None:
        self.store.record_error(
            None,
            stage,
            message,
            at,
            source_id=self.sources[source],
            url=f"https://{source.lower()}.example/feed.xml",
        )

    def polled(self, source: str, at: str, status: str, error: str | None = None) -> None:
        self.store.source_polled(self.sources[source], at, status, error)

    def _version(self, article_id: int, at: str, title: str, text: str) -> int:
        version_id = self.store.insert_version(article_id, at, title, text, f"hash-{at}", [])
        self.store.update_article(article_id, {"current_version_id": version_id})
        self.versions[article_id] = version_id
        return version_id


def sample_day(desk: Desk) -> Desk:
    """One realistic day, 2026-11-24T07:00Z to 2026-11-25T07:00Z, with some rows outside it.

    In the period: 5 mention entries (one article under two topics), 2 edits, a source
    with fetch errors and one whose last poll failed.
    """
    for name in ("Atlantic Defence Daily", "Brussels Ledger", "Nordic Security Review"):
        desk.source(name)
    for name in ("coalition of the willing", "Greenland", "NATO"):
        desk.topic(name)
    pledges = desk.article(
        "Brussels Ledger",
        "Coalition of the willing firms up troop pledges",
        "2026-11-24T09:10:00Z",
        published_at="2026-11-24T08:30:00Z",
    )
    logistics = desk.article(
        "Atlantic Defence Daily",
        "Coalition logistics hub opens in Rzeszów",
        "2026-11-24T15:00:00Z",
        published_at="2026-11-24T14:45:00Z",
    )
    talks = desk.article(
        "Brussels Ledger",
        "EU ministers open Greenland talks",
        "2026-11-24T11:00:00Z",
        published_at="2026-11-24",
    )
    radar = desk.article(
        "Nordic Security Review",
        "Pituffik radar upgrade approved",
        "2026-11-23T20:00:00Z",
        published_at="2026-11-23T19:00:00Z",
    )
    summit = desk.article(
        "Atlantic Defence Daily", "NATO summit planning moves to Lisbon", "2026-11-22T10:00:00Z"
    )
    desk.mention(
        "coalition of the willing",
        pledges,
        "2026-11-24T09:10:00Z",
        in_title=True,
        snippet="… the **coalition of the willing** met in Paris to firm up …",
    )
    desk.mention("coalition of the willing", logistics, "2026-11-24T15:00:00Z")
    desk.mention("NATO", pledges, "2026-11-24T09:10:00Z")
    desk.mention("Greenland", talks, "2026-11-24T11:00:00Z", in_title=True)
    desk.mention("Greenland", radar, "2026-11-24T07:00:00Z")  # on the start: inside
    desk.mention("NATO", radar, "2026-11-23T20:00:00Z")  # the day before: outside
    desk.mention("NATO", summit, "2026-11-25T07:00:00Z")  # on the end: outside
    desk.change(
        summit,
        "2026-11-24T18:00:00Z",
        kind="retitled",
        title_after="NATO summit moves to Lisbon after Madrid falls through",
    )
    desk.change(
        pledges,
        "2026-11-24T21:05:00Z",
        diff="The minister [-said-]{+denied+} that pledges were final.",
        added=("Ukraine",),
    )
    desk.change(radar, "2026-11-25T08:00:00Z", diff="{+Later edit.+}")  # after the end
    desk.error("Nordic Security Review", "2026-11-24T10:00:00Z", "timed out")
    desk.error("Nordic Security Review", "2026-11-24T22:00:00Z", "HTTP 503 Service Unavailable")
    desk.error("Nordic Security Review", "2026-11-24T23:00:00Z", "no article text", stage="extract")
    desk.polled("Brussels Ledger", "2026-11-25T06:00:00Z", "failed", "unreadable feed: not XML")
    return desk

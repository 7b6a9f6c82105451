"""Reading one period from the database into the digest's model (the queries are
Store methods, crawler/storage/digests.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from crawler.outputs.digest.model import (
    Digest,
    DigestError,
    Edit,
    Mention,
    Period,
    SourceHealth,
    TopicMentions,
)
from crawler.storage.store import Store
from crawler.tracking.diffs import excerpt

EXCERPT_CHARS = 240
HEALTH_STAGES = ("fetch", "feed")


def collect(store: Store, period: Period, topics: Sequence[str] = ()) -> Digest:
    """Everything a digest of ``period`` shows; ``topics`` limits it to those topics."""
    selected = _check_topics(store, topics)
    return Digest(
        period,
        _topic_mentions(store, period, selected),
        _edits(store, period, selected),
        _source_health(store, period),
        selected,
    )


def _check_topics(store: Store, topics: Sequence[str]) -> tuple[str, ...]:
    known = [row[0] for row in store.db.execute("SELECT name FROM topics ORDER BY id")]
    for name in topics:
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none yet"
            raise DigestError(f"--topic {name!r}: no such topic in the database ({listed})")
    return tuple(dict.fromkeys(topics))


def _check_topics(store: Store, topics: Sequence[str]) -> tuple[str, ...]:
    known = store.topic_names()
    for name in topics:
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none yet"
            raise DigestError(f"--topic {name!r}: no such topic in the database ({listed})")
    return tuple(dict.fromkeys(topics))


def _topic_mentions(
    store: Store, period: Period, selected: tuple[str, ...]
) -> tuple[TopicMentions, ...]:
    """Mentions recorded in the period, grouped by topic, newest story first; a story
    syndicated on several outlets is listed once, with the other outlets named."""
    groups: dict[str, list[Mention]] = {}
    seen: set[tuple[str, int]] = set()
    for row in store.period_mentions(period.start, period.end):
        topic, story, outlet = row["topic"], row["story_id"], row["outlet"]
        if (selected and topic not in selected) or (topic, story) in seen:
            continue
        seen.add((topic, story))
        others = row["other_outlets"]
        also_in = tuple(sorted(set(others.split(",")) - {outlet})) if others else ()
        groups.setdefault(topic, []).append(
            Mention(
                row["title"] or row["url"],
                row["url"],
                outlet,
                row["published_at"],
                row["found_at"],
                row["snippet"],
                bool(row["in_title"]),
                also_in,
            )
        )
    return tuple(TopicMentions(name, tuple(items)) for name, items in groups.items())


def _edits(store: Store, period: Period, selected: tuple[str, ...]) -> tuple[Edit, ...]:
    """Changes detected in the period, newest first; with topics, only stories about them."""
    topics_of = store.topics_of_changed_articles(period.start, period.end)
    edits = []
    for row in store.period_changes(period.start, period.end):
        edit = _edit(row, topics_of.get(row["article_id"], ()))
        related = {*edit.topics, *edit.topics_added, *edit.topics_removed}
        if not selected or related.intersection(selected):
            edits.append(edit)
    return tuple(edits)


def _edit(row: dict[str, Any], topics: tuple[str, ...]) -> Edit:
    before, after, diff = row["title_before"], row["title_after"], row["diff"]
    return Edit(
        kind=row["kind"],
        detected_at=row["detected_at"],
        title=after or before or row["current_title"] or row["url"],
        title_before=before,
        title_after=after,
        url=row["url"],
        outlet=row["outlet"],
        topics=topics,
        topics_added=tuple(json.loads(row["mentions_added"] or "[]")),
        topics_removed=tuple(json.loads(row["mentions_removed"] or "[]")),
        excerpt=excerpt(diff, EXCERPT_CHARS) if diff else None,
        chars_added=row["chars_added"],
        chars_removed=row["chars_removed"],
        redirect_url=row["redirect_url"],
    )


def _source_health(store: Store, period: Period) -> tuple[SourceHealth, ...]:
    """Sources with fetch or feed errors in the period, or whose last poll failed."""
    return tuple(
        SourceHealth(
            row["name"], row["url"], row["last_status"], row["errors"], row["message"], row["at"]
        )
        for row in store.sources_with_problems(period.start, period.end, HEALTH_STAGES)
    )

"""Reading one period from the database into the digest's model (the queries are
Store methods, crawler/storage/digests.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from crawler.outputs.digest.model import (
    OVERVIEW_DAYS,
    TOP_EDITS,
    Digest,
    DigestError,
    Edit,
    Mention,
    Overview,
    Period,
    SourceHealth,
    Story,
    TopicActivity,
    TopicMentions,
)
from crawler.storage.store import Store
from crawler.times import from_iso
from crawler.tracking.diffs import excerpt

EXCERPT_CHARS = 240
HEALTH_STAGES = ("fetch", "feed")


def collect(
    store: Store, period: Period, topics: Sequence[str] = (), min_significance: float = 0.0
) -> Digest:
    """Everything a digest of ``period`` shows; ``topics`` limits it to those topics, and
    ``min_significance`` leaves out edits that matter less (comma fixes)."""
    selected = _check_topics(store, topics)
    by_topic, stories = _topic_mentions(store, period, selected)
    edits = _edits(store, period, selected, min_significance)
    edited = {edit.url for edit in edits}
    stories = tuple(replace(story, edited=story.url in edited) for story in stories)
    return Digest(
        period,
        by_topic,
        edits,
        _source_health(store, period),
        selected,
        stories,
        Overview(*_activity(store, period, by_topic), top_edits=top_edits(edits)),
    )


def top_edits(edits: Sequence[Edit]) -> tuple[Edit, ...]:
    """The edits to read first: the most significant (``changes.significance``); among
    changes recorded before significance was, the largest (characters added and removed),
    a headline change counting as much as a paragraph."""

    def weight(edit: Edit) -> tuple[float, int]:
        size = edit.chars_added + edit.chars_removed + (200 if edit.retitled else 0)
        return (edit.significance if edit.significance is not None else 0.0, size)

    ranked = sorted(
        (e for e in edits if any(weight(e)) or e.kind != "edited"), key=weight, reverse=True
    )
    return tuple(ranked[:TOP_EDITS])


def _activity(
    store: Store, period: Period, by_topic: tuple[TopicMentions, ...]
) -> tuple[tuple[str, ...], tuple[TopicActivity, ...]]:
    """The last OVERVIEW_DAYS days up to the period's end, and each active topic's
    mentions in the period and per day of those days."""
    last = from_iso(period.end) - timedelta(microseconds=1)  # the end itself is outside
    days = tuple(
        (last - timedelta(days=back)).date().isoformat()
        for back in range(OVERVIEW_DAYS - 1, -1, -1)
    )
    counts = {
        (row["topic"], row["day"]): row["mentions"]
        for row in store.mentions_per_day(days[0], period.end)
    }
    return days, tuple(
        TopicActivity(
            topic.name,
            len(topic.mentions),
            tuple(counts.get((topic.name, day), 0) for day in days),
        )
        for topic in by_topic
    )


def _check_topics(store: Store, topics: Sequence[str]) -> tuple[str, ...]:
    known = store.topic_names()
    for name in topics:
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none yet"
            raise DigestError(f"--topic {name!r}: no such topic in the database ({listed})")
    return tuple(dict.fromkeys(topics))


def _topic_mentions(
    store: Store, period: Period, selected: tuple[str, ...]
) -> tuple[tuple[TopicMentions, ...], tuple[Story, ...]]:
    """Mentions recorded in the period, grouped by topic, newest story first; a story
    syndicated on several outlets is listed once, with the other outlets named. And the
    same stories each once, with all their topics, newest first."""
    groups: dict[str, list[Mention]] = {}
    stories: dict[int, Story] = {}
    seen: set[tuple[str, int]] = set()
    for row in store.period_mentions(period.start, period.end):
        topic, story = row["topic"], row["story_id"]
        if (selected and topic not in selected) or (topic, story) in seen:
            continue
        seen.add((topic, story))
        mention = _mention(row)
        groups.setdefault(topic, []).append(mention)
        stories[story] = _with_topic(stories.get(story), mention, topic)
    by_topic = tuple(TopicMentions(name, tuple(items)) for name, items in groups.items())
    return by_topic, _newest_first(list(stories.values()))


def _mention(row: dict[str, Any]) -> Mention:
    others, outlet = row["other_outlets"], row["outlet"]
    also_in = tuple(sorted(set(others.split(",")) - {outlet})) if others else ()
    return Mention(
        row["title"] or row["url"],
        row["url"],
        outlet,
        row["published_at"],
        row["found_at"],
        row["snippet"],
        bool(row["in_title"]),
        also_in,
    )


def _with_topic(story: Story | None, mention: Mention, topic: str) -> Story:
    """A story with one more topic: its first topic's mention gives the snippet."""
    if story is None:
        return Story(**vars(mention), topics=(topic,))
    return replace(
        story,
        topics=(*story.topics, topic),
        in_title=story.in_title or mention.in_title,
        found_at=min(story.found_at, mention.found_at),
    )


def _newest_first(stories: Sequence[Story]) -> tuple[Story, ...]:
    """By publication time, newest first (unknown last), then by when found."""
    ordered = sorted(stories, key=lambda story: story.found_at, reverse=True)
    ordered.sort(key=lambda story: story.published_at or "", reverse=True)
    ordered.sort(key=lambda story: story.published_at is None)
    return tuple(ordered)


def _edits(
    store: Store, period: Period, selected: tuple[str, ...], min_significance: float = 0.0
) -> tuple[Edit, ...]:
    """Changes detected in the period of at least ``min_significance``, the most
    significant first; with topics, only stories about them."""
    topics_of = store.topics_of_changed_articles(period.start, period.end)
    edits = []
    for row in store.period_changes(period.start, period.end, min_significance):
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
        kinds=tuple(json.loads(row["kinds"] or "[]")),
        significance=row["significance"],
        change_id=row["change_id"],
    )


def _source_health(store: Store, period: Period) -> tuple[SourceHealth, ...]:
    """Sources with fetch or feed errors in the period, or whose last poll failed."""
    return tuple(
        SourceHealth(
            row["name"], row["url"], row["last_status"], row["errors"], row["message"], row["at"]
        )
        for row in store.sources_with_problems(period.start, period.end, HEALTH_STAGES)
    ) + _alert_target_health(store)


def _alert_target_health(store: Store) -> tuple[SourceHealth, ...]:
    """[[notify]] targets refusing alerts, as health lines (docs/alerts.md)."""
    return tuple(
        SourceHealth(
            f"alert target {name}",
            "",
            "failed",
            state["attempts"] or 0,
            f"{state['pending']} alert(s) waiting: {state['last_error']}",
            state["failing_since"],
        )
        for name, state in store.outbox.targets().items()
        if state["failing_since"]
    )

"""Which alerts an article's rows make, for which ``[[notify]]`` targets.

The recorder queues them in the outbox (``notifications``) in the same transaction as
the rows they tell of, so a kill never loses an alert and never invents one; delivery is
crawler/outputs/alerts/. Each event has a stable id, the same however often it is sent:

- ``mention``: a new article matches a topic (``mention-<article>-<topic>``);
- ``mention_added`` / ``mention_removed``: an edit makes a topic appear or disappear
  (``mention_added-<change>-<topic>``);
- ``headline``: the headline of an article that matches a topic changed
  (``headline-<change>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from crawler.config import NotifyTarget

Row = dict[str, Any]


def new_article(
    targets: Iterable[NotifyTarget],
    topic_ids: Mapping[str, int],
    article_id: int,
    topics: Iterable[str],
    now: str,
) -> list[Row]:
    """One ``mention`` per topic the new article matches, for each target that wants it."""
    return [
        _row(target, "mention", f"mention-{article_id}-{topic_ids[topic]}", article_id, now)
        | {"topic_id": topic_ids[topic]}
        for topic in sorted(set(topics))
        for target in targets
        if target.wants("mention", (topic,))
    ]


def edited(
    targets: Iterable[NotifyTarget],
    topic_ids: Mapping[str, int],
    article_id: int,
    change_id: int,
    before: Iterable[str],
    after: Iterable[str],
    retitled: bool,
    now: str,
) -> list[Row]:
    """The alerts of one change: topics gained and lost, and a new headline."""
    before, after = set(before), set(after)
    rows = []
    for event, topics in (("mention_added", after - before), ("mention_removed", before - after)):
        for topic in sorted(topics):
            event_id = f"{event}-{change_id}-{topic_ids[topic]}"
            rows += [
                _row(target, event, event_id, article_id, now)
                | {"topic_id": topic_ids[topic], "change_id": change_id}
                for target in targets
                if target.wants(event, (topic,))
            ]
    matched = tuple(sorted(before | after))
    if retitled and matched:
        rows += [
            _row(target, "headline", f"headline-{change_id}", article_id, now)
            | {"change_id": change_id}
            for target in targets
            if target.wants("headline", matched)
        ]
    return rows


def _row(target: NotifyTarget, event: str, event_id: str, article_id: int, now: str) -> Row:
    return {
        "event_id": event_id,
        "target": target.name,
        "event": event,
        "article_id": article_id,
        "created_at": now,
    }

"""Apply topic queries to the articles already stored: try a query before saving it
(`presswatch topics check`), or record a new or changed topic's mentions (`backfill`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from crawler.config import Config, Topic
from crawler.matching import TopicMatch, TopicMatcher
from crawler.storage.store import Store


@dataclass(frozen=True)
class Hit:
    article_id: int
    url: str
    title: str | None
    match: TopicMatch


def check(store: Store, matcher: TopicMatcher) -> Iterator[Hit]:
    """The stored articles a matcher would have matched, oldest first."""
    for version in store.current_versions():
        for match in matcher.match(version.title or "", version.text):
            yield Hit(version.article_id, version.url, version.title, match)


def backfill(store: Store, config: Config, topic_names: Sequence[str], now: str) -> Counter[str]:
    """Record the mentions the named topics (all, when none named) have in stored articles.

    New mentions are flagged ``backfilled`` with ``found_at = now``; a mention already
    recorded stays as it was. The current versions' topic lists are brought up to date,
    so later edits report mentions added and removed against the topics as they are now.
    """
    topics = [config_topic(config, name) for name in topic_names] or list(config.topics)
    topic_ids = store.sync_topics(config.topics)
    matcher = TopicMatcher.compile(topics)
    names = {topic.name for topic in topics}
    added: Counter[str] = Counter({name: 0 for name in names})
    for version in store.current_versions():
        matches = matcher.match(version.title or "", version.text)
        with store.transaction():
            for match in matches:
                added[match.topic] += store.insert_mention(
                    {
                        "topic_id": topic_ids[match.topic],
                        "article_id": version.article_id,
                        "version_id": version.version_id,
                        "found_at": now,
                        "in_title": int(match.in_title),
                        "match_count": match.match_count,
                        "snippet": match.snippet,
                        "terms": json.dumps(match.terms),
                        "backfilled": 1,
                    }
                )
            current = (set(version.topics) - names) | {match.topic for match in matches}
            if current != set(version.topics):
                store.set_version_topics(version.version_id, current)
    return added


def config_topic(config: Config, name: str) -> Topic:
    for topic in config.topics:
        if topic.name == name:
            return topic
    known = ", ".join(repr(topic.name) for topic in config.topics) or "none"
    raise KeyError(f"no topic named {name!r} in the configuration (configured: {known})")

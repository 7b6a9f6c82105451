"""Read-only summaries of a database for people: the demo's report, status."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.storage import Store


@dataclass(frozen=True)
class TopicReport:
    topic: str
    titles: list[str]


def articles_per_source(store: Store) -> list[tuple[str, int]]:
    rows = store.db.execute(
        "SELECT s.name, count(a.id) FROM sources s LEFT JOIN articles a ON a.source_id = s.id "
        "GROUP BY s.id ORDER BY s.name")
    return [(name, count) for name, count in rows]


def mentions_per_topic(store: Store) -> list[TopicReport]:
    rows = store.db.execute(
        "SELECT t.name, a.title FROM topics t LEFT JOIN mentions m ON m.topic_id = t.id "
        "LEFT JOIN articles a ON a.id = m.article_id ORDER BY t.name, a.published_at DESC")
    reports: dict[str, list[str]] = {}
    for topic, title in rows:
        reports.setdefault(topic, [])
        if title is not None:
            reports[topic].append(title)
    return [TopicReport(topic, titles) for topic, titles in reports.items()]

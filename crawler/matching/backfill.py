"""Apply topic queries to the articles already stored: try a query before saving it
(`presswatch topics check`), or record a new or changed topic's mentions (`backfill`).

Both read only the current versions the full-text index says may match: the words a
query needs are translated into an FTS5 query (:func:`fts_prefilter`), and each
candidate is then confirmed by the exact matcher. A query that needs no word the index
can look up (``NOT x`` alone, a term with a non-ASCII word) reads every article, as
does ``full_scan``. docs/performance.md ("A year of data") says where the index and the
matcher tokenize a text differently.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from crawler.config import Config, Topic
from crawler.matching import And, Near, Node, Not, Or, Term, TopicMatch, TopicMatcher, parse_query
from crawler.storage.articles import CurrentVersion
from crawler.storage.store import Store

BATCH = 500
"""Versions read, and written in one transaction, at a time."""

# Query words the index tokenizes as the matcher does: plain ASCII letters and digits.
# A term with any other word sets no requirement (the matcher alone decides).
_PLAIN_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Hit:
    article_id: int
    url: str
    title: str | None
    match: TopicMatch


def fts_prefilter(queries: Iterable[str]) -> str | None:
    """An FTS5 query matched by every text that any of ``queries`` matches (perhaps more,
    never fewer, where the index tokenizes as the matcher does); None when some query
    needs no word the index can look up."""
    parts = []
    for query in queries:
        part = _required(parse_query(query))
        if part is None:
            return None
        parts.append(part)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " OR ".join(f"({part})" for part in parts)


def _required(node: Node) -> str | None:
    """What a text must contain for ``node`` to hold, as FTS5; None: nothing known."""
    if isinstance(node, Term):
        if not node.words or not all(_PLAIN_WORD.fullmatch(word) for word in node.words):
            return None
        words = [f'"{word}"' for word in node.words]
        if node.prefix:
            words[-1] += "*"
        return " AND ".join(words)  # a phrase's words, not the phrase: title and text
    if isinstance(node, Near):
        return _all([_required(node.left), _required(node.right)])
    if isinstance(node, And):
        return _all([_required(operand) for operand in node.operands])
    if isinstance(node, Or):
        parts = [_required(operand) for operand in node.operands]
        if any(part is None for part in parts):
            return None
        return " OR ".join(f"({part})" for part in parts)
    assert isinstance(node, Not)
    return None


def _all(parts: list[str | None]) -> str | None:
    known = [part for part in parts if part is not None]
    return " AND ".join(f"({part})" for part in known) if known else None


def candidates(store: Store, queries: Iterable[str]) -> list[int] | None:
    """The articles (ids, ascending) whose current version the full-text index says may
    match one of ``queries``; None when every article must be read."""
    prefilter = fts_prefilter(queries)
    return None if prefilter is None else store.articles_matching(prefilter)


def check(
    store: Store, matcher: TopicMatcher, queries: Sequence[str] = (), full_scan: bool = False
) -> Iterator[Hit]:
    """The stored articles a matcher would have matched, oldest first. ``queries`` (the
    matcher's) let the full-text index choose the articles worth matching."""
    article_ids = None if full_scan or not queries else candidates(store, queries)
    for version in store.current_versions(article_ids):
        for match in matcher.match(version.title or "", version.text):
            yield Hit(version.article_id, version.url, version.title, match)


def backfill(
    store: Store, config: Config, topic_names: Sequence[str], now: str, full_scan: bool = False
) -> Counter[str]:
    """Record the mentions the named topics (all, when none named) have in stored articles.

    New mentions are flagged ``backfilled`` with ``found_at = now``; a mention already
    recorded stays as it was. The current versions' topic lists are brought up to date,
    so later edits report mentions added and removed against the topics as they are now.
    Only the versions the full-text index finds, and those of articles that already
    mention the topics, are read; writes are committed every :data:`BATCH` versions.
    """
    topics = [config_topic(config, name) for name in topic_names] or list(config.topics)
    topic_ids = store.sync_topics(config.topics)
    matcher = TopicMatcher.compile(topics)
    names = {topic.name for topic in topics}
    article_ids = None
    if not full_scan:
        article_ids = candidates(store, (query for topic in topics for query in topic.queries))
    if article_ids is not None:
        # A version lists a topic only if its article mentions it: reading those too
        # drops the topic from versions a changed query no longer matches.
        mentioned = store.articles_mentioning([topic_ids[name] for name in names])
        article_ids = sorted(set(article_ids).union(mentioned))
    added: Counter[str] = Counter({name: 0 for name in names})
    versions = store.current_versions(article_ids, batch=BATCH)
    while chunk := list(islice(versions, BATCH)):
        with store.transaction():
            for version in chunk:
                matches = matcher.match(version.title or "", version.text)
                _record(store, version, matches, names, topic_ids, now, added)
    return added


def _record(
    store: Store,
    version: CurrentVersion,
    matches: list[TopicMatch],
    names: set[str],
    topic_ids: dict[str, int],
    now: str,
    added: Counter[str],
) -> None:
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


def config_topic(config: Config, name: str) -> Topic:
    for topic in config.topics:
        if topic.name == name:
            return topic
    known = ", ".join(repr(topic.name) for topic in config.topics) or "none"
    raise KeyError(f"no topic named {name!r} in the configuration (configured: {known})")

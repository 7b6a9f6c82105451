"""Match articles against many topics at once.

Compilation parses every query, registers every term as a search key in one
:class:`~crawler.matching.scanner.KeyTable` and indexes the topics by the keys of
their trigger terms (:mod:`crawler.matching.triggers`).  Matching scans the article
once for all keys, then evaluates only the topics one of whose triggers occurred.
That is exact: a query must need at least one positive term, and whenever it
matches one of its triggers occurs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from typing import Any

from .compiler import CompiledQuery, QueryCompiler
from .errors import QueryError, TopicError
from .models import TopicDefinition, TopicMatch
from .parser import parse_query
from .scanner import Article, KeyTable, Occurrences, Scanner
from .snippet import make_snippet
from .text import TokenLocator


@dataclass(frozen=True)
class _CompiledTopic:
    name: str
    queries: tuple[CompiledQuery, ...]


class TopicMatcher:
    """Finds which of many topics an article matches; build it with :meth:`compile`."""

    def __init__(
        self, topics: Sequence[_CompiledTopic], keys: KeyTable, key_topics: list[tuple[int, ...]]
    ) -> None:
        self._topics = tuple(topics)
        self._scanner = Scanner(keys)
        self._key_topics = key_topics
        self._trigger_keys = frozenset(key for key, users in enumerate(key_topics) if users)
        self.topic_names: tuple[str, ...] = tuple(topic.name for topic in self._topics)

    @classmethod
    def compile(cls, topics: Iterable[Any]) -> TopicMatcher:
        """Compile topic definitions (any objects with ``name``, ``queries``,
        ``case_sensitive`` and ``fold_diacritics``); raise :class:`TopicError` for
        the first malformed query."""
        keys = KeyTable()
        compiled = [_compile_topic(topic, keys) for topic in topics]
        users: list[set[int]] = [set() for _ in keys.search_keys]
        for index, topic in enumerate(compiled):
            for query in topic.queries:
                for key_id in query.triggers:
                    users[key_id].add(index)
        return cls(compiled, keys, [tuple(sorted(u)) for u in users])

    def match(self, title: str, text: str) -> list[TopicMatch]:
        """The topics that ``title`` and ``text`` match, in compilation order."""
        if not self._trigger_keys:
            return []
        occ = self._scanner.scan(title, text)
        candidates: set[int] = set()
        for key in occ.hit_keys & self._trigger_keys:
            candidates.update(self._key_topics[key])
        snippets = _Snippets(occ.article)
        results = []
        for index in sorted(candidates):
            topic = self._topics[index]
            matched = [query for query in topic.queries if query.evaluate(occ)]
            if matched:
                results.append(_report(topic.name, matched, occ, snippets))
        return results


def check_query(
    query: str, *, case_sensitive: bool = False, fold_diacritics: bool = True
) -> TopicMatcher:
    """A matcher for one query, as a topic named after it; raise :class:`QueryError`."""
    parse_query(query)
    topic = TopicDefinition(query, (query,), case_sensitive, fold_diacritics)
    return TopicMatcher.compile([topic])


def _compile_topic(topic: Any, keys: KeyTable) -> _CompiledTopic:
    name = str(topic.name)
    queries = topic.queries
    if isinstance(queries, str):
        queries = (queries,)
    if not queries:
        raise TopicError(name, "", QueryError("empty query", 0))
    compiler = QueryCompiler(
        keys,
        case_sensitive=bool(getattr(topic, "case_sensitive", False)),
        fold_diacritics=bool(getattr(topic, "fold_diacritics", True)),
    )
    compiled = []
    for query in queries:
        try:
            compiled.append(compiler.compile(parse_query(query)))
        except QueryError as error:
            raise TopicError(name, query, error) from error
    return _CompiledTopic(name, tuple(compiled))


class _Snippets:
    """Snippets of one article; token locators are made on first use."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.made: dict[tuple[bool, tuple[tuple[int, int], ...]], str] = {}

    @cached_property
    def title_tokens(self) -> TokenLocator:
        return TokenLocator(self.article.title, self.article.title_blanked)

    @cached_property
    def text_tokens(self) -> TokenLocator:
        return TokenLocator(self.article.text, self.article.text_blanked)


def _report(
    name: str, matched: list[CompiledQuery], occ: Occurrences, snippets: _Snippets
) -> TopicMatch:
    """Build the match of a topic from the occurrences of its matched queries' terms."""
    spans: set[tuple[int, int]] = set()  # (offset, words)
    terms: set[str] = set()
    for query in matched:
        for slot in query.positives:
            offsets = slot.offsets(occ)
            if offsets:
                terms.add(slot.source)
                spans.update(zip(offsets, repeat(slot.length)))
    ordered = sorted(spans)
    in_title = bool(ordered) and ordered[0][0] < occ.title_end
    snippet = _snippet(ordered, occ, snippets)
    return TopicMatch(name, in_title, len(ordered), tuple(sorted(terms)), snippet)


def _snippet(spans: list[tuple[int, int]], occ: Occurrences, snippets: _Snippets) -> str:
    """Snippet around the first match in the text, else in the title.

    Topics matching the same occurrences share one snippet per article.
    """
    in_text = [span for span in spans if span[0] > occ.title_end]
    chosen = in_text or spans
    if not chosen:
        return ""
    key = (bool(in_text), tuple(chosen))
    snippet = snippets.made.get(key)
    if snippet is None:
        positions = occ.positions([offset for offset, _ in chosen])
        if in_text:
            positions = [occ.text_index(position) for position in positions]
        matches = list(zip(positions, [words for _, words in chosen], strict=True))
        locator = snippets.text_tokens if in_text else snippets.title_tokens
        snippet = snippets.made[key] = make_snippet(locator, matches)
    return snippet

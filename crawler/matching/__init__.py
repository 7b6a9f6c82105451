"""Topic queries: parse the query language and match articles against many topics.

See docs/query-language.md for the language.  Typical use::

    matcher = TopicMatcher.compile(config.topics)
    for match in matcher.match(article.title, article.text):
        print(match.topic, match.match_count, match.snippet)
"""

from typing import Any

from .errors import QueryError, TopicError
from .models import TopicDefinition, TopicMatch
from .nodes import And, Near, Node, Not, Or, Term
from .parser import parse_query

# The matcher (its compiler, the automaton, the text folding) is imported at first use:
# reading a configuration only parses its queries (docs/performance.md).
_MATCHER = ("TopicMatcher", "check_query")


def __getattr__(name: str) -> Any:
    if name in _MATCHER:
        from . import matcher

        return getattr(matcher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "And",
    "Near",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "Term",
    "TopicDefinition",
    "TopicError",
    "TopicMatch",
    "TopicMatcher",
    "check_query",
    "parse_query",
]

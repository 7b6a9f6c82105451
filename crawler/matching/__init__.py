"""Topic queries: parse the query language and match articles against many topics.

See docs/query-language.md for the language.  Typical use::

    matcher = TopicMatcher.compile(config.topics)
    for match in matcher.match(article.title, article.text):
        print(match.topic, match.match_count, match.snippet)
"""

from .errors import QueryError, TopicError
from .matcher import TopicMatcher, check_query
from .models import TopicDefinition, TopicMatch
from .nodes import And, Near, Node, Not, Or, Term
from .parser import parse_query

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

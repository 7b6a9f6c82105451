"""Errors raised for malformed queries and topics."""

from __future__ import annotations


class QueryError(ValueError):
    """A malformed query.

    ``position`` is the 0-based character offset in the query where the problem was
    found and ``reason`` says what is wrong; ``str()`` reads
    ``"unbalanced parenthesis at position 12"``.
    """

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} at position {position}")
        self.reason = reason
        self.position = position


class TopicError(ValueError):
    """A topic whose query does not parse; wraps the :class:`QueryError`.

    ``str()`` reads ``"topic 'NATO': query 'NATO AND (': expected a term at position 10"``.
    """

    def __init__(self, topic: str, query: str, error: QueryError) -> None:
        super().__init__(f"topic '{topic}': query '{query}': {error}")
        self.topic = topic
        self.query = query
        self.error = error

    @property
    def reason(self) -> str:
        return self.error.reason

    @property
    def position(self) -> int:
        return self.error.position

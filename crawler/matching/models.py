"""The topic definition given to the matcher and the match it reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicDefinition:
    """A monitored topic: it matches when any of its queries matches.

    The matcher accepts any object with these attributes (the config's topics).
    """

    name: str
    queries: tuple[str, ...]
    case_sensitive: bool = False
    fold_diacritics: bool = True


@dataclass(frozen=True)
class TopicMatch:
    """A topic found in an article."""

    topic: str
    in_title: bool  # at least one matched occurrence is in the title
    match_count: int  # occurrences of the topic's positive terms, title and text
    terms: tuple[str, ...]  # distinct matched terms as written in the queries, sorted
    snippet: str  # ~30 words around the first match, matches wrapped in **

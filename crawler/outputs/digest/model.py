"""What a digest holds: plain frozen dataclasses, read from the database by
crawler.outputs.digest.collect and shown by crawler.outputs.digest.render.

The field names of Mention, Edit and SourceHealth are the keys of the JSON format:
renaming one is a format change (bump JSON_VERSION and docs/digest.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.outputs.digest.filters import plural, when

OVERVIEW_DAYS = 14
TOP_EDITS = 3


class DigestError(ValueError):
    """A digest request a user can fix: a bad ``--since``, an unknown topic, an output path."""


@dataclass(frozen=True)
class Period:
    """``start <= t < end``; ``start`` None means since the first record."""

    start: str | None
    end: str

    def describe(self) -> str:
        if self.start is None:
            return f"up to {when(self.end)}"
        return f"between {when(self.start)} and {when(self.end)}"

    def span(self) -> str:
        if self.start is None:
            return f"everything up to {when(self.end)}"
        return f"{when(self.start)} to {when(self.end)}"


@dataclass(frozen=True)
class Mention:
    title: str
    url: str
    outlet: str | None
    published_at: str | None
    found_at: str
    snippet: str | None
    in_title: bool
    also_in: tuple[str, ...] = ()  # other outlets carrying the same story (syndicated copies)


@dataclass(frozen=True)
class TopicMentions:
    name: str
    mentions: tuple[Mention, ...]


@dataclass(frozen=True)
class Edit:
    kind: str
    detected_at: str
    title: str
    title_before: str | None
    title_after: str | None
    url: str
    outlet: str | None
    topics: tuple[str, ...]
    topics_added: tuple[str, ...]
    topics_removed: tuple[str, ...]
    excerpt: str | None
    chars_added: int
    chars_removed: int
    redirect_url: str | None
    kinds: tuple[str, ...] = ()  # changes.kinds: headline, lede, stealth, ...
    significance: float | None = None  # None for changes recorded before it was
    change_id: int | None = None  # the changes row, for the full diff
    diff_url: str | None = None  # where the full diff is shown (see deliver.with_diff_links)

    @property
    def retitled(self) -> bool:
        return bool(
            self.title_before and self.title_after and self.title_before != self.title_after
        )


@dataclass(frozen=True)
class Story(Mention):
    """One story of the period, listed once: its first mention, with every topic it
    matched as a label (an article under three topics is one story, not three)."""

    topics: tuple[str, ...] = ()
    edited: bool = False  # an edit of it is listed under Edited stories too


@dataclass(frozen=True)
class TopicActivity:
    """A topic in the overview: its mentions in the period, and per day over the last
    :data:`OVERVIEW_DAYS` days (the bars)."""

    name: str
    mentions: int
    per_day: tuple[int, ...]

    @property
    def peak(self) -> int:
        return max(self.per_day, default=0)


@dataclass(frozen=True)
class Overview:
    """The block at the top: topics with counts and daily bars, and the edits to read
    first (the most significant)."""

    days: tuple[str, ...] = ()  # the dates of ``per_day``, oldest first
    topics: tuple[TopicActivity, ...] = ()
    top_edits: tuple[Edit, ...] = ()

    @property
    def peak(self) -> int:
        """The highest daily count of any topic: the full width of a bar."""
        return max((topic.peak for topic in self.topics), default=0)


@dataclass(frozen=True)
class SourceHealth:
    name: str
    url: str
    status: str | None
    errors: int
    last_error: str | None
    last_error_at: str | None


@dataclass(frozen=True)
class Counts:
    items: int
    mentions: int
    articles: int
    topics: int
    edits: int
    sources_with_problems: int
    stories: int = 0


@dataclass(frozen=True)
class Digest:
    period: Period
    topics: tuple[TopicMentions, ...] = ()
    edits: tuple[Edit, ...] = ()
    source_health: tuple[SourceHealth, ...] = ()
    selected_topics: tuple[str, ...] = ()
    stories: tuple[Story, ...] = ()
    overview: Overview = Overview()

    @property
    def item_count(self) -> int:
        """Stories listed (each once, whatever its topics) plus edited stories: what
        ``digests.item_count`` records."""
        return len(self.stories) + len(self.edits)

    def summary(self) -> str:
        """``5 mentions of 3 topics in 4 articles, 1 edited story``: counts for a header."""
        counts = self.counts
        parts = [
            f"{plural(counts.mentions, 'mention')} of {plural(counts.topics, 'topic')} "
            f"in {plural(counts.articles, 'article')}",
            plural(counts.edits, "edited story", "edited stories"),
        ]
        if counts.sources_with_problems:
            parts.append(
                plural(
                    counts.sources_with_problems, "source with problems", "sources with problems"
                )
            )
        return ", ".join(parts)

    @property
    def counts(self) -> Counts:
        mentions = [m for topic in self.topics for m in topic.mentions]
        return Counts(
            self.item_count,
            len(mentions),
            len({m.url for m in mentions}),
            len(self.topics),
            len(self.edits),
            len(self.source_health),
            len(self.stories),
        )


@dataclass(frozen=True)
class DigestResult:
    text: str
    digest_id: int | None  # None for a dry run, which records nothing
    item_count: int
    sent: bool
    recipients: tuple[str, ...] = ()
    period: Period | None = None
    skipped: bool = False  # empty, and --skip-empty: nothing sent or written
    resent: bool = False  # a digest whose delivery was in doubt, sent again
    message_id: str | None = None

    def describe(self) -> str:
        """One line for ``--verbose``: what was done with which digest."""
        period = self.period.describe() if self.period else ""
        if self.skipped:
            return f"digest {self.digest_id}: nothing new {period}; not sent (--skip-empty)"
        if self.digest_id is None:
            return f"dry run: {plural(self.item_count, 'item')} {period}; nothing recorded"
        done = "sent again" if self.resent else "sent" if self.sent else "written"
        to = f" to {', '.join(self.recipients)}" if self.recipients else ""
        message = f", Message-ID {self.message_id}" if self.message_id else ""
        return (
            f"digest {self.digest_id} {done}{to}: {plural(self.item_count, 'item')} "
            f"{period}{message}"
        )

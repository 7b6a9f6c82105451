"""The digest: what a desk should read about one period, in five formats.

:func:`resolve_period` turns ``--since`` / ``--unsent`` into a half-open period
``start <= t < end``; :func:`collect` reads the period's new mentions, edited stories
and source problems into plain dataclasses; :func:`render` shows them as Markdown,
HTML, plain text, JSON or Atom; :func:`make_digest` is the whole command: collect,
render, record a ``digests`` row, deliver, and mark it sent once delivered.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from crawler.config import Config, ConfigError, EmailSettings
from crawler.durations import parse_duration
from crawler.outputs.mail import MailError, send_digest, sender_domain
from crawler.storage.store import Store
from crawler.times import from_iso, to_iso, utc_now
from crawler.tracking.diffs import excerpt
from crawler.visible import visible

FORMATS = ("markdown", "html", "text", "json", "atom")
TEMPLATES = {
    "markdown": "digest.md.j2",
    "html": "digest.html.j2",
    "text": "digest.txt.j2",
    "atom": "digest.atom.j2",
}
TEMPLATE_DIR = Path(__file__).parent / "templates"
JSON_VERSION = 1
DEFAULT_SINCE = "24h"
EXCERPT_CHARS = 240
HEALTH_STAGES = ("fetch", "feed")
MARK_STYLE = "background:#fff0a6;color:inherit;padding:0 2px"
DEL_STYLE = "background:#ffe3e3;color:#8f1d1d;text-decoration:line-through"
INS_STYLE = "background:#ddf6e3;color:#17602f;text-decoration:none"


class DigestError(ValueError):
    """A digest request a user can fix: a bad ``--since``, an unknown topic, an output path."""


# --- what a digest holds ------------------------------------------------------------
# The field names of Mention, Edit and SourceHealth are the keys of the JSON format:
# renaming one is a format change (bump JSON_VERSION and docs/digest.md).


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

    def where(self, column: str) -> tuple[str, list[str]]:
        """An SQL condition (and its parameters) selecting ``column`` inside the period."""
        if self.start is None:
            return f"{column} < ?", [self.end]
        return f"{column} >= ? AND {column} < ?", [self.start, self.end]


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

    @property
    def retitled(self) -> bool:
        return bool(
            self.title_before and self.title_after and self.title_before != self.title_after
        )


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


@dataclass(frozen=True)
class Digest:
    period: Period
    topics: tuple[TopicMentions, ...] = ()
    edits: tuple[Edit, ...] = ()
    source_health: tuple[SourceHealth, ...] = ()
    selected_topics: tuple[str, ...] = ()

    @property
    def item_count(self) -> int:
        """Mention entries plus edited stories: what ``digests.item_count`` records."""
        return sum(len(topic.mentions) for topic in self.topics) + len(self.edits)

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


# --- the period -----------------------------------------------------------------------

_DURATION_LIKE = re.compile(r"[\d.\s]+[a-z][\da-z.\s]*", re.IGNORECASE)


def resolve_period(store: Store, since: str | None, unsent: bool, now: datetime) -> Period:
    """The period a digest covers, ending at ``now``.

    ``since`` is a duration back from now (``90m``, ``24h``, ``7d``) or an ISO 8601 time;
    ``unsent`` starts where the last delivered digest ended (or at the first record when
    none was). Neither: the last 24 hours. Raises DigestError for a bad value.
    """
    end = to_iso(now)
    if since is not None and unsent:
        raise DigestError("give either --since or --unsent, not both")
    if unsent:
        return Period(last_delivered_end(store), end)
    start = parse_since(since or DEFAULT_SINCE, now)
    if start >= end:
        raise DigestError(f"--since {since!r}: {when(start)} is not before now ({when(end)})")
    return Period(start, end)


def parse_since(text: str, now: datetime) -> str:
    """The start time meant by a ``--since`` value, as a stored time string."""
    text = text.strip()
    try:
        if _DURATION_LIKE.fullmatch(text):
            return to_iso(now - parse_duration(text))
    except ValueError as error:
        raise DigestError(f"--since {error}") from None
    except OverflowError:
        raise DigestError(f"--since {text!r}: too far back") from None
    try:
        return to_iso(from_iso(text))
    except ValueError:
        raise DigestError(
            f"--since {text!r}: not a time; expected a duration (90m, 24h, 7d) or an ISO 8601 "
            "time (2026-11-23T06:00Z, 2026-11-23T06:00:00+01:00, 2026-11-23)"
        ) from None


def last_delivered_end(store: Store) -> str | None:
    """Where ``--unsent`` starts: the end of the latest digest with ``sent_at`` set."""
    return store.last_delivered_end()


# --- reading the database -------------------------------------------------------------


def collect(
    store: Store, period: Period, topics: Sequence[str] = (), min_significance: float = 0.0
) -> Digest:
    """Everything a digest of ``period`` shows; ``topics`` limits it to those topics, and
    ``min_significance`` leaves out edits that matter less (comma fixes)."""
    selected = _check_topics(store, topics)
    return Digest(
        period,
        _topic_mentions(store, period, selected),
        _edits(store, period, selected, min_significance),
        _source_health(store, period),
        selected,
    )


def _check_topics(store: Store, topics: Sequence[str]) -> tuple[str, ...]:
    known = [row[0] for row in store.db.execute("SELECT name FROM topics ORDER BY id")]
    for name in topics:
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none yet"
            raise DigestError(f"--topic {name!r}: no such topic in the database ({listed})")
    return tuple(dict.fromkeys(topics))


_MENTIONS_SQL = """
SELECT t.name, m.article_id, coalesce(a.title, v.title), a.url, s.name, a.published_at,
       m.found_at, m.snippet, m.in_title, coalesce(a.story_id, a.id),
       (SELECT group_concat(DISTINCT s2.name) FROM articles a2
        JOIN sources s2 ON s2.id = a2.source_id
        WHERE a2.story_id = a.story_id AND a2.id != a.id AND a2.source_id != a.source_id)
FROM mentions m
JOIN topics t ON t.id = m.topic_id
JOIN articles a ON a.id = m.article_id
LEFT JOIN versions v ON v.id = m.version_id
LEFT JOIN sources s ON s.id = a.source_id
WHERE {where}
ORDER BY t.id, a.published_at IS NULL, a.published_at DESC, m.found_at DESC, m.id DESC
"""


def _topic_mentions(
    store: Store, period: Period, selected: tuple[str, ...]
) -> tuple[TopicMentions, ...]:
    """Mentions recorded in the period, grouped by topic, newest story first; a story
    syndicated on several outlets is listed once, with the other outlets named."""
    where, params = period.where("m.found_at")
    groups: dict[str, list[Mention]] = {}
    seen: set[tuple[str, int]] = set()
    for row in store.db.execute(_MENTIONS_SQL.format(where=where), params):
        topic, _, title, url, outlet, published, found, snippet, in_title, story, others = row
        if (selected and topic not in selected) or (topic, story) in seen:
            continue
        seen.add((topic, story))
        also_in = tuple(sorted(set(others.split(",")) - {outlet})) if others else ()
        groups.setdefault(topic, []).append(
            Mention(title or url, url, outlet, published, found, snippet, bool(in_title), also_in)
        )
    return tuple(TopicMentions(name, tuple(items)) for name, items in groups.items())


_EDITS_SQL = """
SELECT c.article_id, c.kind, c.detected_at, c.title_before, c.title_after, a.title, a.url,
       s.name, c.mentions_added, c.mentions_removed, c.diff, c.chars_added, c.chars_removed,
       c.redirect_url, c.kinds, c.significance
FROM changes c
JOIN articles a ON a.id = c.article_id
LEFT JOIN sources s ON s.id = a.source_id
WHERE {where} AND (c.significance IS NULL OR c.significance >= ?)
ORDER BY coalesce(c.significance, 1) DESC, c.detected_at DESC, c.id DESC
"""


def _edits(
    store: Store, period: Period, selected: tuple[str, ...], min_significance: float = 0.0
) -> tuple[Edit, ...]:
    """Changes detected in the period of at least ``min_significance``, the most
    significant first (removals, redirects and changes recorded before significance was,
    which have none, count as 1), then the newest; with topics, only stories about them."""
    where, params = period.where("c.detected_at")
    topics_of = _article_topics(store, where, params)
    edits = []
    for row in store.db.execute(_EDITS_SQL.format(where=where), [*params, min_significance]):
        edit = _edit(row, topics_of.get(row[0], ()))
        related = {*edit.topics, *edit.topics_added, *edit.topics_removed}
        if not selected or related.intersection(selected):
            edits.append(edit)
    return tuple(edits)


def _article_topics(store: Store, where: str, params: list[str]) -> dict[int, tuple[str, ...]]:
    """The topics ever mentioned by each article changed in the period."""
    rows = store.db.execute(
        "SELECT m.article_id, t.name FROM mentions m JOIN topics t ON t.id = m.topic_id "
        f"WHERE m.article_id IN (SELECT c.article_id FROM changes c WHERE {where}) "
        "ORDER BY t.id",
        params,
    )
    topics: dict[int, tuple[str, ...]] = {}
    for article_id, name in rows:
        topics[article_id] = (*topics.get(article_id, ()), name)
    return topics


def _edit(row: tuple[Any, ...], topics: tuple[str, ...]) -> Edit:
    (
        _,
        kind,
        detected_at,
        before,
        after,
        current,
        url,
        outlet,
        added,
        removed,
        diff,
        chars_added,
        chars_removed,
        redirect_url,
        kinds,
        significance,
    ) = row
    return Edit(
        kind=kind,
        detected_at=detected_at,
        title=after or before or current or url,
        title_before=before,
        title_after=after,
        url=url,
        outlet=outlet,
        topics=topics,
        topics_added=tuple(json.loads(added or "[]")),
        topics_removed=tuple(json.loads(removed or "[]")),
        excerpt=excerpt(diff, EXCERPT_CHARS) if diff else None,
        chars_added=chars_added,
        chars_removed=chars_removed,
        redirect_url=redirect_url,
        kinds=tuple(json.loads(kinds or "[]")),
        significance=significance,
    )


_HEALTH_SQL = """
SELECT s.id, s.name, s.url, s.last_status, s.last_error, s.last_polled_at, count(e.id)
FROM sources s
LEFT JOIN errors e ON e.source_id = s.id AND e.stage IN ({stages}) AND {where}
GROUP BY s.id
HAVING count(e.id) > 0 OR s.last_status = 'failed'
ORDER BY s.name
"""


def _source_health(store: Store, period: Period) -> tuple[SourceHealth, ...]:
    """Sources with fetch or feed errors in the period, or whose last poll failed."""
    where, params = period.where("e.at")
    stages = ", ".join("?" for _ in HEALTH_STAGES)
    sql = _HEALTH_SQL.format(stages=stages, where=where)
    health = []
    for source_id, name, url, status, last_error, polled_at, count in store.db.execute(
        sql, [*HEALTH_STAGES, *params]
    ):
        latest = store.db.execute(
            f"SELECT e.message, e.at FROM errors e WHERE e.source_id = ? AND e.stage IN "
            f"({stages}) AND {where} ORDER BY e.at DESC, e.id DESC LIMIT 1",
            [source_id, *HEALTH_STAGES, *params],
        ).fetchone()
        message, at = latest if latest else (last_error, polled_at)
        health.append(SourceHealth(name, url, status, count, message, at))
    return tuple(health)


# --- rendering --------------------------------------------------------------------------


def render(digest: Digest, fmt: str, template_dir: Path | None = None) -> str:
    """The digest in ``fmt``; a template of the same name in ``template_dir`` wins."""
    if fmt == "json":
        return json.dumps(_shown_data(as_json(digest)), indent=2, ensure_ascii=False) + "\n"
    if fmt not in TEMPLATES:
        raise DigestError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    template = _environment(template_dir).get_template(TEMPLATES[fmt])
    return template.render(digest=digest, feed_id=feed_id(digest)).rstrip("\n") + "\n"


def as_json(digest: Digest) -> dict[str, Any]:
    """The documented JSON structure (docs/digest.md), version :data:`JSON_VERSION`."""
    return {
        "version": JSON_VERSION,
        "period": {"start": digest.period.start, "end": digest.period.end},
        "counts": asdict(digest.counts),
        "topics": [asdict(topic) for topic in digest.topics],
        "edits": [asdict(edit) for edit in digest.edits],
        "source_health": [asdict(source) for source in digest.source_health],
    }


def feed_id(digest: Digest) -> str:
    """A stable Atom feed id: the same for every digest of the same topic selection."""
    topics = ",".join(quote(name, safe="") for name in digest.selected_topics)
    return "urn:presswatch:digest" + (f":{topics}" if topics else "")


@lru_cache(maxsize=8)
def _environment(template_dir: Path | None) -> jinja2.Environment:
    loaders = [jinja2.FileSystemLoader(template_dir)] if template_dir else []
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([*loaders, jinja2.FileSystemLoader(TEMPLATE_DIR)]),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "xml", "html.j2", "atom.j2"), default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=shown,
    )
    env.filters.update(FILTERS)
    return env


# --- template filters -------------------------------------------------------------------

_MARKED = re.compile(r"\*\*(.+?)\*\*")
_DIFF_MARKER = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}")
_WHITESPACE = re.compile(r"\s+")
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\](){}<>#+\-!|~&]")
_HTML_IN_MARKDOWN = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_URL_SAFE = "!#$%&'()*+,-./:;=?@_~"  # left as they are in a link; the rest is %-encoded


def when(moment: str | None) -> str:
    """A stored time for people: ``2026-11-25 07:00 UTC``; a bare date stays a date."""
    if not moment:
        return "unknown time"
    if len(moment) == 10:
        return moment
    try:
        return from_iso(moment).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return moment


def day(moment: str) -> str:
    return moment[:10]


def rfc3339(moment: str | None) -> str | None:
    """A stored time as Atom wants it; a bare date is taken as midnight UTC."""
    if not moment:
        return None
    try:
        return to_iso(from_iso(moment))
    except ValueError:
        return None


def shown(value: Any) -> Any:
    """Every value a template prints, without invisible characters
    (``crawler.visible``); escaped markup stays markup."""
    if isinstance(value, Markup):
        return Markup(visible(str(value)))
    return visible(value) if isinstance(value, str) else value


def _shown_data(value: Any) -> Any:
    """``shown`` applied to every string in a JSON structure."""
    if isinstance(value, dict):
        return {key: _shown_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_shown_data(item) for item in value]
    return shown(value)


def oneline(text: object) -> str:
    """Web text on one line, without control or invisible format characters (which
    XML forbids, and which would reorder or hide text)."""
    return _flat(text).strip()


def _flat(text: object) -> str:
    return _WHITESPACE.sub(" ", visible("" if text is None else str(text)))


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else many or singular + 's'}"


def http_url(url: str | None) -> str | None:
    """A link target: an http(s) URL with spaces, quotes, brackets and non-ASCII
    %-encoded; None for any other scheme, which is never made a link."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return quote(url.strip(), safe=_URL_SAFE)
    return None


def markdown_escape(text: object) -> str:
    """Web text made inert in Markdown: metacharacters backslash-escaped, ``<>&`` as
    HTML entities, whitespace folded, so it shows as text and never as a link or HTML."""
    return _MARKDOWN_SPECIAL.sub(_markdown_char, _flat(text))


def _markdown_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _HTML_IN_MARKDOWN.get(char, "\\" + char)


def markdown_link(text: object, url: str | None) -> str:
    """``[text](<url>)`` for an http(s) URL; just the escaped text for anything else."""
    label = markdown_escape(text).strip() or markdown_escape(url)
    target = http_url(url)
    if target is None:
        return label
    return f"[{label}](<{target}>)"


def markdown_snippet(snippet: str | None) -> str:
    """A mention snippet in Markdown: the text escaped, matched words in bold."""
    return _marked(snippet, markdown_escape, "**{}**")


def html_snippet(snippet: str | None) -> Markup:
    """A mention snippet in HTML: the text escaped, then matched words in ``<mark>``."""
    return Markup(
        _marked(snippet, lambda part: str(escape(part)), f'<mark style="{MARK_STYLE}">{{}}</mark>')
    )


def feed_snippet(snippet: str | None) -> Markup:
    """A mention snippet for a feed reader: escaped, matched words in ``<strong>``
    (readers drop ``<mark>`` and inline styles)."""
    return Markup(_marked(snippet, lambda part: str(escape(part)), "<strong>{}</strong>"))


def _marked(snippet: str | None, escape_text: Any, wrap: str) -> str:
    out, position = [], 0
    snippet = visible(snippet or "")
    for match in _MARKED.finditer(snippet):
        out += [
            escape_text(snippet[position : match.start()]),
            wrap.format(escape_text(match.group(1))),
        ]
        position = match.end()
    return "".join([*out, escape_text(snippet[position:])])


def html_diff(diff_excerpt: str | None) -> Markup:
    """A diff excerpt in HTML: escaped first, then ``[-…-]`` / ``{+…+}`` as del / ins."""
    escaped = str(escape(visible(diff_excerpt or "")))
    return Markup(_DIFF_MARKER.sub(_diff_tag, escaped))


def _diff_tag(match: re.Match[str]) -> str:
    removed, added = match.group(1), match.group(2)
    if removed is not None:
        return f'<del style="{DEL_STYLE}">{removed}</del>'
    return f'<ins style="{INS_STYLE}">{added}</ins>'


def atom_entry_id(mention: Mention, topic: str) -> str:
    """A permanent id for one (article, topic) mention: the article URL plus the topic."""
    url = http_url(mention.url.split("#")[0])
    if url is None:
        return f"urn:presswatch:mention:{quote(mention.url, safe='')}:{quote(topic, safe='')}"
    return f"{url}#presswatch-topic={quote(topic, safe='')}"


FILTERS = {
    "when": when,
    "day": day,
    "rfc3339": rfc3339,
    "oneline": oneline,
    "plural": plural,
    "http_url": http_url,
    "markdown_escape": markdown_escape,
    "markdown_link": markdown_link,
    "markdown_snippet": markdown_snippet,
    "html_snippet": html_snippet,
    "feed_snippet": feed_snippet,
    "html_diff": html_diff,
    "atom_entry_id": atom_entry_id,
}


# --- recording and delivering ---------------------------------------------------------


def record_digest(
    store: Store,
    period: Period,
    fmt: str,
    item_count: int,
    sent_at: str | None = None,
    recipients: Sequence[str] = (),
    *,
    created_at: str | None = None,
    status: str | None = None,
) -> int:
    """Write a ``digests`` row; return its id."""
    return store.insert_digest(
        {
            "created_at": created_at or to_iso(utc_now()),
            "period_start": period.start,
            "period_end": period.end,
            "format": fmt,
            "sent_at": sent_at,
            "recipients": ", ".join(recipients) or None,
            "item_count": item_count,
            "status": status or ("sent" if sent_at else "unsent"),
        }
    )


def mark_sent(store: Store, digest_id: int, sent_at: str, recipients: Sequence[str] = ()) -> None:
    """Record that a digest was delivered: ``--unsent`` starts after it from now on."""
    store.update_digest(
        digest_id,
        {"sent_at": sent_at, "status": "sent", "recipients": ", ".join(recipients) or None},
    )


def make_digest(
    store: Store,
    config: Config,
    *,
    since: str | None,
    unsent: bool,
    topics: Sequence[str],
    fmt: str,
    send: bool,
    now: datetime,
    output: Path | None = None,
    skip_empty: bool | None = None,
    dry_run: bool = False,
    release_lock: Callable[[], None] | None = None,
    min_significance: float | None = None,
) -> DigestResult:
    """The ``presswatch digest`` command: collect, render, record, deliver.

    The ``digests`` row is written unsent, then the digest is delivered: written to
    ``output`` (when given) and, with ``send``, e-mailed. It is marked sent as soon as
    the mail server accepts the message, so a failed delivery (MailError, DigestError
    for the output file) leaves its items for the next ``--unsent``. With ``unsent``
    and no ``send``, producing the digest is the delivery: the row is marked sent at
    ``now``.

    ``release_lock`` is called once the digest is collected and recorded, before the
    mail server is contacted: a slow server then holds up no pass. ``dry_run`` renders
    and records nothing. ``skip_empty`` (default ``[digest] skip_empty``): a digest
    with nothing new is neither sent nor written, only recorded as ``skipped``.

    With ``send`` and ``unsent``, a digest left ``sending`` (killed between handing it
    to the server and recording the outcome) is first sent again, the same period with
    the same Message-ID, and that is the whole delivery of this call.

    ``min_significance`` (default ``[digest] min_significance``) leaves out edits below it.
    """
    if fmt not in FORMATS:
        raise DigestError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    email = config.digest.email
    if send and email is None:
        raise ConfigError(f"{config.path or 'config'}: --send needs a [digest.email] table")
    if send and unsent and not dry_run and email is not None:
        doubt = store.digest_in_doubt()
        if doubt is not None:
            return _send_again(store, config, email, doubt, topics, fmt, now, release_lock)
    threshold = config.digest.min_significance if min_significance is None else min_significance
    digest = collect(store, resolve_period(store, since, unsent, now), topics, threshold)
    text = render(digest, fmt, config.digest.template_dir)
    if dry_run:
        return DigestResult(text, None, digest.item_count, False, period=digest.period)
    stamp = to_iso(now)
    if (config.digest.skip_empty if skip_empty is None else skip_empty) and not digest.item_count:
        digest_id = record_digest(
            store,
            digest.period,
            fmt,
            0,
            created_at=stamp,
            sent_at=stamp if send or unsent else None,
            status="skipped",
        )
        return DigestResult("", digest_id, 0, False, period=digest.period, skipped=True)
    digest_id = record_digest(store, digest.period, fmt, digest.item_count, created_at=stamp)
    if output is not None:
        write_output(output, text)
    if send and email is not None:
        message_id = digest_message_id(digest_id, digest.period, email)
        recipients = _send(
            store, config, email, digest, digest_id, message_id, stamp, release_lock, in_doubt=False
        )
        return DigestResult(
            text,
            digest_id,
            digest.item_count,
            True,
            recipients,
            digest.period,
            message_id=message_id,
        )
    if unsent:
        mark_sent(store, digest_id, stamp)
    return DigestResult(text, digest_id, digest.item_count, False, period=digest.period)


def _send_again(
    store: Store,
    config: Config,
    email: EmailSettings,
    row: dict[str, Any],
    topics: Sequence[str],
    fmt: str,
    now: datetime,
    release_lock: Callable[[], None] | None,
) -> DigestResult:
    """Send once more a digest whose delivery is in doubt: same period, same Message-ID
    (a mailbox that has it already can drop the copy)."""
    period = Period(row["period_start"], row["period_end"])
    digest = collect(store, period, topics)
    message_id = row["message_id"] or digest_message_id(row["id"], period, email)
    recipients = _send(
        store,
        config,
        email,
        digest,
        row["id"],
        message_id,
        to_iso(now),
        release_lock,
        in_doubt=True,
    )
    text = render(digest, fmt, config.digest.template_dir)
    return DigestResult(
        text,
        row["id"],
        digest.item_count,
        True,
        recipients,
        period,
        resent=True,
        message_id=message_id,
    )


def _send(
    store: Store,
    config: Config,
    email: EmailSettings,
    digest: Digest,
    digest_id: int,
    message_id: str,
    stamp: str,
    release_lock: Callable[[], None] | None,
    *,
    in_doubt: bool,
) -> tuple[str, ...]:
    """Mail the digest, recorded ``sending`` before the server is contacted and ``sent``
    the moment it accepts the message. A failure leaves it unsent, unless it was already
    in doubt (it may have arrived before): then it stays ``sending``, to be sent again."""
    store.update_digest(digest_id, {"status": "sending", "message_id": message_id})
    if release_lock is not None:
        release_lock()
    try:
        return mail_digest(
            digest,
            email,
            config.digest.template_dir,
            message_id=message_id,
            accepted=lambda to: mark_sent(store, digest_id, stamp, to),
        )
    except MailError:
        if not in_doubt:
            store.update_digest(digest_id, {"status": "unsent"})
        raise


def digest_message_id(digest_id: int, period: Period, email: EmailSettings) -> str:
    """The Message-ID of a digest, derived from its ``digests`` row and period:
    ``<presswatch.digest.42.20261125T070000Z@example.org>``. Sending the same digest
    again gives the same one."""
    end = re.sub(r"[^0-9A-Za-z]", "", period.end)
    return f"<presswatch.digest.{digest_id}.{end}@{sender_domain(email)}>"


def mail_digest(
    digest: Digest,
    email: EmailSettings,
    template_dir: Path | None = None,
    *,
    message_id: str | None = None,
    accepted: Callable[[list[str]], None] | None = None,
) -> tuple[str, ...]:
    """E-mail the digest as plain text and HTML; return the recipients. Raises MailError."""
    text, html = render(digest, "text", template_dir), render(digest, "html", template_dir)
    return tuple(
        send_digest(
            email,
            subject(email.subject, digest),
            text,
            html,
            message_id=message_id,
            accepted=accepted,
        )
    )


def subject(template: str, digest: Digest) -> str:
    """The e-mail subject: ``template`` with {date}, {count}, {start} and {end}."""
    period = digest.period
    return oneline(
        template.format(
            date=day(period.end),
            count=digest.item_count,
            start=when(period.start) if period.start else "the beginning",
            end=when(period.end),
        )
    )


def write_output(path: Path, text: str) -> None:
    """Write the file whole or not at all: a temporary file renamed into place."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise DigestError(f"cannot write {path}: {error.strerror or error}") from error

"""Alerts as messages: outbox rows grouped into items (syndicated copies of one story
are one item), each item rendered in the target's format, items packed into messages
within the service's size limit, each message with a stable id.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawler.outputs.alerts.formats import TEXT, Format, diff_excerpt, flat, snippet
from crawler.outputs.digest.links import DIFF_ROUTE
from crawler.times import from_iso
from crawler.tracking.diffs import excerpt

MAX_HEADLINE = 300  # characters of a headline shown
MAX_EXCERPT = 400  # characters of a snippet or diff excerpt shown
HEADINGS = {
    "mention": "{topic} in a new article",
    "mention_added": "{topic} added by an edit",
    "mention_removed": "{topic} removed by an edit",
    "headline": "Headline changed",
}


@dataclass(frozen=True)
class Item:
    """One story's alert: one event about one article, with its syndicated copies."""

    event: str
    topic: str | None
    title: str | None
    url: str
    outlet: str | None
    at: str
    snippet: str | None  # a mention's stored snippet (matched words in **)
    diff: str | None  # a diff excerpt, [-removed-] {+added+}
    title_before: str | None
    title_after: str | None
    change_id: int | None
    also_in: tuple[str, ...]  # the other outlets carrying the story in this delivery
    rows: tuple[dict[str, Any], ...]  # the outbox rows it stands for

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(row["event_id"] for row in self.rows)

    @property
    def heading(self) -> str:
        return HEADINGS[self.event].format(topic=flat(self.topic))


@dataclass(frozen=True)
class Message:
    """What one notification carries: its id, its title (no web text) and its body."""

    id: str
    title: str
    body: str
    items: tuple[Item, ...]

    @property
    def row_ids(self) -> list[int]:
        return [row["id"] for item in self.items for row in item.rows]


def group(rows: Iterable[dict[str, Any]]) -> list[Item]:
    """One item per event, topic and story: copies of a syndicated story are one."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["event"], row["topic"], row["story_id"]), []).append(row)
    return [_item(members) for members in groups.values()]


def _item(rows: list[dict[str, Any]]) -> Item:
    first = rows[0]
    outlets = {
        row["outlet"] for row in rows[1:] if row["outlet"] and row["outlet"] != first["outlet"]
    }
    diff = None
    if first["event"] in ("mention_added", "mention_removed"):
        diff = changed_sentence(first["diff"], json.loads(first["terms"] or "[]"))
    return Item(
        event=first["event"],
        topic=first["topic"],
        title=first["title"],
        url=first["url"],
        outlet=first["outlet"],
        at=first["created_at"],
        snippet=first["snippet"] if first["event"] == "mention" else None,
        diff=diff,
        title_before=first["title_before"],
        title_after=first["title_after"],
        change_id=first["change_id"],
        also_in=tuple(sorted(outlets)),
        rows=tuple(rows),
    )


_MARKER = re.compile(r"\[-.*?-\]|\{\+.*?\+\}")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)]*\s")


def changed_sentence(diff: str | None, terms: Sequence[str], max_chars: int = MAX_EXCERPT) -> str:
    """The sentence of a stored diff that an edit changed about ``terms``: the changed
    words closest to a term, within their sentence, at most ``max_chars`` long."""
    if not diff:
        return ""
    lowered = [term.lower() for term in terms if term]
    lines = [line for line in diff.splitlines() if line.strip()]
    line = next(
        (x for x in lines if any(t in x.lower() for t in lowered)), lines[0] if lines else ""
    )
    markers = list(_MARKER.finditer(line))
    chosen = next((m for m in markers if any(t in m.group(0).lower() for t in lowered)), None)
    if chosen is None:
        chosen = markers[0] if markers else None
    if chosen is None:
        return excerpt(line, max_chars)
    inside = [range(m.start(), m.end()) for m in markers]
    ends = [
        m.end()
        for m in _SENTENCE_END.finditer(line)
        if not any(m.start() in span for span in inside)
    ]
    start = max((end for end in ends if end <= chosen.start()), default=0)
    stop = min((end for end in ends if end >= chosen.end()), default=len(line))
    return excerpt(line[start:stop].strip(), max_chars)


def render_item(item: Item, fmt: Format, diff_link: str | None = None) -> str:
    """One item: what happened, the headline as a link, outlet and time, the snippet or
    the changed sentence, and the link to the full diff when there is one."""
    parts = [fmt.strong(fmt.text(item.heading))]
    headline = flat(item.title)[:MAX_HEADLINE] or item.url
    if item.event == "headline":
        before = fmt.removed(fmt.text(flat(item.title_before)[:MAX_HEADLINE]))
        after = fmt.added(fmt.text(flat(item.title_after)[:MAX_HEADLINE]))
        parts.append(f"{before} → {after}")
        parts.append(fmt.link("Read the article", item.url))
    else:
        parts.append(fmt.link(headline, item.url))
    where = [fmt.text(item.outlet or "unknown outlet"), fmt.text(shown_time(item.at))]
    if item.also_in:
        outlets = ", ".join(item.also_in)
        count = len(item.also_in)
        where.append(fmt.text(f"also in {count} outlet{'s' if count > 1 else ''}: {outlets}"))
    parts.append(" · ".join(where))
    if item.snippet:
        parts.append(snippet(fmt, flat(item.snippet)[:MAX_EXCERPT]))
    if item.diff:
        parts.append(diff_excerpt(fmt, item.diff))
    if diff_link and item.change_id is not None:
        parts.append(fmt.link("The full diff", diff_link))
    return fmt.line_break().join(parts)


def shown_time(moment: str) -> str:
    try:
        return from_iso(moment).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return moment


def message_id(event_ids: Iterable[str]) -> str:
    """The id a message carries: derived from the events it holds, so sending the same
    events again (after a kill, after a failure) carries the same id."""
    ids = sorted(event_ids)
    if len(ids) == 1:
        return f"pw-{ids[0]}"
    return "pw-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def compose(
    items: Sequence[Item],
    fmt: Format,
    *,
    max_body: int,
    max_title: int,
    diff_links: dict[int, str],
    ident: str | None = None,
) -> Message:
    """One message of ``items`` (their rows keep ``ident`` when they had one)."""
    ident = ident or message_id(e for item in items for e in item.event_ids)
    if len(items) == 1:
        title = f"presswatch: {items[0].heading}"
    else:
        title = f"presswatch: {len(items)} alerts"
    footer = f"{fmt.text('presswatch alert')} {fmt.code(ident)}"
    bodies = [render_item(item, fmt, diff_links.get(item.change_id or 0)) for item in items]
    body = fmt.paragraph_break().join([*bodies, footer])
    if len(body) > max_body:  # one item too long for a small service: plain, and cut
        plain = TEXT.paragraph_break().join(
            [*(render_item(item, TEXT) for item in items), f"presswatch alert {ident}"]
        )
        body = (
            plain if len(plain) <= max_body else plain[: max_body - len(ident) - 4] + "… " + ident
        )
    return Message(ident, title[:max_title], body, tuple(items))


def pack(
    items: Sequence[Item],
    fmt: Format,
    *,
    max_body: int,
    max_title: int,
    diff_links: dict[int, str],
    batched: bool,
) -> list[Message]:
    """Messages for new items: one per item, or (``batched``, a target with a
    ``min_interval``) one message of as many items as fit; the rest wait."""
    if not batched:
        return [
            compose([item], fmt, max_body=max_body, max_title=max_title, diff_links=diff_links)
            for item in items
        ]
    chosen: list[Item] = []
    for item in items:
        candidate = compose(
            [*chosen, item], fmt, max_body=max_body, max_title=max_title, diff_links=diff_links
        )
        if chosen and len(candidate.body) > max_body * 0.95:
            break
        chosen.append(item)
    if not chosen:
        return []
    return [compose(chosen, fmt, max_body=max_body, max_title=max_title, diff_links=diff_links)]


def diff_link(base_url: str | None, change_id: int | None) -> str | None:
    """The full-diff page of a change in ``presswatch serve``, under ``[serve] base_url``
    (the page the digest links to)."""
    if not base_url or change_id is None:
        return None
    return base_url.rstrip("/") + DIFF_ROUTE.format(change_id)


def age(since: str, now: datetime) -> float:
    return (now - from_iso(since)).total_seconds()

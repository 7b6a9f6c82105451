"""Read-only summaries of a database for people: the demo's report, an article's history."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any

from crawler.fetching.urls import canonical_url
from crawler.storage.archive import Archive
from crawler.storage.store import Store
from crawler.tracking.diffs import excerpt, html_page, render_terminal
from crawler.visible import visible


@dataclass(frozen=True)
class TopicReport:
    topic: str
    titles: list[str]


def articles_per_source(store: Store) -> list[tuple[str, int]]:
    return store.articles_per_source()


def mentions_per_topic(store: Store) -> list[TopicReport]:
    reports: dict[str, list[str]] = {}
    for topic, title in store.topic_mention_titles():
        reports.setdefault(topic, [])
        if title is not None:
            reports[topic].append(title)
    return [TopicReport(topic, titles) for topic, titles in reports.items()]


@dataclass(frozen=True)
class FoundChange:
    """One detected change, with the article and outlet it belongs to."""

    article_id: int
    outlet: str | None
    headline: str | None
    change: ChangeEntry


def changes_found(store: Store) -> list[FoundChange]:
    """Every change recorded, oldest first, with its article's headline and outlet."""
    return [
        FoundChange(row["article_id"], row["outlet"], row["headline"], _change_entry(row))
        for row in store.changes_with_articles()
    ]


def format_changes(found: list[FoundChange], *, color: bool, width: int = 160) -> str:
    """Each change in a few lines: kind, outlet and headline, what changed, a short diff."""
    lines: list[str] = []
    for item in found:
        change = item.change
        lines.append(
            f"  {change.kind:<10} #{item.article_id} {item.outlet or '-'}: "
            f"{change.title_before or item.headline or '(untitled)'}"
        )
        if change.title_after and change.title_after != change.title_before:
            lines.append(f"             headline now: {change.title_after}")
        if change.kind == "removed":
            lines.append("             the page now answers 404/410")
        if change.kind == "redirected":
            lines.append(f"             now redirects to {change.redirect_url}")
        topics = [f"+{name}" for name in change.mentions_added]
        topics += [f"-{name}" for name in change.mentions_removed]
        if topics:
            lines.append(f"             topics: {' '.join(topics)}")
        if change.diff:
            lines.append(
                "             " + render_terminal(excerpt(change.diff, width), color=color)
            )
    return "\n".join(lines)


@dataclass(frozen=True)
class ChangeEntry:
    id: int
    kind: str
    detected_at: str
    title_before: str | None
    title_after: str | None
    diff: str | None
    diff_html: str | None
    mentions_added: list[str]
    mentions_removed: list[str]
    redirect_url: str | None
    kinds: list[str] = field(default_factory=list)
    significance: float | None = None
    from_version_id: int | None = None
    to_version_id: int | None = None


@dataclass(frozen=True)
class History:
    article_id: int
    url: str
    title: str | None
    status: str
    first_seen_at: str
    versions: int
    changes: list[ChangeEntry]
    outlet: str | None = None
    version_facts: dict[int, dict[str, Any]] = field(default_factory=dict)


def find_article(store: Store, ref: str) -> int | None:
    """An article id from an id or a URL (any variant of its canonical URL)."""
    if ref.isdigit():
        return int(ref) if store.has_article(int(ref)) else None
    return store.article_id(canonical_url(ref))


def change_history(store: Store, article_id: int) -> History:
    """Everything `presswatch diff` shows of one article."""
    article = store.article_row(article_id)
    versions = store.version_count(article_id)
    changes = [_change_entry(row) for row in store.article_changes(article_id)]
    return History(
        article_id,
        article["url"],
        article["title"],
        article["status"],
        article["first_seen_at"],
        versions,
        changes,
        store.source_name(article["source_id"]),
        store.version_facts(article_id),
    )


def _change_entry(row: dict[str, Any]) -> ChangeEntry:
    return ChangeEntry(
        row["id"],
        row["kind"],
        row["detected_at"],
        row["title_before"],
        row["title_after"],
        row["diff"],
        row["diff_html"],
        json.loads(row["mentions_added"]),
        json.loads(row["mentions_removed"]),
        row["redirect_url"],
        json.loads(row.get("kinds") or "[]"),
        row.get("significance"),
        row["from_version_id"],
        row["to_version_id"],
    )


def change_heading(change: ChangeEntry) -> str:
    """``2026-11-25T07:00:00Z  retitled: 'Old' -> 'New'`` and the like."""
    line = f"{change.detected_at}  {change.kind}"
    if change.kind == "redirected":
        line += f" to {change.redirect_url}"
    elif change.title_before != change.title_after and change.title_after is not None:
        line += f": {change.title_before!r} -> {change.title_after!r}"
    topics = [f"+{name}" for name in change.mentions_added]
    topics += [f"-{name}" for name in change.mentions_removed]
    if topics:
        line += f"  [topics {' '.join(topics)}]"
    return line


def format_history(history: History, *, color: bool) -> str:
    """An article's changes for a terminal; web text without invisible characters (the
    colours are added after)."""
    lines = [
        visible(f"{history.title or '(untitled)'}"),
        visible(history.url),
        f"first seen {history.first_seen_at}; {history.versions} version(s); "
        f"{len(history.changes)} change(s); now {history.status}",
    ]
    for change in history.changes:
        lines += ["", visible(f"#{change.id} {change_heading(change)}")]
        if change.diff:
            lines.append(render_terminal(visible(change.diff), color=color))
    return "\n".join(lines)


def history_page(history: History, raw: dict[int, str] | None = None) -> str:
    """An article's history as a standalone page: for each change a header (URL, outlet,
    both versions' times and hashes, kinds, significance), then the word diff; with
    ``raw`` (archived pages by version id), the two pages side by side in sandboxed
    frames, under the page's ``Content-Security-Policy: default-src 'none'``."""
    sections = [
        (
            visible(change_heading(change)),
            _change_facts(history, change)
            + visible(change.diff_html or f"<p>{escape(change.kind)}</p>")
            + (_side_by_side(change, raw) if raw is not None else ""),
        )
        for change in history.changes
    ]
    return html_page(visible(history.title or history.url), sections)


def archived_pages(store: Store, article_id: int) -> dict[int, str]:
    """The article's archived pages by version id, decoded as they were fetched."""
    archive = Archive.attach(store, create=False)
    if archive is None:
        return {}
    return {
        response.version_id: _decoded(response.body, response.encoding)
        for response in archive.responses(article_id)
    }


def _decoded(body: bytes, encoding: str) -> str:
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:  # an encoding this Python does not know
        return body.decode("utf-8", errors="replace")


def _change_facts(history: History, change: ChangeEntry) -> str:
    rows = [("URL", history.url), ("Outlet", history.outlet or "unknown")]
    for label, version_id in (("Before", change.from_version_id), ("After", change.to_version_id)):
        facts = history.version_facts.get(version_id) if version_id else None
        if facts is None:
            continue
        rows += [
            (f"{label}: version", f"{version_id}, fetched {facts['fetched_at']}"),
            (f"{label}: SHA-256 of the page", facts["body_sha256"] or "not recorded"),
            (f"{label}: chain hash", facts["chain_hash"] or "not recorded"),
        ]
    rows.append(("Kinds", ", ".join(change.kinds) or "none recorded"))
    score = "not recorded" if change.significance is None else f"{change.significance:.3f}"
    rows.append(("Significance", score))
    cells = "".join(
        f"<tr><th>{escape(name)}</th><td><code>{escape(visible(str(value)))}</code></td></tr>"
        for name, value in rows
    )
    return f'<table class="facts">{cells}</table>\n'


def _side_by_side(change: ChangeEntry, raw: dict[int, str]) -> str:
    """The two archived pages in frames that run no script and load nothing: ``sandbox``
    without permissions, and the page's CSP (``default-src 'none'``), which srcdoc
    frames inherit."""
    frames = []
    for label, version_id in (("before", change.from_version_id), ("after", change.to_version_id)):
        page = raw.get(version_id) if version_id else None
        if page is None:
            frames.append(f'<p class="empty">No archived page {label}.</p>')
            continue
        frames.append(
            f'<iframe sandbox="" referrerpolicy="no-referrer" title="archived page {label}" '
            f'style="width:49%;height:40em;border:1px solid #ccc" '
            f'srcdoc="{escape(page, quote=True)}"></iframe>'
        )
    return '<div class="raw" style="display:flex;gap:1%">' + "".join(frames) + "</div>\n"

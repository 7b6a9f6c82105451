"""presswatch's own Datasette plugin, loaded by ``presswatch serve`` (make_datasette).

- Cells: ``changes.diff_html`` shows as a diff (only the diff's own tags are kept, see
  ``stored_diff_html``) and mention snippets with their matches highlighted; no other
  column is rendered as HTML.
- Pages: ``/-/presswatch/dashboard`` (charts in HTML and CSS),
  ``/-/presswatch/article/ID`` (an article's versions on a timeline),
  ``/-/presswatch/diff/ID`` (one change's full diff) and ``/-/search`` (titles and
  snippets of the articles and changes that match, never whole bodies).
- Feeds: ``/feeds/topic/NAME.atom`` and ``/feeds/article/ID.atom``, Atom 1.0 with the
  mentions' snippets and the edits' diffs.

The queries are Store methods (crawler/storage/views.py), run on Datasette's own
read connection; web text is escaped by the templates' autoescape.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import jinja2
import sqlite_utils
from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from crawler.outputs.digest.filters import (
    MARK_STYLE,
    environment,
    html_diff,
    html_snippet,
    stored_diff_html,
)
from crawler.outputs.digest.render import render_diff_page
from crawler.storage.store import Store
from crawler.times import from_iso, to_iso, utc_now
from crawler.tracking.diffs import excerpt

TEMPLATES = Path(__file__).parent / "templates"
FEED_ENTRIES = 50
FEED_EXCERPT_CHARS = 600
DASHBOARD_DAYS = 30
DASHBOARD_WEEKS = 12
SNIPPET_COLUMNS = {("mentions", "snippet"), ("mention_feed", "snippet")}
DIFF_COLUMNS = {("changes", "diff_html")}
ID_LINKS = {  # integer columns of the views that link to presswatch's own pages
    ("mention_feed", "article_id"): "/-/presswatch/article/{}",
    ("change_feed", "article_id"): "/-/presswatch/article/{}",
    ("change_feed", "change_id"): "/-/presswatch/diff/{}",
}
DIFF_STYLE = (
    "<style>.presswatch-diff del{background:#ffe3e3;color:#8f1d1d}"
    ".presswatch-diff ins{background:#ddf6e3;color:#17602f;text-decoration:none}"
    ".presswatch-diff p{margin:0 0 .5em}.presswatch-diff .gap{color:#8a8a8a}</style>"
)
T = TypeVar("T")


# --- cells ---------------------------------------------------------------------------


@hookimpl
def render_cell(value: Any, column: str, table: str | None, datasette: Any) -> Markup | None:
    """Exactly these columns render as HTML: a diff, and snippets; the rest as text. The
    views' article and change ids also link to the article's timeline and the diff."""
    if table is None:
        return None
    if isinstance(value, int) and (table, column) in ID_LINKS:
        path = datasette.urls.path(ID_LINKS[table, column].format(value))
        return Markup('<a href="{}">{}</a>').format(path, value)
    if not isinstance(value, str):
        return None
    if (table, column) in DIFF_COLUMNS:
        return (
            Markup(DIFF_STYLE + '<div class="presswatch-diff">')
            + stored_diff_html(value)
            + Markup("</div>")
        )
    if (table, column) in SNIPPET_COLUMNS:
        return html_snippet(value)
    return None


@hookimpl
def menu_links(datasette: Any) -> list[dict[str, str]]:
    return [{"href": datasette.urls.path("/-/presswatch/dashboard"), "label": "Dashboard"}]


# --- routes --------------------------------------------------------------------------


@hookimpl
def register_routes() -> list[tuple[str, Callable[..., Any]]]:
    return [
        (r"^/feeds/topic/(?P<name>[^/]+)\.atom$", topic_feed),
        (r"^/feeds/article/(?P<article_id>\d+)\.atom$", article_feed),
        (r"^/-/presswatch/diff/(?P<change_id>\d+)$", diff_page),
        (r"^/-/presswatch/article/(?P<article_id>\d+)$", article_page),
        (r"^/-/presswatch/dashboard$", dashboard),
        (r"^/-/search$", search_page),
    ]


async def _read(datasette: Any, read: Callable[[Store], T]) -> T:
    """Run ``read`` with a Store on Datasette's read connection to the database."""
    database = datasette.get_database()
    return await database.execute_fn(lambda conn: read(Store(sqlite_utils.Database(conn))))


def _url(datasette: Any, request: Any, path: str) -> str:
    return datasette.absolute_url(request, datasette.urls.path(path))


def _not_found(what: str) -> Response:
    return Response.text(f"{what} not found\n", status=404)


async def topic_feed(datasette: Any, request: Any) -> Response:
    name = unquote(request.url_vars["name"])

    def read(store: Store) -> tuple[bool, list[dict[str, Any]], list[dict[str, Any]]]:
        return (
            store.topic_exists(name),
            store.topic_mentions(name, FEED_ENTRIES),
            store.topic_changes(name, FEED_ENTRIES),
        )

    exists, mentions, changes = await _read(datasette, read)
    if not exists:
        return _not_found(f"topic {name!r}")
    entries = [_mention_entry(m, name) for m in mentions]
    entries += [_change_entry(datasette, request, c) for c in changes]
    return _feed(
        datasette,
        request,
        f"urn:presswatch:topic:{quote(name, safe='')}",
        f"presswatch: {name}",
        entries,
    )


async def article_feed(datasette: Any, request: Any) -> Response:
    article_id = int(request.url_vars["article_id"])

    def read(store: Store) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return store.article_summary(article_id), store.article_feed_changes(
            article_id, FEED_ENTRIES
        )

    article, changes = await _read(datasette, read)
    if article is None:
        return _not_found(f"article {article_id}")
    entries = [_change_entry(datasette, request, c) for c in changes]
    return _feed(
        datasette,
        request,
        f"urn:presswatch:article:{article_id}",
        f"presswatch: the edits of {article['title']}",
        entries,
        link=article["url"],
    )


def _mention_entry(mention: dict[str, Any], topic: str) -> dict[str, Any]:
    return {
        "id": f"urn:presswatch:mention:{mention['mention_id']}",
        "title": f"[{topic}] {mention['title']}",
        "updated": mention["found_at"],
        "published": mention["published_at"],
        "url": mention["url"],
        "outlet": mention["outlet"],
        "content": html_snippet(mention["snippet"]) if mention["snippet"] else None,
        "diff_url": None,
    }


def _change_entry(datasette: Any, request: Any, change: dict[str, Any]) -> dict[str, Any]:
    diff = change["diff"]
    content = html_diff(excerpt(diff, FEED_EXCERPT_CHARS)) if diff else None
    if change["title_before"] and change["title_after"] != change["title_before"]:
        content = Markup("<p>Headline before: <del>{}</del></p>").format(change["title_before"]) + (
            content or ""
        )
    return {
        "id": f"urn:presswatch:change:{change['change_id']}",
        "title": f"{change['kind'].capitalize()}: {change['title']}",
        "updated": change["detected_at"],
        "published": None,
        "url": change["url"],
        "outlet": change["outlet"],
        "content": content,
        "diff_url": _url(datasette, request, f"/-/presswatch/diff/{change['change_id']}"),
    }


def _feed(
    datasette: Any,
    request: Any,
    feed_id: str,
    title: str,
    entries: list[dict[str, Any]],
    link: str | None = None,
) -> Response:
    entries.sort(key=lambda entry: entry["updated"], reverse=True)
    updated = entries[0]["updated"] if entries else to_iso(utc_now())
    body = _template("feed.atom.j2").render(
        feed_id=feed_id,
        title=title,
        updated=updated,
        self_url=datasette.absolute_url(request, request.path),
        link=link,
        entries=entries[:FEED_ENTRIES],
    )
    return Response(body, content_type="application/atom+xml; charset=utf-8")


async def diff_page(datasette: Any, request: Any) -> Response:
    change_id = int(request.url_vars["change_id"])
    change = await _read(datasette, lambda store: store.change_page(change_id))
    if change is None:
        return _not_found(f"change {change_id}")
    return Response.html(render_diff_page(change))


async def article_page(datasette: Any, request: Any) -> Response:
    article_id = int(request.url_vars["article_id"])

    def read(store: Store) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return store.article_summary(article_id), store.article_versions(article_id)

    article, versions = await _read(datasette, read)
    if article is None:
        return _not_found(f"article {article_id}")
    return _page(
        "article.html.j2",
        title=article["title"],
        article=article,
        versions=versions,
        positions=_positions([v["at"] for v in versions]),
        database=datasette.get_database().name,
        base=datasette.urls.path("").rstrip("/"),
    )


def _positions(times: list[str]) -> list[float]:
    """Each time's place on a timeline from the first to the last, in percent."""
    if not times:
        return []
    moments = [from_iso(t) for t in times]
    first, span = moments[0], (moments[-1] - moments[0]).total_seconds()
    if not span:
        return [0.0 if len(times) == 1 else 100 * i / (len(times) - 1) for i in range(len(times))]
    return [round(100 * (m - first).total_seconds() / span, 2) for m in moments]


async def dashboard(datasette: Any, request: Any) -> Response:
    now = utc_now()
    first_day = (now - timedelta(days=DASHBOARD_DAYS - 1)).date()
    days = [(first_day + timedelta(days=n)).isoformat() for n in range(DASHBOARD_DAYS)]
    monday = now.date() - timedelta(days=now.weekday())
    weeks = [(monday - timedelta(weeks=n)).isoformat() for n in range(DASHBOARD_WEEKS - 1, -1, -1)]

    def read(store: Store) -> tuple[list[Any], list[Any], list[Any]]:
        return (
            store.mentions_per_topic_per_day(days[0]),
            store.edits_per_outlet_per_week(weeks[0]),
            store.most_edited_articles(10),
        )

    mentions, edits, most = await _read(datasette, read)
    return _page(
        "dashboard.html.j2",
        title="Dashboard",
        days=days,
        topics=_series(mentions, "topic", "day", "mentions", days),
        weeks=weeks,
        outlets=_series(edits, "outlet", "week", "edits", weeks),
        most_edited=most,
        base=datasette.urls.path("").rstrip("/"),
    )


def _series(
    rows: list[dict[str, Any]], name: str, when: str, count: str, keys: list[str]
) -> list[dict[str, Any]]:
    """Rows of (name, when, count) as one series per name over ``keys``, with its peak."""
    values: dict[str, dict[str, int]] = {}
    for row in rows:
        values.setdefault(row[name], {})[row[when]] = row[count]
    series = [
        {"name": key, "counts": [by_when.get(k, 0) for k in keys]}
        for key, by_when in values.items()
    ]
    peak = max((max(s["counts"]) for s in series), default=0)
    for item in series:
        item["peak"] = peak
        item["total"] = sum(item["counts"])
    return series


async def search_page(datasette: Any, request: Any) -> Response:
    query = (request.args.get("q") or "").strip()
    articles: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    problem = None
    if query:
        fts = " ".join(f'"{word}"' for word in query.replace('"', " ").split())
        try:
            articles, changes = await _read(
                datasette, lambda store: (store.search_articles(fts), store.search_changes(fts))
            )
        except Exception as error:  # an FTS5 syntax error in a query typed by hand
            problem = str(error)
    return _page(
        "search.html.j2",
        title="Search",
        q=query,
        articles=articles,
        changes=changes,
        problem=problem,
        base=datasette.urls.path("").rstrip("/"),
    )


# --- templates -----------------------------------------------------------------------


def _page(name: str, **values: Any) -> Response:
    return Response.html(_template(name).render(mark_style=MARK_STYLE, **values))


@cache
def _environment() -> jinja2.Environment:
    return environment(jinja2.FileSystemLoader(TEMPLATES), escape_by_default=True)


def _template(name: str) -> jinja2.Template:
    return _environment().get_template(name)

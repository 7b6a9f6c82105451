"""The template filters: how web text, times and diffs are shown in each format.

Everything that came from the web goes through one of these before a template prints
it, so it shows as text (escaped for HTML, XML and Markdown, invisible characters gone).
:func:`environment` is the Jinja environment both the digest and the Datasette pages
render with.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from crawler.times import from_iso, to_iso
from crawler.visible import visible


class _Linked(Protocol):
    url: str


MARK_STYLE = "background:#fff0a6;color:inherit;padding:0 2px"
DEL_STYLE = "background:#ffe3e3;color:#8f1d1d;text-decoration:line-through"
INS_STYLE = "background:#ddf6e3;color:#17602f;text-decoration:none"

_MARKED = re.compile(r"\*\*(.+?)\*\*")
_DIFF_MARKER = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}")
_WHITESPACE = re.compile(r"\s+")
# Anywhere: backslash, code, emphasis and strikethrough marks; a ] that would close a link
# or reference; _ unless inside a word; < that could open a tag or autolink; & that could
# start an entity. At the start only: what opens a block (heading, quote, list, definition).
_MARKDOWN_SPECIAL = re.compile(
    r"[\\`*~]|\][(\[:]|(?<![^\W_])_|_(?![^\W_])|<(?=[A-Za-z/!?])|&(?=#?\w+;)"
)
_MARKDOWN_START = re.compile(r"(\s*)([#>+\-\[<&]|\d+[.)])")
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


def shown_data(value: Any) -> Any:
    """``shown`` applied to every string in a JSON structure."""
    if isinstance(value, dict):
        return {key: shown_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [shown_data(item) for item in value]
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
    """Web text made inert in Markdown, and still readable: whitespace folded, and only
    what could start markup escaped (emphasis and code marks, what follows a ``]`` to
    make a link, ``<`` before a tag, ``&`` before an entity, a block marker at the start), so it
    shows as text and never as a link or HTML; ``so-called`` and ``{+Defence+}`` stay."""
    flat = _flat(text)
    start = _MARKDOWN_START.match(flat)
    head = _markdown_start(start) if start else ""
    return head + _MARKDOWN_SPECIAL.sub(_markdown_char, flat[start.end() if start else 0 :])


def _markdown_char(match: re.Match[str]) -> str:
    char = match.group(0)
    if len(char) == 2:  # ]( ]: or ][ : the bracket stays, what would make it a link goes
        return "]\\" + char[1]
    return _HTML_IN_MARKDOWN.get(char, "\\" + char)


def _markdown_start(match: re.Match[str]) -> str:
    """A block marker at the start (a heading, quote, list item, link definition)."""
    space, marker = match.group(1), match.group(2)
    if marker[-1] in ".)":  # an ordered list item: 1. or 1)
        return space + marker[:-1] + "\\" + marker[-1]
    return space + _HTML_IN_MARKDOWN.get(marker, "\\" + marker)


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


_SPARKS = "▁▂▃▄▅▆▇█"
_DIFF_TAG = re.compile(
    r'<(?:p(?: class="(?:removed|added|skip|same)")?|/p|del|/del|ins|/ins|span class="gap"|/span)>'
)


def sparkline(counts: Sequence[int], peak: int | None = None) -> str:
    """Daily counts as a row of block characters, for Markdown and text: ``▁▁▃█``."""
    top = peak if peak is not None else max(counts, default=0)
    if not top:
        return _SPARKS[0] * len(counts)
    return "".join(_SPARKS[(len(_SPARKS) - 1) * count // top] for count in counts)


def bar_height(count: int, peak: int, full: int = 24) -> int:
    """The pixel height of a day's bar in the HTML overview: 0 for none, at least 2."""
    if not count or not peak:
        return 0
    return max(2, round(full * count / peak))


def stored_diff_html(value: str | None) -> Markup:
    """A stored ``changes.diff_html`` made safe to show: the tags crawler.tracking.diffs
    writes (``p``, ``del``, ``ins``, the gap ``span``) are kept, everything else, text or
    any other markup, is escaped, whatever the column holds."""
    out, position = [], 0
    value = visible(value or "")
    for match in _DIFF_TAG.finditer(value):
        out += [_reescaped(value[position : match.start()]), match.group(0)]
        position = match.end()
    out.append(_reescaped(value[position:]))
    return Markup("".join(out))


def _reescaped(text: str) -> str:
    return str(escape(html.unescape(text)))


def atom_entry_id(mention: _Linked, topic: str) -> str:
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
    "sparkline": sparkline,
    "bar_height": bar_height,
    "stored_diff_html": stored_diff_html,
}


def environment(loader: jinja2.BaseLoader, *, escape_by_default: bool) -> jinja2.Environment:
    """A Jinja environment with these filters: HTML and XML templates escaped, undefined
    names an error, every value through :func:`shown`. ``escape_by_default`` also
    escapes templates of other names (the Datasette pages; the digest's text and
    Markdown templates escape with their own filters)."""
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "xml", "html.j2", "atom.j2"), default=escape_by_default
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=shown,
    )
    env.filters.update(FILTERS)
    return env

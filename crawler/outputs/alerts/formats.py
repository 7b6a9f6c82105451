"""Web text made safe for each message format Apprise sends: plain text, Markdown, HTML.

Everything from the web passes through one :class:`Format`: ``text`` escapes it,
``link`` makes a link (only to http(s) URLs), ``strong`` marks matched words, and
``removed`` / ``added`` show the words an edit struck out or brought in.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote

from crawler.visible import visible

_WHITESPACE = re.compile(r"\s+")
# Characters that make Markdown anywhere in a line; a line's start is checked apart, so
# "2026-12-01" or "defence." stay as they are (chat services show a backslash literally).
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>~|&]")
_MARKDOWN_LINE_START = re.compile(r"^(?:[#>+\-=]|\d+[.)])")
_MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_URL_SAFE = "!#$%&'()*+,-./:;=?@_~"


def flat(text: object) -> str:
    """Web text on one line, without invisible or control characters."""
    return _WHITESPACE.sub(" ", visible("" if text is None else str(text))).strip()


def http_url(url: str | None) -> str | None:
    """An http(s) URL, %-encoded where a message format could misread it; None for any
    other scheme (never made a link)."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return quote(url.strip(), safe=_URL_SAFE)
    return None


@dataclass(frozen=True)
class Format:
    """One of Apprise's body formats: ``text``, ``markdown`` or ``html``."""

    name: str

    def text(self, value: object) -> str:
        shown = flat(value)
        if self.name == "markdown":
            shown = _MARKDOWN_SPECIAL.sub(
                lambda m: _MARKDOWN_ENTITIES.get(m.group(0), "\\" + m.group(0)), shown
            )
            return "\\" + shown if _MARKDOWN_LINE_START.match(shown) else shown
        if self.name == "html":
            return html.escape(shown)
        return shown

    def link(self, label: object, url: str | None) -> str:
        """A link to ``url`` labelled ``label``; the bare label for a non-http URL."""
        target = http_url(url)
        shown = self.text(label) or self.text(url)
        if target is None:
            return shown
        if self.name == "markdown":
            return f"[{shown}](<{target}>)"
        if self.name == "html":
            return f'<a href="{html.escape(target)}">{shown}</a>'
        return f"{shown} <{target}>" if flat(label) else target

    def strong(self, escaped: str) -> str:
        return self._wrap(escaped, "**{}**", "<b>{}</b>", "{}")

    def removed(self, escaped: str) -> str:
        return self._wrap(escaped, "~~{}~~", "<del>{}</del>", "[-{}-]")

    def added(self, escaped: str) -> str:
        return self._wrap(escaped, "**{}**", "<ins>{}</ins>", "{{+{}+}}")

    def code(self, value: str) -> str:
        """A short identifier made by presswatch (no web text), shown as is."""
        return f"`{value}`" if self.name == "markdown" else self.text(value)

    def line_break(self) -> str:
        return "<br>\n" if self.name == "html" else "\n"

    def paragraph_break(self) -> str:
        return "<br><br>\n" if self.name == "html" else "\n\n"

    def _wrap(self, escaped: str, markdown: str, html_form: str, text: str) -> str:
        if not escaped.strip():
            return escaped
        template = {"markdown": markdown, "html": html_form}.get(self.name, text)
        return template.format(escaped)


TEXT, MARKDOWN, HTML = Format("text"), Format("markdown"), Format("html")
FORMATS = {f.name: f for f in (TEXT, MARKDOWN, HTML)}

_SNIPPET_MARK = re.compile(r"\*\*(.+?)\*\*")
_DIFF_MARK = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}")


def snippet(fmt: Format, stored: str | None) -> str:
    """A stored mention snippet (matched words wrapped in ``**``), escaped for ``fmt``
    with the matched words marked."""
    return _marked(fmt, stored or "", _SNIPPET_MARK, lambda m: fmt.strong(fmt.text(m[1])))


def diff_excerpt(fmt: Format, stored: str | None) -> str:
    """A plain diff excerpt (``[-removed-]``, ``{+added+}``) in ``fmt``: removed words
    struck, added words marked."""

    def marker(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return fmt.removed(fmt.text(match.group(1)))
        return fmt.added(fmt.text(match.group(2)))

    return _marked(fmt, stored or "", _DIFF_MARK, marker)


def _marked(fmt: Format, source: str, pattern: re.Pattern[str], mark: object) -> str:
    out, position = [], 0
    source = flat(source)
    for match in pattern.finditer(source):
        out += [_spaced(fmt, source[position : match.start()]), mark(match)]  # type: ignore[operator]
        position = match.end()
    out.append(_spaced(fmt, source[position:]))
    return "".join(out)


def _spaced(fmt: Format, part: str) -> str:
    """Escape ``part`` keeping the spaces around it, which ``Format.text`` trims."""
    lead = " " if part[:1].isspace() else ""
    tail = " " if part[-1:].isspace() and part.strip() else ""
    return f"{lead}{fmt.text(part)}{tail}"

"""Readable diffs between two versions of an article.

Both texts are split into paragraphs (one per line), paragraphs are aligned with
:class:`difflib.SequenceMatcher`, and a paragraph replaced by a similar one is
diffed word by word. Only changed paragraphs are shown: ``…`` stands for a run
of unchanged paragraphs between two changes (unchanged paragraphs before the
first change and after the last are simply left out, so a one-word edit is a
one-line diff) and, inside a long changed paragraph, for unchanged words further
than :data:`CONTEXT_WORDS` from a change. Whole added or removed paragraphs are
shown in full. Whitespace is not compared: paragraphs are compared as words.

The plain form uses wdiff markers, ``[-removed words-]`` and ``{+inserted words+}``;
the HTML form uses ``<del>`` and ``<ins>``, with every piece of article text escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

CONTEXT_WORDS = 12
"""Unchanged words kept on each side of a change inside a paragraph."""
PAIR_CUTOFF = 0.5
"""Word similarity from which a replaced paragraph is diffed word by word."""
MAX_PAIRING_CELLS = 10_000
"""Beyond this many paragraph pairs to compare, replaced blocks are not paired up."""
GAP = "…"
_MIN_ELIDED = 3  # never replace fewer unchanged words than this with GAP
_MIN_MARKER_ROOM = 12  # an excerpt shows a shortened marker only in at least this room

_EQUAL, _DELETE, _INSERT, _SKIP = "equal", "delete", "insert", "skip"
Words = tuple[str, ...]
Segment = tuple[str, Words]  # (operation, words)
Line = list[Segment]  # one paragraph of output

_MARKER = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}")
# A replacement "[-old-]{+new+}" is one token, so that an excerpt keeps both halves.
_TOKEN = re.compile(r"\[-.*?-\](?:\{\+.*?\+\})?|\{\+.*?\+\}|\S+")
_ANSI_REMOVED = "\x1b[31;9m"  # red, struck through
_ANSI_ADDED = "\x1b[32;4m"  # green, underlined
_ANSI_RESET = "\x1b[0m"


@dataclass(frozen=True)
class Diff:
    """What changed between two texts.

    ``chars_added`` and ``chars_removed`` count the characters of inserted and
    removed words, whitespace excluded. ``text`` is the plain diff, one output
    paragraph per line; ``html`` is the same as ``<p>`` elements, safe to embed.
    """

    chars_added: int
    chars_removed: int
    text: str
    html: str


def diff_texts(before: str, after: str) -> Diff:
    """Diff two article texts paragraph by paragraph, then word by word."""
    lines = _diff_lines(before, after)
    return Diff(
        chars_added=_count_chars(lines, _INSERT),
        chars_removed=_count_chars(lines, _DELETE),
        text="\n".join(_line_text(line) for line in lines),
        html="\n".join(_line_html(line) for line in lines),
    )


def render_terminal(diff_text: str, *, color: bool) -> str:
    """Show a stored plain diff in a terminal: red struck-through removals and
    green underlined insertions with ``color=True``, the markers unchanged otherwise."""
    if not color:
        return diff_text
    return _MARKER.sub(_ansi, diff_text)


def excerpt(diff_text: str, max_chars: int = 300) -> str:
    """A one-line excerpt of a stored plain diff around its first change, for digests.

    The diff's lines are joined with spaces, and the excerpt is at most
    ``max_chars`` long (for any ``max_chars`` from 20 on).

    Markers are never cut: the excerpt starts and ends between tokens, and a
    marker too long for the room left is shortened inside, keeping its brackets
    (``[-first words …-]``). ``…`` marks text left out at either end.
    """
    flat = " ".join(line.strip() for line in diff_text.splitlines() if line.strip())
    if len(flat) <= max_chars:
        return flat
    tokens = [match.group(0) for match in _TOKEN.finditer(flat)]
    first = next((k for k, token in enumerate(tokens) if _is_marker(token)), 0)
    lo, hi = _window([len(token) for token in tokens], first, max_chars)
    text, hi = _with_shortened_tail(tokens, lo, hi, max_chars)
    while lo > 0 and _fits(len(tokens[lo - 1]) + 1 + len(text), lo - 1, hi, tokens, max_chars):
        lo -= 1
        text = f"{tokens[lo]} {text}"
    return _with_ellipses(text, lo > 0, hi < len(tokens))


def html_page(title: str, sections: Sequence[tuple[str, str]]) -> str:
    """A standalone HTML page with one article's change history.

    ``title`` and each section heading are escaped; each section body is a
    fragment from :attr:`Diff.html` and is inserted as it is.
    """
    body = "\n".join(_section_html(heading, fragment) for heading, fragment in sections)
    if not sections:
        body = '<p class="empty">No changes recorded.</p>'
    return _PAGE.format(title=html.escape(title), body=body)


# --- alignment ------------------------------------------------------------------


def _paragraphs(text: str) -> list[Words]:
    words = (tuple(line.split()) for line in text.splitlines())
    return [paragraph for paragraph in words if paragraph]


def _diff_lines(before: str, after: str, *, full: bool = False) -> list[Line]:
    """Output paragraphs for the diff of ``before`` and ``after``.

    With ``full=True`` nothing is elided: unchanged paragraphs appear as equal
    lines and changed paragraphs keep all their words, so the equal and inserted
    words of the result are exactly the words of ``after``.
    """
    a, b = _paragraphs(before), _paragraphs(after)
    lines: list[Line] = []
    skipped = False
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [[(_EQUAL, p)] for p in a[i1:i2]] if full else []
            skipped = bool(lines) and not full
            continue
        if skipped:
            lines.append([(_SKIP, ())])
            skipped = False
        lines += _changed_block(a[i1:i2], b[j1:j2], full=full)
    return lines


def _changed_block(a: list[Words], b: list[Words], *, full: bool) -> list[Line]:
    """Removed, inserted and word-diffed paragraphs for a non-equal run."""
    lines: list[Line] = []
    i = j = 0
    for pi, pj in [*_pair_paragraphs(a, b), (len(a), len(b))]:
        lines += [[(_DELETE, p)] for p in a[i:pi]]
        lines += [[(_INSERT, p)] for p in b[j:pj]]
        if pi < len(a):
            segments = _word_segments(a[pi], b[pj])
            lines.append(segments if full else _elide(segments, CONTEXT_WORDS))
        i, j = pi + 1, pj + 1
    return lines


def _pair_paragraphs(a: list[Words], b: list[Words]) -> list[tuple[int, int]]:
    """Pairs (i, j), in order, of similar paragraphs maximising total similarity."""
    if not a or not b or len(a) * len(b) > MAX_PAIRING_CELLS:
        return []
    score = [[_similarity(x, y) for y in b] for x in a]
    best = _best_totals(score)
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        if score[i][j] >= PAIR_CUTOFF and best[i][j] == score[i][j] + best[i + 1][j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _best_totals(score: list[list[float]]) -> list[list[float]]:
    """best[i][j]: the highest total similarity of an ordered pairing of a[i:], b[j:]."""
    m, n = len(score), len(score[0])
    best = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(m - 1, -1, -1):
        for j in range(n - 1, -1, -1):
            paired = score[i][j] + best[i + 1][j + 1] if score[i][j] >= PAIR_CUTOFF else -1.0
            best[i][j] = max(paired, best[i + 1][j], best[i][j + 1])
    return best


def _similarity(a: Words, b: Words) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < PAIR_CUTOFF or matcher.quick_ratio() < PAIR_CUTOFF:
        return 0.0
    return matcher.ratio()


def _word_segments(a: Words, b: Words) -> list[Segment]:
    """Word-level opcodes: equal, deleted and inserted runs, deletions first."""
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append((_EQUAL, a[i1:i2]))
            continue
        if i2 > i1:
            segments.append((_DELETE, a[i1:i2]))
        if j2 > j1:
            segments.append((_INSERT, b[j1:j2]))
    return segments


def _elide(segments: list[Segment], context: int) -> list[Segment]:
    """Replace unchanged words further than ``context`` from any change with GAP."""
    out: list[Segment] = []
    last = len(segments) - 1
    for k, (op, words) in enumerate(segments):
        head = context if k > 0 else 0
        tail = context if k < last else 0
        if op != _EQUAL or len(words) - head - tail < _MIN_ELIDED:
            out.append((op, words))
            continue
        out += [(_EQUAL, words[:head])] if head else []
        out.append((_SKIP, ()))
        out += [(_EQUAL, words[len(words) - tail :])] if tail else []
    return out


def _count_chars(lines: list[Line], op: str) -> int:
    return sum(len(word) for line in lines for kind, words in line if kind == op for word in words)


# --- rendering ------------------------------------------------------------------


def _joined(parts: list[tuple[str, str]], templates: dict[str, str]) -> str:
    """Join rendered segments with spaces, except between a deletion and its insertion."""
    out = ""
    for k, (op, text) in enumerate(parts):
        if k and not (parts[k - 1][0] == _DELETE and op == _INSERT):
            out += " "
        out += templates[op].format(text)
    return out


def _line_text(line: Line) -> str:
    templates = {_EQUAL: "{}", _DELETE: "[-{}-]", _INSERT: "{{+{}+}}", _SKIP: GAP}
    return _joined([(op, " ".join(words)) for op, words in line], templates)


def _line_html(line: Line) -> str:
    templates = {_EQUAL: "{}", _DELETE: "<del>{}</del>", _INSERT: "<ins>{}</ins>"}
    templates[_SKIP] = f'<span class="gap">{GAP}</span>'
    parts = [(op, html.escape(" ".join(words))) for op, words in line]
    return f"<p{_line_class(line)}>{_joined(parts, templates)}</p>"


def _line_class(line: Line) -> str:
    if len(line) != 1:
        return ""
    names = {_DELETE: "removed", _INSERT: "added", _SKIP: "skip", _EQUAL: "same"}
    return f' class="{names[line[0][0]]}"'


def _ansi(match: re.Match[str]) -> str:
    removed, added = match.group(1), match.group(2)
    if removed is not None:
        return f"{_ANSI_REMOVED}{removed}{_ANSI_RESET}"
    return f"{_ANSI_ADDED}{added}{_ANSI_RESET}"


def _is_marker(token: str) -> bool:
    return token.startswith(("[-", "{+")) and _MARKER.match(token) is not None


def _with_ellipses(text: str, before: bool, after: bool) -> str:
    return f"{GAP} " * before + text + f" {GAP}" * after


def _window(sizes: list[int], first: int, max_chars: int) -> tuple[int, int]:
    """Tokens [lo, hi) around ``first`` that fit: a little context before, then after.

    Empty (lo == hi == first) when token ``first`` alone does not fit.
    """

    def size(lo: int, hi: int) -> int:
        return sum(sizes[lo:hi]) + (hi - lo - 1) + 2 * (lo > 0) + 2 * (hi < len(sizes))

    if size(first, first + 1) > max_chars:
        return first, first
    lo, hi = first, first + 1
    lead = max_chars // 3  # characters of context before the first change
    while lo > 0 and size(lo - 1, hi) <= max_chars and size(lo - 1, first) <= lead:
        lo -= 1
    while hi < len(sizes) and size(lo, hi + 1) <= max_chars:
        hi += 1
    return lo, hi


def _with_shortened_tail(tokens: list[str], lo: int, hi: int, max_chars: int) -> tuple[str, int]:
    """Join tokens [lo, hi), then add a shortened token ``hi`` if it is a marker
    with enough room left, or if nothing fits otherwise."""
    text = " ".join(tokens[lo:hi])
    if hi == len(tokens) or not (hi == lo or _is_marker(tokens[hi])):
        return text, hi
    if not _is_marker(tokens[hi]):  # a huge word: cut it, the ellipsis after says so
        return tokens[hi][: max(max_chars - 2 * (lo > 0) - 2, 1)], hi
    room = max_chars - len(text) - (hi > lo) - 2 * (lo > 0) - 2 * (hi + 1 < len(tokens))
    if hi > lo and room < _MIN_MARKER_ROOM:
        return text, hi
    return f"{text} {_shortened(tokens[hi], room)}".lstrip(), hi + 1


def _fits(length: int, lo: int, hi: int, tokens: list[str], max_chars: int) -> bool:
    return length + 2 * (lo > 0) + 2 * (hi < len(tokens)) <= max_chars


def _shortened(token: str, room: int) -> str:
    """A marker token cut to about ``room`` characters, keeping each marker's brackets."""
    markers = [match.group(0) for match in _MARKER.finditer(token)]
    return "".join(_shortened_marker(marker, room // len(markers)) for marker in markers)


def _shortened_marker(marker: str, room: int) -> str:
    """``[-some words …-]``: the marker's first words that fit in ``room`` characters."""
    if len(marker) <= room:
        return marker
    inner = marker[2:-2][: max(room - 6, 0)]
    if " " in inner:
        inner = inner.rsplit(" ", 1)[0]
    kept = f"{inner} {GAP}" if inner else GAP
    return f"{marker[:2]}{kept}{marker[-2:]}"


def _section_html(heading: str, fragment: str) -> str:
    return (
        f'<section>\n<h2>{html.escape(heading)}</h2>\n<div class="diff">\n{fragment}\n</div>\n'
        "</section>"
    )


_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font: 16px/1.5 Georgia, serif; max-width: 46em; margin: 2em auto; padding: 0 1em;
       color: #222; background: #fff; }}
h1 {{ font-size: 1.5em; }}
h2 {{ font: bold 0.9em system-ui, sans-serif; color: #555; border-bottom: 1px solid #ddd;
     margin-top: 2em; }}
del {{ color: #b31d28; background: #ffeef0; text-decoration: line-through; }}
ins {{ color: #1a7f37; background: #e6ffec; text-decoration: underline; }}
p.removed, p.added {{ padding-left: 0.5em; }}
p.removed {{ border-left: 3px solid #b31d28; }}
p.added {{ border-left: 3px solid #1a7f37; }}
p.skip, .gap {{ color: #999; }}
p.empty {{ color: #777; font-style: italic; }}
</style>
</head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""

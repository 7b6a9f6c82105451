"""Word tokenisation and case/diacritic folding shared by queries and articles.

A *word token* is a maximal run of letters, digits and combining marks (plus a few
invisible in-word characters such as the soft hyphen).  Everything else -- spaces,
punctuation, apostrophes, hyphens, underscores, symbols -- separates words.  So
``Greenland's`` is the two tokens ``Greenland`` ``s`` and ``Greenland-based`` is
``Greenland`` ``based``, while ``Greenlandic`` stays one token that ``Greenland``
does not match.

In scripts written without spaces between words (Chinese, Japanese, Korean Hangul,
Thai, Lao, Khmer, Myanmar: :mod:`crawler.extraction.scripts`) there are no word boundaries to
find, so every character of those scripts is a token of its own (with the combining
marks that follow it).  A query term in such a script is then a phrase of characters
and matches wherever that sequence of characters occurs: as a substring.

Folding works on whole strings of separator-joined tokens: every step maps
characters independently and never produces or removes a separator, so folding a
joined string equals joining the folded tokens (a property test checks this).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right, insort
from functools import lru_cache
from typing import NamedTuple

from crawler.extraction.scripts import SPACELESS, has_spaceless

# Characters that may sit inside a word without being visible: soft hyphen,
# zero-width non-joiner/joiner, word joiner, zero-width no-break space.
_IGNORABLE = "\u00ad\u200c\u200d\u2060\ufeff"

# Combining marks removed by diacritic folding: the general combining-diacritics
# blocks (Latin, Greek, Cyrillic accents after NFKD), Hebrew points and Arabic
# harakat.  Vowel signs of Indic and other scripts are kept: they are letters there.
_DIACRITICS = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
)

# Letters that NFKD does not decompose but that readers treat as accented forms.
_LETTERS = {
    "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ẞ": "SS",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i",
}  # fmt: skip


def _mark_ranges() -> str:
    """Regex class body listing every combining mark (Unicode category M)."""
    points = [
        cp
        for block in (range(0x20000), range(0xE0100, 0xE01F0))
        for cp in block
        if unicodedata.category(chr(cp))[0] == "M"
    ]
    ranges: list[str] = []
    start = prev = points[0]
    for cp in [*points[1:], -1]:
        if cp != prev + 1:
            ranges.append(_class_range(start, prev))
            start = cp
        prev = cp
    return "".join(ranges)


def _class_range(first: int, last: int) -> str:
    if first == last:
        return re.escape(chr(first))
    return f"{re.escape(chr(first))}-{re.escape(chr(last))}"


# Once the non-ASCII separators are blanked (blank_gaps), every other non-ASCII
# character belongs to a word and only ASCII characters other than letters and digits
# separate words.
_ASCII_GAP_BYTES = bytes(c if c >= 128 or chr(c).isalnum() else 32 for c in range(256))
_SKIP_BYTES = bytes(c if c < 128 and (chr(c).isalnum() or c == 63) else 32 for c in range(256))
_SEPARATOR_ASCII = r"\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f"
_HAS_WORD_CHAR_RE = re.compile(r"[^\W_]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")
_IGNORABLE_RE = re.compile(f"[{_IGNORABLE}]+")
_STRIP_RE = re.compile(f"[{_DIACRITICS}{_IGNORABLE}]+")
_LETTER_RE = re.compile(f"[{''.join(_LETTERS)}]")
# A stream with at most this share of non-ASCII characters is folded token by token.
_SPARSE_SHARE = 0.125


class _Patterns(NamedTuple):
    non_ascii_gap: re.Pattern[str]  # non-ASCII characters that separate words
    blanked_token: re.Pattern[str]  # a token of a blanked text
    piece: re.Pattern[str]  # a piece a blanked word of a spaceless script is cut into


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    """The patterns that need every combining mark, built at first use (listing the marks
    takes a scan of Unicode: a pass or a configuration whose words are all ASCII never
    pays for it)."""
    marks = _mark_ranges()
    word_class = r"\w" + marks + _IGNORABLE
    # One character of a spaceless script with the marks that follow it, or a run of
    # other word characters: the pieces a blanked word is cut into.
    piece = f"[{SPACELESS}][{marks}{_IGNORABLE}]*|[^{SPACELESS}{_SEPARATOR_ASCII}]+"
    return _Patterns(
        re.compile(f"[^\\x00-\\x7f{word_class}]"),
        re.compile(piece),
        re.compile(piece.replace(_SEPARATOR_ASCII, "")),
    )


class FoldMode(NamedTuple):
    """How a term and the text it is matched against are normalised."""

    case_sensitive: bool
    fold_diacritics: bool

    @property
    def index(self) -> int:
        """0..3; mode 0 is the default (case-insensitive, diacritics folded)."""
        return 2 * self.case_sensitive + (not self.fold_diacritics)

    @property
    def separator(self) -> str:
        """Control character joining the tokens of a stream folded in this mode."""
        return chr(1 + self.index)


ALL_MODES = tuple(FoldMode(cs, fd) for cs in (False, True) for fd in (True, False))


def tokenize(text: str) -> list[str]:
    """The word tokens of ``text`` (tokens made only of marks are dropped)."""
    tokens = [word.decode() for word in words(blank_gaps(text))]
    return [tok for tok in tokens if tok.isascii() or _HAS_WORD_CHAR_RE.search(tok)]


def blank_gaps(text: str) -> str:
    """``text`` with its non-ASCII separators replaced by spaces (same length).

    Afterwards every non-ASCII character belongs to a word, and only ASCII
    characters other than letters and digits separate words.
    """
    return text if text.isascii() else _patterns().non_ascii_gap.sub(" ", text)


def words(blanked: str) -> list[bytes]:
    """The word tokens of a :func:`blank_gaps` text, UTF-8 encoded (C speed).

    A word with characters of a spaceless script is cut into one token per character.
    """
    tokens = blanked.encode().translate(_ASCII_GAP_BYTES).split()
    if not has_spaceless(blanked):
        return tokens
    cut: list[bytes] = []
    for token in tokens:
        if token.isascii() or not has_spaceless(piece := token.decode()):
            cut.append(token)
        else:
            cut += [match.encode() for match in _patterns().piece.findall(piece)]
    return cut


def token_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of the word tokens of ``text``.

    Counts exactly the tokens of :func:`words`, in the same order.
    """
    return [m.span() for m in _patterns().blanked_token.finditer(blank_gaps(text))]


class TokenLocator:
    """Character spans of a text's tokens by index, without tokenising all of it.

    A same-length ASCII copy of the text (word characters kept or replaced by
    ``?``, separators made spaces) lets :meth:`bytes.split` skip to the wanted
    token at C speed, from the nearest token located before, and
    :meth:`bytes.find` give the spans of the tokens asked for.
    """

    def __init__(self, text: str, blanked: str | None = None) -> None:
        self.text = text
        self._blanked = blank_gaps(text) if blanked is None else blanked
        ascii_copy = self._blanked.replace("?", " ").encode("ascii", "replace")
        self._skippable = ascii_copy.translate(_SKIP_BYTES)
        self._found: dict[tuple[int, int], list[tuple[int, int]]] = {}
        # Characters of spaceless scripts are tokens without a gap between them, which
        # the same-length copy cannot show: such texts are located by regex, once.
        self._all = token_spans(text) if has_spaceless(self._blanked) else None
        self._known = [0]  # token indices whose offset is known, ascending
        self._offsets = {0: 0}  # token index -> offset at or before the token

    def spans(self, first: int, count: int) -> list[tuple[int, int]]:
        """Spans of up to ``count`` tokens from token ``first`` on (do not modify)."""
        if self._all is not None:
            return self._all[first : first + count]
        found = self._found.get((first, count))
        if found is None:
            found = self._found[first, count] = self._spans(first, count)
        return found

    def _spans(self, first: int, count: int) -> list[tuple[int, int]]:
        skippable = self._skippable
        known = self._known[bisect_right(self._known, first) - 1]
        offset = self._offsets[known]
        if first > known:
            rest = skippable[offset:].split(None, first - known)
            if len(rest) <= first - known:
                return []
            offset = len(skippable) - len(rest[-1])
        spans = []
        for token in skippable[offset:].split(None, count)[:count]:
            offset = skippable.find(token, offset)
            spans.append((offset, offset + len(token)))
            offset += len(token)
        if spans and first not in self._offsets:
            insort(self._known, first)
            self._offsets[first] = spans[0][0]
        return spans


def fold(text: str, mode: FoldMode) -> str:
    """Normalise case and diacritics of ``text`` as ``mode`` says.

    Case-insensitive modes use :meth:`str.casefold`; diacritic folding applies NFKD,
    drops accents and maps ø/æ/œ/ß/ł/đ/ı to their plain letters; without diacritic
    folding the text is put in NFC so composed and decomposed accents agree.
    Invisible in-word characters (soft hyphen, zero-width joiners) are removed.
    """
    if text.isascii():
        return text if mode.case_sensitive else text.lower()
    if mode.fold_diacritics:
        text = _STRIP_RE.sub("", unicodedata.normalize("NFKD", text))
        if any(letter in text for letter in _LETTERS):
            text = _LETTER_RE.sub(_plain_letter, text)
    elif any(char in text for char in _IGNORABLE):
        text = _IGNORABLE_RE.sub("", text)
    if not mode.case_sensitive:
        text = text.casefold()
    return text if mode.fold_diacritics else unicodedata.normalize("NFC", text)


def _plain_letter(match: re.Match[str]) -> str:
    return _LETTERS[match.group()]


fold_token = lru_cache(maxsize=1 << 16)(fold)
"""Cached :func:`fold` for single tokens."""


def fold_stream(stream: str, mode: FoldMode) -> str:
    """:func:`fold` for tokens joined by ``mode.separator``.

    When few characters are non-ASCII (English text quoting a foreign name), only
    the tokens containing them are folded, through a cache; the rest is lower-cased.
    """
    if stream.isascii():
        return stream if mode.case_sensitive else stream.lower()
    if len(stream.encode()) - len(stream) > _SPARSE_SHARE * len(stream):
        return fold(stream, mode)
    separator = mode.separator
    pieces: list[str] = []
    done = 0  # the stream is copied or folded up to here
    for run in _NON_ASCII_RE.finditer(stream):
        if run.start() < done:
            continue  # a second run inside a token already folded
        start = stream.rfind(separator, 0, run.start()) + 1
        end = stream.find(separator, run.end())
        end = len(stream) if end < 0 else end
        pieces += [fold(stream[done:start], mode), fold_token(stream[start:end], mode)]
        done = end
    pieces.append(fold(stream[done:], mode))
    return "".join(pieces)


@lru_cache(maxsize=4096)
def fold_words(query_words: tuple[str, ...], mode: FoldMode) -> tuple[str, ...]:
    """Fold query words one by one (each result is non-empty for a real word)."""
    return tuple(fold(word, mode) for word in query_words)

"""Word tokenisation and case/diacritic folding shared by queries and articles.

A *word token* is a maximal run of letters, digits and combining marks (plus a few
invisible in-word characters such as the soft hyphen).  Everything else -- spaces,
punctuation, apostrophes, hyphens, underscores, symbols -- separates words.  So
``Greenland's`` is the two tokens ``Greenland`` ``s`` and ``Greenland-based`` is
``Greenland`` ``based``, while ``Greenlandic`` stays one token that ``Greenland``
does not match.

Folding is applied to whole strings of separator-joined tokens: every step works
character by character and never produces or removes a separator, so folding a
joined string equals joining the folded tokens.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Characters that may sit inside a word without being visible: soft hyphen,
# zero-width non-joiner/joiner, word joiner, zero-width no-break space.
_IGNORABLE = "\u00ad\u200c\u200d\u2060\ufeff"
_IGNORABLE_TABLE = {ord(ch): None for ch in _IGNORABLE}

# Combining marks removed by diacritic folding: the general combining-diacritics
# blocks (Latin, Greek, Cyrillic accents after NFKD), Hebrew points and Arabic
# harakat.  Vowel signs of Indic and other scripts are kept: they are letters there.
_DIACRITIC_RANGES = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
)
_DIACRITIC_RE = re.compile(f"[{_DIACRITIC_RANGES}]+")

# Letters that NFKD does not decompose but that readers treat as accented forms.
_LETTER_TABLE = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ß": "ss",
        "ẞ": "SS",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
    }
)


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


_WORD_CLASS = r"\w" + _mark_ranges() + _IGNORABLE
_TOKEN_RE = re.compile(f"[{_WORD_CLASS}]+")
_GAP_RE = re.compile(f"[^{_WORD_CLASS}]+")
_HAS_WORD_CHAR_RE = re.compile(r"[^\W_]")
_SPACES_RE = re.compile(r"\s+")


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
        """Control character joining tokens in this mode's stream; one per mode."""
        return chr(1 + self.index)


ALL_MODES = tuple(FoldMode(cs, fd) for cs in (False, True) for fd in (True, False))
BASE_SEPARATOR = ALL_MODES[0].separator


def tokenize(text: str) -> list[str]:
    """The word tokens of ``text`` (tokens made only of marks are dropped)."""
    return [tok for tok in _TOKEN_RE.findall(text.replace("_", " ")) if _has_word_char(tok)]


def _has_word_char(token: str) -> bool:
    return token.isascii() or _HAS_WORD_CHAR_RE.search(token) is not None


def token_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of the word tokens of ``text``.

    Counts exactly the tokens that :func:`joined_tokens` joins, in the same order.
    """
    return [m.span() for m in _TOKEN_RE.finditer(text.replace("_", " "))]


def joined_tokens(text: str, separator: str = BASE_SEPARATOR) -> str:
    """The word tokens of ``text`` joined by ``separator`` (one C-level pass)."""
    return _GAP_RE.sub(separator, text.replace("_", " ")).strip(separator)


def fold(text: str, mode: FoldMode) -> str:
    """Normalise case and diacritics of ``text`` as ``mode`` says.

    Case-insensitive modes use :meth:`str.casefold`; diacritic folding applies NFKD,
    drops accents and maps ø/æ/œ/ß/ł/đ/ı to their plain letters; without diacritic
    folding the text is put in NFC so composed and decomposed accents agree.
    """
    if text.isascii():
        return text if mode.case_sensitive else text.lower()
    text = text.translate(_IGNORABLE_TABLE)
    if not mode.case_sensitive:
        text = text.casefold()
    if not mode.fold_diacritics:
        return unicodedata.normalize("NFC", text)
    text = _DIACRITIC_RE.sub("", unicodedata.normalize("NFKD", text)).translate(_LETTER_TABLE)
    return text if mode.case_sensitive else text.casefold()


@lru_cache(maxsize=4096)
def fold_words(words: tuple[str, ...], mode: FoldMode) -> tuple[str, ...]:
    """Fold query words one by one (each result is non-empty for a real word)."""
    return tuple(fold(word, mode) for word in words)


def fold_whitespace(text: str) -> str:
    """Collapse every run of whitespace to one space."""
    return _SPACES_RE.sub(" ", text)

"""One Aho-Corasick pass finds every term of every topic in an article.

The article (title, then text) is reduced to a *stream*: its word tokens, folded
(case-insensitive, diacritics removed), joined by the separator ``\\x01``.  Keys
carry separators too, which pins them to token boundaries:

* a word or phrase is ``SEP w1 SEP w2 SEP`` -- it starts and ends on a boundary;
* a prefix wildcard is ``SEP w1 ... SEP prefix`` -- open at the end.

Title and text are divided by an empty token (two separators in a row), which no
key can span.  Token ``k`` of the title gets position ``k``; token ``j`` of the text
gets position ``n_title + 1 + j``: a position is the number of separators before
the token, less one.  Title and text are folded separately, so the stream offset
where the title ends is known.

Terms with stricter matching (case-sensitive, or diacritics kept) are *variants*
of the folded key: the automaton finds the folded key, and each hit is then
verified against the original tokens.  So there is one automaton and one stream
whatever the topics' options, and hits are grouped by key and verified only for
keys that some evaluated topic asks about.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from operator import itemgetter

import ahocorasick

from .text import ALL_MODES, FoldMode, blank_gaps, fold_stream, fold_token, fold_words, words

SEARCH_MODE = ALL_MODES[0]
SEP = SEARCH_MODE.separator
SEP_BYTES = SEP.encode()


@dataclass(frozen=True)
class Variant:
    """A term's key in its own fold mode, found through its folded search key."""

    search_key: int
    length: int  # words covered by an occurrence
    mode: FoldMode
    words: tuple[str, ...]  # folded in ``mode``; the last one is a prefix if ``prefix``
    prefix: bool
    needs_check: bool  # stricter than the search key: verify each hit

    def accepts(self, tokens: list[str]) -> bool:
        """Whether original ``tokens`` (``length`` of them) match in this mode."""
        *head, last = [fold_token(token, self.mode) for token in tokens]
        *want_head, want_last = self.words
        if head != want_head:
            return False
        return last.startswith(want_last) if self.prefix else last == want_last


class KeyTable:
    """The distinct search keys and variants of all terms."""

    def __init__(self) -> None:
        self.search_keys: list[str] = []
        self._search_ids: dict[str, int] = {}
        self.variants: list[Variant] = []
        self._variant_ids: dict[Variant, int] = {}

    def add(self, words: tuple[str, ...], prefix: bool, mode: FoldMode) -> int:
        """The variant id for these query words (folded here) matched in ``mode``."""
        folded = fold_words(words, SEARCH_MODE)
        key = SEP + SEP.join(folded) + ("" if prefix else SEP)
        search_id = self._search_ids.setdefault(key, len(self.search_keys))
        if search_id == len(self.search_keys):
            self.search_keys.append(key)
        strict = mode != SEARCH_MODE
        variant = Variant(search_id, len(words), mode, fold_words(words, mode), prefix, strict)
        variant_id = self._variant_ids.setdefault(variant, len(self.variants))
        if variant_id == len(self.variants):
            self.variants.append(variant)
        return variant_id


class Scanner:
    """Scans articles for all keys of a :class:`KeyTable` with one automaton."""

    def __init__(self, table: KeyTable) -> None:
        self.table = table
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
        for key_id, key in enumerate(table.search_keys):
            self._automaton.add_word(key, key_id)  # a stored object: no int made per hit
        self._key_lengths = [len(key) for key in table.search_keys]
        if table.search_keys:
            self._automaton.make_automaton()

    def scan(self, title: str, text: str) -> Occurrences:
        """Find every key occurrence in ``title`` and ``text``."""
        article = Article(title, text)
        if not self.table.search_keys:
            return Occurrences(self, article, "", [], 0)
        title_part = SEP_BYTES + b"".join(word + SEP_BYTES for word in article.title_words)
        text_part = SEP_BYTES + SEP_BYTES.join(article.text_words) + SEP_BYTES
        folded_title = fold_stream(title_part.decode(), SEARCH_MODE)
        stream = folded_title + fold_stream(text_part.decode(), SEARCH_MODE)
        hits = list(self._automaton.iter(stream))
        return Occurrences(self, article, stream, hits, len(folded_title))

    def key_length(self, key_id: int) -> int:
        return self._key_lengths[key_id]


class Article:
    """An article's title and text, blanked (see :func:`blank_gaps`) and tokenised."""

    def __init__(self, title: str, text: str) -> None:
        self.title = title
        self.text = text
        self.title_blanked = blank_gaps(title)
        self.text_blanked = blank_gaps(text)
        self.title_words = words(self.title_blanked)
        self.text_words = words(self.text_blanked)

    def word(self, position: int, n_title: int) -> str:
        """The original token at a position (see the module docstring)."""
        if position < n_title:
            return self.title_words[position].decode()
        return self.text_words[position - n_title - 1].decode()


class Occurrences:
    """Where the keys occurred in one article.

    An occurrence is identified by its *offset*: where its first token starts in
    the folded stream.  Offsets below ``title_end`` are in the title.  Token
    *positions* (see the module docstring) are worked out only where needed (NEAR,
    snippets), by counting separators.
    """

    def __init__(
        self,
        scanner: Scanner,
        article: Article,
        stream: str,
        hits: list[tuple[int, int]],
        title_end: int,
    ) -> None:
        self.article = article
        self.n_title = len(article.title_words)
        self.title_end = title_end
        self.hit_keys = set(map(itemgetter(1), hits))
        self._table = scanner.table
        self._key_length = scanner.key_length
        self._stream = stream
        self._hits = hits
        self._hit_key_list: list[int] | None = None
        self._offsets: dict[int, list[int]] = {}

    def has(self, variant_id: int) -> bool:
        """Whether the variant occurred at all."""
        variant = self._table.variants[variant_id]
        if variant.search_key not in self.hit_keys:
            return False
        return not variant.needs_check or bool(self.offsets(variant_id))

    def offsets(self, variant_id: int) -> list[int]:
        """Ascending offsets of the variant's occurrences (do not modify)."""
        found = self._offsets.get(variant_id)
        if found is None:
            found = self._offsets[variant_id] = self._find(variant_id)
        return found

    def positions(self, offsets: list[int]) -> list[int]:
        """Token positions of ascending ``offsets``, counting separators once."""
        positions = []
        count = -1
        done = 0
        for offset in offsets:
            count += self._stream.count(SEP, done, offset)
            done = offset
            positions.append(count)
        return positions

    def text_index(self, position: int) -> int:
        """Index of a text position among the text's tokens."""
        return position - self.n_title - 1

    def _find(self, variant_id: int) -> list[int]:
        variant = self._table.variants[variant_id]
        key = variant.search_key
        if key not in self.hit_keys:
            return []
        first_char = 2 - self._key_length(key)  # from a hit's last char to its first token
        found = [end + first_char for end in self._ends(key)]
        if variant.needs_check:
            found = [o for o in found if variant.accepts(self._tokens_at(o, variant.length))]
        return found

    def _ends(self, key: int) -> list[int]:
        """End offsets of the hits of one search key, ascending."""
        if self._hit_key_list is None:
            self._hits.sort(key=itemgetter(1))  # stable: ends stay ascending per key
            self._hit_key_list = list(map(itemgetter(1), self._hits))
        low = bisect_left(self._hit_key_list, key)
        high = bisect_right(self._hit_key_list, key, low)
        return [end for end, _ in self._hits[low:high]]

    def _tokens_at(self, offset: int, length: int) -> list[str]:
        """The ``length`` original tokens from the one at ``offset``."""
        (position,) = self.positions([offset])
        return [self.article.word(p, self.n_title) for p in range(position, position + length)]

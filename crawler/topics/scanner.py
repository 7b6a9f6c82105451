"""One Aho-Corasick pass finds every term of every topic in an article.

The article (title, then text) is reduced to a *stream*: its word tokens, folded,
joined by a separator character.  Each fold mode in use has its own stream and its
own separator (``\\x01`` .. ``\\x04``); the streams are concatenated and scanned
once by a single automaton.  Keys carry their mode's separator, so a key only ever
matches inside its own mode's stream, and separators pin keys to token boundaries:

* a word or phrase is ``SEP w1 SEP w2 SEP`` -- it starts and ends on a boundary;
* a prefix wildcard is ``SEP w1 ... SEP prefix`` -- open at the end.

Title and text are divided by an empty token (two separators in a row), which no
key can span.  Token ``k`` of the title gets position ``k``; token ``j`` of the text
gets position ``n_title + 1 + j``.  The position of a hit is the number of
separators before it, counted incrementally while walking the hits in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ahocorasick

from .text import BASE_SEPARATOR, FoldMode, fold_stream, fold_words, joined_tokens


@dataclass
class Occurrences:
    """Where the keys occurred in one article.

    ``by_key`` maps a key id to the ascending positions of its hits; positions below
    ``n_title`` are title tokens, the others are text tokens (see module docstring).
    """

    by_key: dict[int, list[int]] = field(default_factory=dict)
    n_title: int = 0

    def text_index(self, position: int) -> int:
        """Index of a text position among the text's tokens."""
        return position - self.n_title - 1


class KeyTable:
    """The distinct search keys of all terms; equal keys share one id."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self.keys: list[str] = []
        self.modes: list[FoldMode] = []

    def add(self, words: tuple[str, ...], prefix: bool, mode: FoldMode) -> int:
        """The id of the key for these query words (folded here) in ``mode``."""
        sep = mode.separator
        key = sep + sep.join(fold_words(words, mode)) + ("" if prefix else sep)
        key_id = self._ids.get(key)
        if key_id is None:
            key_id = self._ids[key] = len(self.keys)
            self.keys.append(key)
            self.modes.append(mode)
        return key_id

    def __len__(self) -> int:
        return len(self.keys)


class Scanner:
    """Scans articles for all keys of a :class:`KeyTable` with one automaton."""

    def __init__(self, table: KeyTable) -> None:
        self._modes = sorted(set(table.modes), key=lambda mode: mode.index)
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for key_id, key in enumerate(table.keys):
            self._automaton.add_word(key, key_id)
        # Per key: index of its mode among self._modes, and separators it contains.
        slot = {mode: i for i, mode in enumerate(self._modes)}
        self._key_mode = [slot[mode] for mode in table.modes]
        self._key_seps = [key.count(key[0]) for key in table.keys]
        if len(table):
            self._automaton.make_automaton()

    def scan(self, title: str, text: str) -> Occurrences:
        """Find every key occurrence in ``title`` and ``text``."""
        raw_title = joined_tokens(title)
        n_title = raw_title.count(BASE_SEPARATOR) + 1 if raw_title else 0
        raw = BASE_SEPARATOR + (raw_title + BASE_SEPARATOR if raw_title else "")
        raw += BASE_SEPARATOR + joined_tokens(text) + BASE_SEPARATOR
        occurrences = Occurrences(n_title=n_title)
        if self._modes:
            stream, bases = self._stream(raw)
            self._collect(stream, bases, occurrences.by_key)
        return occurrences

    def _stream(self, raw: str) -> tuple[str, list[int]]:
        """Concatenate the folded stream of every mode in use; return it and offsets."""
        parts: list[str] = []
        bases: list[int] = []
        offset = 0
        for mode in self._modes:
            part = (
                raw
                if mode.separator == BASE_SEPARATOR
                else raw.replace(BASE_SEPARATOR, mode.separator)
            )
            part = fold_stream(part, mode)
            parts.append(part)
            bases.append(offset)
            offset += len(part)
        return "".join(parts), bases

    def _collect(self, stream: str, bases: list[int], by_key: dict[int, list[int]]) -> None:
        seps = [mode.separator for mode in self._modes]
        counted_to = list(bases)  # per mode: separators are counted up to here...
        counts = [0] * len(bases)  # ...and this many were found
        key_mode, key_seps = self._key_mode, self._key_seps
        for end, key_id in self._automaton.iter(stream):
            m = key_mode[key_id]
            counts[m] += stream.count(seps[m], counted_to[m], end + 1)
            counted_to[m] = end + 1
            position = counts[m] - key_seps[key_id]
            hits = by_key.get(key_id)
            if hits is None:
                by_key[key_id] = [position]
            else:
                hits.append(position)

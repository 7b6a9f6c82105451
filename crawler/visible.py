"""Text from the web made honest to show: nothing invisible that reorders or hides.

A headline can carry characters a reader never sees: bidirectional overrides and
isolates (U+202A-U+202E, U+2066-U+2069) that display ``gnp.exe`` as ``exe.png`` or
turn a sentence around, zero-width spaces and joiners that split a word so a filter or
a reader's search misses it, other invisible format characters (Unicode category Cf),
and control characters (C0, DEL, C1) that a terminal or an XML reader acts on.
``visible`` removes them from everything presswatch shows to people (digests in every
format, the e-mail subject, snippets, diffs, ``presswatch status``); the database keeps
the text as it came.

Kept: tab, line feed, carriage return and the line and paragraph separators (callers
fold whitespace as they need), and the zero-width (non-)joiner between two letters,
where scripts such as Persian and the Indic ones need it.
"""

from __future__ import annotations

import re
import unicodedata

_KEPT = "\t\n\r\u200c\u200d"  # the joiners are judged by their neighbours (below)
_CACHED = 65_536  # at most this many code points judged are remembered


class _Invisible(dict[int, int | None]):
    """For ``str.translate``: a code point -> None when it is a control or format
    character (Unicode categories Cc and Cf) to remove, else itself. Each code point is
    judged when first met, so the cost follows the characters a text uses."""

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        judged = None if unicodedata.category(char) in ("Cc", "Cf") and char not in _KEPT else code
        if len(self) < _CACHED:
            self[code] = judged
        return judged


_INVISIBLE = _Invisible()
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A joiner is kept only between two letters or marks (\w without digits and _).
_STRAY_JOINER = re.compile(r"(?<![^\W\d_])[\u200c\u200d]|[\u200c\u200d](?![^\W\d_])")


def visible(text: str) -> str:
    """``text`` without invisible format and control characters (see the module)."""
    if text.isascii():
        return _ASCII_CONTROL.sub("", text)
    return _STRAY_JOINER.sub("", text.translate(_INVISIBLE))

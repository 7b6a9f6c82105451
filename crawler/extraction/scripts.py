"""Writing systems that do not put spaces between words, and word counts that know them.

Chinese, Japanese (kanji and kana), Korean Hangul, Thai, Lao, Khmer and Myanmar text
cannot be split into words by spaces: a Chinese article is one "word" per sentence.
Wherever presswatch counts or matches words, a character of these scripts is a unit of
its own: matching treats each as a token (so query terms match as substrings there),
and :func:`word_count` counts such characters as fractions of a word.
"""

from __future__ import annotations

import re
from functools import cache

# Ideographs, kana, Hangul: one character carries about half a word of text.
DENSE = (
    "\u3005-\u3007\u3021-\u3029\u3031-\u3035\u303b\u303c"  # 々〆〇, numerals, kana repeat marks
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs, compatibility ideographs
    "\uff66-\uff9f"  # halfwidth katakana
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # Hangul jamo and syllables
    "\U00020000-\U0003134f"  # CJK ideographs, extensions B-G
)
# Southeast Asian scripts written without spaces between words: a letter is about a
# quarter of a word.
ALPHABETIC = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
)
SPACELESS = DENSE + ALPHABETIC


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """A spaceless character, a dense one, an alphabetic letter: compiled at the first
    text that is not ASCII (the ranges take milliseconds to compile; a configuration
    whose queries are all ASCII never needs them)."""
    return (
        re.compile(f"[{SPACELESS}]"),
        re.compile(f"[{DENSE}]"),
        re.compile(f"(?=[{ALPHABETIC}])[^\\W\\d_]"),
    )


def has_spaceless(text: str) -> bool:
    """Whether ``text`` contains a character of a script written without spaces."""
    return not text.isascii() and _patterns()[0].search(text) is not None


def word_count(text: str) -> float:
    """Words in ``text``: space-separated words, plus half a word for each ideograph,
    kana or Hangul syllable and a quarter for each Thai, Lao, Khmer or Myanmar letter
    (their vowel signs and tone marks do not count)."""
    if not has_spaceless(text):
        return len(text.split())
    spaceless, dense_char, alphabetic_letter = _patterns()
    count = 0.0
    for word in text.split():
        dense = len(dense_char.findall(word))
        letters = len(alphabetic_letter.findall(word))
        if not dense and not letters and not spaceless.search(word):
            count += 1
            continue
        rest = spaceless.sub("", word)
        count += dense / 2 + letters / 4 + (1 if any(c.isalnum() for c in rest) else 0)
    return count

"""Text normalization for change detection.

A new version of an article is stored only when its title or its *normalized*
text differs from the previous version. Normalization must therefore remove
everything that changes between two visits without anybody editing the article
(relative times, view counters, "most read" boxes ...) while keeping every real
sentence: a false "no change" loses an edit, which is worse than a spurious one.

Every noise pattern is a regular expression matched against one *whole* line
(``re.fullmatch``, case-insensitive) after whitespace folding, so a pattern can
only ever drop a complete line, never part of a sentence.

One built-in rule works inside lines: a relative time ("Updated 5 minutes ago"), a
view counter ("1,234 views", "Shares: 56") or a reading time ("4 min read") is taken
out of the compared text wherever it sits, with the punctuation that follows it. So
a change whose every changed stretch of words lies inside such phrases is no change,
and the diff of a real edit next to one shows only the edit. Only these fixed forms
are taken out inside a line; user patterns stay whole-line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence

# Invisible characters that come and go with templates: soft hyphen, zero-width
# space, word joiner, byte order mark.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")

# Bullets and separators that often surround metadata ("· 5 min ago ·").
_DECOR = r"[\s·•|–—-]*"
_SEP = r"(?>[\s·•|/,–—-]+)"

# Relative times.
_EN_NUMBER = r"(?:\d+|an?|one|a\s+few|few)"
_EN_UNIT = (
    r"(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?"
    r"|mos?|months?|y|yrs?|years?)"
)
_EN_LABEL = r"(?:(?:last\s+)?(?:updated|published|posted|edited|modified)\s*:?\s*)?"
_EN_AGO = (
    rf"{_EN_LABEL}(?:{_EN_NUMBER}\s*{_EN_UNIT}\.?\s+ago|just\s+now|an?\s+moments?\s+ago"
    r"|moments\s+ago)"
)
_IT_AGO = (
    r"(?:(?:aggiornato|pubblicato)\s*:?\s*)?"
    r"(?:\d+|una?|pochi|poche)\s+(?:sec(?:ondi|ondo)?|min(?:uti|uto)?|or[ae]|giorn[oi]"
    r"|settiman[ae]|mes[ei]|ann[oi])\s+fa"
)
_NL_AGO = (
    r"(?:(?:bijgewerkt|gepubliceerd)\s*:?\s*)?"
    r"(?:\d+|een|enkele)\s+(?:sec(?:onden?)?|min(?:uten|uut)?|uur|dagen|dag|weken|week"
    r"|maanden|maand|jaar|jaren)\s+geleden"
)
_PT_AGO = (
    r"(?:(?:atualizado|publicado)\s*:?\s*)?"
    r"há\s+(?:\d+|uma?|alguns|algumas)\s+(?:s|seg(?:undos?)?|min(?:utos?)?|h|horas?|dias?"
    r"|semanas?|m[eê]s(?:es)?|anos?)"
)
_PL_AGO = (
    r"(?:(?:zaktualizowano|opublikowano)\s*:?\s*)?"
    r"(?:\d+|kilka|kilkanaście)\s+(?:sek(?:und[ya]?)?|min(?:ut[ay]?|\.)?|godz(?:in[ya]?|\.)?"
    r"|dni|dzień|tygodni(?:e)?|miesi[ąę]c(?:e|y)?|lat[a]?)\s+temu"
)
_DE_AGO = (
    r"(?:(?:zuletzt\s+)?(?:aktualisiert|veröffentlicht|geändert)\s*:?\s*)?"
    r"vor\s+(?:\d+|einer?|einem|wenigen)\s+(?:sek(?:unden?)?|min(?:uten?)?|std|stunden?"
    r"|tag(?:en)?|wochen?|monat(?:en)?|jahr(?:en)?)\.?"
)
_FR_AGO = (
    r"(?:(?:mis\s+à\s+jour|publié|modifié)\s*:?\s*)?"
    r"il\s+y\s+a\s+(?:\d+|une?|quelques)\s+(?:s|sec(?:ondes?)?|min(?:utes?)?|h|heures?"
    r"|jours?|semaines?|mois|ans?)\.?"
)
_ES_AGO = (
    r"(?:(?:actualizado|publicado)\s*:?\s*)?"
    r"hace\s+(?:\d+|una?|unos|unas)\s+(?:s|seg(?:undos?)?|min(?:utos?)?|h|horas?"
    r"|d[ií]as?|semanas?|mes(?:es)?|años?)\.?"
)
# In this order, the order _ago_languages (below) looks for their words in.
_AGO_PHRASES = (_EN_AGO, _DE_AGO, _FR_AGO, _ES_AGO, _IT_AGO, _NL_AGO, _PT_AGO, _PL_AGO)
_AGO = rf"(?>(?:{'|'.join(_AGO_PHRASES)})(?!\w))"

# Counters: "1,234 views", "Shares: 56", "12 comments", "Share 34", "1.2K likes".
_COUNT = r"(?:\d{1,3}(?:[ ,.]\d{3})+|\d+(?:[.,]\d+)?)\s*(?:k|m|mio\.?|mn|b|bn)?\+?"
_COUNTED = (
    r"(?:views?|shares?|comments?|likes?|reads?|reactions?|replies|responses|retweets?"
    r"|reposts?|claps|aufrufe|kommentare?|vues?|commentaires?|partages?|visualizaciones"
    r"|comentarios|visualizzazioni|commenti|weergaven|reacties|visualizações|comentários"
    r"|wyświetle[ńn]|komentarz(?:e|y)?)"
)
_COUNTER = rf"(?>(?:{_COUNT}\s*{_COUNTED}|{_COUNTED}\s*[:(]?\s*{_COUNT}\)?)(?!\w))"
# Inside a sentence only the unambiguous forms: "1,234 views", "Shares: 56", "(12
# comments)" -- not "12 comments were received", which reports a fact.
_VIEWS = (
    r"(?:views|aufrufe|vues|visualizaciones|visualizzazioni|weergaven|visualizações"
    r"|wyświetle[ńn])"
)
_INLINE_COUNTER = (
    rf"(?>(?:{_COUNT}\s*{_VIEWS}|{_COUNTED}\s*(?::\s*|\(\s*){_COUNT}\)?"
    rf"|\(\s*{_COUNT}\s*{_COUNTED}\s*\))(?!\w))"
)

# Reading time: "4 min read", "Reading time: 6 minutes", "Lesezeit: 3 Min.".
_MINUTES = (
    r"(?:about\s+|approx\.?\s*|ca\.?\s*|~\s*)?\d+(?:\s*[-–]\s*\d+)?\s*(?:min(?:ute)?[sn]?\.?|m)"
)
_READ_TIME = (
    r"(?>(?:(?:reading\s+time|read\s+time|lesezeit|lesedauer|temps\s+de\s+lecture"
    r"|tiempo\s+de\s+lectura|tempo\s+di\s+lettura|leestijd|tempo\s+de\s+leitura"
    rf"|czas\s+czytania)\s*:?\s*{_MINUTES}"
    rf"|{_MINUTES}\s+(?:read|reading\s+time|lesezeit|lesedauer|de\s+lecture|de\s+lectura"
    r"|di\s+lettura|lettura|leestijd|de\s+leitura|czytania))"
    r"(?!\w))"
)

# Dates and times as they appear after "Last updated": only these tokens may follow.
_DIGITS = r"[+-]?\d{1,4}(?:[:./htz-]\d{1,4})*(?:st|nd|rd|th|z)?\.?"
_MONTH = (
    r"(?:jan(?:uary|uar)?|feb(?:ruary|ruar)?|mar(?:ch)?|märz|apr(?:il)?|may|mai"
    r"|jun[ei]?|jul[yi]?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|okt(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?|dez(?:ember)?|janvier|février|mars|avril|juin"
    r"|juillet|août|septembre|octobre|novembre|décembre)\.?"
)
_WEEKDAY = (
    r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?|montag|dienstag"
    r"|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi"
    r"|samedi|dimanche)\.?"
)
_ZONE = (
    r"(?:utc|gmt|z|cet|cest|eet|eest|wet|west|bst|ist|jst|aest|aedt|mez|mesz|est|edt|cst"
    r"|cdt|mst|mdt|pst|pdt|akst|akdt|hst|nzst|nzdt)"
)
_CLOCK_WORD = r"(?:a\.?m\.?|p\.?m\.?|uhr|h|at|on|am|um|le|à|of|the|el|de)"
_DATE_TOKEN = rf"(?>(?:{_DIGITS}|{_MONTH}|{_WEEKDAY}|{_ZONE}|{_CLOCK_WORD})(?!\w))"
_DATE_SEP = r"(?>[\s,;|·•–—()]*)"
_STAMP_LABEL = (
    r"(?:(?:last|zuletzt)\s+)?(?:updated|modified|edited|published|posted|aktualisiert"
    r"|geändert|veröffentlicht|mis\s+à\s+jour|publié|modifié|actualizado|publicado)\s*:?"
)

# Headings that open a rotating block of links ("Related articles", "Most read").
RELATED_HEADING_PATTERN = (
    r"(?:related(?:\s+(?:articles?|stories|content|news|coverage|reading|links|topics))?"
    r"|read\s+more|read\s+also|also\s+read|see\s+also|more\s+from\b[^.!?]{0,40}"
    r"|more\s+on\s+this\s+(?:story|topic)|more\s+stories|most\s+(?:read|popular|viewed|shared)"
    r"|trending(?:\s+now)?|recommended(?:\s+for\s+you)?|you\s+may\s+also\s+like"
    r"|you\s+might\s+also\s+like|mehr\s+zum\s+thema|meistgelesen|lesen\s+sie\s+auch"
    r"|das\s+könnte\s+sie\s+auch\s+interessieren|à\s+lire\s+aussi|lire\s+aussi"
    r"|les\s+plus\s+lus|sur\s+le\s+même\s+sujet)\s*:?"
)
# A line in such a block is "short": a headline, not a paragraph of the article.
RELATED_MAX_LINE_CHARS = 120
# At most this many short lines after a heading are treated as part of its block.
RELATED_MAX_LINES = 12

DEFAULT_NOISE_PATTERNS: tuple[str, ...] = (
    # A relative time, optionally labelled: "Updated 5 minutes ago", "5 min ago",
    # "2h ago", "just now", "vor 3 Stunden", "il y a 2 heures", "hace 2 horas".
    rf"{_DECOR}{_AGO}{_DECOR}",
    # One or more counters: "1,234 views", "Shares: 56", "12 comments · 3 shares", "Share 34".
    rf"{_DECOR}{_COUNTER}(?:{_SEP}{_COUNTER})*{_DECOR}",
    # A timestamp line: "Last updated: 12 March 2024, 14:05 GMT", "Updated 3:45 p.m. EST",
    # "Published 12.03.2024, updated 13.03.2024 um 09:12 Uhr". Only date and time words
    # may follow the label, so "Updated: police say 3 people were hurt" stays.
    rf"(?=.*\d){_DECOR}(?:{_STAMP_LABEL}{_DATE_SEP}(?:{_DATE_TOKEN}{_DATE_SEP})+)+",
    # Reading time: "4 min read", "Reading time: 6 minutes", "Lesezeit: 3 Min.".
    rf"{_DECOR}{_READ_TIME}{_DECOR}",
    # A metadata line mixing the above: "5 min read · Updated 2 hours ago · 34 comments".
    rf"{_DECOR}(?:{_AGO}|{_COUNTER}|{_READ_TIME})(?:{_SEP}(?:{_AGO}|{_COUNTER}|{_READ_TIME}))+"
    rf"{_DECOR}",
    # A teaser link to another article: "Read more: Why the vote was delayed".
    r"(?:read\s+more|read\s+also|also\s+read|see\s+also|lesen\s+sie\s+auch|mehr\s+zum\s+thema"
    r"|à\s+lire\s+aussi|lire\s+aussi)\s*:\s*.{1,150}",
)


# The inline rule: such a phrase anywhere in a line, with the separators around it and
# at most one punctuation mark after it ("Updated 5 minutes ago. The minister said"), so
# that taking the phrase out never takes the text's own punctuation with it.
_INLINE_LEAD = r"(?:(?<=\s)|^)[\s·•|–—-]*"
_INLINE_TAIL = r"[\s·•|–—-]*(?:\.{1,3}|…|[,;:])?[\s·•|–—-]*(?=\s|$)"
INLINE_NOISE_PATTERN = rf"{_INLINE_LEAD}(?:{_AGO}|{_INLINE_COUNTER}|{_READ_TIME}){_INLINE_TAIL}"

# Which phrases a line can hold at all. Every relative time holds its language's word
# ("ago", "vor", "il y a" ...) and every counter and reading time a digit and one of
# their words; a line is searched only for the phrases whose words it holds (most lines
# hold none), with the other alternatives of INLINE_NOISE_PATTERN left out, which
# changes nothing it finds. The words are looked for in the line lowercased and folded,
# after the four letters that IGNORECASE matches with ASCII ones are made ASCII.
_ASCII_LOOKALIKES = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"), ("\u212a", "k"))
_IT_WORD = re.compile(r" fa(?!\w)")
_DIGIT = re.compile(r"\d")
_COUNTED_WORD = re.compile(_COUNTED)
_READ_WORD = re.compile(
    r"read|lesezeit|lesedauer|lecture|lectura|lettura|leestijd|leitura|czytania"
)


def _ago_languages(probe: str) -> tuple[int, ...]:
    """The relative times (by index in _AGO_PHRASES) whose word ``probe`` holds."""
    present = (
        " ago" in probe or " now" in probe,
        "vor " in probe,
        "il y a " in probe,
        "hace " in probe,
        " fa" in probe and _IT_WORD.search(probe) is not None,
        " geleden" in probe,
        "há " in probe,
        " temu" in probe,
    )
    return tuple(number for number, found in enumerate(present) if found)


def _inline_noise_in(line: str) -> re.Pattern[str] | None:
    """The part of the inline rule that can match in ``line``; None if none can."""
    if not line.isascii():
        for letter, ascii_letter in _ASCII_LOOKALIKES:
            line = line.replace(letter, ascii_letter)
    probe = " ".join(line.lower().split())
    ago = _ago_languages(probe)
    digit = _DIGIT.search(probe) is not None
    counter = digit and _COUNTED_WORD.search(probe) is not None
    read = digit and _READ_WORD.search(probe) is not None
    return _inline_noise(ago, counter, read) if ago or counter or read else None


@functools.cache
def _inline_noise(ago: tuple[int, ...], counter: bool, read: bool) -> re.Pattern[str]:
    kinds = [rf"(?>(?:{'|'.join(_AGO_PHRASES[n] for n in ago)})(?!\w))"] if ago else []
    kinds += [_INLINE_COUNTER] * counter + [_READ_TIME] * read
    return re.compile(rf"{_INLINE_LEAD}(?:{'|'.join(kinds)}){_INLINE_TAIL}", re.IGNORECASE)


def without_inline_noise(line: str) -> str:
    """``line`` without its relative times, view counters and reading times, folded.

    Repeated until nothing is left to take out, so that taking out one phrase cannot
    leave another behind (normalising twice changes nothing)."""
    while True:
        pattern = _inline_noise_in(line)
        stripped = " ".join((pattern.sub(" ", line) if pattern else line).split())
        if stripped == line:
            return line
        line = stripped


class Normalizer:
    """Fold whitespace and drop volatile noise lines from article text.

    ``extra_patterns`` are per-source regular expressions from the config
    (``noise = ["^Sponsored:.*$"]``). Like the defaults, each is matched against
    a whole line with ``re.fullmatch`` and ``re.IGNORECASE`` after whitespace
    folding: a line is dropped only if the pattern matches all of it, so
    ``"Sponsored:.*"`` and ``"^Sponsored:.*$"`` are equivalent and ``"Sponsored"``
    alone drops only lines that say exactly that. An invalid pattern raises
    :class:`ValueError` naming it. With ``use_defaults=False`` only the extra
    patterns apply and "related articles" blocks are kept.
    """

    def __init__(self, extra_patterns: Sequence[str] = (), *, use_defaults: bool = True) -> None:
        if isinstance(extra_patterns, str):
            extra_patterns = (extra_patterns,)
        sources = (DEFAULT_NOISE_PATTERNS if use_defaults else ()) + tuple(extra_patterns)
        self._patterns = tuple(_compile(pattern) for pattern in sources)
        self._heading = re.compile(RELATED_HEADING_PATTERN, re.IGNORECASE) if use_defaults else None

    def normalize(self, text: str) -> str:
        """Return ``text`` with folded whitespace, one line per paragraph, noise removed."""
        lines = [line for line in _folded_lines(text) if not self._is_noise(line)]
        if self._heading is not None:
            lines = _drop_related_blocks(lines, self._heading)
            lines = [kept for line in lines if (kept := without_inline_noise(line))]
        return "\n".join(lines)

    def normalize_title(self, title: str) -> str:
        """Return ``title`` on one line with whitespace folded; no noise is removed.

        Like the text, the title is put in Unicode NFC form and loses invisible
        zero-width characters, which would otherwise count as edits.
        """
        return " ".join(_clean(title).split())

    def _is_noise(self, line: str) -> bool:
        return any(pattern.fullmatch(line) for pattern in self._patterns)


def content_hash(title: str, normalized_text: str) -> str:
    """Return the sha256 hex digest of ``title`` and ``normalized_text`` together.

    Both are encoded as a compact ASCII JSON array, so the boundary between them
    is unambiguous (``("a", "bc")`` and ``("ab", "c")`` differ) and the digest is
    stable across platforms and Python versions.
    """
    payload = json.dumps([title, normalized_text], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"invalid noise pattern {pattern!r}: {error}") from error


def _clean(text: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", text))


def _folded_lines(text: str) -> list[str]:
    folded = (" ".join(line.split()) for line in _clean(text).splitlines())
    return [line for line in folded if line]


def _drop_related_blocks(lines: list[str], heading: re.Pattern[str]) -> list[str]:
    """Drop each heading line and the short headline-like lines that follow it."""
    kept: list[str] = []
    remaining = 0  # short lines still allowed in the current block
    for line in lines:
        if heading.fullmatch(line):
            remaining = RELATED_MAX_LINES
        elif remaining and _is_headline(line):
            remaining -= 1
        else:
            remaining = 0
            kept.append(line)
    return kept


def _is_headline(line: str) -> bool:
    """A short line that does not end like a sentence of running text."""
    ends_sentence = line.endswith(".") and not line.endswith("...")
    return len(line) <= RELATED_MAX_LINE_CHARS and not ends_sentence

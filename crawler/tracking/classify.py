"""What kind of change an edit was, and how much it matters.

A pure function of the two versions: :func:`classify` takes what presswatch knows of the
version before and the version after (normalised texts, headline, authors, declared
dates, paywall state, topics) and returns the change's kinds and its significance in
[0, 1]. The formula is documented, with worked examples, in docs/tracking.md
("Kinds and significance").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from crawler.config import SignificanceWeights

HEADLINE, LEDE, BODY, APPENDED = "headline", "lede", "body", "appended"
CORRECTION, UPDATE, EDITORS_NOTE = "correction", "update", "editors_note"
BYLINE, DATELINE, PAYWALL = "byline", "dateline", "paywall"
MENTION_ADDED, MENTION_REMOVED, STEALTH = "mention_added", "mention_removed", "stealth"
KINDS = (
    HEADLINE,
    LEDE,
    BODY,
    APPENDED,
    CORRECTION,
    UPDATE,
    EDITORS_NOTE,
    BYLINE,
    DATELINE,
    PAYWALL,
    MENTION_ADDED,
    MENTION_REMOVED,
    STEALTH,
)
NOTES = (CORRECTION, UPDATE, EDITORS_NOTE)

FULL_CHANGE = 0.2
"""The share of a part's words changed from which that part counts as wholly rewritten."""
PUNCTUATION_ONLY = 0.01
"""The significance of a text change that changes no word (punctuation, case, spacing)."""


Weights = SignificanceWeights  # how much each part counts ([tracking.significance])


@dataclass(frozen=True)
class Side:
    """One version as the classifier sees it. ``text`` is normalised: one paragraph a
    line (crawler.tracking.normalize); ``title`` normalised the same way."""

    title: str
    text: str
    authors: tuple[str, ...] = ()
    published_at: str | None = None
    modified_at: str | None = None
    is_partial: bool = False
    topics: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Classification:
    kinds: tuple[str, ...]
    significance: float


# Notes that open a paragraph, in English, German, French, Spanish, Italian, Dutch,
# Portuguese, Polish and the Nordic languages. Matched case-insensitively at the start of
# a paragraph (after an asterisk, a bracket or a dash), so "the correction of prices"
# inside a sentence is not a note.
_OPENING = r"^[\s*_\[(—–-]*"
_NOTE_PATTERNS = {
    CORRECTION: (
        r"corrections?\s*[:.—–-]",
        r"correct(?:ed|ion)\b.{0,40}?\bearlier version",
        r"an earlier version of this (?:article|story|report)",
        r"this (?:article|story|report) has been corrected",
        r"clarification\s*[:.—–-]",
        r"(?:berichtigung|korrektur|klarstellung|richtigstellung)\s*[:.—–-]",
        r"in einer früheren version",
        r"(?:rectificatif|correctif|erratum|précision)\s*[:.—–-]",
        r"une précédente version de cet article",
        r"(?:corrección|rectificación|fe de errores|aclaración)\s*[:.—–-]",
        r"una versión anterior de (?:este|esta)",
        r"(?:correzione|rettifica|precisazione|errata corrige)\s*[:.—–-]",
        r"(?:correctie|rectificatie|verduidelijking)\s*[:.—–-]",
        r"(?:correção|correcção|retificação|rectificação|esclarecimento)\s*[:.—–-]",
        r"(?:sprostowanie|korekta)\s*[:.—–-]",
        r"(?:rättelse|rettelse|rettelser|oikaisu)\s*[:.—–-]",
    ),
    UPDATE: (
        r"updated?\s*(?:\(|[:.—–-])",
        r"this (?:article|story|report|post) (?:has been|was) updated",
        r"(?:aktualisierung|aktualisiert|update)\s*[:.—–-]",
        r"dieser (?:artikel|beitrag) wurde aktualisiert",
        r"(?:mise à jour|actualisation)\s*[:.—–-]",
        r"cet article a été (?:mis à jour|actualisé)",
        r"(?:actualización|actualizado)\s*[:.—–-]",
        r"(?:este|esta) (?:artículo|noticia) (?:ha sido|fue) actualizad[oa]",
        r"(?:aggiornamento|aggiornato)\s*[:.—–-]",
        r"questo articolo è stato aggiornato",
        r"(?:bijgewerkt|update)\s*[:.—–-]",
        r"dit artikel is bijgewerkt",
        r"(?:atualização|actualização|atualizado|actualizado)\s*[:.—–-]",
        r"(?:aktualizacja|zaktualizowano)\s*[:.—–-]",
        r"(?:uppdatering|uppdaterad|opdatering|opdateret|oppdatert|päivitetty)\s*[:.—–-]",
    ),
    EDITORS_NOTE: (
        r"editor'?s'?\s+note\b",
        r"editors'?\s+note\b",
        r"note from the editors?\b",
        r"anmerkung der redaktion\b",
        r"hinweis der redaktion\b",
        r"note de la rédaction\b",
        r"nota (?:del editor|de la redacción)\b",
        r"nota (?:della redazione|dell'editore)\b",
        r"noot van de redactie\b",
        r"nota (?:do editor|da redação|da redacção)\b",
        r"(?:od redakcji|nota redakcji)\b",
        r"(?:redaktionens anmärkning|redaktionel note|redaksjonell merknad)\b",
    ),
}
_NOTES = {
    kind: re.compile(_OPENING + "(?:" + "|".join(patterns) + ")", re.IGNORECASE)
    for kind, patterns in _NOTE_PATTERNS.items()
}
_WORD = re.compile(r"\w+")


def classify(before: Side, after: Side, weights: Weights | None = None) -> Classification:
    """The kinds of the change from ``before`` to ``after`` and its significance."""
    weights = weights or Weights()
    kinds: list[str] = []
    parts: list[float] = []
    if before.title != after.title:
        kinds.append(HEADLINE)
        parts.append(weights.headline * _changed_share(before.title, after.title))
    text_changed = before.text != after.text
    # Between a teaser and the full text the text differs by the paywall, not by an edit.
    if text_changed and before.is_partial == after.is_partial:
        text_kinds, text_parts = _text_change(before.text, after.text, weights)
        kinds += text_kinds
        parts += text_parts
    notes = notes_added(before.text, after.text)
    kinds += notes
    if notes:
        parts.append(weights.note)
    kinds += _metadata_kinds(before, after)
    parts += [getattr(weights, kind) for kind in (BYLINE, DATELINE, PAYWALL) if kind in kinds]
    added, removed = after.topics - before.topics, before.topics - after.topics
    kinds += [MENTION_ADDED] * bool(added) + [MENTION_REMOVED] * bool(removed)
    if added or removed:
        parts.append(weights.mention)
    if _is_stealth(before, after, text_changed or HEADLINE in kinds, notes):
        kinds.append(STEALTH)
    return Classification(tuple(kinds), _combined(parts))


def notes_added(before: str, after: str) -> list[str]:
    """The kinds of note (correction, update, editor's note) that open a paragraph of
    ``after`` which ``before`` did not have."""
    old = set(before.splitlines())
    new = [line for line in after.splitlines() if line not in old]
    return [kind for kind in NOTES if any(_NOTES[kind].search(line) for line in new)]


def _text_change(before: str, after: str, weights: Weights) -> tuple[list[str], list[float]]:
    """Which parts of the text changed (lede, body, or only appended at the end), and
    the contribution of each."""
    a, b = _split(before), _split(after)
    if _words(before) == _words(after):  # punctuation, case or spacing only
        kinds = [LEDE] if a[0] != b[0] else [BODY]
        return kinds, [PUNCTUATION_ONLY]
    if after.startswith(before):
        return [APPENDED], [weights.body * _changed_share(a[1], b[1])]
    kinds, parts = [], []
    if a[0] != b[0]:
        kinds.append(LEDE)
        parts.append(weights.lede * _changed_share(a[0], b[0]))
    if a[1] != b[1]:
        kinds.append(BODY)
        parts.append(weights.body * _changed_share(a[1], b[1]))
    return kinds, parts


def _split(text: str) -> tuple[str, str]:
    """The lede (first non-empty paragraph) and the rest."""
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else "", "\n".join(lines[1:]))


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _changed_share(before: str, after: str) -> float:
    """The share of words changed, scaled so that FULL_CHANGE of them counts as all:
    (words removed + words inserted) / words of the longer side / FULL_CHANGE, at most 1.
    Words are compared without case and punctuation."""
    a, b = _words(before), _words(after)
    longer = max(len(a), len(b))
    if not longer:
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    changed = (len(a) - same) + (len(b) - same)
    return min(1.0, changed / longer / FULL_CHANGE)


def _metadata_kinds(before: Side, after: Side) -> list[str]:
    kinds = []
    if before.authors != after.authors:
        kinds.append(BYLINE)
    if before.published_at != after.published_at or _modified_changed(before, after):
        kinds.append(DATELINE)
    if before.is_partial != after.is_partial:
        kinds.append(PAYWALL)
    return kinds


def _modified_changed(before: Side, after: Side) -> bool:
    """A new declared modified date (a page that stops declaring one has not changed it)."""
    return after.modified_at is not None and after.modified_at != before.modified_at


def _is_stealth(before: Side, after: Side, edited: bool, notes: list[str]) -> bool:
    """The text or the headline changed, and the page declares no new modified date and
    shows no note (a paywall flip is not an edit of the text)."""
    if not edited or notes or before.is_partial != after.is_partial:
        return False
    return not _modified_changed(before, after)


def _combined(parts: list[float]) -> float:
    """1 - the product of (1 - part): each part adds to what the others leave, and the
    sum never passes 1."""
    remaining = 1.0
    for part in parts:
        remaining *= 1.0 - min(1.0, max(0.0, part))
    return round(1.0 - remaining, 3)

"""Turn query syntax trees into evaluators over the occurrences of one article."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from .nodes import And, Near, Node, Not, Term, iter_terms
from .scanner import KeyTable, Occurrences
from .text import FoldMode
from .triggers import trigger_terms

Evaluator = Callable[[Occurrences], bool]


@dataclass(frozen=True)
class TermSlot:
    """A term bound to its key variant."""

    source: str
    variant: int
    length: int  # words covered by one occurrence
    title_only: bool

    def offsets(self, occ: Occurrences) -> list[int]:
        """Ascending offsets of this term's occurrences (title-only: title ones)."""
        hits = occ.offsets(self.variant)
        if not self.title_only or not hits or hits[-1] < occ.title_end:
            return hits
        return hits[: bisect_left(hits, occ.title_end)]


@dataclass(frozen=True)
class CompiledQuery:
    evaluate: Evaluator
    positives: tuple[TermSlot, ...]  # terms not negated, whose occurrences are reported
    triggers: tuple[int, ...]  # search keys one of which occurs whenever the query matches


class QueryCompiler:
    """Compiles syntax trees of one topic, registering their keys in a shared table."""

    def __init__(self, keys: KeyTable, case_sensitive: bool, fold_diacritics: bool) -> None:
        self._keys = keys
        self._case_sensitive = case_sensitive
        self._fold_diacritics = fold_diacritics

    def compile(self, node: Node) -> CompiledQuery:
        positives = tuple(self.slot(term) for term, positive in iter_terms(node) if positive)
        variants = self._keys.variants
        triggers = {variants[self.slot(term).variant].search_key for term in trigger_terms(node)}
        return CompiledQuery(self._evaluator(node), positives, tuple(sorted(triggers)))

    def slot(self, term: Term) -> TermSlot:
        mode = FoldMode(self._case_sensitive or term.exact_case, self._fold_diacritics)
        variant = self._keys.add(term.words, term.prefix, mode)
        return TermSlot(term.source, variant, len(term.words), term.title_only)

    def _evaluator(self, node: Node) -> Evaluator:
        if isinstance(node, Term):
            return self._term_evaluator(self.slot(node))
        if isinstance(node, Near):
            return _near_evaluator(self.slot(node.left), self.slot(node.right), node.distance)
        if isinstance(node, Not):
            inner = self._evaluator(node.operand)
            return lambda occ: not inner(occ)
        operands = [self._evaluator(op) for op in node.operands]
        return _all(operands) if isinstance(node, And) else _any(operands)

    def _term_evaluator(self, slot: TermSlot) -> Evaluator:
        variant = self._keys.variants[slot.variant]
        if slot.title_only:
            return lambda occ: bool(slot.offsets(occ))
        if variant.needs_check:
            return lambda occ: occ.has(slot.variant)
        key = variant.search_key
        return lambda occ: key in occ.hit_keys


def _all(operands: list[Evaluator]) -> Evaluator:
    first, *rest = operands
    if len(rest) == 1:
        second = rest[0]
        return lambda occ: first(occ) and second(occ)
    return lambda occ: first(occ) and all(f(occ) for f in rest)


def _any(operands: list[Evaluator]) -> Evaluator:
    first, *rest = operands
    if len(rest) == 1:
        second = rest[0]
        return lambda occ: first(occ) or second(occ)
    return lambda occ: first(occ) or any(f(occ) for f in rest)


def _near_evaluator(left: TermSlot, right: TermSlot, distance: int) -> Evaluator:
    def evaluate(occ: Occurrences) -> bool:
        a = left.offsets(occ)
        b = right.offsets(occ) if a else None
        if not b:
            return False
        a, b = occ.positions(a), occ.positions(b)
        return near(a, left.length, b, right.length, distance, occ.n_title)

    return evaluate


def near(a: list[int], a_len: int, b: list[int], b_len: int, distance: int, n_title: int) -> bool:
    """Whether an occurrence in ``a`` and one in ``b`` are within ``distance`` words.

    Occurrences are spans given by ascending start positions and a common length.
    Adjacent spans are 1 word apart (overlapping ones 0); title and text occurrences
    are never near each other.
    """
    for start in a:
        low = start - b_len - distance + 1  # b ends at most distance-1 words before a
        high = start + a_len + distance - 1  # b starts at most distance-1 words after a
        in_title = start < n_title
        i = bisect_left(b, low)
        while i < len(b) and b[i] <= high:
            if (b[i] < n_title) == in_title:
                return True
            i += 1
    return False

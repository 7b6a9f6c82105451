"""Turn query syntax trees into evaluators over the occurrences of one article."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from .nodes import And, Near, Node, Not, Or, Term, iter_terms
from .scanner import KeyTable, Occurrences
from .text import FoldMode
from .triggers import trigger_terms

Evaluator = Callable[[Occurrences], bool]


@dataclass(frozen=True)
class TermSlot:
    """A term bound to its search key."""

    source: str
    key_id: int
    length: int  # words covered by one occurrence
    title_only: bool

    def positions(self, occ: Occurrences) -> list[int]:
        """Ascending positions of this term's occurrences (title-only: title ones)."""
        hits = occ.by_key.get(self.key_id, ())
        if not self.title_only or not hits or hits[-1] < occ.n_title:
            return list(hits)
        return hits[: bisect_left(hits, occ.n_title)]


@dataclass(frozen=True)
class CompiledQuery:
    evaluate: Evaluator
    positives: tuple[TermSlot, ...]  # terms not negated, whose occurrences are reported
    triggers: tuple[int, ...]  # key ids one of which occurs whenever the query matches


class QueryCompiler:
    """Compiles syntax trees of one topic, registering their keys in a shared table."""

    def __init__(self, keys: KeyTable, case_sensitive: bool, fold_diacritics: bool) -> None:
        self._keys = keys
        self._case_sensitive = case_sensitive
        self._fold_diacritics = fold_diacritics

    def compile(self, node: Node) -> CompiledQuery:
        positives = tuple(self.slot(term) for term, positive in iter_terms(node) if positive)
        triggers = tuple(sorted({self.slot(term).key_id for term in trigger_terms(node)}))
        return CompiledQuery(self._evaluator(node), positives, triggers)

    def slot(self, term: Term) -> TermSlot:
        mode = FoldMode(self._case_sensitive or term.exact_case, self._fold_diacritics)
        key_id = self._keys.add(term.words, term.prefix, mode)
        return TermSlot(term.source, key_id, len(term.words), term.title_only)

    def _evaluator(self, node: Node) -> Evaluator:
        if isinstance(node, Term):
            return _term_evaluator(self.slot(node))
        if isinstance(node, Near):
            return _near_evaluator(self.slot(node.left), self.slot(node.right), node.distance)
        if isinstance(node, Not):
            inner = self._evaluator(node.operand)
            return lambda occ: not inner(occ)
        operands = tuple(self._evaluator(op) for op in node.operands)
        if isinstance(node, And):
            return lambda occ: all(f(occ) for f in operands)
        assert isinstance(node, Or)
        return lambda occ: any(f(occ) for f in operands)


def _term_evaluator(slot: TermSlot) -> Evaluator:
    key_id = slot.key_id
    if not slot.title_only:
        return lambda occ: key_id in occ.by_key

    def in_title(occ: Occurrences) -> bool:
        hits = occ.by_key.get(key_id)
        return hits is not None and hits[0] < occ.n_title

    return in_title


def _near_evaluator(left: TermSlot, right: TermSlot, distance: int) -> Evaluator:
    def evaluate(occ: Occurrences) -> bool:
        if left.key_id not in occ.by_key or right.key_id not in occ.by_key:
            return False
        return near(
            left.positions(occ),
            left.length,
            right.positions(occ),
            right.length,
            distance,
            occ.n_title,
        )

    return evaluate


def near(a: list[int], a_len: int, b: list[int], b_len: int, distance: int, n_title: int) -> bool:
    """Whether an occurrence in ``a`` and one in ``b`` are within ``distance`` words.

    Occurrences are ``(start, length)`` spans given by ascending starts and a common
    length.  Adjacent spans are 1 word apart, overlapping ones 0; title and text
    occurrences are never near each other.
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

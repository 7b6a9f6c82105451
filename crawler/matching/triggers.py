"""Choose the terms whose occurrence makes a query worth evaluating.

A query is evaluated for an article only if one of its *trigger* terms occurred.
Triggers must be *necessary*: whenever the query matches, one of them occurs.  For
``A AND B`` either side's triggers are enough, so the likely rarer side is chosen --
``Greenland AND minister`` is then evaluated only for articles that mention
Greenland, not for every article with "minister".  The choice only affects speed,
never results, and uses a rough guess of how common a term is (see
:func:`commonness`).
"""

from __future__ import annotations

from .nodes import And, Near, Node, Not, Term

Triggers = tuple[Term, ...]


def trigger_terms(node: Node) -> Triggers:
    """Necessary trigger terms of a parsed query (which needs a positive term)."""
    triggers = _necessary(node, when=True)
    if triggers is None:  # parse_query rejects such queries
        raise ValueError("the query can match without any term")
    return triggers


def _necessary(node: Node, when: bool) -> Triggers | None:
    """Terms one of which occurs whenever ``node`` evaluates to ``when``.

    ``None`` when there is no such set: the node has that value in an article where
    no term occurs at all.
    """
    if isinstance(node, Term):
        return (node,) if when else None
    if isinstance(node, Near):
        return _rarest([(node.left,), (node.right,)]) if when else None
    if isinstance(node, Not):
        return _necessary(node.operand, not when)
    options = [_necessary(operand, when) for operand in node.operands]
    known = [option for option in options if option is not None]
    if isinstance(node, And) == when:  # all operands must have the value
        return _rarest(known) if known else None
    if len(known) < len(options):  # one operand having it is enough
        return None
    return tuple(term for option in known for term in option)


def _rarest(options: list[Triggers]) -> Triggers:
    return min(options, key=lambda terms: sum(commonness(term) for term in terms))


def commonness(term: Term) -> float:
    """A rough guess of how often ``term`` occurs, higher for more common terms.

    Words written with a capital, a digit or a non-ASCII letter are taken as names
    (rare); plain lower-case words as vocabulary (common, short ones more so).  A
    phrase is rarer than its rarest word; a short prefix is common.
    """
    words = [_word_commonness(word) for word in term.words]
    guess = min(words) / (10 ** (len(words) - 1))
    if term.prefix:
        guess *= 10 if len(term.words[-1]) >= 4 else 100
    return guess


def _word_commonness(word: str) -> float:
    if not (word.isascii() and word.islower() and word.isalpha()):
        return 1.0
    return 10.0 if len(word) >= 7 else 100.0

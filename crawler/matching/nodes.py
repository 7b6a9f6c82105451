"""The query syntax tree.

``str()`` of a node renders it fully parenthesised, which shows how a query was
read: ``str(parse_query("a b OR c")) == "((a AND b) OR c)"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A word, a quoted phrase or a prefix wildcard.

    ``source`` is the term as written (quotes, ``=`` and ``*`` included, without a
    ``title:`` field); ``words`` are its word tokens; with ``prefix`` the last word
    is a prefix (``Ukrain*``).
    """

    source: str
    words: tuple[str, ...]
    position: int
    prefix: bool = False
    exact_case: bool = False
    title_only: bool = False

    def __str__(self) -> str:
        return f"title:{self.source}" if self.title_only else self.source


@dataclass(frozen=True)
class Not:
    operand: Node
    position: int

    def __str__(self) -> str:
        return f"NOT {self.operand}"


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]
    position: int

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.operands)) + ")"


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]
    position: int

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.operands)) + ")"


@dataclass(frozen=True)
class Near:
    """Both terms occur within ``distance`` words of each other, in either order."""

    left: Term
    right: Term
    distance: int
    position: int

    def __str__(self) -> str:
        return f"({self.left} NEAR/{self.distance} {self.right})"


Node = Term | Not | And | Or | Near


def iter_terms(node: Node, positive: bool = True) -> Iterator[tuple[Term, bool]]:
    """Yield ``(term, is_positive)``; a term is positive under an even number of NOTs."""
    if isinstance(node, Term):
        yield node, positive
    elif isinstance(node, Not):
        yield from iter_terms(node.operand, not positive)
    elif isinstance(node, Near):
        yield node.left, positive
        yield node.right, positive
    else:
        for operand in node.operands:
            yield from iter_terms(operand, positive)


def true_without_terms(node: Node) -> bool:
    """Whether ``node`` holds for a text in which no term occurs at all."""
    if isinstance(node, (Term, Near)):
        return False
    if isinstance(node, Not):
        return not true_without_terms(node.operand)
    if isinstance(node, And):
        return all(true_without_terms(op) for op in node.operands)
    return any(true_without_terms(op) for op in node.operands)


def negation_at_fault(node: Node) -> int:
    """Position of the NOT that lets ``node`` hold without any term (see above)."""
    if isinstance(node, Not):
        return node.position
    if isinstance(node, (And, Or)):
        for operand in node.operands:
            if true_without_terms(operand):
                return negation_at_fault(operand)
    return node.position

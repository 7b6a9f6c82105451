"""Recursive-descent parser for the topic query language.

Grammar (precedence NOT > NEAR > AND > OR; see docs/query-language.md)::

    query    := or_expr END
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := near_expr (["AND"] near_expr)*      # adjacent operands: implicit AND
    near_expr:= unary ["NEAR" | "NEAR/n" unary]     # both operands must be terms
    unary    := "NOT" unary | primary
    primary  := "title:" primary | "=" (WORD | PHRASE) | WORD | PHRASE | "(" or_expr ")"
"""

from __future__ import annotations

from crawler.extraction.scripts import has_spaceless

from .errors import QueryError
from .lexer import Kind, Token, lex
from .nodes import And, Near, Node, Not, Or, Term, negation_at_fault, true_without_terms
from .text import tokenize

MIN_PREFIX_LENGTH = 2
# Levels of parentheses, NOT and title: inside one another, at most. Far beyond any real
# query, and far below what would exhaust Python's stack here or in the compiler.
MAX_DEPTH = 50
_TERM_START = {Kind.WORD, Kind.PHRASE, Kind.LPAREN, Kind.NOT, Kind.FIELD, Kind.EXACT}


def parse_query(query: str) -> Node:
    """Parse ``query`` into its syntax tree; raise :class:`QueryError` if malformed."""
    if not query.strip():
        raise QueryError("empty query", 0)
    return _Parser(lex(query)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0

    def _deeper(self, token: Token) -> None:
        """Enter one more level of nesting at ``token``; refuse past MAX_DEPTH."""
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise QueryError(
                f"query nested too deeply (more than {MAX_DEPTH} levels of "
                "parentheses, NOT and title:)",
                token.position,
            )

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _next(self) -> Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def parse(self) -> Node:
        node = self._or_expr(title=False)
        token = self._peek()
        if token.kind is Kind.RPAREN:
            raise QueryError("unbalanced parenthesis", token.position)
        if true_without_terms(node):
            raise QueryError("a query needs at least one positive term", negation_at_fault(node))
        return node

    def _or_expr(self, title: bool) -> Node:
        start = self._peek().position
        operands = [self._and_expr(title)]
        while self._peek().kind is Kind.OR:
            self._next()
            operands.append(self._and_expr(title))
        return _combine(Or, operands, start)

    def _and_expr(self, title: bool) -> Node:
        start = self._peek().position
        operands = [self._near_expr(title)]
        while True:
            kind = self._peek().kind
            if kind is Kind.AND:
                self._next()
            elif kind not in _TERM_START:
                return _combine(And, operands, start)
            operands.append(self._near_expr(title))

    def _near_expr(self, title: bool) -> Node:
        left_start = self._peek().position
        left = self._unary(title)
        if self._peek().kind is not Kind.NEAR:
            return left
        near = self._next()
        right_start = self._peek().position
        right = self._unary(title)
        for operand, start in ((left, left_start), (right, right_start)):
            if not isinstance(operand, Term):
                raise QueryError("NEAR needs a word or phrase on each side", start)
        if self._peek().kind is Kind.NEAR:
            reason = "NEAR cannot be chained; join NEAR pairs with AND"
            raise QueryError(reason, self._peek().position)
        return Near(left, right, near.distance, near.position)

    def _unary(self, title: bool) -> Node:
        if self._peek().kind is Kind.NOT:
            token = self._next()
            self._deeper(token)
            operand = self._unary(title)
            self._depth -= 1
            return Not(operand, token.position)
        return self._primary(title)

    def _primary(self, title: bool) -> Node:
        token = self._next()
        if token.kind is Kind.FIELD:
            self._deeper(token)
            node = self._primary(title=True)
            self._depth -= 1
            return node
        if token.kind is Kind.EXACT:
            following = self._peek()
            attached = following.position == token.position + 1
            if following.kind not in (Kind.WORD, Kind.PHRASE) or not attached:
                raise QueryError("expected a word or phrase after '='", token.position)
            return make_term(self._next(), exact_case=True, title_only=title)
        if token.kind in (Kind.WORD, Kind.PHRASE):
            return make_term(token, exact_case=False, title_only=title)
        if token.kind is Kind.LPAREN:
            return self._group(token, title)
        if token.kind is Kind.END:
            raise QueryError("expected a term", token.position)
        raise QueryError(f"expected a term, found '{token.text}'", token.position)

    def _group(self, opening: Token, title: bool) -> Node:
        self._deeper(opening)
        node = self._or_expr(title)
        if self._next().kind is not Kind.RPAREN:
            raise QueryError("unbalanced parenthesis", opening.position)
        self._depth -= 1
        return node


def _combine(cls: type[And] | type[Or], operands: list[Node], position: int) -> Node:
    """One operand stands alone; nested nodes of the same kind are flattened."""
    if len(operands) == 1:
        return operands[0]
    flat: list[Node] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, cls) else (operand,))
    return cls(tuple(flat), position)


def make_term(token: Token, exact_case: bool, title_only: bool) -> Term:
    """Build a :class:`Term` from a WORD or PHRASE token, checking its wildcard.

    With ``exact_case`` the token directly follows ``=``, where the term starts.
    """
    is_phrase = token.kind is Kind.PHRASE
    body = token.text[1:-1] if is_phrase else token.text
    offset = token.position + is_phrase
    prefix = _check_wildcard(body, offset)
    words = tuple(tokenize(body[:-1] if prefix else body))
    if prefix and words and has_spaceless(words[-1]):
        prefix = False  # every character is a token there: terms match as substrings
    if not words:
        reason = "empty phrase" if is_phrase else "a term needs at least one letter or digit"
        raise QueryError(reason, token.position)
    if prefix and len(words[-1]) < MIN_PREFIX_LENGTH:
        raise QueryError(
            f"a wildcard needs at least {MIN_PREFIX_LENGTH} letters before '*'",
            offset + len(body) - 1,
        )
    source = ("=" if exact_case else "") + token.text
    return Term(source, words, token.position - exact_case, prefix, exact_case, title_only)


def _check_wildcard(body: str, offset: int) -> bool:
    """Whether ``body`` ends in a valid prefix ``*``; raise for a misplaced ``*``."""
    star = body.find("*")
    if star < 0:
        return False
    last = len(body) - 1
    if star != last or not tokenize(body[star - 1 : star]):
        raise QueryError(
            "misplaced '*' (only a trailing prefix wildcard like Ukrain* is allowed)", offset + star
        )
    return True

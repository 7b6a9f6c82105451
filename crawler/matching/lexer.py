"""Split a query into tokens: words, phrases, parentheses, operators, fields, ``=``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .errors import QueryError

FIELDS = frozenset({"title"})
DEFAULT_NEAR_DISTANCE = 10

_CHUNK_RE = re.compile(r'[^\s()"]+')
_FIELD_RE = re.compile(r"([^\W\d_][\w-]*):")
_KEYWORDS = {"AND", "OR", "NOT", "NEAR"}


class Kind(Enum):
    WORD = "word"
    PHRASE = "phrase"
    LPAREN = "("
    RPAREN = ")"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    NEAR = "NEAR"
    FIELD = "field"
    EXACT = "="
    END = "end of query"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    position: int
    distance: int = 0  # NEAR only


def lex(query: str) -> list[Token]:
    """Tokenise ``query``; the list always ends with an ``END`` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(query):
        char = query[pos]
        if char.isspace():
            pos += 1
        elif char in "()":
            tokens.append(Token(Kind.LPAREN if char == "(" else Kind.RPAREN, char, pos))
            pos += 1
        elif char == '"':
            pos = _lex_phrase(query, pos, tokens)
        else:
            pos = _lex_chunk(query, pos, tokens)
    tokens.append(Token(Kind.END, "", len(query)))
    return tokens


def _lex_phrase(query: str, pos: int, tokens: list[Token]) -> int:
    end = query.find('"', pos + 1)
    if end < 0:
        raise QueryError("unterminated quote", pos)
    tokens.append(Token(Kind.PHRASE, query[pos : end + 1], pos))
    return end + 1


def _lex_chunk(query: str, pos: int, tokens: list[Token]) -> int:
    """Lex a run of characters up to whitespace, a parenthesis or a quote.

    A leading ``=`` or ``field:`` becomes its own token and lexing resumes after it,
    so ``title:"a b"`` and ``="US"`` work.
    """
    if query[pos] == "=":
        tokens.append(Token(Kind.EXACT, "=", pos))
        return pos + 1
    chunk = _CHUNK_RE.match(query, pos).group()
    field = _FIELD_RE.match(chunk)
    if field:
        name = field.group(1)
        if name.lower() not in FIELDS:
            raise QueryError(f"unknown field '{name}'", pos)
        tokens.append(Token(Kind.FIELD, field.group(), pos))
        return pos + field.end()
    tokens.append(_word_or_keyword(chunk, pos))
    return pos + len(chunk)


def _word_or_keyword(chunk: str, pos: int) -> Token:
    if chunk in _KEYWORDS:
        distance = DEFAULT_NEAR_DISTANCE if chunk == "NEAR" else 0
        return Token(Kind(chunk), chunk, pos, distance)
    if chunk.startswith("NEAR/"):
        return Token(Kind.NEAR, chunk, pos, _near_distance(chunk, pos))
    return Token(Kind.WORD, chunk, pos)


def _near_distance(chunk: str, pos: int) -> int:
    digits = chunk[len("NEAR/") :]
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        reason = f"bad NEAR distance '{chunk}' (use NEAR/n with n a whole number >= 1)"
        raise QueryError(reason, pos)
    return int(digits)

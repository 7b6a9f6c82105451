"""Short excerpts around a match, with the matched words wrapped in ``**``."""

from __future__ import annotations

from .text import fold_whitespace

SNIPPET_WORDS = 30
WORDS_BEFORE = 10
ELLIPSIS = "…"
MARK = "**"

Span = tuple[int, int]  # (first token index, number of tokens)


def make_snippet(source: str, token_spans: list[Span], matches: list[Span]) -> str:
    """About 30 words of ``source`` around its first match, matches marked ``**``.

    ``token_spans`` are the character offsets of the tokens of ``source``;
    ``matches`` are occurrences as ``(token index, token count)``.  The excerpt starts
    up to 10 words before the first match, whitespace is folded and "…" marks
    each end where the source was cut.
    """
    merged = _merge(matches)
    count = len(token_spans)
    start, end = _window(merged[0], count)
    low = 0 if start == 0 else token_spans[start][0]
    high = len(source) if end == count else token_spans[end - 1][1]
    pieces: list[str] = []
    cursor = low
    for first, length in merged:
        first, last = max(first, start), min(first + length, end) - 1
        if first > last:
            continue
        begin, finish = token_spans[first][0], token_spans[last][1]
        pieces += [source[cursor:begin], MARK, source[begin:finish], MARK]
        cursor = finish
    pieces.append(source[cursor:high])
    body = fold_whitespace("".join(pieces)).strip()
    return (ELLIPSIS + " " if start > 0 else "") + body + (" " + ELLIPSIS if end < count else "")


def _window(first_match: Span, count: int) -> tuple[int, int]:
    """Token range ``[start, end)`` of about SNIPPET_WORDS tokens around a match."""
    start = max(0, first_match[0] - WORDS_BEFORE)
    end = min(count, max(start + SNIPPET_WORDS, sum(first_match)))
    start = max(0, min(start, end - SNIPPET_WORDS))
    return start, end


def _merge(matches: list[Span]) -> list[Span]:
    """Sort matches and merge the overlapping ones."""
    merged: list[Span] = []
    for first, length in sorted(matches):
        if merged and first < sum(merged[-1]):
            prev_first, prev_length = merged[-1]
            merged[-1] = (prev_first, max(prev_length, first + length - prev_first))
        else:
            merged.append((first, length))
    return merged

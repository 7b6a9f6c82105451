"""Short excerpts around a match, with the matched words wrapped in ``**``."""

from __future__ import annotations

from .text import TokenLocator

SNIPPET_WORDS = 30
WORDS_BEFORE = 10
ELLIPSIS = "…"
MARK = "**"

Span = tuple[int, int]  # (first token index, number of tokens)


def make_snippet(locator: TokenLocator, matches: list[Span]) -> str:
    """About 30 words of a text around its first match, matches marked ``**``.

    ``matches`` are occurrences as ``(token index, token count)``.  The excerpt
    starts up to 10 words before the first match (more near the end of the text),
    whitespace is folded and "…" marks each end where the text was cut.
    """
    merged = _merge(matches)
    first, length = merged[0]
    start = max(0, first - WORDS_BEFORE)
    size = max(SNIPPET_WORDS, first + length - start)
    spans = locator.spans(start, size + 1)
    if len(spans) < size and start > 0:  # the text ends early: take words before
        start = max(0, start - (size - len(spans)))
        spans = locator.spans(start, size + 1)
    cut_end = len(spans) > size
    spans = spans[:size]
    source = locator.text
    low = spans[0][0] if start > 0 else 0
    high = spans[-1][1] if cut_end else len(source)
    pieces: list[str] = []
    cursor = low
    for match_first, match_length in merged:
        head = max(match_first - start, 0)
        tail = min(match_first + match_length - start, len(spans)) - 1
        if head > tail:
            continue
        begin, finish = spans[head][0], spans[tail][1]
        if begin == cursor and pieces and pieces[-1] == MARK:  # no gap (spaceless scripts)
            pieces[-1:] = [source[begin:finish], MARK]
        else:
            pieces += [source[cursor:begin], MARK, source[begin:finish], MARK]
        cursor = finish
    pieces.append(source[cursor:high])
    body = " ".join("".join(pieces).split())  # whitespace folded
    return (ELLIPSIS + " " if start > 0 else "") + body + (" " + ELLIPSIS if cut_end else "")


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

"""Property tests: the matcher agrees with a slow, obviously correct reference.

Texts and queries are drawn from a small vocabulary (in three casings) so that
terms, phrases and NEAR pairs occur often.  The reference tokenises with a plain
regex and scans token lists directly.  Some words are Chinese, Japanese and Thai,
scripts written without spaces: the reference makes each of their characters a
token, so terms in them match as substrings, also inside longer runs of characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crawler.matching import TopicDefinition, TopicMatcher, check_query
from crawler.matching.text import (
    ALL_MODES,
    TokenLocator,
    blank_gaps,
    fold,
    fold_stream,
    token_spans,
)
from crawler.matching.text import words as text_words

VOCABULARY = ("alpha", "beta", "gamma", "delta", "omega", "格陵兰", "陵兰", "グリーン", "ไทย")
SEPARATORS = (" ", "  ", "\n", ", ", ". ", "-", "'", " (", ") ", "\t", " — ", "\r\n", "", "、")
SPACELESS_CHARS = "\u4e00-\u9fff\u3040-\u30ff\u0e00-\u0e7f"

# --- reference implementation -------------------------------------------------------


@dataclass(frozen=True)
class RefTerm:
    words: tuple[str, ...]
    prefix: bool = False
    exact: bool = False
    title: bool = False
    phrase: bool = False

    def source(self) -> str:
        body = " ".join(self.words) + ("*" if self.prefix else "")
        if self.phrase:
            body = f'"{body}"'
        return ("=" if self.exact else "") + body

    def render(self) -> str:
        return ("title:" if self.title else "") + self.source()


def ref_tokens(text: str) -> list[str]:
    """Runs of ASCII letters and digits; each character of a spaceless script alone."""
    return re.findall(rf"[A-Za-z0-9]+|[{SPACELESS_CHARS}]", text)


def ref_query_words(term: RefTerm) -> tuple[str, ...]:
    return tuple(token for word in term.words for token in ref_tokens(word))


def occurrences(term: RefTerm, doc: dict[str, list[str]], case_sensitive: bool) -> set:
    """``(zone, start, length)`` of every occurrence, by scanning token sub-lists."""
    exact = case_sensitive or term.exact
    found = set()
    words = ref_query_words(term)
    for zone, tokens in doc.items():
        if term.title and zone != "title":
            continue
        n = len(words)
        for start in range(len(tokens) - n + 1):
            window = tokens[start : start + n]
            if all(
                _same(query, token, exact, prefix=term.prefix and i == n - 1)
                for i, (query, token) in enumerate(zip(words, window, strict=True))
            ):
                found.add((zone, start, n))
    return found


def _same(query: str, token: str, exact: bool, prefix: bool) -> bool:
    if not exact:
        query, token = query.lower(), token.lower()
    return token.startswith(query) if prefix else token == query


def near(a: set, b: set, distance: int) -> bool:
    for zone_a, start_a, len_a in a:
        for zone_b, start_b, len_b in b:
            if zone_a != zone_b:
                continue
            if start_a <= start_b:
                gap = start_b - (start_a + len_a) + 1
            else:
                gap = start_a - (start_b + len_b) + 1
            if gap <= distance:
                return True
    return False


def evaluate(tree: tuple, doc: dict[str, list[str]], case_sensitive: bool) -> bool:
    kind = tree[0]
    if kind == "term":
        return bool(occurrences(tree[1], doc, case_sensitive))
    if kind == "near":
        a = occurrences(tree[1], doc, case_sensitive)
        b = occurrences(tree[2], doc, case_sensitive)
        return near(a, b, tree[3])
    if kind == "not":
        return not evaluate(tree[1], doc, case_sensitive)
    results = [evaluate(child, doc, case_sensitive) for child in tree[1]]
    return all(results) if kind == "and" else any(results)


def positive_terms(tree: tuple, positive: bool = True) -> list[RefTerm]:
    kind = tree[0]
    if kind == "term":
        return [tree[1]] if positive else []
    if kind == "near":
        return [tree[1], tree[2]] if positive else []
    if kind == "not":
        return positive_terms(tree[1], not positive)
    return [term for child in tree[1] for term in positive_terms(child, positive)]


def render(tree: tuple) -> str:
    kind = tree[0]
    if kind == "term":
        return tree[1].render()
    if kind == "near":
        return f"({tree[1].render()} NEAR/{tree[3]} {tree[2].render()})"
    if kind == "not":
        return f"NOT {render(tree[1])}"
    joiner = " OR " if kind == "or" else tree[2]
    return "(" + joiner.join(render(child) for child in tree[1]) + ")"


# --- strategies -----------------------------------------------------------------------


# Strategies are built once: hypothesis spends most of these tests drawing, and a
# strategy made during a draw (a flatmap's) costs more than the example it draws.
# Each word in three casings (a spaceless word's three are the same: every word is
# drawn as often as any other).
CASED_WORDS = tuple(form for w in VOCABULARY for form in (w, w.capitalize(), w.upper()))
cased_words = st.sampled_from(CASED_WORDS)
# A word and the separator after it, drawn at once.
word_and_separator = st.sampled_from(tuple(w + sep for w in CASED_WORDS for sep in SEPARATORS))
separators = st.sampled_from(SEPARATORS)
query_words = st.lists(cased_words, min_size=1, max_size=3)


def texts(max_words: int = 30) -> st.SearchStrategy[str]:
    """A separator, then up to ``max_words`` words each followed by a separator."""
    pieces = st.tuples(separators, st.lists(word_and_separator, max_size=max_words))
    return pieces.map(lambda p: p[0] + "".join(p[1]))


@st.composite
def terms(draw: st.DrawFn, allow_title: bool = True) -> RefTerm:
    words = tuple(draw(query_words))
    phrase = len(words) > 1 or draw(st.booleans())
    prefix = draw(st.booleans()) and draw(st.booleans())
    if prefix:
        cut = draw(st.integers(min_value=2, max_value=len(words[-1])))
        words = (*words[:-1], words[-1][:cut])
    exact = draw(st.integers(0, 4)) == 0
    title = allow_title and draw(st.integers(0, 4)) == 0
    return RefTerm(words, prefix, exact, title, phrase)


def trees() -> st.SearchStrategy[tuple]:
    leaves = st.one_of(
        terms().map(lambda term: ("term", term)),
        st.tuples(st.just("near"), terms(), terms(), st.integers(1, 6)),
    )
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.tuples(
                st.just("and"),
                st.lists(children, min_size=2, max_size=3),
                st.sampled_from((" AND ", " ")),
            ),
            st.tuples(st.just("or"), st.lists(children, min_size=2, max_size=3)),
            st.tuples(st.just("not"), children),
        ),
        max_leaves=6,
    )


def document(title: str, text: str) -> dict[str, list[str]]:
    return {"title": ref_tokens(title), "text": ref_tokens(text)}


def requires_a_term(tree: tuple) -> bool:
    return not evaluate(tree, {"title": [], "text": []}, case_sensitive=False)


# --- properties -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(term=terms(allow_title=False), text=texts())
def test_phrase_matching_agrees_with_sublist_scan(term: RefTerm, text: str) -> None:
    expected = occurrences(term, document("", text), case_sensitive=False)
    found = check_query(term.render()).match("", text)
    assert bool(found) == bool(expected)
    if found:
        assert found[0].match_count == len(expected)


@settings(max_examples=300, deadline=None)
@given(tree=trees(), title=texts(max_words=6), text=texts(), case_sensitive=st.booleans())
def test_boolean_queries_agree_with_reference(
    tree: tuple, title: str, text: str, case_sensitive: bool
) -> None:
    assume(requires_a_term(tree))
    query = render(tree)
    doc = document(title, text)
    found = check_query(query, case_sensitive=case_sensitive).match(title, text)
    assert bool(found) == evaluate(tree, doc, case_sensitive), query
    if found:
        spans: set = set()
        sources: set[str] = set()
        for term in positive_terms(tree):
            hits = occurrences(term, doc, case_sensitive)
            spans |= hits
            if hits:
                sources.add(term.source())
        assert found[0].match_count == len(spans), query
        assert found[0].terms == tuple(sorted(sources)), query
        assert found[0].in_title == any(zone == "title" for zone, _, _ in spans)


@settings(max_examples=100, deadline=None)
@given(
    forest=st.lists(st.tuples(trees(), st.booleans()), min_size=1, max_size=12),
    articles=st.lists(st.tuples(texts(max_words=6), texts()), min_size=1, max_size=4),
)
def test_many_topics_in_one_matcher_agree_with_reference(
    forest: list[tuple[tuple, bool]], articles: list[tuple[str, str]]
) -> None:
    forest = [(tree, cs) for tree, cs in forest if requires_a_term(tree)]
    topics = [
        TopicDefinition(f"t{i}", (render(tree),), case_sensitive=cs)
        for i, (tree, cs) in enumerate(forest)
    ]
    matcher = TopicMatcher.compile(topics)
    for title, text in articles:
        doc = document(title, text)
        expected = [f"t{i}" for i, (tree, cs) in enumerate(forest) if evaluate(tree, doc, cs)]
        assert [m.topic for m in matcher.match(title, text)] == expected


@settings(max_examples=100, deadline=None)
@given(first=trees(), second=trees(), text=texts())
def test_several_queries_match_when_any_matches(first: tuple, second: tuple, text: str) -> None:
    assume(requires_a_term(first) and requires_a_term(second))
    topic = TopicDefinition("t", (render(first), render(second)))
    doc = document("", text)
    expected = evaluate(first, doc, False) or evaluate(second, doc, False)
    assert bool(TopicMatcher.compile([topic]).match("", text)) == expected


def joined_tokens(text: str, separator: str) -> str:
    """The word tokens of ``text`` joined by ``separator``."""
    return separator.encode().join(text_words(blank_gaps(text))).decode()


def mostly_ascii_text() -> st.SearchStrategy[str]:
    return st.lists(st.one_of(texts(max_words=8), st.text(max_size=3)), max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=60), mostly_ascii_text()))
def test_folding_a_joined_stream_equals_joining_folded_tokens(text: str) -> None:
    spans = token_spans(text)
    for mode in ALL_MODES:
        sep = mode.separator
        joined = joined_tokens(text, sep)
        tokens = [text.replace("_", " ")[a:b] for a, b in spans]
        assert joined == sep.join(tokens)
        expected = sep.join(fold(token, mode) for token in tokens)
        assert fold(joined, mode) == expected
        assert fold_stream(joined, mode) == expected


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=40),
    pick=st.integers(min_value=0),
    case_sensitive=st.booleans(),
    fold_diacritics=st.booleans(),
)
def test_any_token_of_any_text_is_found_by_quoting_it(
    text: str, pick: int, case_sensitive: bool, fold_diacritics: bool
) -> None:
    words = [
        w
        for w in (text.replace("_", " ")[a:b] for a, b in token_spans(text))
        if re.search(r"[^\W_]", w)
    ]
    assume(words)
    word = words[pick % len(words)]
    matcher = check_query(
        f'"{word}"', case_sensitive=case_sensitive, fold_diacritics=fold_diacritics
    )
    assert matcher.match("", text)
    assert matcher.match(text, "")


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(st.text(max_size=60), mostly_ascii_text()),
    first=st.integers(min_value=0, max_value=12),
    count=st.integers(min_value=0, max_value=12),
)
def test_token_locator_agrees_with_token_spans(text: str, first: int, count: int) -> None:
    expected = token_spans(text)[first : first + count]
    assert TokenLocator(text).spans(first, count) == expected


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(texts(max_words=40), mostly_ascii_text()),
    windows=st.lists(
        st.tuples(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=8)),
        max_size=6,
    ),
)
def test_token_locator_reuses_earlier_windows_correctly(
    text: str, windows: list[tuple[int, int]]
) -> None:
    spans = token_spans(text)
    locator = TokenLocator(text)
    for first, count in windows:
        assert locator.spans(first, count) == spans[first : first + count]

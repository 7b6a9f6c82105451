"""Parser tests: every construct of the query language and every error."""

from __future__ import annotations

import pytest

from crawler.matching import And, Near, Not, Or, QueryError, Term, TopicError, parse_query
from crawler.matching.matcher import TopicMatcher
from crawler.matching.models import TopicDefinition


def shape(query: str) -> str:
    return str(parse_query(query))


# --- terms ------------------------------------------------------------------------


def test_single_word() -> None:
    node = parse_query("Greenland")
    assert node == Term("Greenland", ("Greenland",), 0)


def test_phrase_keeps_quotes_in_source_and_splits_words() -> None:
    node = parse_query('"coalition of the willing"')
    assert isinstance(node, Term)
    assert node.source == '"coalition of the willing"'
    assert node.words == ("coalition", "of", "the", "willing")
    assert not node.prefix


def test_word_with_hyphen_or_apostrophe_is_a_phrase_of_its_tokens() -> None:
    assert parse_query("Greenland-based").words == ("Greenland", "based")
    assert parse_query("O'Brien").words == ("O", "Brien")


def test_non_latin_words() -> None:
    assert parse_query("НАТО").words == ("НАТО",)
    assert parse_query("Україна").words == ("Україна",)
    assert parse_query("Grønland").words == ("Grønland",)


def test_prefix_wildcard() -> None:
    node = parse_query("Ukrain*")
    assert isinstance(node, Term)
    assert node.prefix and node.words == ("Ukrain",) and node.source == "Ukrain*"


def test_prefix_wildcard_at_end_of_phrase() -> None:
    node = parse_query('"coalition of the will*"')
    assert node.prefix and node.words == ("coalition", "of", "the", "will")


def test_exact_case_marker() -> None:
    node = parse_query("=US")
    assert node == Term("=US", ("US",), 0, exact_case=True)
    phrase = parse_query('="White House"')
    assert phrase.exact_case and phrase.source == '="White House"'


def test_title_field_on_word_phrase_and_group() -> None:
    assert parse_query("title:Greenland") == Term("Greenland", ("Greenland",), 6, title_only=True)
    assert parse_query('title:"Greenland shark"').title_only
    assert shape("title:(a OR b) c") == "((title:a OR title:b) AND c)"
    assert shape("title:=US") == "title:=US"
    assert shape("TITLE:x") == "title:x"


def test_lower_case_keywords_are_words() -> None:
    assert shape("war and peace") == "(war AND and AND peace)"
    assert shape("to be or not") == "(to AND be AND or AND not)"
    assert shape("near") == "near"


# --- operators and precedence -----------------------------------------------------


def test_implicit_and_between_adjacent_terms() -> None:
    assert shape("Greenland Trump") == shape("Greenland AND Trump") == "(Greenland AND Trump)"
    assert shape('Greenland "Donald Trump"') == '(Greenland AND "Donald Trump")'


def test_and_or_not() -> None:
    node = parse_query("a AND b OR c")
    assert isinstance(node, Or)
    assert shape("a AND b OR c") == "((a AND b) OR c)"
    assert shape("a OR b AND c") == "(a OR (b AND c))"
    assert shape("a OR b c") == "(a OR (b AND c))"


def test_not_binds_tightest() -> None:
    assert shape("Greenland NOT shark") == "(Greenland AND NOT shark)"
    assert shape('Greenland AND NOT "Greenland shark"') == '(Greenland AND NOT "Greenland shark")'
    assert shape("a NOT b OR c") == "((a AND NOT b) OR c)"
    assert shape("a AND NOT (b OR c)") == "(a AND NOT (b OR c))"
    assert shape("a NOT NOT b") == "(a AND NOT NOT b)"


def test_near_binds_tighter_than_and() -> None:
    node = parse_query('"coalition of the willing" NEAR/20 Ukraine')
    assert isinstance(node, Near) and node.distance == 20
    assert shape("a b NEAR c d") == "(a AND (b NEAR/10 c) AND d)"
    assert shape("a OR b NEAR/3 c") == "(a OR (b NEAR/3 c))"
    assert shape("title:a NEAR =bb*") == "(title:a NEAR/10 =bb*)"


def test_near_default_distance_is_10() -> None:
    node = parse_query("a NEAR b")
    assert isinstance(node, Near) and node.distance == 10


def test_parentheses_group() -> None:
    assert shape("a NEAR (b)") == "(a NEAR/10 b)"
    assert shape("(a OR b) AND c") == "((a OR b) AND c)"
    assert shape("((a))") == "a"
    assert shape("(a OR b)(c OR d)") == "((a OR b) AND (c OR d))"


def test_same_operator_is_flattened() -> None:
    node = parse_query("(a AND b) AND c d")
    assert isinstance(node, And) and len(node.operands) == 4
    node = parse_query("a OR (b OR c)")
    assert isinstance(node, Or) and len(node.operands) == 3


def test_not_node() -> None:
    node = parse_query("a NOT b")
    assert isinstance(node, And)
    assert node.operands[1] == Not(Term("b", ("b",), 6), 2)


def test_negation_inside_is_fine_when_a_positive_term_is_required() -> None:
    assert shape("NOT a b") == "(NOT a AND b)"
    assert shape("NOT (NOT a)") == "NOT NOT a"
    assert shape("a AND (b OR NOT c)") == "(a AND (b OR NOT c))"


# --- errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "reason", "position"),
    [
        ("", "empty query", 0),
        ("   ", "empty query", 0),
        ("(a OR b", "unbalanced parenthesis", 0),
        ("a AND (b OR (c)", "unbalanced parenthesis", 6),
        ("a OR b)", "unbalanced parenthesis", 6),
        ("NATO AND (", "expected a term", 10),
        ("a AND", "expected a term", 5),
        ("a OR", "expected a term", 4),
        ("a NOT", "expected a term", 5),
        ("a NEAR", "expected a term", 6),
        ("title:", "expected a term", 6),
        ("AND a", "expected a term, found 'AND'", 0),
        ("OR a", "expected a term, found 'OR'", 0),
        ("NEAR/3 a", "expected a term, found 'NEAR/3'", 0),
        ("a AND OR b", "expected a term, found 'OR'", 6),
        ("a AND )", "expected a term, found ')'", 6),
        ("()", "expected a term, found ')'", 1),
        ("a NEAR/0 b", "bad NEAR distance 'NEAR/0' (use NEAR/n with n a whole number >= 1)", 2),
        ("a NEAR/x b", "bad NEAR distance 'NEAR/x' (use NEAR/n with n a whole number >= 1)", 2),
        ("a NEAR/ b", "bad NEAR distance 'NEAR/' (use NEAR/n with n a whole number >= 1)", 2),
        ("a NEAR/-2 b", "bad NEAR distance 'NEAR/-2' (use NEAR/n with n a whole number >= 1)", 2),
        ("a NEAR/2.5 b", "bad NEAR distance 'NEAR/2.5' (use NEAR/n with n a whole number >= 1)", 2),
        ("(a OR b) NEAR c", "NEAR needs a word or phrase on each side", 0),
        ("a NEAR (b OR c)", "NEAR needs a word or phrase on each side", 7),
        ("a NEAR NOT b", "NEAR needs a word or phrase on each side", 7),
        ("NOT a NEAR b", "NEAR needs a word or phrase on each side", 0),
        ("a NEAR b NEAR c", "NEAR cannot be chained; join NEAR pairs with AND", 9),
        ('"Greenland', "unterminated quote", 0),
        ('a "b" "c', "unterminated quote", 6),
        ('""', "empty phrase", 0),
        ('a " - "', "empty phrase", 2),
        ("-", "a term needs at least one letter or digit", 0),
        ("a &", "a term needs at least one letter or digit", 2),
        ("=", "expected a word or phrase after '='", 0),
        ("= a", "expected a word or phrase after '='", 0),
        ("=(a)", "expected a word or phrase after '='", 0),
        ("foo:bar", "unknown field 'foo'", 0),
        ("a https://example.org", "unknown field 'https'", 2),
        ("NOT Greenland", "a query needs at least one positive term", 0),
        ("a OR NOT b", "a query needs at least one positive term", 5),
        ("NOT a AND NOT b", "a query needs at least one positive term", 0),
        ("NOT (a OR b)", "a query needs at least one positive term", 0),
        ("c OR (NOT a NOT b)", "a query needs at least one positive term", 6),
        ("NOT NOT NOT a", "a query needs at least one positive term", 0),
    ],
)
def test_errors(query: str, reason: str, position: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.reason == reason
    assert caught.value.position == position
    assert str(caught.value) == f"{reason} at position {position}"


MISPLACED = "misplaced '*' (only a trailing prefix wildcard like Ukrain* is allowed)"


@pytest.mark.parametrize(
    ("query", "position"),
    [("*rain", 0), ("Uk*ne", 2), ("Ukrain**", 6), ("a *", 2), ('"Ukrain* war"', 7), ("x-*", 2)],
)
def test_misplaced_wildcard(query: str, position: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert (caught.value.reason, caught.value.position) == (MISPLACED, position)


def test_wildcard_needs_two_letters() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("a OR U*")
    assert str(caught.value) == "a wildcard needs at least 2 letters before '*' at position 6"


def test_query_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)
    assert issubclass(TopicError, ValueError)


def test_topic_error_wraps_query_error() -> None:
    topics = [
        TopicDefinition("ok", ("Greenland",)),
        TopicDefinition("NATO", ("NATO", "NATO AND (")),
    ]
    with pytest.raises(TopicError) as caught:
        TopicMatcher.compile(topics)
    error = caught.value
    assert str(error) == "topic 'NATO': query 'NATO AND (': expected a term at position 10"
    assert (error.topic, error.query, error.position) == ("NATO", "NATO AND (", 10)
    assert error.reason == "expected a term"
    assert isinstance(error.error, QueryError)


def test_topic_without_queries_is_an_error() -> None:
    with pytest.raises(TopicError, match="empty query"):
        TopicMatcher.compile([TopicDefinition("empty", ())])

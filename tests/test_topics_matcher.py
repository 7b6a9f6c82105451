"""Matcher tests: word boundaries, phrases, scripts, folding, operators, reports."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from crawler.matching import (
    QueryError,
    TopicDefinition,
    TopicMatch,
    TopicMatcher,
    check_query,
    parse_query,
)
from crawler.matching.triggers import trigger_terms


def matches(query: str, text: str, title: str = "", **options: bool) -> bool:
    return bool(check_query(query, **options).match(title, text))


def match_one(query: str, text: str, title: str = "", **options: bool) -> TopicMatch:
    found = check_query(query, **options).match(title, text)
    assert len(found) == 1, found
    return found[0]


# --- words and phrases ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Trump wants Greenland.", True),
        ("Greenland's ice sheet", True),
        ("a Greenland-based company", True),
        ("(Greenland)", True),
        ("«Greenland»", True),
        ("GREENLAND", True),
        ("the Greenlandic parliament", False),
        ("Greenlanders voted", False),
        ("NewGreenland", False),
        ("Green land", False),
        ("Greenland_x", True),
        ("Greenland2", False),
    ],
)
def test_whole_word_matching(text: str, expected: bool) -> None:
    assert matches("Greenland", text) is expected


def test_phrase_across_line_breaks_and_punctuation() -> None:
    query = '"coalition of the willing"'
    assert matches(query, "the coalition\nof the\r\n  willing met")
    assert matches(query, "a coalition -- of the, willing!")
    assert matches(query, "COALITION OF THE WILLING")
    assert not matches(query, "coalition of willing")
    assert not matches(query, "the willing coalition of the")
    assert not matches(query, "coalition of the willingness")


def test_phrase_does_not_span_title_and_text() -> None:
    assert not matches('"Greenland shark"', "shark attack", title="About Greenland")
    assert matches('"Greenland shark"', "", title="A Greenland shark")


def test_hyphenated_and_apostrophe_query_words() -> None:
    assert matches("Greenland-based", "a Greenland based firm")
    assert matches("Greenland-based", "a Greenland-based firm")
    assert matches("O'Brien", "said O’Brien")
    assert not matches("O'Brien", "said OBrien")


def test_cyrillic() -> None:
    assert matches("НАТО", "Генсек НАТО заявил")
    assert matches("нато", "Генсек НАТО, заявил")
    assert not matches("НАТО", "НАТОвский")
    assert matches("Україна", "Президент: Україна переможе")
    assert matches('"Збройні сили"', "Збройні сили України")
    assert matches("Украин*", "украинские войска")


def test_accented_latin_and_other_scripts() -> None:
    assert matches("Zürich", "in Zürich today")
    assert matches("Zürich", "in Zu\u0308rich today")  # decomposed ü
    assert matches("São", "São Paulo")
    assert not matches("São", "Sãoo")
    assert matches("Ελλάδα", "η Ελλάδα και")
    assert matches("हिन्दी", "यह हिन्दी है")


def test_diacritics_folded_by_default() -> None:
    assert matches("Grønland", "Gronland")
    assert matches("Gronland", "GRØNLAND")
    assert matches("Zurich", "Zürich")
    assert matches("Straße", "Strasse")
    assert matches("Łódź", "Lodz")
    assert matches("Encyclopaedia", "Encyclopædia")
    assert matches("Ukraïna", "Ukraina")
    assert matches("Đoković", "Djokovic") is False  # đ folds to d, not dj
    assert matches("Đoković", "Dokovic")
    assert matches("oeuvre", "Œuvre")
    assert matches("café", "cafe\u00adteria") is False
    assert matches("Greenland", "Green\u00adland")  # soft hyphen inside a word


def test_diacritic_folding_off() -> None:
    assert not matches("Grønland", "Gronland", fold_diacritics=False)
    assert matches("Grønland", "GRØNLAND", fold_diacritics=False)
    assert not matches("Zurich", "Zürich", fold_diacritics=False)
    assert matches("Zürich", "Zu\u0308rich", fold_diacritics=False)  # still NFC-equal


def test_topic_case_sensitive() -> None:
    assert matches("Turkey", "Turkey votes", case_sensitive=True)
    assert not matches("Turkey", "roast turkey", case_sensitive=True)
    assert matches("Turkey", "roast turkey")


def test_exact_case_marker() -> None:
    assert matches("=US", "the US said")
    assert not matches("=US", "let us say")
    assert not matches("=US", "the Us")
    assert matches("=US OR Europe", "europe")
    assert matches('="White House"', "the White House")
    assert not matches('="White House"', "a white house")
    assert matches("=US", "the ÜS")  # case kept, Ü folded to U
    assert not matches("=US", "the ÜS", fold_diacritics=False)


def test_exact_case_with_diacritic_folding() -> None:
    assert matches("=Zürich", "in Zurich")
    assert not matches("=Zürich", "in zurich")
    assert not matches("=Zürich", "in Zurich", fold_diacritics=False)


# --- wildcards ---------------------------------------------------------------------


def test_prefix_wildcard() -> None:
    for text in ("Ukraine", "Ukrainian", "Ukrainians", "UKRAINE's", "Ukrain"):
        assert matches("Ukrain*", text), text
    assert not matches("Ukrain*", "proUkrainian")
    assert not matches("Ukrain*", "Ukrai")


def test_prefix_wildcard_in_phrase_and_exact_case() -> None:
    assert matches('"coalition of the will*"', "coalition of the willing")
    assert not matches('"coalition of the will*"', "coalition of the")
    assert matches("=EU*", "EUROPE")
    assert not matches("=EU*", "Europe")


def test_wildcard_count_and_terms() -> None:
    found = match_one("Ukrain* OR Ukraine", "Ukraine and Ukrainians")
    assert found.match_count == 2  # same token from two terms counts once
    assert found.terms == ("Ukrain*", "Ukraine")


# --- boolean operators ------------------------------------------------------------


def test_and_or_implicit_and() -> None:
    assert matches("Greenland AND Trump", "Trump on Greenland")
    assert not matches("Greenland AND Trump", "Greenland alone")
    assert matches("Greenland Trump", "Trump on Greenland")
    assert not matches("Greenland Trump", "Trump alone")
    assert matches("Greenland OR Iceland", "Iceland")
    assert matches("Greenland OR Iceland", "Greenland")


def test_not() -> None:
    assert matches("Greenland NOT shark", "Greenland votes")
    assert not matches("Greenland NOT shark", "the Greenland shark lives long")
    query = 'Greenland AND NOT "Greenland shark"'
    assert matches(query, "Greenland votes; sharks swim")
    assert not matches(query, "a Greenland shark")
    assert matches("Greenland AND (Trump OR NOT shark)", "Greenland")
    assert matches("Greenland AND (Trump OR NOT shark)", "Greenland shark Trump")
    assert not matches("Greenland AND (Trump OR NOT shark)", "Greenland shark")


def test_lower_case_keywords_are_words() -> None:
    assert matches("war and peace", "War and Peace")
    assert not matches("war and peace", "war, peace")


def test_near_both_orders_and_distance() -> None:
    query = "Greenland NEAR/3 Trump"
    assert matches(query, "Greenland Trump")
    assert matches(query, "Trump Greenland")
    assert matches(query, "Greenland a b Trump")  # 3 words apart
    assert matches(query, "Trump a b Greenland")
    assert not matches(query, "Greenland a b c Trump")
    assert not matches(query, "Trump a b c Greenland")
    assert matches(query, "Greenland a b c d Trump x Greenland")


def test_near_one_means_adjacent() -> None:
    assert matches("a NEAR/1 b", "x a b x")
    assert matches("a NEAR/1 b", "x b a x")
    assert not matches("a NEAR/1 b", "a x b")


def test_near_default_is_10() -> None:
    assert matches("a NEAR b", "a " + "x " * 9 + "b")
    assert not matches("a NEAR b", "a " + "x " * 10 + "b")


def test_near_with_phrases_counts_from_phrase_ends() -> None:
    query = '"coalition of the willing" NEAR/2 Ukraine'
    assert matches(query, "the coalition of the willing for Ukraine")
    assert matches(query, "Ukraine, the coalition of the willing")
    assert not matches(query, "Ukraine and the coalition of the willing")
    assert not matches(query, "the coalition of the willing, and then Ukraine")
    text = "Ukraine " + "w " * 19 + "coalition of the willing"
    assert matches('"coalition of the willing" NEAR/20 Ukraine', text)
    assert not matches('"coalition of the willing" NEAR/19 Ukraine', text)


def test_near_not_across_title_and_text() -> None:
    assert not matches("Greenland NEAR/5 Trump", "Trump said", title="On Greenland")
    assert matches("Greenland NEAR/5 Trump", "", title="Trump on Greenland")


def test_near_with_title_field_and_wildcard() -> None:
    assert matches("title:Greenland NEAR Trump*", "", title="Greenland Trumps")
    assert not matches("title:Greenland NEAR Trump*", "Greenland Trumps", title="x")


def test_title_field() -> None:
    assert matches("title:Greenland", "nothing", title="Greenland votes")
    assert not matches("title:Greenland", "Greenland votes", title="Elections")
    query = "title:(Greenland OR Iceland) Trump"
    assert matches(query, "Trump", title="Iceland")
    assert not matches(query, "Trump Iceland", title="News")
    assert matches(query, "", title="Trump in Iceland")


def test_title_only_count_ignores_text() -> None:
    found = match_one("title:Greenland", "Greenland Greenland", title="Greenland")
    assert found.match_count == 1 and found.in_title


def test_not_title() -> None:
    query = "Greenland NOT title:shark"
    assert matches(query, "Greenland shark", title="News")
    assert not matches(query, "Greenland", title="shark news")


# --- topics -------------------------------------------------------------------------


def test_several_queries_any_matches_and_union_of_terms() -> None:
    topic = TopicDefinition("NATO", ("NATO", "OTAN", '"Nordatlantikpakt"', "НАТО"))
    matcher = TopicMatcher.compile([topic])
    assert matcher.topic_names == ("NATO",)
    assert [m.topic for m in matcher.match("", "l'OTAN")] == ["NATO"]
    found = matcher.match("NATO summit", "НАТО and OTAN and the Nordatlantikpakt")
    assert len(found) == 1
    assert found[0].terms == ('"Nordatlantikpakt"', "NATO", "OTAN", "НАТО")
    assert found[0].match_count == 4


def test_terms_of_unmatched_queries_are_not_reported() -> None:
    topic = TopicDefinition("G", ("Greenland", "Trump AND Iceland"))
    (found,) = TopicMatcher.compile([topic]).match("", "Greenland and Trump")
    assert found.terms == ("Greenland",)
    assert found.match_count == 1


def test_topics_reported_in_compile_order() -> None:
    topics = [
        TopicDefinition("c", ("Gamma",)),
        TopicDefinition("a", ("Alpha",)),
        TopicDefinition("b", ("Beta OR Alpha",)),
        TopicDefinition("none", ("Delta",)),
    ]
    matcher = TopicMatcher.compile(topics)
    assert matcher.topic_names == ("c", "a", "b", "none")
    assert [m.topic for m in matcher.match("", "Beta Alpha Gamma")] == ["c", "a", "b"]
    assert matcher.match("", "nothing here") == []


def test_topics_with_different_modes_share_one_matcher() -> None:
    topics = [
        TopicDefinition("ci", ("turkey",)),
        TopicDefinition("cs", ("Turkey",), case_sensitive=True),
        TopicDefinition("nofold", ("Grønland",), fold_diacritics=False),
        TopicDefinition("fold", ("Grønland",)),
        TopicDefinition("exact", ("=US",)),
    ]
    matcher = TopicMatcher.compile(topics)
    assert [m.topic for m in matcher.match("", "roast turkey in Gronland")] == ["ci", "fold"]
    names = [m.topic for m in matcher.match("Turkey", "Grønland and the US")]
    assert names == ["ci", "cs", "nofold", "fold", "exact"]


@dataclass(frozen=True)
class ConfigTopic:  # what the config loader builds: same attributes, another class
    name: str
    queries: tuple[str, ...]
    case_sensitive: bool = False
    fold_diacritics: bool = True


def test_duck_typed_topics() -> None:
    matcher = TopicMatcher.compile([ConfigTopic("X", ("=X",), case_sensitive=False)])
    assert matcher.match("", "X") and not matcher.match("", "x")


def test_empty_matcher_and_empty_article() -> None:
    assert TopicMatcher.compile([]).match("title", "text") == []
    assert check_query("Greenland").match("", "") == []


def test_check_query_names_topic_after_query() -> None:
    matcher = check_query("Greenland NOT shark", case_sensitive=True)
    assert matcher.topic_names == ("Greenland NOT shark",)
    assert not matcher.match("", "greenland")


# --- reports ------------------------------------------------------------------------


def test_in_title_and_match_count() -> None:
    found = match_one("Greenland OR Trump", "Trump and Greenland; Greenland.", title="Greenland")
    assert found.in_title
    assert found.match_count == 4
    assert found.terms == ("Greenland", "Trump")
    found = match_one("Greenland", "about Greenland", title="News")
    assert not found.in_title and found.match_count == 1


def test_negated_terms_are_not_counted() -> None:
    found = match_one("Greenland NOT shark", "Greenland Greenland")
    assert found.match_count == 2 and found.terms == ("Greenland",)
    found = match_one("Greenland NOT NOT Trump", "Greenland Trump")
    assert found.terms == ("Greenland", "Trump")


def test_near_counts_every_occurrence_of_its_terms() -> None:
    found = match_one("a NEAR/1 b", "a b x x x x x a")
    assert found.match_count == 3


def test_snippet_short_text_is_whole_text_with_marks() -> None:
    found = match_one("Greenland", "  Trump wants\n\nGreenland's ice.  ")
    assert found.snippet == "Trump wants **Greenland**'s ice."


def test_snippet_window_and_ellipses() -> None:
    words = [f"w{i}" for i in range(100)]
    words[50] = "Greenland"
    found = match_one("Greenland", " ".join(words))
    assert found.snippet.startswith("… w40 w41")
    assert found.snippet.endswith("w69 …")
    body = found.snippet.strip("… ")
    assert len(body.split()) == 30
    assert "**Greenland**" in body


def test_snippet_at_start_and_end_of_text() -> None:
    words = [f"w{i}" for i in range(100)]
    text = "Greenland " + " ".join(words) + " Iceland."
    start = match_one("Greenland", text).snippet
    assert start.startswith("**Greenland** w0 w1") and start.endswith(" …")
    assert len(start.split()) == 31  # 30 words and the ellipsis
    end = match_one("Iceland", text).snippet
    assert end.startswith("… w71") and end.endswith("w99 **Iceland**.")


def test_snippet_marks_phrases_and_all_matches_in_window() -> None:
    text = "Leaders of the coalition of the\nwilling met. Ukraine welcomed it; Ukrainians too."
    found = match_one('"coalition of the willing" NEAR/20 Ukrain*', text)
    assert found.snippet == (
        "Leaders of the **coalition of the willing** met. **Ukraine** welcomed it; "
        "**Ukrainians** too."
    )


def test_snippet_merges_overlapping_matches() -> None:
    found = match_one('"Greenland shark" OR shark*', "a Greenland shark swims")
    assert found.snippet == "a **Greenland shark** swims"


def test_snippet_from_first_text_match_even_if_title_matches() -> None:
    found = match_one("Greenland", "about Greenland", title="Greenland news")
    assert found.snippet == "about **Greenland**"
    assert found.in_title


def test_snippet_from_title_when_only_title_matches() -> None:
    found = match_one("Greenland", "nothing related", title="Trump eyes   Greenland")
    assert found.snippet == "Trump eyes **Greenland**"


def test_snippet_keeps_original_spelling_and_case() -> None:
    found = match_one("gronland", "Besøg i GRØNLAND nu")
    assert found.snippet == "Besøg i **GRØNLAND** nu"


def test_matcher_is_reusable_across_articles() -> None:
    matcher = check_query("Greenland")
    assert matcher.match("", "Greenland")
    assert not matcher.match("", "Iceland")
    assert matcher.match("Greenland", "")


def test_exact_case_in_title_and_with_invisible_characters() -> None:
    assert matches("title:=US", "", title="US envoy")
    assert not matches("title:=US", "US envoy", title="us envoy")
    assert matches("=Greenland", "Green\u00adland votes")
    assert not matches("=Greenland", "GREEN\u00adLAND votes")


def test_check_query_raises_query_error() -> None:
    with pytest.raises(QueryError) as caught:
        check_query("Greenland AND (")
    assert caught.value.position == 15


# --- triggers ---------------------------------------------------------------------


def trigger_sources(query: str) -> list[str]:
    return sorted(term.source for term in trigger_terms(parse_query(query)))


def test_triggers_pick_the_rarer_side_of_and() -> None:
    assert trigger_sources("Greenland AND minister") == ["Greenland"]
    assert trigger_sources("minister AND Greenland") == ["Greenland"]
    assert trigger_sources('"coalition of the willing" NEAR/20 Ukraine') == [
        '"coalition of the willing"'
    ]
    assert trigger_sources("minister NEAR Gree*") == ["minister"]


def test_triggers_of_or_and_negations() -> None:
    assert trigger_sources("Greenland OR Iceland") == ["Greenland", "Iceland"]
    assert trigger_sources("Greenland NOT shark") == ["Greenland"]
    assert trigger_sources("NOT (NOT a AND NOT b)") == ["a", "b"]
    assert trigger_sources("x AND (a OR NOT b)") == ["x"]


def test_topic_is_found_through_its_trigger_only() -> None:
    matcher = check_query("Greenland AND minister")
    assert not matcher.match("", "the minister spoke")
    assert matcher.match("", "the minister spoke about Greenland")


# --- scripts written without spaces ---------------------------------------------------

CHINESE = "格陵兰政府周四宣布，明年北部海域的鲭鱼捕捞配额将增加百分之十五。"
JAPANESE = "グリーンランドの氷床は今年も縮小し、二十八年連続で質量が減少した。"


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ('"格陵兰"', CHINESE),
        ("格陵兰", CHINESE),
        ("陵兰政府", CHINESE),  # any substring of a run of characters
        ("グリーンランド", JAPANESE),
        ("グリーンランド", "グリーン・ランドの店"),  # like a space: between tokens
        ("氷床", JAPANESE),
        ("그린란드", "그린란드는 올해도 얼음이 줄었다"),  # a particle on the word
        ("ไทย", "รัฐบาลประเทศไทยประกาศ"),
        ("iPhone", "iPhone手机销量"),
        ('"格陵兰" AND 鲭鱼', CHINESE),
        ("格陵兰 NEAR/5 周四", CHINESE),
    ],
)
def test_terms_in_spaceless_scripts_match_as_substrings(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("格陵兰", "格陵岛政府"),
        ("iPhone", "iPhones手机"),  # Latin words keep their boundaries
        ("格陵兰 NEAR/2 鲭鱼", CHINESE),
    ],
)
def test_spaceless_terms_still_need_their_characters_in_order(query: str, text: str) -> None:
    assert not matches(query, text)


def test_snippets_in_spaceless_scripts_count_characters() -> None:
    text = "这是一篇很长的文章。" * 10 + CHINESE + "后面还有很多很多的内容。" * 10
    found = match_one("格陵兰", text)
    assert "**格陵兰**" in found.snippet
    body = found.snippet.strip("… ").replace("**", "")
    assert 25 <= len(body) <= 40  # about 30 characters, not 30 sentences
    assert found.snippet.startswith("…") and found.snippet.endswith("…")


def test_a_wildcard_on_a_spaceless_term_is_accepted_and_changes_nothing() -> None:
    assert matches("格陵*", CHINESE)
    assert matches("格陵*", "格陵岛")


def test_adjacent_matches_in_a_spaceless_script_are_marked_as_one() -> None:
    found = match_one('"格陵兰" AND 政府', CHINESE)
    assert found.snippet.startswith("**格陵兰政府**周四")

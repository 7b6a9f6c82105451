import hashlib
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.tracking.diffs import diff_texts
from crawler.tracking.normalize import (
    DEFAULT_NOISE_PATTERNS,
    INLINE_NOISE_PATTERN,
    Normalizer,
    content_hash,
    without_inline_noise,
)

LEAD = (
    "The finance minister announced on Tuesday that next year's budget would be cut by "
    "ten percent, a move opposition parties immediately called reckless."
)
BODY = (
    "Unions said they would meet on Thursday to decide on strikes, while economists were "
    "divided over whether the cuts would slow growth or calm the bond markets."
)


def article(*middle: str) -> str:
    return "\n".join([LEAD, *middle, BODY])


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer()


def test_relative_update_time_is_not_a_change(normalizer: Normalizer) -> None:
    before = article("Updated 5 minutes ago")
    after = article("Updated 7 minutes ago")
    assert normalizer.normalize(before) == normalizer.normalize(after)
    assert normalizer.normalize(before) == f"{LEAD}\n{BODY}"


def test_share_counter_change_is_not_a_change(normalizer: Normalizer) -> None:
    before = article("Shares: 56", "1,234 views")
    after = article("Shares: 61", "1,502 views")
    assert normalizer.normalize(before) == normalizer.normalize(after)


def test_reworded_sentence_is_a_change(normalizer: Normalizer) -> None:
    reworded = LEAD.replace("reckless", "irresponsible")
    assert normalizer.normalize(article()) != normalizer.normalize(f"{reworded}\n{BODY}")


def test_paragraph_order_change_is_a_change(normalizer: Normalizer) -> None:
    assert normalizer.normalize(f"{LEAD}\n{BODY}") != normalizer.normalize(f"{BODY}\n{LEAD}")


@pytest.mark.parametrize(
    "line",
    [
        "Updated 5 minutes ago",
        "Published 2 hours ago",
        "5 min ago",
        "· 2h ago ·",
        "just now",
        "vor 3 Stunden",
        "Aktualisiert vor einer Stunde",
        "il y a 2 heures",
        "Mis à jour il y a 3 jours",
        "hace 2 horas",
        "1,234 views",
        "Shares: 56",
        "12 comments",
        "Share 34",
        "1.2K likes",
        "Comments (12)",
        "12 comments · 3 shares",
        "1 234 vues",
        "Last updated: 12 March 2024, 14:05 GMT",
        "Last updated: 2024-03-05T14:05:00Z",
        "Updated 3:45 p.m. EST, March 5, 2024",
        "Updated: Tuesday 5 March 2024 10:00 CET",
        "Aktualisiert am 12.03.2024 um 09:12 Uhr",
        "Mis à jour le 5 mars 2024 à 14h30",
        "Published 12.03.2024, updated 13.03.2024",
        "4 min read",
        "Reading time: 6 minutes",
        "Lesezeit: 3 Min.",
        "5 min read · Updated 2 hours ago · 34 comments",
        "Read more: Why the vote was delayed",
    ],
)
def test_noise_line_is_removed(normalizer: Normalizer, line: str) -> None:
    assert normalizer.normalize(article(line)) == f"{LEAD}\n{BODY}"


@pytest.mark.parametrize(
    "sentence",
    [
        "Her views on NATO changed after the invasion.",
        "Her views on NATO changed",
        "Views",
        "12 comments were received by the council before the deadline.",
        "Share prices fell 3% in early trading.",
        "Comments are closed.",
        "Updated: police say 3 people were hurt.",
        "Updated: police say 3 people were hurt",
        "The report was published in March 2024 by the ministry.",
        "Read more about the plan in the full report.",
        "Most readers agreed.",
        "Last updated: the page was changed 3 times",
        "More from the minister later.",
    ],
)
def test_real_sentence_is_kept(normalizer: Normalizer, sentence: str) -> None:
    assert normalizer.normalize(article(sentence)) == f"{LEAD}\n{sentence}\n{BODY}"


# --- the inline rule: relative times, view counters, reading times inside a line -------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "Updated 5 minutes ago. The minister said the talks would continue.",
            "Updated 17 minutes ago. The minister said the talks would continue.",
        ),
        (
            "A second round is planned for Tuesday. 4 min read",
            "A second round is planned for Tuesday. 5 min read",
        ),
        ("The clip, 1,234 views, shows the harbour.", "The clip, 5,678 views, shows the harbour."),
        (
            "Shares: 120 The storm is expected to move east.",
            "Shares: 348 The storm is expected to move east.",
        ),
        (
            "Aktualisiert vor 3 Stunden. Der Minister sagte, die Gespräche gingen weiter.",
            "Aktualisiert vor 5 Stunden. Der Minister sagte, die Gespräche gingen weiter.",
        ),
        ("Mis à jour il y a 2 heures. Le ministre a dit", "Le ministre a dit"),
        (
            "Actualizado hace 2 horas. El ministro dijo",
            "Actualizado hace 5 horas. El ministro dijo",
        ),
        (
            "Aggiornato 5 minuti fa. Il ministro ha detto",
            "Aggiornato 9 minuti fa. Il ministro ha detto",
        ),
        (
            "Bijgewerkt 5 minuten geleden. De minister zei",
            "Bijgewerkt 8 minuten geleden. De minister zei",
        ),
        ("Atualizado há 5 minutos. O ministro disse", "Atualizado há 7 minutos. O ministro disse"),
        ("Zaktualizowano 5 minut temu. Minister powiedział", "Minister powiedział"),
        (
            "The minister said the talks would continue.",
            "Updated just now · 2 min read · The minister said the talks would continue.",
        ),
    ],
)
def test_a_change_inside_an_inline_noise_phrase_is_not_a_change(
    normalizer: Normalizer, before: str, after: str
) -> None:
    assert normalizer.normalize(article(before)) == normalizer.normalize(article(after))


def test_a_real_edit_next_to_a_relative_time_is_a_change_and_its_diff_shows_only_it(
    normalizer: Normalizer,
) -> None:
    before = normalizer.normalize("Updated 5 minutes ago. The minister said the talks would end.")
    after = normalizer.normalize("Updated 17 minutes ago. The minister said the talks would go on.")
    assert before != after
    diff = diff_texts(before, after)
    assert "[-end.-]" in diff.text and "{+go on.+}" in diff.text
    assert "minutes" not in diff.text and "ago" not in diff.text


@pytest.mark.parametrize(
    "sentence",
    [
        "12 comments were received by the council before the deadline.",
        "The company sold 3 shares on Monday.",
        "Share prices fell 3% in early trading.",
        "He read 4 minutes of the speech.",
    ],
)
def test_counts_that_report_facts_stay_inside_sentences(
    normalizer: Normalizer, sentence: str
) -> None:
    assert normalizer.normalize(sentence) == sentence


def test_the_inline_rule_keeps_the_rest_of_the_sentence(normalizer: Normalizer) -> None:
    assert normalizer.normalize("He said it happened 5 minutes ago.") == "He said it happened"
    assert normalizer.normalize("Updated 5 minutes ago") == ""


def test_user_noise_patterns_stay_whole_line() -> None:
    normalizer = Normalizer(["Sponsored"])
    assert normalizer.normalize("Sponsored\nSponsored content follows.") == (
        "Sponsored content follows."
    )


def test_whitespace_is_folded_and_paragraphs_kept(normalizer: Normalizer) -> None:
    text = "  First\t\tparagraph  here \r\n\n\n   \nSecond\u00a0 paragraph\n\t"
    assert normalizer.normalize(text) == "First paragraph here\nSecond paragraph"


def test_invisible_characters_and_unicode_forms_are_not_changes(normalizer: Normalizer) -> None:
    composed = "Caf\u00e9 owners protest\u200b new rules"
    decomposed = "Cafe\u0301 owners protest new rules\ufeff"
    assert normalizer.normalize(composed) == normalizer.normalize(decomposed)


def test_related_articles_block_is_removed(normalizer: Normalizer) -> None:
    text = article("Related articles", "Minister resigns after vote", "Is the euro doomed?")
    assert normalizer.normalize(text) == f"{LEAD}\n{BODY}"


def test_rotating_most_read_block_is_not_a_change(normalizer: Normalizer) -> None:
    before = article("Most read", "1", "Storm hits coast", "2", "Cup final tickets")
    after = article("Most read", "1", "Cup final tickets", "2", "New stadium opens")
    assert normalizer.normalize(before) == normalizer.normalize(after)


def test_related_block_stops_at_a_sentence(normalizer: Normalizer) -> None:
    text = "\n".join([LEAD, "Read more", "Other story", "He declined to comment.", "The end."])
    assert normalizer.normalize(text) == f"{LEAD}\nHe declined to comment.\nThe end."


def test_without_defaults_only_whitespace_is_folded() -> None:
    text = article("Updated 5 minutes ago", "Related", "Other story")
    expected = f"{LEAD}\nUpdated 5 minutes ago\nRelated\nOther story\n{BODY}"
    assert Normalizer(use_defaults=False).normalize(text) == expected


def test_extra_pattern_removes_whole_matching_lines() -> None:
    normalizer = Normalizer(["^Sponsored:.*$"])
    text = article("Sponsored: Buy a better mattress today", "Sponsored: ads were banned here")
    assert normalizer.normalize(text) == f"{LEAD}\n{BODY}"
    kept = "The club was Sponsored: by a bank, fans said."
    assert normalizer.normalize(article(kept)) == f"{LEAD}\n{kept}\n{BODY}"


def test_extra_pattern_is_whole_line_and_case_insensitive() -> None:
    normalizer = Normalizer(["advertisement"], use_defaults=False)
    assert normalizer.normalize("ADVERTISEMENT\nNo advertisement here") == "No advertisement here"


def test_single_string_is_one_extra_pattern() -> None:
    assert Normalizer("Sponsored.*").normalize("Sponsored by X\nNews") == "News"


def test_bad_regex_error_names_the_pattern() -> None:
    with pytest.raises(ValueError, match=re.escape("'Sponsored(: ['")):
        Normalizer(["fine", "Sponsored(: ["])


def test_default_patterns_compile() -> None:
    assert all(re.compile(pattern) for pattern in DEFAULT_NOISE_PATTERNS)


def test_title_only_folds_whitespace(normalizer: Normalizer) -> None:
    title = "  Live:\tUpdated 5 minutes ago \n as vote  nears "
    assert normalizer.normalize_title(title) == "Live: Updated 5 minutes ago as vote nears"


def test_content_hash_is_stable_and_separates_title_from_text() -> None:
    digest = content_hash("Title", "Text")
    assert re.fullmatch("[0-9a-f]{64}", digest)
    assert digest == content_hash("Title", "Text")
    assert digest == hashlib.sha256(b'["Title","Text"]').hexdigest()
    assert content_hash("ab", "c") != content_hash("a", "bc")
    assert content_hash("Title", "Text.") != digest
    assert content_hash("Title", "\ud800") != content_hash("Title", "")


@pytest.mark.parametrize(
    "line",
    [
        "Updated " + "1-" * 3000 + "x",
        "Last updated: " + "March, " * 3000 + "foo",
        "1 " * 5000 + "x",
        "5 min ago " * 2000 + "x",
        "Shares: 1 " * 3000 + "x",
        "Read more " * 3000,
    ],
)
def test_pathological_lines_are_fast(normalizer: Normalizer, line: str) -> None:
    start = time.perf_counter()
    normalizer.normalize(line)
    assert time.perf_counter() - start < 1.0


WORDS = ["the", "minister", "views", "said", "5", "minutes", "ago", "Updated", "Read", "more"]
texts = st.lists(
    st.lists(st.sampled_from([*WORDS, " ", "\t", "."]), max_size=12).map("".join),
    max_size=8,
).map("\n".join)


@given(texts)
def test_normalize_is_idempotent(text: str) -> None:
    normalizer = Normalizer()
    once = normalizer.normalize(text)
    assert normalizer.normalize(once) == once


@given(texts)
def test_output_lines_are_folded_input_lines_in_order(text: str) -> None:
    folded = [without_inline_noise(" ".join(line.split())) for line in text.splitlines()]
    remaining = iter(folded)
    for line in Normalizer().normalize(text).splitlines():
        assert line and line == line.strip() and "  " not in line
        assert line in remaining  # consumes the iterator: order is preserved


PHRASES = [
    "Updated 5 minutes ago",
    "2 hours ago",
    "vor 3 Stunden",
    "il y a 2 heures",
    "hace 5 minutos",
    "1,234 views",
    "Shares: 56",
    "4 min read",
    "Lesezeit: 3 Min.",
]


@given(texts, st.integers(min_value=0), st.sampled_from(PHRASES), st.sampled_from(PHRASES))
def test_an_inline_phrase_added_or_changed_anywhere_is_not_a_change(
    text: str, where: int, phrase: str, other: str
) -> None:
    normalizer = Normalizer()
    at = where % (len(text) + 1)
    before, after = text[:at], text[at:]
    # set off by full stops, so that no word of the text can become part of the phrase
    with_phrase = f"{before} . {phrase} . {after}"
    with_other = f"{before} . {other} . {after}"
    assert normalizer.normalize(with_phrase) == normalizer.normalize(with_other)
    assert normalizer.normalize(with_phrase) == normalizer.normalize(f"{before} . {after}")


@given(texts, st.sampled_from(PHRASES))
def test_a_real_word_edit_beside_an_inline_phrase_is_still_a_change(text: str, phrase: str) -> None:
    normalizer = Normalizer()
    base = f"{phrase} the minister {text}"
    edited = f"{phrase} the ministry {text}"
    assert normalizer.normalize(base) != normalizer.normalize(edited)


# Pieces of every inline phrase in every language, in other cases and with the letters
# IGNORECASE matches with ASCII ones (dotted and dotless i, long s, the Kelvin sign),
# beside words that hold a phrase's word without being one.
INLINE_WORDS = """
Updated updated: Last published 5 12 1,234 1.2K ٣ a an one few minutes min mins h hrs
ago AGO just now NOW moments know snow Chicago ago. vor VOR einer Stunden Std. favor
il IL y a heures İl ıl hace HACE horas fa FA ore fact geleden uur há HÁ dias temu
godzin views Views Shares: (12 comments) likes Aufrufe ſhares Kommentare read
READ Lesezeit: Min. reading time lecture de temps lettura · | — . , : … the said
"""
INLINE_PHRASES = """
Updated 5 minutes ago
just now
vor 3 Stunden
il y a 2 heures
ıl y a 2 heures
hace 5 minutos
2 ore fa
3 uur geleden
há 2 horas
5 minut temu
1,234 views
ſhares: 56
(12 comments)
4 min read
Lesezeit: 3 Min.
"""
INLINE_PIECES = INLINE_WORDS.split() + INLINE_PHRASES.strip().splitlines()
inline_lines = st.lists(
    st.tuples(st.sampled_from(INLINE_PIECES), st.sampled_from([" ", " ", "", "\u00a0", "\t"])),
    max_size=16,
).map(lambda pieces: "".join(piece + gap for piece, gap in pieces))
WHOLE_INLINE_RULE = re.compile(INLINE_NOISE_PATTERN, re.IGNORECASE)


def with_the_whole_inline_rule(line: str) -> str:
    while True:
        stripped = " ".join(WHOLE_INLINE_RULE.sub(" ", line).split())
        if stripped == line:
            return line
        line = stripped


@settings(max_examples=300)
@given(inline_lines)
def test_looking_only_for_the_phrases_a_line_can_hold_takes_out_the_same(line: str) -> None:
    """A line is searched only for the inline phrases whose words it holds: what is taken
    out is what the whole rule takes out, or the content hashes of stored articles would
    change with no edit."""
    assert without_inline_noise(line) == with_the_whole_inline_rule(line)


@pytest.mark.parametrize(
    "line",
    [
        "Updated 5 minutes ago. The minister said",
        "The minister said, vor 3 Stunden, that",
        "Publié il y a 2 heures : le ministre",
        "El ministro, hace 5 minutos, dijo",
        "Il ministro 2 ore fa ha detto",
        "De minister zei 3 uur geleden dat",
        "O ministro, há 2 horas, disse",
        "Minister 5 minut temu powiedział",
        "The minister (12 comments) said",
        "Lesezeit: 3 Min. Der Minister sagte",
        "İL Y A 2 heures le ministre",
        "ıl y a 2 heures, le ministre",
        "ſhares: 56 and the minister said",
        "1,234 \u212aommentare: 5 and the minister said",
    ],
)
def test_every_kind_of_inline_phrase_is_found_in_a_line(line: str) -> None:
    assert without_inline_noise(line) == with_the_whole_inline_rule(line) != line

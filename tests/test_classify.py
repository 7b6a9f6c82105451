"""The change classifier: kinds and significance of an edit, from the two versions."""

from __future__ import annotations

import pytest

from crawler.config import ConfigError, parse_config
from crawler.tracking.classify import Side, Weights, classify, notes_added

LEDE = "The defence ministers of five countries agreed on Tuesday to order ammunition together."
BODY = [
    "The order covers artillery shells and air defence missiles for the next three years.",
    "Officials said the first deliveries were expected within eighteen months of signature.",
    "The ministers will meet again in the spring to review progress on the joint order.",
]
TEXT = "\n".join([LEDE, *BODY])
TITLE = "Defence ministers agree on joint ammunition order"


def side(text: str = TEXT, title: str = TITLE, **values) -> Side:
    return Side(title=title, text=text, **values)


def kinds(before: Side, after: Side) -> tuple[str, ...]:
    return classify(before, after).kinds


def test_a_headline_swap_is_a_headline_change_that_scores_high():
    result = classify(side(), side(title="Defence ministers fail to agree on ammunition order"))
    assert result.kinds == ("headline", "stealth")
    assert result.significance >= 0.8


def test_a_rewritten_first_paragraph_is_a_lede_change():
    after = side("\n".join(["Five countries will buy shells and missiles together.", *BODY]))
    result = classify(side(), after)
    assert result.kinds == ("lede", "stealth")
    assert result.significance > 0.5


def test_a_reworded_later_paragraph_is_a_body_change_scoring_less_than_the_lede():
    reworded = BODY[1].replace("were expected within eighteen months", "now hoped for a year")
    body = classify(side(), side("\n".join([LEDE, BODY[0], reworded, BODY[2]])))
    assert body.kinds == ("body", "stealth")
    assert 0.05 < body.significance <= Weights().body
    new_paragraph = "Nobody has yet said how much the order will cost the five governments."
    last = classify(side(), side("\n".join([LEDE, *BODY[:2], new_paragraph])))
    first = classify(side(), side("\n".join([new_paragraph, *BODY])))
    assert last.kinds == ("body", "stealth") and first.kinds == ("lede", "stealth")
    assert first.significance > last.significance


def test_text_added_at_the_end_only_is_appended():
    more = side(TEXT + "\nOn Monday a sixth country said it would join the order.")
    assert kinds(side(), more) == ("appended", "stealth")
    sentence = side(TEXT + " A sixth country may join.")
    assert kinds(side(), sentence) == ("appended", "stealth")


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("Correction: an earlier version of this article gave the wrong date.", "correction"),
        ("Clarification: the order does not include tanks.", "correction"),
        ("This article has been updated with a statement from the ministry.", "update"),
        ("Update: the ministry later confirmed the figure.", "update"),
        ("Editor's note: this story was amended after publication.", "editors_note"),
        ("Berichtigung: In einer früheren Version stand ein falsches Datum.", "correction"),
        ("Anmerkung der Redaktion: Der Artikel wurde ergänzt.", "editors_note"),
        ("Dieser Artikel wurde aktualisiert.", "update"),
        ("Rectificatif : une précédente version de cet article était erronée.", "correction"),
        ("Mise à jour : le ministère a confirmé.", "update"),
        ("Note de la rédaction : cet article a été modifié.", "editors_note"),
        ("Corrección: una versión anterior de este artículo decía otra cosa.", "correction"),
        ("Actualización: el ministerio lo confirmó.", "update"),
        ("Nota della redazione: articolo modificato.", "editors_note"),
        ("Rettifica: la data era sbagliata.", "correction"),
        ("Correctie: in een eerdere versie stond een fout.", "correction"),
        ("Noot van de redactie: dit stuk is aangepast.", "editors_note"),
        ("Correção: a data estava errada.", "correction"),
        ("Sprostowanie: podaliśmy błędną datę.", "correction"),
        ("Rättelse: datumet var fel.", "correction"),
        ("*Correction: the figure was 12, not 21.", "correction"),
    ],
)
def test_a_note_that_appears_names_its_kind_and_the_edit_is_not_stealth(note, kind):
    result = classify(side(), side(TEXT + "\n" + note))
    assert kind in result.kinds
    assert "stealth" not in result.kinds


def test_a_note_word_inside_a_sentence_is_not_a_note():
    sentence = "The correction of prices was the subject of an update to the plan."
    assert notes_added(TEXT, TEXT + "\n" + sentence) == []


def test_a_note_already_there_is_not_new():
    note = "Correction: the figure was 12."
    assert notes_added(TEXT + "\n" + note, note + "\n" + TEXT) == []


def test_a_new_modified_date_makes_an_edit_declared_not_stealth():
    before = side(modified_at="2026-11-24T12:00:00Z")
    same_date = side(TEXT + " More.", modified_at="2026-11-24T12:00:00Z")
    new_date = side(TEXT + " More.", modified_at="2026-11-25T08:00:00Z")
    assert "stealth" in kinds(before, same_date)
    assert kinds(before, new_date) == ("appended", "dateline")


def test_authors_or_dates_alone_are_byline_and_dateline_changes():
    before = side(authors=("Anna Berg",), published_at="2026-11-24T12:00:00Z")
    byline = classify(before, side(authors=("Piet de Vries",), published_at="2026-11-24T12:00:00Z"))
    assert byline.kinds == ("byline",)
    assert byline.significance == Weights().byline
    dated = classify(before, side(authors=("Anna Berg",), published_at="2026-11-23T12:00:00Z"))
    assert dated.kinds == ("dateline",)
    assert dated.significance == Weights().dateline


def test_a_teaser_becoming_the_full_text_is_a_paywall_change_not_stealth():
    teaser = side(LEDE, is_partial=True)
    result = classify(teaser, side(is_partial=False))
    assert result.kinds == ("paywall",)
    assert result.significance == Weights().paywall


def test_mentions_gained_or_lost_score_high():
    before = side(topics=frozenset({"Greenland"}))
    after = side(TEXT + " NATO will join.", topics=frozenset({"NATO"}))
    result = classify(before, after)
    assert {"mention_added", "mention_removed"} <= set(result.kinds)
    assert result.significance >= Weights().mention


def test_a_comma_fix_scores_under_the_usual_threshold():
    fixed = side(TEXT.replace("order covers artillery", "order covers, artillery"))
    result = classify(side(), fixed)
    assert result.kinds == ("body", "stealth")
    assert result.significance < 0.05


def test_weights_are_applied():
    after = side(title="Defence ministers fail to agree on ammunition order")
    light = classify(side(), after, Weights(headline=0.1))
    assert light.significance == pytest.approx(0.1)


def test_significance_stays_in_range_and_identical_sides_score_zero():
    assert classify(side(), side()) == classify(side(), side())
    assert classify(side(), side()).significance == 0.0
    assert classify(side(), side()).kinds == ()
    everything = classify(
        side(topics=frozenset({"a"}), authors=("A",)),
        side("Completely new text.", title="Other", authors=("B",), topics=frozenset({"b"})),
    )
    assert 0.9 < everything.significance <= 1.0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"tracking": {"significance": {"headline": 1.5}}},
            "config: tracking.significance.headline: must be between 0 and 1, got 1.5",
        ),
        (
            {"archive": {"keep": "some"}},
            "config: archive.keep: must be one of matched, all, none, got 'some'",
        ),
        (
            {"digest": {"min_significance": "0.1"}},
            "config: digest.min_significance: expected an integer or a number, got '0.1'",
        ),
    ],
)
def test_bad_weights_thresholds_and_archive_settings_are_refused(table, message):
    with pytest.raises(ConfigError) as refused:
        parse_config(table)
    assert str(refused.value) == message


def test_configured_weights_reach_the_classifier():
    config = parse_config({"tracking": {"significance": {"headline": 0.2}}})
    after = side(title="Defence ministers fail to agree on ammunition order")
    assert classify(side(), after, config.tracking.significance).significance == 0.2
    assert parse_config({}).archive.keep == "matched"

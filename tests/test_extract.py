"""Article text from real pages: every script is stored, promotional tails are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trafilatura
from conftest import SITES, rows, run_cli, write_config
from scrapy.http import HtmlResponse

from crawler.demo.localsite import LocalSite
from crawler.extraction.article import (
    EXTRACTOR,
    MIN_WORDS,
    Article,
    ExtractionError,
    extract,
    upgrade_text,
)
from crawler.extraction.scripts import word_count
from crawler.extraction.tails import without_promo_tail

CORPUS = Path(__file__).parent / "corpus"
PAGES = {p["id"]: p for p in json.loads((CORPUS / "index.json").read_text())["pages"]}
UPGRADE = SITES / "upgrade" / "edition1" / "articles"


def decoded(page: dict) -> str:
    """The page as the crawler decodes a download that declares no charset."""
    body = (CORPUS / page["file"]).read_bytes()
    return HtmlResponse(page["url"] or "http://corpus.invalid/", body=body).text


def corpus_article(page_id: str) -> Article:
    return extract(decoded(PAGES[page_id]), PAGES[page_id]["url"])


# -- text of every script -------------------------------------------------------------

SPACELESS_PAGES = [p for p in PAGES.values() if p["script"] in ("cjk", "thai")]


def test_the_corpus_has_chinese_japanese_and_thai_pages() -> None:
    languages = {p["language"] for p in SPACELESS_PAGES}
    assert {"zh", "ja", "th"} <= languages
    assert len(SPACELESS_PAGES) >= 20


@pytest.mark.parametrize("page", SPACELESS_PAGES, ids=lambda p: p["id"])
def test_no_chinese_japanese_or_thai_article_with_a_body_is_refused(page: dict) -> None:
    article = extract(decoded(page), page["url"])
    expected = page.get("text") or " ".join(page.get("with", []))
    assert word_count(article.text) >= MIN_WORDS
    # the body is there, not a caption: a share of the expected characters are found
    found = sum(1 for char in set(expected) if char in article.text)
    assert found >= 0.5 * len(set(expected))


def test_chinese_and_japanese_articles_of_the_sample_site_are_stored() -> None:
    chinese = extract((UPGRADE / "u5.html").read_text(encoding="utf-8"))
    japanese = extract((UPGRADE / "u6.html").read_text(encoding="utf-8"))
    assert "格陵兰政府周四宣布" in chinese.text
    assert "グリーンランドの氷床" in japanese.text


@pytest.mark.parametrize(
    "caption",
    [
        "格陵兰岛的冰川。图片来源：新华社",  # a photo caption
        "グリーンランドの氷河（ロイター）",
        "ภาพ: รอยเตอร์",
    ],
)
def test_a_caption_in_a_spaceless_script_is_still_not_an_article(caption: str) -> None:
    page = f"<html><body><article><p>{caption}</p></article></body></html>"
    with pytest.raises(ExtractionError):
        extract(page)


def test_word_count_counts_characters_of_spaceless_scripts() -> None:
    assert word_count("The minister said talks would continue.") == 6
    assert word_count("格陵兰政府") == 2.5  # five ideographs, half a word each
    assert word_count("グリーンランド") == 3.5
    assert word_count("그린란드는 올해") == 3.5  # seven Hangul syllables
    assert word_count("ประเทศไทย") == pytest.approx(9 / 4)  # nine Thai letters
    assert word_count("iPhone手机 sales") == 3.0  # iPhone + 手机 (one word) + sales


# -- promotional tails ----------------------------------------------------------------

TAILS = {
    "en": [
        "Follow us on Twitter and Facebook.",
        "Get the latest updates in your inbox.",
        "Subscribe to our newsletters",
        "Download the Polar Post app for iOS and Android",
        "Read more: Ice sheet loses mass again",
        "Photo: Anna Berg/Reuters",
        "© 2026 The Polar Post. All rights reserved.",
        "Share this article",
    ],
    "de": [
        "Folgen Sie uns auf Facebook und Instagram.",
        "Jetzt den Newsletter abonnieren!",
        "Mehr zum Thema: Neue Häfen im Norden",
        "Foto: dpa",
        "Copyright © 2026 Nordkurier",
    ],
    "fr": [
        "Suivez-nous sur Facebook et Twitter.",
        "Abonnez-vous à notre newsletter.",
        "À lire aussi : La ligne rouvre",
        "Crédit photo : AFP",
    ],
    "es": [
        "Síguenos en Twitter",
        "Suscríbete a nuestro boletín",
        "Lee también: El puerto abre de nuevo",
        "Foto: EFE",
    ],
    "it": [
        "Seguici su Facebook",
        "Iscriviti alla newsletter",
        "Leggi anche: Il porto riapre",
        "Riproduzione riservata © Copyright ANSA",
    ],
    "nl": [
        "Volg ons op Twitter",
        "Schrijf je in voor onze nieuwsbrief",
        "Lees ook: De haven gaat weer open",
        "Foto: ANP",
    ],
    "pt": [
        "Siga-nos no Instagram",
        "Inscreva-se na nossa newsletter",
        "Leia também: O porto reabre",
        "Foto: Lusa",
    ],
    "pl": [
        "Obserwuj nas na Facebooku",
        "Zapisz się do newslettera",
        "Czytaj także: Port znów otwarty",
        "Fot. PAP",
    ],
}
LAST_SENTENCE = {
    "en": "The talks are expected to produce a draft agreement by the end of the year.",
    "de": "Die erste Fahrt ist für den ersten Dezember geplant.",
    "fr": "Le coût total des travaux s'élève à trois cents millions d'euros.",
    "es": "El puerto volverá a abrir en primavera, según el ayuntamiento.",
    "it": "Il porto riaprirà in primavera, ha detto il sindaco.",
    "nl": "De haven gaat in het voorjaar weer open, zei de burgemeester.",
    "pt": "O porto vai reabrir na primavera, disse o presidente da câmara.",
    "pl": "Port zostanie ponownie otwarty wiosną, powiedział burmistrz.",
}


@pytest.mark.parametrize("language", sorted(TAILS))
def test_a_promotional_tail_is_dropped_in_every_main_european_language(language: str) -> None:
    body = f"A first paragraph of the article.\n{LAST_SENTENCE[language]}"
    for line in TAILS[language]:
        assert without_promo_tail(f"{body}\n{line}") == body, line
    assert without_promo_tail("\n".join([body, *TAILS[language]])) == body


@pytest.mark.parametrize("language", sorted(TAILS))
def test_promotional_lines_inside_the_article_stay(language: str) -> None:
    text = "\n".join(["A first paragraph.", *TAILS[language], LAST_SENTENCE[language]])
    assert without_promo_tail(text) == text


@pytest.mark.parametrize(
    "closing",
    [
        "The statement was distributed via AFP.",
        "Like his colleagues on social media, the minister posted a video.",
        "Folge dieser Politik im Norden ist ein Anstieg der Preise.",
        "Copyright law will change next year, the minister said.",
        "Share prices fell 3% in early trading.",
        "Recibe el premio el próximo lunes.",
        "He said the council would subscribe to the plan.",
        "The newsletter reported the vote on Monday.",
        "Follow-up talks are planned for Tuesday.",
        "Photographers were kept away from the site.",
    ],
)
def test_a_real_closing_sentence_is_never_dropped(closing: str) -> None:
    text = f"A first paragraph.\n{closing}"
    assert without_promo_tail(text) == text
    assert without_promo_tail(f"{text}\nFollow us on Twitter") == text


def test_a_read_more_list_at_the_end_goes_with_its_heading() -> None:
    body = "A first paragraph.\nThe last sentence of the article."
    tail = "Read more\nIce sheet loses mass again\nNew ferry for the islands"
    assert without_promo_tail(f"{body}\n{tail}") == body
    # a heading followed by sentences is not a list: nothing is dropped
    text = f"{body}\nRead more\nThe minister said more would follow."
    assert without_promo_tail(text) == text


def test_the_sample_sites_tails_are_dropped_and_their_topic_goes_with_them() -> None:
    english = extract((UPGRADE / "u1.html").read_text(encoding="utf-8"))
    german = extract((UPGRADE / "u2.html").read_text(encoding="utf-8"))
    assert english.text.endswith("where most of the catch is now landed.")
    assert german.text.endswith("im Internet gekauft werden.")
    assert "Grönland" not in german.text  # only the trailing teaser named it


@pytest.mark.parametrize(
    ("page_id", "gone"),
    [
        ("trafilatura/metrotimes.com-Mezcal", "Follow us: Google News"),
        ("trafilatura/nationnews.com-schools", "download the Nationnews apps"),
        ("trafilatura/jamaica.gleaner.com-victims", "Follow The Gleaner on Twitter"),
        ("postlight/www.itmedia.co.jp", "All Rights Reserved"),
        ("trafilatura/phys.org.tool", "© 2019 Science X Network"),
    ],
)
def test_real_pages_lose_their_promotional_tail(page_id: str, gone: str) -> None:
    article = corpus_article(page_id)
    assert gone not in article.text
    page = PAGES[page_id]  # trafilatura's own text keeps it: presswatch used to
    assert gone in trafilatura.extract(decoded(page), url=page["url"], include_comments=False)


def test_the_extractor_is_named_and_older_versions_are_brought_up_to_its_rules() -> None:
    assert EXTRACTOR.startswith("presswatch-extract/3 trafilatura/")
    stored = "The last sentence of the article.\nFollow us on Twitter"
    assert upgrade_text(stored, None) == "The last sentence of the article."  # 0.1
    assert upgrade_text(stored, EXTRACTOR.replace("extract/3", "extract/1")) == (
        "The last sentence of the article."
    )
    assert upgrade_text(stored, EXTRACTOR.replace("extract/3", "extract/2")) == stored
    assert upgrade_text(stored, EXTRACTOR) == stored
    assert upgrade_text(stored, "presswatch-extract/3 trafilatura/0.9.0") is None
    assert upgrade_text(stored, "presswatch-extract/9 " + EXTRACTOR.split()[1]) is None


# -- a real pass ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_pass_stores_every_script_and_finds_no_mention_in_a_tail(tmp_path) -> None:
    topics = [
        ("Greenland", "Greenland OR Grönland"),
        ("格陵兰", "格陵兰"),
        ("グリーンランド", "グリーンランド"),
    ]
    with LocalSite(SITES / "upgrade" / "edition1") as site:
        config = write_config(tmp_path / "config.toml", site, [("Polar Post", "feed.xml")], topics)
        result = run_cli("run", "--config", str(config), "--json")
    assert result.code == 0, result.stderr
    assert result.json()["articles_new"] == 6
    assert result.json()["errors"] == 0
    found = rows(
        tmp_path / "test.db",
        "SELECT t.name, a.url, m.snippet FROM mentions m "
        "JOIN topics t ON t.id = m.topic_id JOIN articles a ON a.id = m.article_id",
    )
    by_topic = {(m["name"], m["url"].rsplit("/", 1)[1]) for m in found}
    # u1 names Greenland in its body; u2 only in its trailing "Mehr zum Thema" teaser
    assert by_topic == {
        ("Greenland", "u1.html"),
        ("格陵兰", "u5.html"),
        ("グリーンランド", "u6.html"),
    }
    stored = rows(tmp_path / "test.db", "SELECT v.text FROM versions v")
    assert not any("Follow us" in v["text"] or "Folgen Sie" in v["text"] for v in stored)

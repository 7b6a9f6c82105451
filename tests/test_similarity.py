"""SimHash fingerprints: syndicated copies are close, different articles are far apart."""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.demo import DEMO_SITE
from crawler.extraction.article import extract
from crawler.tracking.similarity import (
    LEAD_WORDS,
    THRESHOLD,
    band_probes,
    bands,
    from_signed,
    hamming,
    is_near_duplicate,
    shingles,
    simhash,
    stable_hash,
    to_signed,
)

ARTICLES = sorted(
    path.relative_to(DEMO_SITE).as_posix() for path in DEMO_SITE.glob("*/2026/11/*.html")
)
INTRO = (
    "Here is the latest report on the story, as filed this morning by the news agency we work with."
)
CREDIT = "Reporting by Anna Larsen in Brussels; Editing by Peter Moss"

fingerprints = st.integers(min_value=0, max_value=2**64 - 1)


@cache
def article_text(name: str) -> str:
    html = (DEMO_SITE / name).read_text(encoding="utf-8")
    return extract(html.replace("{{BASE}}", "http://127.0.0.1:8765")).text


def wire_copy(text: str) -> str:
    """The same story as another outlet runs it: its own first sentence, and credits."""
    _, rest = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)
    return f"{INTRO} {rest}\n{CREDIT}"


def test_identical_texts_have_identical_fingerprints():
    text = article_text(ARTICLES[0])
    copy = "".join(reversed(text))[::-1]  # the same text, another string object
    assert copy is not text
    assert simhash(copy) == simhash(text)
    assert hamming(simhash(copy), simhash(text)) == 0


def test_the_fingerprint_is_the_same_in_every_process():
    # blake2b, not hash(): fingerprints stored by one pass are compared in the next.
    assert simhash("The quick brown fox jumps over the lazy dog.") == 0x77B46FF87D504231


def reference_simhash(text: str) -> int:
    """The fingerprint by its definition: floating-point votes, shingle by shingle."""
    weights: dict[int, float] = {}
    for position, shingle in enumerate(shingles(text)):
        value = stable_hash(shingle)
        weights[value] = weights.get(value, 0.0) + min(1.0, (position + 1) / LEAD_WORDS)
    votes = [0.0] * 64
    for value, weight in weights.items():
        for bit in range(64):
            votes[bit] += weight if value >> bit & 1 else -weight
    return sum(1 << bit for bit, vote in enumerate(votes) if vote > 0)


@pytest.mark.parametrize("name", ARTICLES)
def test_stored_fingerprints_stay_the_same(name):
    # Fingerprints are stored and compared across passes: every article, every prefix
    # (short texts tie on many bits) and a text repeating itself give the definition's.
    text = article_text(name)
    words = text.split()
    for sample in (text, f"{text} {text}", *(" ".join(words[:n]) for n in (1, 2, 3, 5, 80, 81))):
        assert simhash(sample) == reference_simhash(sample)


@given(st.lists(st.sampled_from(["nato", "summit", "oslo", "eu", "talks"]), max_size=200))
def test_fingerprints_with_repeated_shingles_and_ties_are_the_definitions(words):
    text = " ".join(words)
    assert simhash(text) == reference_simhash(text)


def test_case_punctuation_and_spacing_do_not_count():
    assert simhash("Ministers met in Brussels, on Monday.") == simhash(
        "ministers  met in\nBRUSSELS - on Monday"
    )
    assert simhash("") == simhash("  ... ") == 0
    assert simhash("Ceasefire") != 0


@pytest.mark.parametrize("name", ARTICLES)
def test_a_wire_copy_with_its_own_intro_and_credits_is_a_near_duplicate(name):
    text = article_text(name)
    assert 350 <= len(text.split()) <= 470
    copy = wire_copy(text)
    assert is_near_duplicate(simhash(text), simhash(copy)), hamming(simhash(text), simhash(copy))


def test_credit_lines_are_ignored():
    text = article_text(ARTICLES[1])
    credits = f"{text}\n{CREDIT}\n(Additional reporting by Jan Novak; writing by Lea Roth)"
    assert simhash(credits) == simhash(text)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "atlantic-defence-daily/2026/11/coalition-of-the-willing-logistics.html",
            "brussels-ledger/2026/11/coalition-of-the-willing-troop-pledges.html",
        ),
        (
            "brussels-ledger/2026/11/coalition-of-the-willing-troop-pledges.html",
            "nordic-security-review/2026/11/nordic-battalion-coalition-of-the-willing.html",
        ),
        (
            "brussels-ledger/2026/11/eu-ministers-greenland-talks.html",
            "atlantic-defence-daily/2026/11/pituffik-radar-upgrade-greenland.html",
        ),
    ],
)
def test_different_articles_on_the_same_subject_are_far_apart(first, second):
    distance = hamming(simhash(article_text(first)), simhash(article_text(second)))
    assert distance > 2 * THRESHOLD
    assert not is_near_duplicate(simhash(article_text(first)), simhash(article_text(second)))


def test_no_two_demo_articles_are_near_duplicates():
    hashes = [simhash(article_text(name)) for name in ARTICLES]
    closest = min(hamming(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :])
    assert closest > 2 * THRESHOLD


def test_hamming_and_threshold():
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(0, 2**64 - 1) == 64
    assert is_near_duplicate(0, 0b111, threshold=3)
    assert not is_near_duplicate(0, 0b1111, threshold=3)


def flip(h: int, positions: set[int]) -> int:
    for bit in positions:
        h ^= 1 << bit
    return h


@given(fingerprints, st.sets(st.integers(0, 63), max_size=3))
def test_fingerprints_within_3_bits_share_a_band(h, positions):
    other = flip(h, positions)
    assert hamming(h, other) == len(positions)
    assert any(a == b for a, b in zip(bands(h), bands(other), strict=True))


@given(fingerprints, st.sets(st.integers(0, 63), max_size=THRESHOLD))
def test_band_probes_find_every_fingerprint_within_the_threshold(h, positions):
    other = flip(h, positions)
    probes = band_probes(h)
    assert any(band in probe for band, probe in zip(bands(other), probes, strict=True))


@given(fingerprints)
def test_bands_are_16_bit_and_rebuild_the_fingerprint(h):
    parts = bands(h)
    assert all(0 <= part < 2**16 for part in parts)
    assert sum(part << (16 * index) for index, part in enumerate(parts)) == h
    assert all(len(set(probe)) == 17 for probe in band_probes(h))


@given(fingerprints)
def test_signed_form_fits_sqlite_and_round_trips(h):
    value = to_signed(h)
    assert -(2**63) <= value < 2**63
    assert from_signed(value) == h


def test_signed_form_in_sqlite(tmp_path: Path):
    db = sqlite3.connect(tmp_path / "f.db")
    db.execute("CREATE TABLE f (h INTEGER)")
    for h in (0, 2**63 - 1, 2**63, 2**64 - 1):
        db.execute("INSERT INTO f VALUES (?)", [to_signed(h)])
    stored = [from_signed(value) for (value,) in db.execute("SELECT h FROM f ORDER BY rowid")]
    assert stored == [0, 2**63 - 1, 2**63, 2**64 - 1]

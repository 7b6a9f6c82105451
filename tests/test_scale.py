"""A year of data: the full-text pre-filter of topics check and backfill, the full-text
update triggers of the scale step, and the due-revisit scan (the step's upgrade is tested
in test_upgrade.py).

Speed itself is measured by bench/scale.py, not here; these tests check that the fast
paths give exactly what the slow ones gave.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from conftest import invoke
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crawler.config import parse_config
from crawler.matching import QueryError, check_query
from crawler.matching.backfill import backfill, check, fts_prefilter
from crawler.storage.store import Store

WORDS = ("alpha", "beta", "gamma", "delta", "omega")
# Spellings the matcher folds to a vocabulary word, and words it keeps apart.
VARIANTS = ("Alpha", "BETA", "gámma", "Délta", "omegas", "alphabet", "αλφα", "東京")
SEPARATORS = (" ", "  ", "\n", ", ", ". ", "-", "'", "’", " — ", "_", "/")


# A word and the separator after it, drawn at once (drawing is most of these tests).
WORD_AND_SEPARATOR = st.sampled_from(tuple(w + s for w in WORDS + VARIANTS for s in SEPARATORS))


def texts(max_words: int = 25) -> st.SearchStrategy[str]:
    return st.lists(WORD_AND_SEPARATOR, max_size=max_words).map("".join)


WORD = st.sampled_from((*WORDS, "Gamma", "gámma", "αλφα"))
PHRASE = st.tuples(WORD, WORD).map(lambda p: f'"{p[0]} {p[1]}"')


def term() -> st.SearchStrategy[str]:
    return st.one_of(
        WORD,
        WORD.map(lambda w: w[:3] + "*"),
        PHRASE,
        WORD.map(lambda w: f"={w.capitalize()}"),
        WORD.map(lambda w: f"title:{w}"),
    )


# Valid queries by construction, mostly (the matcher refuses a query with no positive
# term and a NEAR beside anything but a word or a phrase): a query it refuses is drawn
# for nothing.
near = st.tuples(st.one_of(WORD, PHRASE), st.one_of(WORD, PHRASE), st.integers(1, 4))
queries = st.recursive(
    term(),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: f"({p[0]} AND {p[1]})"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]} OR {p[1]})"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]} NOT {p[1]})"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]} AND NOT {p[1]})"),
        near.map(lambda p: f"{p[0]} NEAR/{p[2]} {p[1]}"),
    ),
    max_leaves=5,
)


def fill(store: Store, articles: list[tuple[str, str]]) -> None:
    """Replace the database's articles by these (title, text) pairs, one version each
    (and an older version of each, which topics check must not read)."""
    db = store.db.conn
    with db:
        for table in ("mentions", "changes", "versions", "articles"):
            db.execute(f"DELETE FROM {table}")
        for number, (title, text) in enumerate(articles, 1):
            db.execute(
                "INSERT INTO articles (id, url, first_seen_at, last_checked_at, "
                "last_changed_at, current_version_id) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    number,
                    f"https://example.org/{number}",
                    "2026-01-01T00:00:00Z",
                    "2026-01-02T00:00:00Z",
                    "2026-01-02T00:00:00Z",
                    2 * number,
                ],
            )
            db.execute(
                "INSERT INTO versions (id, article_id, fetched_at, title, text, "
                "text_hash) VALUES (?, ?, '2026-01-01T00:00:00Z', 'old', ?, 'h')",
                [2 * number - 1, number, "alpha beta gamma delta omega"],
            )
            db.execute(
                "INSERT INTO versions (id, article_id, fetched_at, title, text, "
                "text_hash) VALUES (?, ?, '2026-01-02T00:00:00Z', ?, ?, 'h')",
                [2 * number, number, title, text],
            )


def hits(store: Store, query: str, prefiltered: bool) -> list[tuple]:
    matcher = check_query(query)
    return [
        (hit.article_id, hit.match.match_count, hit.match.snippet, hit.match.terms)
        for hit in check(store, matcher, [query], full_scan=not prefiltered)
    ]


_FOLDER = tempfile.TemporaryDirectory()
_STORE: list[Store] = []


def shared_store() -> Store:
    """One database for every example (a new one each would cost more than the test)."""
    if not _STORE:
        _STORE.append(Store.open(Path(_FOLDER.name) / "p.db"))
    return _STORE[0]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries, articles=st.lists(st.tuples(texts(6), texts()), min_size=1, max_size=8))
def test_the_prefilter_finds_exactly_what_a_full_scan_finds(query, articles):
    try:
        check_query(query)
    except QueryError:
        assume(False)
    store = shared_store()
    fill(store, articles)
    assert hits(store, query, prefiltered=True) == hits(store, query, prefiltered=False)


_BACKFILL_STORES: list[Store] = []


def backfill_stores() -> list[Store]:
    if not _BACKFILL_STORES:
        _BACKFILL_STORES.extend(Store.open(Path(_FOLDER.name) / f"b{n}.db") for n in (1, 2))
    return _BACKFILL_STORES


def recorded(store: Store) -> tuple[list[tuple], list[list[str]]]:
    mentions = store.db.execute(
        "SELECT article_id, version_id, in_title, match_count, snippet, terms FROM mentions "
        "ORDER BY article_id"
    ).fetchall()
    return mentions, current_topics(store)


@settings(
    max_examples=100,
    deadline=None,
    # two queries must both be valid: about one pair in eight drawn is not
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    first=queries,
    second=queries,
    articles=st.lists(st.tuples(texts(6), texts()), min_size=1, max_size=8),
)
def test_a_prefiltered_backfill_records_what_a_full_scan_records(first, second, articles):
    """A topic backfilled, then backfilled again after its query changed."""
    try:
        check_query(first), check_query(second)
    except QueryError:
        assume(False)
    results = []
    for store, full_scan in zip(backfill_stores(), (False, True), strict=True):
        fill(store, articles)
        for number, query in enumerate((first, second), 1):
            config = parse_config({"topics": [{"name": "t", "query": query}]})
            backfill(store, config, ["t"], f"2026-01-0{number + 2}T00:00:00Z", full_scan)
        results.append(recorded(store))
    assert results[0] == results[1]


def test_the_prefilter_names_the_words_a_query_needs():
    assert fts_prefilter(["NATO AND Trump"]) == '("NATO") AND ("Trump")'
    assert (
        fts_prefilter(['"coalition of the willing"'])
        == '"coalition" AND "of" AND "the" AND "willing"'
    )
    assert fts_prefilter(["Ukrain* OR Kyiv"]) == '("Ukrain"*) OR ("Kyiv")'
    assert fts_prefilter(["Greenland NOT shark"]) == '("Greenland")'
    assert fts_prefilter(["Grønland"]) is None  # the matcher folds ø; FTS may not
    assert fts_prefilter(["NATO", "OTAN"]) == '("NATO") OR ("OTAN")'


def config_with(tmp_path: Path, topics: dict[str, str]):
    return parse_config(
        {
            "storage": {"db": str(tmp_path / "b.db")},
            "topics": [{"name": n, "query": q} for n, q in topics.items()],
        }
    )


def test_backfill_reads_candidates_yet_drops_a_changed_topic_everywhere(tmp_path):
    store = Store.open(tmp_path / "b.db")
    fill(store, [("Alpha news", "beta text"), ("Gamma", "delta"), ("none", "omega")])
    first = backfill(
        store, config_with(tmp_path, {"t": "alpha OR delta"}), ["t"], "2026-01-03T00:00:00Z"
    )
    assert first["t"] == 2
    assert current_topics(store) == [["t"], ["t"], []]
    # The query changes: article 2 no longer matches and loses the topic from its list,
    # although the full-text index no longer offers it as a candidate.
    again = backfill(
        store, config_with(tmp_path, {"t": "alpha OR omega"}), ["t"], "2026-01-04T00:00:00Z"
    )
    assert again["t"] == 1
    assert current_topics(store) == [["t"], [], ["t"]]
    store.close()


def test_writing_topics_does_not_reindex_the_text(tmp_path):
    store = Store.open(tmp_path / "t.db")
    fill(store, [("Alpha", "beta")])
    db = store.db.conn
    # A stale index row shows whether the update trigger ran: put the index out of step.
    db.execute(
        "INSERT INTO versions_fts (versions_fts, rowid, title, text) "
        "VALUES ('delete', 2, 'Alpha', 'beta')"
    )
    db.execute("INSERT INTO versions_fts (rowid, title, text) VALUES (2, 'Alpha', 'marker')")
    store.set_version_topics(2, ["x"])
    db.commit()
    found = db.execute("SELECT rowid FROM versions_fts WHERE versions_fts MATCH 'marker'")
    assert [row[0] for row in found] == [2]  # the topics write left the index alone
    db.execute("UPDATE versions SET text = 'epsilon' WHERE id = 2")  # text: re-indexed
    assert [
        r[0]
        for r in db.execute("SELECT rowid FROM versions_fts WHERE versions_fts MATCH 'epsilon'")
    ] == [2]
    store.close()


def test_the_due_scan_reads_only_due_articles_in_id_order(tmp_path):
    store = Store.open(tmp_path / "d.db")
    fill(store, [("a", "b")] * 6)
    store.db.conn.executescript("""
        UPDATE articles SET next_check_at = '2026-01-05T00:00:00Z' WHERE id IN (5, 2);
        UPDATE articles SET next_check_at = '2026-01-09T00:00:00Z' WHERE id = 3;
    """)
    due = store.due_articles("2026-01-06T00:00:00Z", batch=1)
    assert next(due)["id"] == 2
    # Written between rows: article 5 is rescheduled and no longer due when read.
    store.update_article(5, {"next_check_at": "2026-02-01T00:00:00Z"})
    assert [row["id"] for row in due] == []
    assert [row["id"] for row in store.due_articles(None)] == [2, 3, 5]
    plan = " ".join(
        row[3]
        for row in store.db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM articles INDEXED BY articles_next_check_at "
            "WHERE next_check_at <= ?",
            ["x"],
        )
    )
    assert "articles_next_check_at" in plan
    store.close()


def current_topics(store: Store) -> list[list[str]]:
    return [
        json.loads(row[0])
        for row in store.db.execute(
            "SELECT v.topics FROM articles a JOIN versions v ON v.id = a.current_version_id "
            "ORDER BY a.id"
        )
    ]


def test_a_word_the_index_splits_is_found_only_by_a_full_scan(tmp_path):
    # A soft hyphen inside a word: the matcher reads NATO, the index two words.
    store = Store.open(tmp_path / "p.db")
    fill(store, [("Summit", "NA\u00adTO allies met."), ("Summit", "NATO allies met.")])
    store.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndb = "{tmp_path / "p.db"}"\n', encoding="utf-8")
    indexed = invoke("topics", "check", "NATO", "--config", str(config), "--json")
    scanned = invoke("topics", "check", "NATO", "--config", str(config), "--json", "--full-scan")
    assert indexed.code == scanned.code == 0, (indexed.stderr, scanned.stderr)
    ids = [
        [json.loads(line)["article_id"] for line in r.stdout.splitlines()]
        for r in (indexed, scanned)
    ]
    assert ids == [[2], [1, 2]]

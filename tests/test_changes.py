"""Change intelligence end to end: the kinds and significance of each seeded edit of the
`changes` site, found by the real crawler re-checking its second edition."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import pytest
from conftest import SITES, rows, run_cli, write_config

from crawler.demo.localsite import LocalSite
from crawler.outputs.datasette import make_datasette

EDITION1, EDITION2 = SITES / "changes" / "edition1", SITES / "changes" / "edition2"
TOPICS = [("Svalbard", "Svalbard"), ("Airports", "airport OR airports")]

# What each page of the second edition is, as a desk would label it.
EXPECTED = {
    "c1": ("retitled", ["headline", "dateline"]),
    "c2": ("edited", ["lede", "stealth"]),
    "c3": ("edited", ["appended", "correction"]),
    "c4": ("edited", ["byline"]),
    "c5": ("edited", ["body", "stealth"]),
    "c6": ("paywall", ["paywall"]),
    "c7": ("edited", ["body", "stealth"]),
    "c8": ("edited", ["appended", "update", "dateline", "mention_added"]),
    "c9": ("edited", ["appended", "editors_note"]),
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rechecked(tmp_path_factory):
    """A pass over edition 1, then a re-check of every article against edition 2."""
    tmp_path = tmp_path_factory.mktemp("changes")
    with LocalSite(EDITION1) as site:
        config = write_config(tmp_path / "config.toml", site, [("Ledger", "feed.xml")], TOPICS)
        first = run_cli("run", "--config", str(config), "--json")
        assert first.code == 0, first.stderr
        assert first.json()["articles_new"] == len(EXPECTED)
        site.root = EDITION2
        second = run_cli("run", "--config", str(config), "--recheck", "all", "--json")
        assert second.code == 0, second.stderr
        yield site, config, tmp_path / "test.db", second.json()


def changes(db, site) -> dict[str, dict]:
    found = rows(db, "SELECT c.*, a.url FROM changes c JOIN articles a ON a.id = c.article_id")
    return {c["url"].removeprefix(site.url("articles/")).removesuffix(".html"): c for c in found}


def test_every_seeded_edit_gets_its_kinds(rechecked):
    site, _, db, summary = rechecked
    assert summary["changes_new"] == len(EXPECTED)
    found = changes(db, site)
    assert {page: (c["kind"], json.loads(c["kinds"])) for page, c in found.items()} == EXPECTED


def test_significance_ranks_the_edits(rechecked):
    site, _, db, _ = rechecked
    score = {page: c["significance"] for page, c in changes(db, site).items()}
    assert all(0 <= value <= 1 for value in score.values())
    assert score["c7"] < 0.05  # a comma
    assert score["c1"] > 0.8  # the headline says the opposite
    assert score["c8"] > 0.8  # a watched topic appeared
    assert score["c2"] > score["c5"] > score["c7"]  # lede before a late sentence


def test_a_byline_change_alone_is_a_version_and_a_change_without_a_diff(rechecked):
    site, _, db, _ = rechecked
    change = changes(db, site)["c4"]
    assert change["diff"] is None and change["chars_added"] == change["chars_removed"] == 0
    versions = rows(
        db,
        "SELECT v.authors FROM versions v JOIN articles a ON a.id = v.article_id "
        "WHERE a.url = ? ORDER BY v.id",
        (site.url("articles/c4.html"),),
    )
    assert [json.loads(v["authors"]) for v in versions] == [["Erik Dahl"], ["Maria Solheim"]]


def test_min_significance_hides_the_comma_fix_from_the_digest(rechecked):
    _, config, _, _ = rechecked
    everything = run_cli("digest", "--config", str(config), "--since", "1d", "--format", "text")
    assert everything.code == 0, everything.stderr
    assert "Library reopens after two-year renovation" in everything.stdout
    assert "edited [body, stealth]" in everything.stdout  # kinds shown as labels
    edited = everything.stdout.split("Edited stories")[1]
    # The most significant first: the headline swap before the comma fix.
    assert edited.index("Harbour authority delays") < edited.index("Library reopens")
    filtered = run_cli(
        "digest",
        "--config",
        str(config),
        "--since",
        "1d",
        "--format",
        "text",
        "--min-significance",
        "0.05",
    )
    assert filtered.code == 0, filtered.stderr
    assert "Library reopens after two-year renovation" not in filtered.stdout
    assert "Airport plans longer runway for cargo flights" in filtered.stdout


def datasette_json(db, path: str):
    async def fetch():
        datasette = make_datasette(db)
        await datasette.invoke_startup()
        return await datasette.client.get(path)

    response = asyncio.run(fetch())
    assert response.status_code == 200, response.text[:500]
    return response.json()


def test_datasette_lists_silent_edits_of_matched_articles_and_facets_kinds(rechecked):
    site, _, db, _ = rechecked
    query = urlencode({"_shape": "array", "topic": ""})
    silent = datasette_json(db, f"/test/silent_edits.json?{query}")
    # c5 (about an airport) is the only matched article edited silently; c8, which
    # matched, declared its update.
    assert [row["url"] for row in silent] == [site.url("articles/c5.html")]
    assert silent[0]["topics"] == "Airports" and silent[0]["significance"] == 0.18
    other = urlencode({"_shape": "array", "topic": "Svalbard"})
    assert datasette_json(db, f"/test/silent_edits.json?{other}") == []
    facets = datasette_json(db, "/test/changes.json?_facet_array=kinds")
    found = facets["facet_results"]
    results = found.get("results", found)["kinds"]["results"]  # Datasette 0.x or 1.x
    counts = {facet["value"]: facet["count"] for facet in results}
    assert counts["stealth"] == 3 and counts["appended"] == 3 and counts["byline"] == 1

"""Topic queries end to end: boolean topics in a real pass, `topics check`, `backfill`."""

from __future__ import annotations

import json

from conftest import invoke, rows, run_cli, write_config

SOURCES = [("News", "news/feed.xml"), ("Wire", "wire/atom.xml")]


def test_boolean_topics_in_a_real_pass(tmp_path, basic_site):
    topics = [
        ("Arctic", '"Greenland" OR Greenlandic OR title:Arctic'),
        ("Kyiv defence", "Kyiv AND defence NOT rail"),
        ("Alliance near Baltic", "NATO NEAR/30 Baltic"),
        ("Ukraine-ish", "Ukrain*"),
    ]
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, topics)
    result = run_cli("run", "--config", str(config), "--json")
    assert result.code == 0, result.stderr
    found = {}
    for row in rows(
        tmp_path / "test.db",
        "SELECT t.name, a.title FROM mentions m JOIN topics t "
        "ON t.id = m.topic_id JOIN articles a "
        "ON a.id = m.article_id",
    ):
        found.setdefault(row["name"], set()).add(row["title"])
    assert found["Arctic"] == {"Greenland talks resume in Nuuk", "Arctic research station expands"}
    assert "Kyiv hosts defence ministers" in found["Kyiv defence"]
    assert found["Alliance near Baltic"] == {"Baltic air policing rotation changes"}
    assert "Allies weigh a coalition of the willing for Ukraine" in found["Ukraine-ish"]


def test_topics_check_and_backfill(tmp_path, basic_site):
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, [("NATO", "NATO")])
    assert run_cli("run", "--config", str(config)).code == 0

    checked = invoke(
        "topics", "check", "Greenland OR Greenlandic", "--config", str(config), "--json"
    )
    assert checked.code == 0, checked.stderr
    hits = [json.loads(line) for line in checked.stdout.splitlines()]
    assert {hit["title"] for hit in hits} == {
        "Greenland talks resume in Nuuk",
        "Arctic research station expands",
    }
    assert all("**" in hit["snippet"] for hit in hits)

    bad = invoke("topics", "check", "Greenland AND (", "--config", str(config))
    assert bad.code == 2
    assert "position" in bad.stderr

    # A topic added after the pass gets its mentions from the stored articles.
    text = config.read_text() + '\n[[topics]]\nname = "Greenland"\nquery = "Greenland"\n'
    config.write_text(text)
    filled = invoke("backfill", "--config", str(config), "--topic", "Greenland")
    assert filled.code == 0, filled.stderr
    assert "1 new mention(s)  Greenland" in filled.stdout
    mention = rows(
        tmp_path / "test.db",
        "SELECT m.backfilled, a.title FROM mentions m "
        "JOIN topics t ON t.id = m.topic_id JOIN articles a "
        "ON a.id = m.article_id WHERE t.name = 'Greenland'",
    )
    assert mention == [{"backfilled": 1, "title": "Greenland talks resume in Nuuk"}]
    again = invoke("backfill", "--config", str(config))
    assert "0 new mention(s)  Greenland" in again.stdout
    assert "0 new mention(s)  NATO" in again.stdout
    unknown = invoke("backfill", "--config", str(config), "--topic", "Mars")
    assert unknown.code == 2

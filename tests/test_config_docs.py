"""docs/configuration.md's key tables are the schema's: a key, default or meaning changed in
crawler/config/models.py and not in the docs (or the reverse) fails here.

Regenerate the tables with ``python -m crawler.config.docs``."""

from __future__ import annotations

from crawler.config.docs import DOCS, MARKER, TABLES, render_docs

TEXT = DOCS.read_text(encoding="utf-8")


def test_the_key_tables_in_the_docs_are_rendered_from_the_schema():
    assert render_docs(TEXT) == TEXT, "run: python -m crawler.config.docs"


def test_every_table_of_the_schema_is_in_the_docs():
    marked = [match[1] for line in TEXT.splitlines() if (match := MARKER.match(line))]
    assert sorted(marked) == sorted(TABLES)


def test_a_table_edited_by_hand_is_caught():
    edited = TEXT.replace(
        "| `concurrency` | integer ≥ 1 | `16` |", "| `concurrency` | integer ≥ 1 | `8` |"
    )
    dropped = TEXT.replace("| `obey_robots` | boolean | `true` | honour robots.txt |\n", "")
    for changed in (edited, dropped):
        assert changed != TEXT
        assert render_docs(changed) == TEXT


def test_the_tables_name_each_key_as_config_toml_spells_it():
    email = TEXT.split("<!-- keys: digest.email -->")[1].split("\n\n")[0]
    assert "| `from` | string | required | sender address |" in email
    assert "| `to` | list of strings | required | recipients |" in email
    assert "`sender`" not in email and "`recipients`" not in email
    sources = TEXT.split("<!-- keys: sources -->")[1].split("\n\n")[0]
    assert '| `max_age` | duration | `"2d"` | `sitemap`: ' in sources
    assert "`feed` and `sitemap`: the newest entries" in sources

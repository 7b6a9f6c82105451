"""The schema step for change kinds, significance and version hashes, applied to a
database made by the step before it."""

from __future__ import annotations

import json

from conftest import database_before, step_adding

from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import connect


def test_upgrading_keeps_changes_and_labels_the_kinds_it_can_tell(tmp_path):
    path = tmp_path / "old.db"
    step = step_adding("ADD COLUMN significance")
    conn = database_before(path, step)
    conn.executescript(
        """
        INSERT INTO sources (id, name, url, kind) VALUES (1, 'Desk', 'http://x/feed', 'feed');
        INSERT INTO articles (id, url, source_id, first_seen_at, last_checked_at,
            last_changed_at) VALUES (1, 'http://x/a', 1, '2026-01-01', '2026-01-02',
            '2026-01-02');
        INSERT INTO versions (id, article_id, fetched_at, text, text_hash)
            VALUES (1, 1, '2026-01-01', 'one', 'h1'), (2, 1, '2026-01-02', 'two', 'h2');
        INSERT INTO changes (article_id, from_version_id, to_version_id, detected_at, kind)
            VALUES (1, 1, 2, '2026-01-02', 'edited'), (1, 1, 2, '2026-01-02', 'retitled'),
                   (1, 1, 2, '2026-01-02', 'paywall'), (1, 2, NULL, '2026-01-03', 'removed');
        """
    )
    conn.commit()
    conn.close()
    db = connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    found = db.execute("SELECT kind, kinds, significance FROM changes ORDER BY id").fetchall()
    assert [(kind, json.loads(kinds), score) for kind, kinds, score in found] == [
        ("edited", [], None),
        ("retitled", ["headline"], None),
        ("paywall", ["paywall"], None),
        ("removed", [], None),
    ]
    versions = db.execute("SELECT body_sha256, chain_hash FROM versions").fetchall()
    assert versions == [(None, None), (None, None)]

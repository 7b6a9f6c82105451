-- What analysts read: full-text indexes and views over the core tables.
-- This is one step of crawler.storage.migrations.MIGRATIONS and runs in one transaction. Once
-- released it is never edited: later changes go into a new step.

-- Full-text search over every version's headline and text. The index holds no copy of
-- the text (content=[versions]); the triggers keep it in step with the table, in the
-- shape sqlite-utils' enable_fts(create_triggers=True) gives, so Datasette and
-- sqlite-utils both recognise it.
CREATE VIRTUAL TABLE versions_fts USING fts5(
    title, text,
    content=[versions], content_rowid=[id]
);
CREATE TRIGGER versions_ai AFTER INSERT ON versions BEGIN
    INSERT INTO versions_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER versions_ad AFTER DELETE ON versions BEGIN
    INSERT INTO versions_fts (versions_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER versions_au AFTER UPDATE ON versions BEGIN
    INSERT INTO versions_fts (versions_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO versions_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
INSERT INTO versions_fts (versions_fts) VALUES ('rebuild');

-- Full-text search over changes: the headlines before and after, and the diff.
CREATE VIRTUAL TABLE changes_fts USING fts5(
    title_before, title_after, diff,
    content=[changes], content_rowid=[id]
);
CREATE TRIGGER changes_ai AFTER INSERT ON changes BEGIN
    INSERT INTO changes_fts (rowid, title_before, title_after, diff)
        VALUES (new.id, new.title_before, new.title_after, new.diff);
END;
CREATE TRIGGER changes_ad AFTER DELETE ON changes BEGIN
    INSERT INTO changes_fts (changes_fts, rowid, title_before, title_after, diff)
        VALUES ('delete', old.id, old.title_before, old.title_after, old.diff);
END;
CREATE TRIGGER changes_au AFTER UPDATE ON changes BEGIN
    INSERT INTO changes_fts (changes_fts, rowid, title_before, title_after, diff)
        VALUES ('delete', old.id, old.title_before, old.title_after, old.diff);
    INSERT INTO changes_fts (rowid, title_before, title_after, diff)
        VALUES (new.id, new.title_before, new.title_after, new.diff);
END;
INSERT INTO changes_fts (changes_fts) VALUES ('rebuild');

-- One row per mention, newest first, with the names a reader wants instead of ids.
CREATE VIEW mention_feed AS
SELECT
    t.name AS topic,
    a.title AS headline,
    s.name AS outlet,
    a.url,
    a.published_at,
    m.found_at,
    m.snippet,
    m.in_title,
    m.article_id,
    m.id AS mention_id
FROM mentions m
JOIN topics t ON t.id = m.topic_id
JOIN articles a ON a.id = m.article_id
LEFT JOIN sources s ON s.id = a.source_id
ORDER BY m.found_at DESC, m.id DESC;

-- One row per detected change, newest first, with the start of its diff.
CREATE VIEW change_feed AS
SELECT
    a.title AS headline,
    s.name AS outlet,
    a.url,
    c.kind,
    c.detected_at,
    c.title_before,
    c.title_after,
    c.mentions_added,
    c.mentions_removed,
    CASE WHEN length(c.diff) > 300 THEN substr(c.diff, 1, 300) || '…' ELSE c.diff END
        AS diff_excerpt,
    c.article_id,
    c.id AS change_id
FROM changes c
JOIN articles a ON a.id = c.article_id
LEFT JOIN sources s ON s.id = a.source_id
ORDER BY c.detected_at DESC, c.id DESC;

-- One row per source: its last poll, how many articles it led to, its recent errors.
CREATE VIEW source_health AS
SELECT
    s.name AS source,
    s.url,
    s.last_polled_at,
    s.last_status,
    s.last_error,
    (SELECT count(*) FROM articles a WHERE a.source_id = s.id) AS articles,
    (SELECT count(*) FROM errors e WHERE e.source_id = s.id
        AND e.at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day')) AS errors_24h,
    (SELECT max(e.at) FROM errors e WHERE e.source_id = s.id) AS last_error_at
FROM sources s
ORDER BY s.name;

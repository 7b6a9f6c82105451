"""Evidence of each version: the archived HTTP response, SHA-256 of every body, the
chain hash, and `presswatch verify` catching an altered version or archived page."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

import pytest
import zstandard
from conftest import SITES, rows, run_cli, write_config

from crawler.demo.localsite import LocalSite

EDITION1, EDITION2 = SITES / "changes" / "edition1", SITES / "changes" / "edition2"
TOPICS = [("Svalbard", "Svalbard")]

pytestmark = pytest.mark.slow


def two_editions(tmp_path, keep: str):
    with LocalSite(EDITION1) as site:
        config = write_config(
            tmp_path / "config.toml",
            site,
            [("Ledger", "feed.xml")],
            TOPICS,
            extra=f'[archive]\nkeep = "{keep}"\n',
        )
        assert run_cli("run", "--config", str(config)).code == 0
        site.root = EDITION2
        second = run_cli("run", "--config", str(config), "--recheck", "all")
        assert second.code == 0, second.stderr
        return site, config, tmp_path / "test.db", tmp_path / "test.archive.db"


@pytest.fixture(scope="module")
def kept_all(tmp_path_factory):
    return two_editions(tmp_path_factory.mktemp("all"), "all")


def archived(archive_path) -> list[dict]:
    return rows(archive_path, "SELECT * FROM responses ORDER BY version_id")


def test_every_version_keeps_its_response_and_the_hash_of_its_body(kept_all):
    site, _, db, archive = kept_all
    versions = rows(db, "SELECT id, body_sha256, chain_hash FROM versions ORDER BY id")
    assert len(versions) == 18  # 9 articles, each edited once
    assert all(v["body_sha256"] and v["chain_hash"] for v in versions)
    responses = archived(archive)
    assert [r["version_id"] for r in responses] == [v["id"] for v in versions]
    page = (EDITION2 / "articles" / "c5.html").read_text(encoding="utf-8")
    served = page.replace("{{BASE}}", site.base_url).encode()
    last_c5 = rows(
        db,
        "SELECT a.current_version_id id FROM articles a WHERE a.url = ?",
        (site.url("articles/c5.html"),),
    )[0]["id"]
    response = next(r for r in responses if r["version_id"] == last_c5)
    body = zstandard.ZstdDecompressor().decompress(response["body_zstd"])
    assert body == served
    assert response["status"] == 200 and response["body_size"] == len(served)
    assert hashlib.sha256(body).hexdigest() == response["body_sha256"]
    assert '"Content-Type"' in response["headers"]
    assert len(response["body_zstd"]) < len(served) / 2


def test_verify_passes_on_an_intact_database(kept_all):
    _, config, _, _ = kept_all
    result = run_cli("verify", "--config", str(config))
    assert result.code == 0, result.stdout + result.stderr
    assert "verified 18 version(s) of 9 article(s), 18 archived response(s)" in result.stdout
    assert result.stdout.strip().endswith("intact")


def copy_of(kept_all, tmp_path):
    site, _, db, archive = kept_all
    shutil.copy(db, tmp_path / "test.db")
    shutil.copy(archive, tmp_path / "test.archive.db")
    return site, tmp_path / "test.db", tmp_path / "test.archive.db"


def test_verify_names_the_article_whose_stored_version_was_altered(kept_all, tmp_path):
    site, db, _ = copy_of(kept_all, tmp_path)
    url = site.url("articles/c3.html")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE versions SET text = replace(text, 'spring', 'summer') WHERE id = "
            "(SELECT min(v.id) FROM versions v JOIN articles a ON a.id = v.article_id "
            "WHERE a.url = ?)",
            (url,),
        )
    conn.close()
    result = run_cli("verify", "--db", str(db))
    assert result.code == 1
    assert f"({url}): version" in result.stdout and "was altered or removed" in result.stdout
    assert "1 problem(s)" in result.stdout


def test_verify_notices_a_version_removed_from_the_middle(kept_all, tmp_path):
    site, db, _ = copy_of(kept_all, tmp_path)
    url = site.url("articles/c2.html")
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "DELETE FROM versions WHERE id = (SELECT min(v.id) FROM versions v "
            "JOIN articles a ON a.id = v.article_id WHERE a.url = ?)",
            (url,),
        )
    conn.close()
    result = run_cli("verify", "--db", str(db))
    assert result.code == 1
    assert f"({url})" in result.stdout


def test_verify_names_the_article_whose_archived_body_was_altered(kept_all, tmp_path):
    site, db, archive = copy_of(kept_all, tmp_path)
    url = site.url("articles/c7.html")
    version = rows(db, "SELECT current_version_id v FROM articles WHERE url = ?", (url,))[0]["v"]
    forged = zstandard.ZstdCompressor().compress(b"<html>something else</html>")
    with sqlite3.connect(archive) as conn:
        conn.execute("UPDATE responses SET body_zstd = ? WHERE version_id = ?", (forged, version))
    conn.close()
    result = run_cli("verify", "--db", str(db))
    assert result.code == 1
    assert f"({url}): the archived body of version {version} does not match" in result.stdout


def test_keep_matched_archives_versions_from_the_first_match_on(tmp_path):
    site, _, db, archive = two_editions(tmp_path, "matched")
    responses = archived(archive)
    c8 = rows(
        db,
        "SELECT v.id FROM versions v JOIN articles a ON a.id = v.article_id "
        "WHERE a.url = ? ORDER BY v.id",
        (site.url("articles/c8.html"),),
    )
    # c8 names Svalbard only in edition 2: its second version is the first archived.
    assert [r["version_id"] for r in responses] == [c8[1]["id"]]
    unarchived = rows(db, "SELECT count(*) n FROM versions WHERE body_sha256 IS NULL")
    assert unarchived == [{"n": 0}]


def test_the_warc_export_round_trips_every_archived_page(kept_all, tmp_path):
    import json

    from warcio.archiveiterator import ArchiveIterator

    _, config, _, archive = kept_all
    path = tmp_path / "evidence.warc.gz"
    result = run_cli("export", "warc", "--config", str(config), "-o", str(path))
    assert result.code == 0, result.stderr
    assert "wrote 18 version(s)" in result.stderr
    bodies = {
        r["version_id"]: zstandard.ZstdDecompressor().decompress(r["body_zstd"])
        for r in archived(archive)
    }
    responses, metadata, requests = {}, {}, 0
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            assert record.rec_headers.protocol == "WARC/1.1"
            kind = record.rec_type
            if kind == "response":
                record_id = record.rec_headers.get_header("WARC-Record-ID")
                assert record.rec_headers.get_header("WARC-Payload-Digest")
                assert record.http_headers.get_header("Content-Encoding") is None
                payload = record.content_stream().read()
                assert int(record.http_headers.get_header("Content-Length")) == len(payload)
                responses[record_id] = payload
            elif kind == "metadata":
                facts = json.loads(record.content_stream().read())
                metadata[record.rec_headers.get_header("WARC-Refers-To")] = facts
            elif kind == "request":
                requests += 1
    assert requests == len(responses) == len(metadata) == 18
    for record_id, payload in responses.items():
        facts = metadata[record_id]
        assert payload == bodies[facts["version_id"]]
        assert facts["body_sha256"] == hashlib.sha256(payload).hexdigest()
    kinds = sorted(tuple(f["change_kinds"]) for f in metadata.values() if f["version"] == 2)
    assert ("body", "stealth") in kinds and ("byline",) in kinds


def test_the_warc_export_selects_articles(kept_all, tmp_path):
    site, config, _, _ = kept_all
    path = tmp_path / "one.warc"
    result = run_cli(
        "export", "warc", "--config", str(config), "--article", site.url("articles/c1.html"),
        "-o", str(path),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert "wrote 2 version(s)" in result.stderr
    topic = run_cli(
        "export", "warc", "--config", str(config), "--topic", "Svalbard", "-o", str(path)
    )
    assert "wrote 2 version(s)" in topic.stderr  # c8, which named it in its second version


def test_diff_html_shows_the_facts_and_the_archived_pages_sandboxed(kept_all, tmp_path):
    site, config, db, _ = kept_all
    url = site.url("articles/c6.html")
    page = tmp_path / "c6.html"
    result = run_cli(
        "diff", url, "--config", str(config), "--format", "html", "--show", "raw",
        "-o", str(page),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    hashes = rows(
        db,
        "SELECT v.body_sha256, v.chain_hash FROM versions v JOIN articles a "
        "ON a.id = v.article_id WHERE a.url = ? ORDER BY v.id",
        (url,),
    )
    assert len(hashes) == 2
    for version in hashes:
        assert version["body_sha256"] in text and version["chain_hash"] in text
    assert url in text and "Ledger" in text
    assert "<th>Kinds</th><td><code>paywall</code>" in text
    assert "<th>Significance</th><td><code>0.300</code>" in text
    assert "content=\"default-src 'none'" in text
    assert text.count('<iframe sandbox=""') == 2
    # The archived pages sit inside srcdoc, escaped: their scripts are text, not markup.
    assert "<script" not in text and "&lt;script type=&quot;application/ld+json" in text
    plain = run_cli("diff", url, "--config", str(config), "--show", "raw")
    assert plain.code == 2 and "--show raw needs --format html" in plain.stderr

"""The evidence archive: the HTTP response behind each version, in a companion file.

``presswatch.db`` keeps its archive in ``presswatch.archive.db`` beside it, so the
analysts' database stays small. The archive is attached to the database's connection
(``ATTACH ... AS archive``): a response is written in the same transaction as its
version, and a batch rolled back loses both. Bodies are stored as Scrapy delivers them
(decoded from any Content-Encoding), compressed with zstandard.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

from crawler.storage.store import Store

ARCHIVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS archive.responses (
    version_id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    encoding TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    body_size INTEGER NOT NULL,
    body_zstd BLOB NOT NULL
)
"""
ARCHIVE_INDEX = "CREATE INDEX IF NOT EXISTS archive.responses_article_id ON responses(article_id)"
LEVEL = 10  # zstandard level: about 4 ms a page, and most of the size gain


@dataclass(frozen=True)
class Response:
    """One archived response, its body decompressed."""

    version_id: int
    article_id: int
    url: str
    fetched_at: str
    status: int
    headers: tuple[tuple[str, str], ...]
    encoding: str
    body_sha256: str
    body: bytes


def archive_path(db_path: str | Path) -> Path:
    """``presswatch.db`` -> ``presswatch.archive.db`` (in the same folder)."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.archive{path.suffix or '.db'}")


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Archive:
    """Reads and writes the archive file attached to ``store``'s connection."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.db.conn
        self._compressor = zstandard.ZstdCompressor(level=LEVEL)
        self._decompressor = zstandard.ZstdDecompressor()

    @classmethod
    def attach(cls, store: Store, *, create: bool = True) -> Archive | None:
        """Attach the archive beside ``store``'s database (made when ``create``); None
        when it does not exist and is not to be made."""
        attached = {row[1] for row in store.db.conn.execute("PRAGMA database_list")}
        if "archive" not in attached:
            path = archive_path(store.path)
            if not create and not path.exists():
                return None
            store.db.conn.execute("ATTACH DATABASE ? AS archive", [str(path)])
            store.db.conn.execute("PRAGMA archive.journal_mode = WAL")
            store.db.conn.execute(ARCHIVE_SCHEMA)
            store.db.conn.execute(ARCHIVE_INDEX)
        return cls(store)

    def put(
        self,
        version_id: int,
        article_id: int,
        url: str,
        fetched_at: str,
        status: int,
        headers: tuple[tuple[str, str], ...],
        encoding: str,
        body: bytes,
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO archive.responses (version_id, article_id, url, "
            "fetched_at, status, headers, encoding, body_sha256, body_size, body_zstd) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                version_id,
                article_id,
                url,
                fetched_at,
                status,
                json.dumps([list(pair) for pair in headers], ensure_ascii=False),
                encoding,
                sha256(body),
                len(body),
                self._compressor.compress(body),
            ],
        )

    def get(self, version_id: int) -> Response | None:
        row = self.conn.execute(_SELECT + " WHERE r.version_id = ?", [version_id]).fetchone()
        return self._response(row) if row else None

    def responses(self, article_id: int | None = None) -> Iterator[Response]:
        """Every archived response (of one article), oldest version first."""
        where, params = ("WHERE r.article_id = ?", [article_id]) if article_id else ("", [])
        for row in self.conn.execute(f"{_SELECT} {where} ORDER BY r.version_id", params):
            yield self._response(row)

    def evidence(
        self,
        article_ids: Sequence[int] = (),
        topic: str | None = None,
        since: str | None = None,
    ) -> Iterator[tuple[Response, dict[str, Any]]]:
        """Archived responses with what the database says of their versions (number,
        hashes, the kinds and significance of the change that made them), oldest first;
        limited to ``article_ids``, to articles that mentioned ``topic``, and to versions
        fetched at or after ``since``."""
        conditions, params = ["1"], []
        if article_ids:
            conditions.append(f"r.article_id IN ({', '.join('?' * len(article_ids))})")
            params += list(article_ids)
        if topic is not None:
            conditions.append(
                "r.article_id IN (SELECT m.article_id FROM mentions m "
                "JOIN topics t ON t.id = m.topic_id WHERE t.name = ?)"
            )
            params.append(topic)
        if since is not None:
            conditions.append("r.fetched_at >= ?")
            params.append(since)
        sql = (
            f"SELECT {_COLUMNS}, v.chain_hash, v.text_hash, "
            "(SELECT count(*) FROM versions w WHERE w.article_id = v.article_id "
            "AND w.id <= v.id), c.kind, c.kinds, c.significance "
            "FROM archive.responses r JOIN versions v ON v.id = r.version_id "
            "LEFT JOIN changes c ON c.to_version_id = v.id "
            f"WHERE {' AND '.join(conditions)} ORDER BY r.version_id"
        )
        for row in self.conn.execute(sql, params):
            chain, text_hash, number, kind, kinds, significance = row[9:]
            yield (
                self._response(row[:9]),
                {
                    "chain_hash": chain,
                    "text_hash": text_hash,
                    "version": number,
                    "change_kind": kind,
                    "change_kinds": json.loads(kinds) if kinds else [],
                    "significance": significance,
                },
            )

    def sizes(self) -> tuple[int, int, int]:
        """(responses, body bytes, compressed bytes) in the archive."""
        row = self.conn.execute(
            "SELECT count(*), coalesce(sum(body_size), 0), "
            "coalesce(sum(length(body_zstd)), 0) FROM archive.responses"
        ).fetchone()
        return row[0], row[1], row[2]

    def _response(self, row: tuple) -> Response:
        *fields, headers, encoding, digest, blob = row
        return Response(
            *fields,
            tuple((name, value) for name, value in json.loads(headers)),
            encoding,
            digest,
            self._decompressor.decompress(blob),
        )


_COLUMNS = (
    "r.version_id, r.article_id, r.url, r.fetched_at, r.status, r.headers, r.encoding, "
    "r.body_sha256, r.body_zstd"
)
_SELECT = f"SELECT {_COLUMNS} FROM archive.responses r"

"""The evidence archive's size per version on the corpus pages (docs/performance.md).

Archives every page of tests/corpus/pages into a fresh archive file, as a pass with
``[archive] keep = "all"`` would (one response per version, zstandard at the archive's
level), and prints the pages' total size, the compressed size, the ratio, and the
archive file's size per version.

    python bench/archive_size.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from crawler.storage.archive import Archive, archive_path
from crawler.storage.store import Store

PAGES = Path(__file__).parent.parent / "tests" / "corpus" / "pages"


def main() -> int:
    pages = sorted(PAGES.rglob("*.html"))
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "presswatch.db")
        archive = Archive.attach(store)
        assert archive is not None
        started = time.perf_counter()
        with store.transaction():
            for number, page in enumerate(pages, 1):
                body = page.read_bytes()
                headers = (("Content-Type", "text/html; charset=utf-8"),)
                archive.put(number, number, page.name, "2026-12-01T00:00:00Z", 200, headers,
                            "utf-8", body)  # fmt: skip
        seconds = time.perf_counter() - started
        count, raw, packed = archive.sizes()
        store.db.conn.execute("PRAGMA archive.wal_checkpoint(TRUNCATE)")
        file_size = archive_path(store.path).stat().st_size
        store.close()
    print(f"{count} pages, {raw / 1e6:.2f} MB as fetched, {packed / 1e6:.2f} MB compressed")
    print(f"ratio {raw / packed:.1f}:1, {packed / count / 1024:.1f} KiB per version compressed")
    print(f"archive file {file_size / 1e6:.2f} MB: {file_size / count / 1024:.1f} KiB per version")
    print(f"{seconds * 1000 / count:.1f} ms per page to compress and store")
    return 0


if __name__ == "__main__":
    sys.exit(main())

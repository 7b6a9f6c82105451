"""Regenerate the screenshots in docs/ from the demo, so they show what presswatch makes.

    python tools/screenshots.py            # writes docs/digest.png, dashboard.png, article.png
    python tools/screenshots.py --out DIR  # somewhere else (the tests do this)
    python tools/screenshots.py --db DB    # from a demo database already made

Builds the demo database, writes its HTML digest, asks ``presswatch serve``'s pages from
Datasette's own client and photographs each with headless Chromium: the digest at phone
size (412×915), the dashboard and the most edited article's timeline at desktop width.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
SHOTS = {  # file name: (page, width, height)
    "digest.png": ("digest.html", 412, 915),
    "dashboard.png": ("dashboard.html", 1000, 900),
    "article.png": ("article.html", 1000, 560),
}


def presswatch(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "crawler", *args], check=True, cwd=REPO)


async def served_pages(db: Path, folder: Path) -> None:
    """The dashboard and the most edited article's page, as presswatch serve answers."""
    sys.path.insert(0, str(REPO))
    from crawler.outputs.datasette import make_datasette
    from crawler.storage.store import Store

    store = Store.open(db)
    edited = store.most_edited_articles(10)
    most = max(edited, key=lambda a: len(store.article_versions(a["article_id"])))
    store.close()
    datasette = make_datasette(db)
    await datasette.invoke_startup()
    for name, path in [
        ("dashboard.html", "/-/presswatch/dashboard"),
        ("article.html", f"/-/presswatch/article/{most['article_id']}"),
    ]:
        response = await datasette.client.get(path)
        response.raise_for_status()
        (folder / name).write_text(response.text, encoding="utf-8")


def photograph(chromium: str, page: Path, shot: Path, width: int, height: int) -> None:
    profile = page.parent / "profile"
    subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--db", type=Path, help="a database made by presswatch demo")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("screenshots: Chromium is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        db = args.db or folder / "demo.db"
        if args.db is None:
            presswatch("demo", "--db", str(db), "--port", "0")
        presswatch(
            "digest",
            "--db",
            str(db),
            "--since",
            "30d",
            "--format",
            "html",
            "--output",
            str(folder / "digest.html"),
        )
        asyncio.run(served_pages(db, folder))
        args.out.mkdir(parents=True, exist_ok=True)
        for name, (page, width, height) in SHOTS.items():
            photograph(chromium, folder / page, args.out / name, width, height)
            print(f"screenshots: wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

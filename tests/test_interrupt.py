"""A pass stopped by SIGTERM ends cleanly, says so, and the next pass completes the work."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, SITES, rows, rows_so_far, run_cli

from crawler.demo.localsite import LocalSite

ARTICLES = 120
pytestmark = pytest.mark.slow  # a pass of 120 pages, stopped, then run again


def build_site(root):
    page = (SITES / "basic" / "news" / "a4.html").read_text(encoding="utf-8")
    padding = "".join(f"<li><a href='/nav/{i}'>Section {i}</a></li>" for i in range(600))
    items = []
    for number in range(ARTICLES):
        html = page.replace(
            "Budget committee approves rail funds",
            f"Budget committee approves rail funds, part {number}",
        )
        html = re.sub(r'<link rel="canonical"[^>]*>', "", html)  # each page its own article
        html = re.sub(r"(<body[^>]*>)", rf"\1<nav><ul>{padding}</ul></nav>", html, count=1)
        (root / f"story-{number}.html").write_text(html, encoding="utf-8")
        items.append(
            f"<item><title>Part {number}</title>"
            f"<link>{{{{BASE}}}}/story-{number}.html</link></item>"
        )
    (root / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>'
        f"<link>{{{{BASE}}}}/</link><description>d</description>{''.join(items)}"
        "</channel></rss>",
        encoding="utf-8",
    )


def test_sigterm_stops_a_pass_cleanly_and_the_next_pass_completes(tmp_path):
    (tmp_path / "site").mkdir()
    build_site(tmp_path / "site")
    db = tmp_path / "test.db"
    with LocalSite(tmp_path / "site") as site:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[storage]\ndb = "{db}"\n[crawl]\nallow_private_addresses = true\n'
            f'concurrency = 2\nextract_workers = 1\n[[sources]]\nname = "Many"\n'
            f'url = "{site.url("feed.xml")}"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        child = subprocess.Popen(
            [sys.executable, "-m", "crawler", "run", "--config", str(config), "--json"],
            stdout=subprocess.PIPE,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the pass has stored something
            time.sleep(0.2)
            so_far = rows_so_far(db, "SELECT count(*) n FROM articles")
            if so_far and so_far[0]["n"] >= 5:
                break
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=60)
        stored = rows(db, "SELECT count(*) n FROM articles")[0]["n"]
        assert child.returncode == 1
        assert b'"status": "interrupted"' in out
        assert 0 < stored <= ARTICLES  # a graceful stop finishes the pages in hand
        assert rows(db, "SELECT status FROM runs") == [{"status": "interrupted"}]
        # The feed was not marked as seen, so the next pass reads it again and finishes.
        assert rows(db, "SELECT etag FROM sources") == [{"etag": None}]
        again = run_cli("run", "--config", str(config), "--json")
        assert again.code == 0, again.stderr
        assert rows(db, "SELECT count(*) n FROM articles")[0]["n"] == ARTICLES
        assert rows(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]

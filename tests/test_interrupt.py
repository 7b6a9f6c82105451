"""A pass stopped by SIGTERM ends cleanly, says so, and the next pass completes the work."""

from __future__ import annotations

import re
import signal
import time

import pytest
from conftest import SITES, SlowSite, rows, rows_so_far, run_cli, start_cli

ARTICLES = 40
pytestmark = pytest.mark.slow  # a pass of 40 slow pages, stopped, then run again


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
    # each page answers after 0.3 s: the pass is still fetching when it is stopped
    with SlowSite(tmp_path / "site", delay=0.3) as site:
        config, unpaced = tmp_path / "config.toml", tmp_path / "unpaced.toml"
        for path, pace in ((config, ""), (unpaced, "autothrottle = false\n")):
            path.write_text(
                f'[storage]\ndb = "{db}"\n[crawl]\nallow_private_addresses = true\n'
                f'concurrency = 2\nextract_workers = 1\n{pace}[[sources]]\nname = "Many"\n'
                f'url = "{site.url("feed.xml")}"\n',
                encoding="utf-8",
            )
        with open(tmp_path / "pass.out", "wb") as out, open(tmp_path / "pass.err", "wb") as err:
            child = start_cli("run", "--config", str(config), "--json", stdout=out, stderr=err)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the pass has stored something
            time.sleep(0.2)
            so_far = rows_so_far(db, "SELECT count(*) n FROM articles")
            if so_far and so_far[0]["n"] >= 5:
                break
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=60)
        stored = rows(db, "SELECT count(*) n FROM articles")[0]["n"]
        assert child.returncode == 1, (tmp_path / "pass.err").read_text()
        assert '"status": "interrupted"' in (tmp_path / "pass.out").read_text()
        assert 0 < stored < ARTICLES  # a graceful stop finishes the pages in hand, no more
        assert rows(db, "SELECT status FROM runs") == [{"status": "interrupted"}]
        # The feed was not marked as seen, so the next pass reads it again and finishes
        # (at the site's own speed: its pace is not what is tested here).
        assert rows(db, "SELECT etag FROM sources") == [{"etag": None}]
        with site.answering_at_once():
            again = run_cli("run", "--config", str(unpaced), "--json")
        assert again.code == 0, again.stderr
        assert rows(db, "SELECT count(*) n FROM articles")[0]["n"] == ARTICLES
        assert rows(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]

"""Logs are lines: a pass over a site whose pages fail writes one short line per problem,
never a page; --quiet speaks only of news; --verbose has Scrapy's details; --log-format
json is one object per line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import free_port, rows, run_cli, start_cli

from crawler.demo.localsite import LocalSite

EMPTY, MISSING, BROKEN = 12, 4, 2
PAYLOAD = "RAWPAGEBODY"


def build_failing_site(root: Path) -> None:
    """A feed of pages without article text (each with a large script), 404s and 500s."""
    root.mkdir()
    links = []
    for n in range(EMPTY):
        (root / f"gallery{n}.html").write_text(
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title></title></head><body>'
            f"<main>{'<img src=/a.jpg alt=>' * 30}</main>"
            f"<script>var gallery = '{PAYLOAD * 400}';</script></body></html>",
            encoding="utf-8",
        )
        links.append(f"/gallery{n}.html")
    links += [f"/missing{n}.html" for n in range(MISSING)]
    links += [f"/broken{n}.html" for n in range(BROKEN)]
    (root / "_redirects.txt").write_text(
        "".join(f"/broken{n}.html 500\n" for n in range(BROKEN)), encoding="utf-8"
    )
    entries = "".join(
        f"<item><title>Story {n}</title><link>{{{{BASE}}}}{link}</link></item>"
        for n, link in enumerate(links)
    )
    (root / "feed.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{entries}'
        "</channel></rss>",
        encoding="utf-8",
    )


@pytest.fixture
def failing_site(tmp_path) -> LocalSite:
    build_failing_site(tmp_path / "site")
    with LocalSite(tmp_path / "site") as site:
        yield site


def failing_config(tmp_path: Path, site: LocalSite) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\ndb = "{tmp_path / "pw.db"}"\n\n'
        "[crawl]\nallow_private_addresses = true\ntimeout = 5\n"
        "extract_workers = 0\nautothrottle = false\n\n"
        f'[[sources]]\nname = "Gallery"\nurl = "{site.url("feed.xml")}"\n\n'
        f'[[sources]]\nname = "Dead"\nurl = "http://127.0.0.1:{free_port()}/feed.xml"\n',
        encoding="utf-8",
    )
    return config


@pytest.mark.slow
def test_a_pass_over_failing_pages_logs_one_short_line_per_problem(tmp_path, failing_site):
    config = failing_config(tmp_path, failing_site)
    first = run_cli("run", "--config", str(config), "--quiet")
    assert first.code == 0 and first.stdout == ""
    [news] = first.stderr.splitlines()  # only what is new: a source started failing
    assert "source Dead started failing: connection refused" in news

    default = run_cli("run", "--config", str(config))
    assert default.code == 0, default.stderr
    first_errors = rows(tmp_path / "pw.db", "SELECT url FROM errors WHERE run_id = 1")
    assert len(first_errors) == EMPTY + MISSING + BROKEN + 1
    # The missing pages are remembered as gone (gone_links), so the second pass does not
    # fetch them again: what it logs is the rest.
    errors = rows(tmp_path / "pw.db", "SELECT url, message FROM errors WHERE run_id = 2")
    assert len(errors) == EMPTY + BROKEN + 1
    lines = default.stderr.splitlines()
    assert len(default.stderr.encode()) < 200 * len(lines) < 200 * (len(errors) + 3)
    assert PAYLOAD not in default.stderr and "Traceback" not in default.stderr
    for error in errors:
        [line] = [
            line
            for line in lines
            if error["url"] in line
            or ("source Dead" in line and error["url"].endswith("/feed.xml"))
        ]
        assert error["message"] in line
    assert sum("no article text found on the page" in line for line in lines) == EMPTY
    assert "source Dead failed again: connection refused" in default.stderr
    assert "pass 2 started" in lines[0] and "pass 2 ok in " in lines[-1]

    again = run_cli("run", "--config", str(config), "--quiet")
    assert (again.code, again.stdout, again.stderr) == (0, "", "")  # nothing new: no mail


@pytest.mark.slow
def test_verbose_shows_scrapy_and_json_is_one_object_per_line(tmp_path, failing_site):
    config = failing_config(tmp_path, failing_site)
    log = tmp_path / "logs" / "pass.log"  # the folder is created
    verbose = run_cli(
        "run", "--config", str(config), "--verbose", "--log-format", "json", "--log-file", str(log)
    )
    assert verbose.code == 0, verbose.stderr
    entries = [json.loads(line) for line in verbose.stderr.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(entry["logger"].startswith("scrapy") for entry in entries)
    assert any("traceback" in entry for entry in entries)  # robots.txt of Dead
    assert PAYLOAD not in verbose.stderr
    assert [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.slow
def test_of_two_passes_started_together_the_loser_leaves_one_line(tmp_path):
    import socket

    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\ndb = "{tmp_path / "pw.db"}"\n\n'
        "[crawl]\nallow_private_addresses = true\ntimeout = 3\nobey_robots = false\n\n"
        f'[[sources]]\nname = "Slow"\nurl = "http://127.0.0.1:{silent.getsockname()[1]}/f"\n',
        encoding="utf-8",
    )
    log = tmp_path / "log" / "run.log"
    command = ("run", "--config", str(config), "--quiet", "--log-file", str(log))
    files = [(tmp_path / f"{n}.out", tmp_path / f"{n}.err") for n in range(2)]
    try:
        children = []
        for out, err in files:
            with out.open("wb") as stdout, err.open("wb") as stderr:
                children.append(start_cli(*command, stdout=stdout, stderr=stderr))
        for child in children:
            child.wait(timeout=120)
    finally:
        silent.close()
    outputs = [(out.read_text(), err.read_text()) for out, err in files]
    codes = sorted(child.returncode for child in children)
    assert codes == [0, 1], outputs  # the winner: its one source failed (exit 1)
    skipped = [line for line in log.read_text().splitlines() if "pass skipped: " in line]
    assert len(skipped) == 1 and "another presswatch pass is running" in skipped[0]
    loser = next(out for child, out in zip(children, outputs, strict=True) if child.returncode == 0)
    assert loser == ("", "")  # --quiet: nothing for cron to mail

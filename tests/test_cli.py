"""The command line as a user calls it."""

from __future__ import annotations

import pytest
from conftest import copy_demo, invoke, rows, run_cli, write_config


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.code == 0
    for command in ("run", "demo", "diff"):
        assert command in result.stdout


def test_help_summarises_each_command_in_its_own_words():
    # `presswatch --help` lists the commands without importing them, from a table: each
    # summary there is the first sentence of the command's own help, and each command
    # answers to its name.
    import subprocess
    import sys

    from crawler.commands.main import COMMANDS, cli

    listed = invoke("--help").stdout
    for name, (_, summary) in COMMANDS.items():
        command = cli.get_command(None, name)
        assert command.name == name
        assert command.get_short_help_str(10**6) == summary
        assert f"  {name} " in listed
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys; from crawler.commands.main import main; "
         "sys.argv = ['presswatch', '--help']\ntry: main()\nexcept SystemExit: pass\n"
         "print(sorted(m for m in sys.modules if m.startswith('crawler.')))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "crawler.commands.run" not in loaded and "crawler.config" not in loaded


def test_a_bad_config_exits_2_naming_file_key_and_problem(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[crawl]\nconcurrency = "lots"\n')
    result = invoke("run", "--config", str(config))
    assert result.code == 2
    assert result.stderr.strip() == (
        f"presswatch: error: {config}: crawl.concurrency: expected an integer, got 'lots'"
    )
    assert "Traceback" not in result.stderr


def test_a_missing_config_exits_2(tmp_path):
    result = invoke("run", "--config", str(tmp_path / "absent.toml"))
    assert result.code == 2
    assert "absent.toml: cannot read" in result.stderr


def test_an_unknown_source_exits_2(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[sources]]\nname = "A"\nurl = "https://a.example/feed"\n')
    result = invoke("run", "--config", str(config), "--source", "B")
    assert result.code == 2
    assert "no source named 'B'" in result.stderr


@pytest.mark.parametrize("args", [("run", "--config", "absent.toml"), ("diff", "--help")])
def test_a_forked_child_answers_as_a_fresh_interpreter(tmp_path, monkeypatch, args):
    """The tests' children are forked from a process that has imported presswatch
    (tests/forkserver.py): a command says the same as in a fresh ``python -m crawler``."""
    forked = run_cli(*args, cwd=tmp_path)
    monkeypatch.setenv("PRESSWATCH_TEST_FORKSERVER", "0")
    fresh = run_cli(*args, cwd=tmp_path)
    assert (forked.code, forked.stdout, forked.stderr) == (fresh.code, fresh.stdout, fresh.stderr)
    assert forked.stdout or forked.stderr


def test_the_demo_runs_offline_and_reports_what_it_found(demo):
    db, result = demo.db, demo.result
    assert result.code == 0, result.stderr
    assert "Articles per source:" in result.stdout
    assert "Mentions per topic:" in result.stdout
    articles = rows(db, "SELECT count(*) n FROM articles")[0]["n"]
    assert articles >= 30
    topics = rows(
        db,
        "SELECT t.name, count(m.id) n FROM topics t LEFT JOIN mentions m "
        "ON m.topic_id = t.id GROUP BY t.id",
    )
    assert all(topic["n"] > 0 for topic in topics), topics
    assert rows(db, "SELECT count(*) n FROM skipped")[0]["n"] == 1
    assert f"Explore it in Datasette: presswatch serve --db {db}" in result.stdout


DEMO_CHANGES = (
    "SELECT c.kind, a.title, c.title_before, c.title_after, c.mentions_added, "
    "c.diff FROM changes c JOIN articles a ON a.id = c.article_id ORDER BY c.id"
)


@pytest.mark.slow
def test_the_demo_shows_the_edits_of_a_second_edition_and_reruns_without_doubling(tmp_path, demo):
    db, result = copy_demo(demo, tmp_path), demo.result  # the rerun writes to it
    assert result.code == 0, result.stderr
    changes = rows(db, DEMO_CHANGES)
    kinds = sorted(change["kind"] for change in changes)
    assert kinds == ["edited", "edited", "removed", "retitled"]
    retitled = next(c for c in changes if c["kind"] == "retitled")
    assert retitled["title_before"] != retitled["title_after"]
    edited = [c for c in changes if c["kind"] == "edited"]
    assert {c["mentions_added"] for c in edited} == {"[]", '["NATO"]'}
    reworded = next(c for c in edited if c["mentions_added"] == "[]")
    assert "[-" in reworded["diff"] and "{+" in reworded["diff"]

    out = result.stdout
    changes_shown = out[out.index("Changes found") :]
    assert retitled["title_after"] in changes_shown
    assert "topics: +NATO" in changes_shown
    assert "[-not-] in [-danger.-]{+serious difficulty.+}" in changes_shown
    assert "removed" in changes_shown

    # The database knows the site by a name, not by the port it happened to be served on.
    assert all(
        url.startswith("http://demo.presswatch.test/")
        for url in (r["url"] for r in rows(db, "SELECT url FROM articles"))
    )
    counts = (
        "SELECT (SELECT count(*) FROM articles) a, (SELECT count(*) FROM versions) v, "
        "(SELECT count(*) FROM changes) c, (SELECT count(*) FROM mentions) m"
    )
    before = rows(db, counts)
    again = run_cli("demo", "--db", str(db), "--port", "0")
    assert again.code == 0, again.stderr
    assert rows(db, counts) == before


def test_quiet_prints_nothing_on_success(tmp_path, basic_site):
    config = write_config(tmp_path / "config.toml", basic_site, [("Wire", "wire/atom.xml")], [])
    result = run_cli("run", "--config", str(config), "--quiet")
    assert result.code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_quiet_prints_the_summary_when_every_source_failed(tmp_path, basic_site):
    config = write_config(tmp_path / "config.toml", basic_site, [("B", "broken/feed.xml")], [])
    result = run_cli("run", "--config", str(config), "--quiet")
    assert result.code == 1
    assert "1 polled, 1 failed" in result.stderr


def test_log_file_keeps_a_trail(tmp_path, basic_site):
    config = write_config(tmp_path / "config.toml", basic_site, [("Wire", "wire/atom.xml")], [])
    log = tmp_path / "presswatch.log"
    result = run_cli("run", "--config", str(config), "--quiet", "--log-file", str(log))
    assert result.code == 0, result.stderr
    assert "INFO" in log.read_text()


def test_a_second_run_while_the_database_is_locked(tmp_path, basic_site):
    from crawler.storage.lock import DatabaseLock

    config = write_config(tmp_path / "config.toml", basic_site, [("Wire", "wire/atom.xml")], [])
    log = tmp_path / "logs" / "run.log"
    with DatabaseLock(tmp_path / "test.db"):
        skipped = run_cli("run", "--config", str(config))
        quiet = run_cli("run", "--config", str(config), "--quiet", "--log-file", str(log))
        waited = run_cli("run", "--config", str(config), "--wait", "0.5")
    assert skipped.code == 0 and skipped.stdout == ""
    [line] = skipped.stderr.splitlines()
    assert "pass skipped: " in line and "another presswatch pass is running" in line
    assert (quiet.code, quiet.stdout, quiet.stderr) == (0, "", "")
    [logged] = log.read_text().splitlines()
    assert "pass skipped: " in logged and "is held by process" in logged
    assert waited.code == 3
    assert "after waiting 0.5s" in waited.stderr
    assert not (tmp_path / "test.db").exists() or not rows(
        tmp_path / "test.db", "SELECT * FROM runs"
    )


def test_digest_after_a_real_pass(tmp_path, basic_site):
    config = write_config(
        tmp_path / "config.toml",
        basic_site,
        [("News", "news/feed.xml")],
        [("Greenland", "Greenland"), ("NATO", "NATO")],
    )
    assert run_cli("run", "--config", str(config)).code == 0
    markdown = invoke("digest", "--config", str(config))
    assert markdown.code == 0, markdown.stderr
    assert "Greenland talks resume in Nuuk" in markdown.stdout
    again = invoke("digest", "--config", str(config), "--unsent", "--format", "json")
    first = again.json()
    assert {t["name"] for t in first["topics"]} == {"Greenland", "NATO"}
    empty = invoke("digest", "--config", str(config), "--unsent", "--format", "json").json()
    assert empty["topics"] == []
    bad = invoke("digest", "--config", str(config), "--since", "yesterday")
    assert bad.code == 2
    assert "yesterday" in bad.stderr


def test_a_pass_at_a_terminal_shows_progress_and_cron_does_not(tmp_path, basic_site):
    import os
    import pty
    import subprocess
    import sys

    from conftest import REPO

    config = write_config(tmp_path / "config.toml", basic_site, [("Wire", "wire/atom.xml")], [])
    master, terminal = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    child.communicate(timeout=120)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    assert child.returncode == 0
    assert b"sources 1/1" in shown and b"new 3" in shown
    piped = run_cli("run", "--config", str(config))
    assert "sources 1/1" not in piped.stderr

"""The command line as a user calls it."""

from __future__ import annotations

from conftest import rows, run_cli


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.code == 0
    for command in ("run", "demo", "diff"):
        assert command in result.stdout


def test_a_bad_config_exits_2_naming_file_key_and_problem(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[crawl]\nconcurrency = "lots"\n')
    result = run_cli("run", "--config", str(config))
    assert result.code == 2
    assert result.stderr.strip() == (
        f"presswatch: error: {config}: crawl.concurrency: expected an integer, got 'lots'")
    assert "Traceback" not in result.stderr


def test_a_missing_config_exits_2(tmp_path):
    result = run_cli("run", "--config", str(tmp_path / "absent.toml"))
    assert result.code == 2
    assert "absent.toml: cannot read" in result.stderr


def test_an_unknown_source_exits_2(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[sources]]\nname = "A"\nurl = "https://a.example/feed"\n')
    result = run_cli("run", "--config", str(config), "--source", "B")
    assert result.code == 2
    assert "no source named 'B'" in result.stderr


def test_the_demo_runs_offline_and_reports_what_it_found(tmp_path):
    db = tmp_path / "demo.db"
    result = run_cli("demo", "--db", str(db), "--port", "0")
    assert result.code == 0, result.stderr
    assert "Articles per source:" in result.stdout
    assert "Mentions per topic:" in result.stdout
    articles = rows(db, "SELECT count(*) n FROM articles")[0]["n"]
    assert articles >= 30
    topics = rows(db, "SELECT t.name, count(m.id) n FROM topics t LEFT JOIN mentions m "
                      "ON m.topic_id = t.id GROUP BY t.id")
    assert all(topic["n"] > 0 for topic in topics), topics
    assert rows(db, "SELECT count(*) n FROM skipped")[0]["n"] == 1

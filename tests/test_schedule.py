"""The scheduler: its [schedule] settings, the jobs it plans, and real runs of it against
the served sample site: passes that never overlap, a clean stop, a hung pass cut off."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import REPO, rows, rows_so_far, write_config

from crawler.config import ConfigError, ScheduleConfig, parse_config
from crawler.ops.schedule import (
    CRAWLER,
    JobSpec,
    end_process,
    plan_jobs,
    record_failed_pass,
    short_interval_warnings,
)
from crawler.storage.store import Store

EMAIL = {"host": "smtp.example.org", "from": "pw@example.org", "to": ["desk@example.org"]}


def config_with(
    schedule: dict | None = None, sources: list[dict] | None = None, digest: dict | None = None
):
    data: dict = {"storage": {"db": "/data/pw/presswatch.db"}}
    if schedule is not None:
        data["schedule"] = schedule
    if sources is not None:
        data["sources"] = sources
    if digest is not None:
        data["digest"] = digest
    return parse_config(data)


def source(name: str, interval: str | None = None) -> dict:
    entry = {"name": name, "url": f"https://{name.lower()}.example/feed.xml"}
    return entry | ({"interval": interval} if interval else {})


# -- [schedule] ---------------------------------------------------------------------------


def test_schedule_defaults():
    assert config_with().schedule == ScheduleConfig(
        interval=timedelta(minutes=15),
        recheck_interval=timedelta(minutes=5),
        digest_at=time_of_day(7, 0),
        timezone="UTC",
        pass_timeout=timedelta(minutes=30),
        misfire_grace=timedelta(minutes=5),
    )


def test_schedule_settings_are_read():
    schedule = config_with(
        {
            "interval": "1h",
            "recheck_interval": "10m",
            "digest_at": "6:30",
            "timezone": "Europe/Berlin",
            "pass_timeout": "20m",
            "misfire_grace": "30s",
        }
    ).schedule
    assert schedule.interval == timedelta(hours=1)
    assert schedule.recheck_interval == timedelta(minutes=10)
    assert schedule.digest_at == time_of_day(6, 30)
    assert schedule.timezone == "Europe/Berlin"
    assert schedule.pass_timeout == timedelta(minutes=20)
    assert schedule.misfire_grace == timedelta(seconds=30)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"intervals": "15m"}, "schedule.intervals: unknown key"),
        ({"interval": 15}, "schedule.interval: expected a string, got 15"),
        ({"interval": "0s"}, "schedule.interval: '0s': a duration must be positive"),
        ({"pass_timeout": "forever"}, "schedule.pass_timeout: 'forever' is not a duration"),
        ({"digest_at": "7am"}, "schedule.digest_at: '7am' is not a time of day (HH:MM"),
        ({"digest_at": "24:00"}, "schedule.digest_at: '24:00' is not a time of day"),
        ({"timezone": "Europe/Atlantis"}, "schedule.timezone: unknown time zone 'Europe/Atlantis'"),
        ({"timezone": "Europe"}, "schedule.timezone: unknown time zone 'Europe'"),
    ],
)
def test_bad_schedule_settings_name_the_key(schedule, message):
    with pytest.raises(ConfigError) as caught:
        parse_config({"schedule": schedule}, file="my.toml")
    assert str(caught.value).startswith("my.toml: ")
    assert message in str(caught.value)


# -- plan_jobs --------------------------------------------------------------------------


def test_sources_are_polled_in_groups_by_interval():
    config = config_with(
        {"interval": "15m"}, [source("A"), source("B", "1h"), source("C"), source("D", "5m")]
    )
    jobs = plan_jobs(config, "/etc/pw/config.toml")
    polls = [job for job in jobs if job.args[0] == "run" and "--no-sources" not in job.args]
    assert [(job.name, job.every) for job in polls] == [
        ("poll every 5m", timedelta(minutes=5)),
        ("poll every 15m", timedelta(minutes=15)),
        ("poll every 1h", timedelta(hours=1)),
    ]
    assert polls[1].args == (
        "run",
        "--config",
        "/etc/pw/config.toml",
        "--recheck",
        "none",
        "--source=A",
        "--source=C",
    )
    assert polls[0].args[-1] == "--source=D"


def test_each_interval_group_has_its_own_name():
    jobs = plan_jobs(config_with({"interval": "1s"}, [source("A"), source("B", "1.5s")]), "c")
    assert [job.name for job in jobs] == ["poll every 1s", "poll every 1.5s", "recheck", "digest"]


def test_due_revisits_run_without_polling_sources():
    jobs = plan_jobs(
        config_with({"recheck_interval": "2m"}, [source("A")]), "config.toml", "/tmp/x.db"
    )
    recheck = next(job for job in jobs if job.name == "recheck")
    assert recheck.every == timedelta(minutes=2)
    assert recheck.args == (
        "run",
        "--config",
        str(Path("config.toml").absolute()),
        "--db",
        "/tmp/x.db",
        "--no-sources",
        "--recheck",
        "due",
    )


def test_the_digest_is_written_next_to_the_database_without_email():
    jobs = plan_jobs(config_with({"digest_at": "06:45", "timezone": "Europe/Berlin"}), "c.toml")
    digest = jobs[-1]
    assert (digest.name, digest.daily_at, digest.timezone) == (
        "digest",
        time_of_day(6, 45),
        "Europe/Berlin",
    )
    assert digest.folder == Path("/data/pw/digests")
    assert digest.command(date(2026, 11, 25))[len(CRAWLER) :] == [
        "digest",
        "--config",
        str(Path("c.toml").absolute()),
        "--unsent",
        "--output",
        "/data/pw/digests/digest-2026-11-25.md",
    ]


def test_the_digest_is_mailed_and_written_when_email_is_configured():
    jobs = plan_jobs(config_with(digest={"email": EMAIL}), "c.toml", "other/pw.db")
    digest = jobs[-1]
    assert digest.args[-4:-1] == ("--unsent", "--send", "--output")
    assert digest.args[-1].endswith("digest-{date}.md")
    assert "--db" in digest.args and digest.folder == Path("other").absolute() / "digests"


def test_json_logs_are_passed_on_to_the_passes():
    jobs = plan_jobs(config_with(sources=[source("A")]), "c.toml", log_format="json")
    assert [job.args[-1] == "--log-format=json" for job in jobs] == [True, True, False]


def test_digest_at_may_name_seconds():
    assert config_with({"digest_at": "06:45:30"}).schedule.digest_at == time_of_day(6, 45, 30)


def test_without_sources_only_the_recheck_and_digest_are_planned():
    assert [job.name for job in plan_jobs(config_with(), "c.toml")] == ["recheck", "digest"]


def test_every_job_runs_python_m_crawler():
    for job in plan_jobs(config_with(sources=[source("A")]), "c.toml"):
        assert job.command(date(2026, 1, 1))[:3] == [sys.executable, "-m", "crawler"]


def test_triggers_fire_at_the_interval_and_at_the_digest_time_in_its_zone():
    interval = JobSpec("poll", ("run",), every=timedelta(seconds=90))
    assert interval.trigger().interval == timedelta(seconds=90)
    digest = JobSpec("digest", ("digest",), daily_at=time_of_day(7, 0), timezone="Europe/Berlin")
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    fire = digest.trigger().get_next_fire_time(None, now)
    assert fire.astimezone(UTC) == datetime(2026, 7, 2, 5, 0, tzinfo=UTC)  # 07:00 CEST


def test_intervals_below_a_minute_are_accepted_with_a_warning():
    jobs = plan_jobs(
        config_with({"interval": "2s", "recheck_interval": "5m"}, [source("A"), source("B", "1m")]),
        "c.toml",
    )
    warnings = short_interval_warnings(jobs)
    assert len(warnings) == 1
    assert warnings[0].startswith("poll every 2s: runs every 2s, more often than once a minute")


# -- recording a pass that was stopped --------------------------------------------------


def test_a_stopped_pass_closes_its_run_as_timeout_with_an_error(tmp_path):
    db = tmp_path / "pw.db"
    store = Store.open(db)
    earlier = store.start_run("2026-11-25T09:00:00Z")  # not this pass's: left alone
    mine = store.start_run("2026-11-25T10:00:01Z")
    store.close()
    assert record_failed_pass(db, "2026-11-25T10:00:00Z", "timeout", "too slow") == mine
    runs = {run["id"]: run for run in rows(db, "SELECT * FROM runs")}
    assert runs[mine]["status"] == "timeout" and runs[mine]["finished_at"]
    assert runs[mine]["errors"] == 1
    assert runs[earlier]["status"] == "running"
    [error] = rows(db, "SELECT * FROM errors")
    assert (error["run_id"], error["stage"], error["message"]) == (mine, "schedule", "too slow")


def test_a_pass_stopped_before_it_started_its_run_gets_one(tmp_path):
    db = tmp_path / "pw.db"
    assert record_failed_pass(db, "2026-11-25T10:00:00Z", "failed", "crashed") is None
    assert rows(db, "SELECT * FROM runs") == []
    run_id = record_failed_pass(db, "2026-11-25T10:00:00Z", "timeout", "too slow", always=True)
    [run] = rows(db, "SELECT * FROM runs")
    assert (run["id"], run["status"], run["started_at"]) == (
        run_id,
        "timeout",
        "2026-11-25T10:00:00Z",
    )


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period():
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, "
            "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert child.stdout.readline().strip() == "ready"
    started = time.monotonic()
    end_process(child, grace=1)
    assert child.returncode == -signal.SIGKILL
    assert 0.9 <= time.monotonic() - started < 10


# -- the scheduler, for real ------------------------------------------------------------


def start_scheduler(config: Path, log: Path) -> subprocess.Popen:
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, str(REPO / "scheduler.py"), "--config", str(config)],
            stderr=stderr,
            cwd=config.parent,
        )


def wait_for(
    db: Path, sql: str, enough: int, timeout: float, scheduler: subprocess.Popen
) -> list[dict]:
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline and scheduler.poll() is None:
        found = rows_so_far(db, sql)
        if len(found) >= enough:
            return found
        time.sleep(0.3)
    return found


def stop(scheduler: subprocess.Popen) -> int:
    scheduler.send_signal(signal.SIGTERM)
    try:
        return scheduler.wait(timeout=120)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()


@pytest.mark.slow
def test_passes_run_one_at_a_time_and_sigterm_stops_cleanly(tmp_path, basic_site):
    config = write_config(
        tmp_path / "config.toml",
        basic_site,
        [("News", "news/feed.xml"), ("Wire", "wire/atom.xml")],
        [("NATO", "NATO")],
        extra='[schedule]\ninterval = "2s"\nrecheck_interval = "2s"\n',
    )
    db, log = tmp_path / "test.db", tmp_path / "scheduler.log"
    scheduler = start_scheduler(config, log)
    try:
        finished = wait_for(
            db, "SELECT id FROM runs WHERE finished_at IS NOT NULL", 5, 120, scheduler
        )
        assert len(finished) >= 5, log.read_text()
    finally:
        code = stop(scheduler)
    assert code == 0, log.read_text()
    runs = rows(db, "SELECT * FROM runs ORDER BY id")
    assert not [run for run in runs if run["status"] == "running"]
    for before, after in pairwise(runs):
        assert before["finished_at"] <= after["started_at"], (before, after)
    polls = [run for run in runs if run["sources_polled"] == 2]
    assert polls and polls[0]["articles_new"] == 7
    assert [run for run in runs if run["sources_polled"] == 0]  # the recheck passes
    assert rows(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    text = log.read_text()
    assert "poll every 2s: started " in text and "recheck: started " in text
    assert "stopped" in text.splitlines()[-1]


@pytest.fixture
def hung_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for connection in held:
        connection.close()


@pytest.mark.slow
def test_a_hung_pass_is_cut_off_at_the_pass_time_limit(tmp_path, hung_server):
    db = tmp_path / "test.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\ndb = "{db}"\n\n'
        "[crawl]\nallow_private_addresses = true\ntimeout = 60\n\n"
        '[schedule]\ninterval = "1h"\nrecheck_interval = "1h"\n'
        'pass_timeout = "3s"\n\n'
        f'[[sources]]\nname = "Hung"\nurl = "{hung_server}/feed.xml"\n',
        encoding="utf-8",
    )
    log = tmp_path / "scheduler.log"
    scheduler = start_scheduler(config, log)
    started = time.monotonic()
    try:
        timed_out = wait_for(db, "SELECT * FROM runs WHERE status = 'timeout'", 1, 90, scheduler)
    finally:
        code = stop(scheduler)
    assert timed_out, log.read_text()
    assert time.monotonic() - started < 60
    assert code == 0
    [error] = rows(db, "SELECT * FROM errors WHERE run_id = ?", (timed_out[0]["id"],))
    assert error["stage"] == "schedule"
    assert "pass time limit of 3s" in error["message"]
    assert not rows(db, "SELECT * FROM runs WHERE status = 'running'")
    assert "poll every 1h: started" in log.read_text()


def test_a_bad_config_is_a_usage_error(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[schedule]\ndigest_at = "25:00"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(REPO / "scheduler.py"), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "schedule.digest_at: '25:00' is not a time of day" in done.stderr


def test_with_a_cluster_the_scheduler_enqueues_instead_of_running_passes():
    config = parse_config({"sources": [source("A")], "cluster": {"redis": "redis://10.0.0.5/0"}})
    jobs = {job.name: job for job in plan_jobs(config, "c.toml")}
    assert jobs["poll every 15m"].args[0] == "enqueue"
    assert jobs["recheck"].args[:1] == ("enqueue",)
    assert jobs["digest"].args[0] == "digest"
    with pytest.raises(ConfigError, match=r"cluster.redis: expected a redis://"):
        parse_config({"cluster": {"redis": "10.0.0.5:6379"}})

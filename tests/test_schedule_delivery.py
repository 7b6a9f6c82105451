"""The scheduler delivers: the real ``presswatch schedule`` fires the digest at its time
(mailed to a real SMTP server on 127.0.0.1 and written next to the database), catches up
on a digest it missed by less than ``misfire_grace``, never twice, and stops at once on
SIGTERM when idle."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import REPO, free_port, rows
from test_mail import Inbox

from crawler.ops.schedule import JobSpec, missed_at_start
from crawler.outputs.digest import Period, mark_sent, record_digest
from crawler.storage.store import Store
from crawler.times import to_iso

GRACE = timedelta(minutes=5)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def write_schedule_config(
    folder: Path, digest_at: datetime, smtp_port: int, grace: str = "5m"
) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[storage]\ndb = "{folder / "pw.db"}"\n\n'
        f'[schedule]\nrecheck_interval = "1h"\ndigest_at = "{digest_at:%H:%M:%S}"\n'
        f'timezone = "UTC"\nmisfire_grace = "{grace}"\n\n'
        f'[digest.email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        'from = "presswatch <pw@example.org>"\nto = ["desk@example.org"]\n',
        encoding="utf-8",
    )
    return config


def start(config: Path, log: Path, *options: str) -> subprocess.Popen:
    with log.open("a") as stderr:
        return subprocess.Popen(
            [sys.executable, str(REPO / "scheduler.py"), "--config", str(config), *options],
            stderr=stderr,
            cwd=config.parent,
        )


def wait_until(condition, timeout: float, scheduler: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and scheduler.poll() is None:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def stop(scheduler: subprocess.Popen) -> tuple[int, float]:
    """SIGTERM; the exit status and the seconds from the signal to the exit."""
    signalled = time.monotonic()
    scheduler.send_signal(signal.SIGTERM)
    try:
        code = scheduler.wait(timeout=60)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
    return code, time.monotonic() - signalled


def sent_digests(db: Path) -> list[dict]:
    if not db.exists():
        return []
    return rows(db, "SELECT * FROM digests WHERE sent_at IS NOT NULL ORDER BY id")


@pytest.mark.slow
def test_the_digest_arrives_at_its_time_and_an_idle_scheduler_stops_at_once(tmp_path, smtp):
    inbox, port = smtp
    digest_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=8)
    config = write_schedule_config(tmp_path, digest_at, port)
    db, log = tmp_path / "pw.db", tmp_path / "scheduler.log"
    scheduler = start(config, log)
    try:
        assert wait_until(lambda: inbox.envelopes, 60, scheduler), log.read_text()
        received = datetime.now(UTC)
        assert wait_until(lambda: "digest: started" in log.read_text(), 20, scheduler)
    finally:
        code, seconds = stop(scheduler)
    assert code == 0, log.read_text()
    assert seconds < 2, f"an idle scheduler took {seconds:.2f}s to stop on SIGTERM"
    assert digest_at <= received < digest_at + timedelta(seconds=30)
    [row] = sent_digests(db)
    assert row["recipients"] == "desk@example.org"
    assert row["period_end"] >= to_iso(digest_at)
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["desk@example.org"]
    assert inbox.message()["Subject"].startswith("presswatch digest: ")
    written = tmp_path / "digests" / f"digest-{datetime.now(UTC):%Y-%m-%d}.md"
    assert written.exists() or list((tmp_path / "digests").glob("digest-*.md"))
    text = log.read_text()
    assert f"job digest: daily at {digest_at:%H:%M:%S} UTC" in text
    assert "stopped" in text.splitlines()[-1]


@pytest.mark.slow
def test_a_digest_missed_within_the_grace_runs_once_at_start_and_never_twice(tmp_path, smtp):
    inbox, port = smtp
    digest_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    config = write_schedule_config(tmp_path, digest_at, port)
    db = tmp_path / "pw.db"
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    for log, fmt in zip(logs, ("text", "json"), strict=True):  # the second finds it covered
        scheduler = start(config, log, "--log-format", fmt)
        try:
            wait_until(lambda log=log: "recheck: started" in log.read_text(), 30, scheduler)
            time.sleep(1)
        finally:
            code, _ = stop(scheduler)
        assert code == 0, log.read_text()
    first, second = (log.read_text() for log in logs)
    assert "digest: started" in first and "exit 0" in first, first
    assert "digest: started" not in second, second
    entries = [json.loads(line) for line in second.splitlines()]  # the passes' lines too
    assert {"presswatch.schedule", "presswatch.pass"} <= {entry["logger"] for entry in entries}
    assert len(inbox.envelopes) == 1
    assert len(sent_digests(db)) == 1


# -- the decision, without a scheduler ------------------------------------------------------

DIGEST = JobSpec("digest", ("digest",), daily_at=time_of_day(7, 0), timezone="Europe/Berlin")
FIRED = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)  # 07:00 in Berlin (CEST)


def test_a_digest_is_caught_up_only_within_the_grace(tmp_path):
    db = tmp_path / "pw.db"
    assert missed_at_start(DIGEST, db, FIRED + timedelta(minutes=4), GRACE)
    assert not missed_at_start(DIGEST, db, FIRED + timedelta(minutes=6), GRACE)
    assert not missed_at_start(DIGEST, db, FIRED - timedelta(minutes=1), GRACE)
    assert not db.exists()
    poll = JobSpec("recheck", ("run",), every=timedelta(minutes=5))
    assert not missed_at_start(poll, db, FIRED, GRACE)


def test_a_digest_already_delivered_for_the_period_is_not_caught_up(tmp_path):
    db = tmp_path / "pw.db"
    store = Store.open(db)
    unsent = record_digest(store, Period(None, to_iso(FIRED + timedelta(seconds=1))), "md", 0)
    store.close()
    assert missed_at_start(DIGEST, db, FIRED + timedelta(minutes=2), GRACE)  # not sent
    store = Store.open(db)
    mark_sent(store, unsent, to_iso(FIRED + timedelta(seconds=2)))
    store.close()
    assert not missed_at_start(DIGEST, db, FIRED + timedelta(minutes=2), GRACE)

"""Mail servers that hang, trickle or drop the connection, against the real digest.

The scripted server (smtp_faults.py) misbehaves in one way per test. What must hold:
one send never outlasts ``[digest.email] timeout`` (for the whole conversation, not
per read), a slow server is reported as slow, the database lock is free while the
server is talked to, a message the server accepted counts as sent even if the
connection then drops, and a kill while sending never loses a digest: it is sent
again, the same period with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import threading
import time
from email import message_from_bytes
from pathlib import Path

import pytest
import sqlite_utils
from aiosmtpd.controller import Controller
from conftest import ForkedChild, free_port, run_cli, start_cli
from digest_fixtures import Desk, sample_day
from smtp_faults import ScriptedSMTP

from crawler.config import EmailSettings
from crawler.outputs.mail import MailError, send_digest
from crawler.storage.lock import DatabaseLock


def settings(port: int, timeout: float) -> EmailSettings:
    return EmailSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="presswatch <desk@example.org>",
        recipients=("desk@example.org",),
        timeout=timeout,
    )


def test_a_trickling_server_is_stopped_at_the_overall_timeout():
    with ScriptedSMTP("trickle", interval=0.5) as server:
        started = time.monotonic()
        with pytest.raises(MailError) as caught:
            send_digest(settings(server.port, 2), "s", "t", "<p>h</p>")
        elapsed = time.monotonic() - started
    assert str(caught.value) == (
        f"cannot send mail via 127.0.0.1:{server.port}: the mail "
        "server did not answer within 2 s ([digest.email] timeout)"
    )
    assert elapsed < 4.5  # every byte came within 0.5 s: only a deadline for it all stops it


def test_a_server_that_never_answers_the_message_is_reported_as_slow():
    with (
        ScriptedSMTP("hang-after-data") as server,
        pytest.raises(MailError, match=r"did not answer within 1\.5 s") as caught,
    ):
        send_digest(settings(server.port, 1.5), "s", "t", "<p>h</p>")
    assert "closed" not in str(caught.value)


def test_a_server_that_drops_the_connection_before_accepting_is_a_failure():
    with (
        ScriptedSMTP("drop-before-reply") as server,
        pytest.raises(MailError, match="the server closed the connection"),
    ):
        send_digest(settings(server.port, 5), "s", "t", "<p>h</p>")


def test_a_message_accepted_before_the_connection_drops_is_delivered():
    accepted: list[list[str]] = []
    with ScriptedSMTP("drop-after-accept") as server:
        sent = send_digest(settings(server.port, 5), "s", "t", "<p>h</p>", accepted=accepted.append)
    assert sent == ["desk@example.org"] and accepted == [["desk@example.org"]]
    assert len(server.messages) == 1


# --- presswatch digest --send, a real command against a real database -----------------


@pytest.fixture
def desk_db(tmp_path: Path) -> Path:
    desk = sample_day(Desk.open(tmp_path / "desk.db"))
    desk.store.close()
    return tmp_path / "desk.db"


def mail_config(path: Path, db: Path, port: int, timeout: float = 5) -> Path:
    path.write_text(
        f'[storage]\ndb = "{db}"\n\n[digest.email]\nhost = "127.0.0.1"\nport = {port}\n'
        f'security = "none"\nfrom = "desk@example.org"\nto = ["desk@example.org"]\n'
        f"timeout = {timeout}\n",
        encoding="utf-8",
    )
    return path


def start_digest(config: Path, *args: str) -> subprocess.Popen[bytes] | ForkedChild:
    """``presswatch digest --unsent --send``, started (forked like run_cli's children);
    its output in digest.out and digest.err beside the config."""
    out, err = config.with_name("digest.out"), config.with_name("digest.err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        command = ("digest", "--config", str(config), "--unsent", "--send", *args)
        return start_cli(*command, stdout=stdout, stderr=stderr)


def output_of(config: Path) -> tuple[str, str]:
    """What the digest started by ``start_digest`` wrote: (stdout, stderr)."""
    return tuple(config.with_name(name).read_text() for name in ("digest.out", "digest.err"))


def digest_rows(db: Path) -> list[dict]:
    database = sqlite_utils.Database(db)
    try:
        return list(database.query("SELECT * FROM digests ORDER BY id"))
    finally:
        database.conn.close()


def test_the_lock_is_free_while_the_mail_server_hangs(tmp_path, desk_db):
    with ScriptedSMTP("hang-after-data") as server:
        config = mail_config(tmp_path / "config.toml", desk_db, server.port, 3)
        process = start_digest(config)
        assert server.received.wait(30)
        with DatabaseLock(desk_db):  # a pass could start now: no wait, no LockHeld
            pass
        process.wait(timeout=30)
    out, err = output_of(config)
    assert process.returncode == 1
    assert err.strip().splitlines() == [
        f"presswatch: error: cannot send mail via 127.0.0.1:{server.port}: the mail server "
        "did not answer within 3 s ([digest.email] timeout); the digest stays unsent"
    ]
    assert out == ""
    [row] = digest_rows(desk_db)
    assert row["sent_at"] is None and row["status"] == "unsent"


def test_a_digest_accepted_before_the_connection_dropped_is_sent_once(tmp_path, desk_db):
    with ScriptedSMTP("drop-after-accept") as server:
        config = mail_config(tmp_path / "config.toml", desk_db, server.port)
        first = run_cli("digest", "--config", str(config), "--unsent", "--send")
        again = run_cli("digest", "--config", str(config), "--unsent", "--send", "--skip-empty")
    assert first.code == 0 and first.stdout == "" and first.stderr == ""
    assert again.code == 0 and again.stdout == ""
    assert len(server.messages) == 1
    rows = digest_rows(desk_db)
    assert [row["status"] for row in rows] == ["sent", "skipped"]
    assert rows[0]["message_id"] == server.parsed()["Message-ID"]


@pytest.mark.slow
def test_a_kill_while_sending_sends_the_same_digest_again_with_the_same_message_id(
    tmp_path, desk_db
):
    config = tmp_path / "config.toml"
    with ScriptedSMTP("hang-after-data") as hanging:
        process = start_digest(mail_config(config, desk_db, hanging.port, 30))
        assert hanging.received.wait(30)  # the server has it; its answer never comes
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    [row] = digest_rows(desk_db)
    assert row["status"] == "sending" and row["sent_at"] is None
    with ScriptedSMTP("good") as good:
        again = run_cli(
            "digest",
            "--config",
            str(mail_config(config, desk_db, good.port)),
            "--unsent",
            "--send",
            "--verbose",
        )
        later = run_cli("digest", "--config", str(config), "--unsent", "--send", "--verbose")
    assert again.code == 0, again.stderr
    assert "sent again" in again.stdout
    first, repeat = hanging.parsed(), good.parsed(0)
    assert repeat["Message-ID"] == first["Message-ID"] == row["message_id"]
    assert repeat["Subject"] == first["Subject"]
    assert repeat.get_body(("plain",)).get_content() == first.get_body(("plain",)).get_content()
    assert later.code == 0, later.stderr
    rows = digest_rows(desk_db)
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert rows[1]["period_start"] == rows[0]["period_end"]  # nothing covered twice
    assert good.parsed(1)["Message-ID"] != first["Message-ID"]


ACCEPT_DELAY = 0.3


class SlowInbox:
    """An aiosmtpd handler that takes a moment to accept each message, as real servers
    do: it widens the window between handing a message over and its answer."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content)
        self.received.set()
        await asyncio.sleep(ACCEPT_DELAY)
        return "250 accepted"


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_a_kill_around_the_servers_answer_loses_no_digest(tmp_path, desk_db, seed):
    """Killed before the answer, between the answer and its record, or after: every item
    is delivered, and a repeat is the same message."""
    inbox, port = SlowInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = mail_config(tmp_path / "config.toml", desk_db, port)
        process = start_digest(config)
        assert inbox.received.wait(60)
        time.sleep(random.Random(seed).uniform(0, 2 * ACCEPT_DELAY))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        done = run_cli("digest", "--config", str(config), "--unsent", "--send")
    finally:
        controller.stop()
    assert done.code == 0, done.stderr
    sent = [row for row in digest_rows(desk_db) if row["status"] == "sent"]
    assert sum(row["item_count"] for row in sent) == 8  # every story and edit, once
    ids = [message_from_bytes(raw)["Message-ID"] for raw in inbox.messages]
    assert set(ids) == {row["message_id"] for row in sent}  # a repeat is the same message
    assert len(ids) - len(set(ids)) <= 1

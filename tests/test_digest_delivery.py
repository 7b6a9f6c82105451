"""``presswatch digest`` as cron runs it: --send is silent, --skip-empty sends nothing
new, --dry-run records nothing. Real command, real database, real SMTP (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from aiosmtpd.controller import Controller
from conftest import database_before, free_port, invoke, step_adding
from digest_fixtures import Desk, sample_day
from test_mail import Inbox

from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import connect


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def config(tmp_path: Path, inbox) -> Path:
    desk = sample_day(Desk.open(tmp_path / "desk.db"))
    desk.store.close()
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\ndb = "{tmp_path / "desk.db"}"\n\n[digest.email]\nhost = "127.0.0.1"\n'
        f'port = {inbox[1]}\nsecurity = "none"\nfrom = "desk@example.org"\n'
        'to = ["desk@example.org"]\n',
        encoding="utf-8",
    )
    return path


def digest(config: Path, *args: str):
    return invoke("digest", "--config", str(config), *args)


def rows(config: Path) -> list[dict]:
    database = sqlite_utils.Database(config.parent / "desk.db")
    try:
        return list(database.query("SELECT * FROM digests ORDER BY id"))
    finally:
        database.conn.close()


def test_send_prints_nothing_on_success_and_one_line_with_verbose(config, inbox):
    quiet = digest(config, "--unsent", "--send")
    assert quiet.code == 0 and quiet.stdout == "" and quiet.stderr == ""
    loud = digest(config, "--since", "48h", "--send", "--verbose")
    assert loud.code == 0
    [line] = loud.stdout.splitlines()
    assert line.startswith("digest 2 sent to desk@example.org: ") and "Message-ID <" in line
    assert len(inbox[0].envelopes) == 2


def test_skip_empty_sends_nothing_when_nothing_is_new_and_records_it(config, inbox):
    assert digest(config, "--unsent", "--send", "--skip-empty").code == 0
    empty = digest(config, "--unsent", "--send", "--skip-empty", "--verbose")
    assert empty.code == 0 and "nothing new" in empty.stdout
    assert len(inbox[0].envelopes) == 1
    assert [(row["status"], row["item_count"]) for row in rows(config)] == [
        ("sent", 8),  # stories (each once) and edited stories
        ("skipped", 0),
    ]
    mailed_empty = digest(config, "--unsent", "--send")  # without the flag: sent as before
    assert mailed_empty.code == 0 and len(inbox[0].envelopes) == 2


def test_the_skip_empty_key_is_the_default(config, inbox):
    assert digest(config, "--unsent", "--send").code == 0
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[digest.email]", "[digest]\nskip_empty = true\n\n[digest.email]"
        ),
        encoding="utf-8",
    )
    assert digest(config, "--unsent", "--send").code == 0
    assert digest(config, "--unsent", "--send", "--no-skip-empty").code == 0
    assert [row["status"] for row in rows(config)] == ["sent", "skipped", "sent"]
    assert len(inbox[0].envelopes) == 2


def test_dry_run_renders_without_sending_or_recording(config, inbox):
    dry = digest(config, "--unsent", "--send", "--dry-run", "--format", "text")
    assert dry.code == 0 and "== Edited stories (3) ==" in dry.stdout
    assert rows(config) == [] and inbox[0].envelopes == []
    real = digest(config, "--unsent", "--send")
    assert real.code == 0 and len(inbox[0].envelopes) == 1
    assert rows(config)[0]["item_count"] == 8  # the dry run took nothing from --unsent


def test_unsent_without_send_still_prints_and_marks_the_digest_delivered(config):
    printed = digest(config, "--unsent", "--format", "text")
    assert printed.code == 0 and "== Edited stories (3) ==" in printed.stdout
    assert [row["status"] for row in rows(config)] == ["sent"]


def test_upgrading_marks_delivered_digests_sent_and_the_rest_unsent(tmp_path):
    conn = database_before(tmp_path / "old.db", step_adding("ADD COLUMN message_id"))
    conn.executemany(
        "INSERT INTO digests (created_at, period_end, format, sent_at) VALUES (?, ?, ?, ?)",
        [
            ("2026-11-24T07:00:00Z", "2026-11-24T07:00:00Z", "markdown", "2026-11-24T07:00:01Z"),
            ("2026-11-25T07:00:00Z", "2026-11-25T07:00:00Z", "markdown", None),
        ],
    )
    conn.commit()
    conn.close()
    upgraded = connect(tmp_path / "old.db")
    try:
        assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert upgraded.execute(
            "SELECT status, message_id FROM digests ORDER BY id"
        ).fetchall() == [("sent", None), ("unsent", None)]
    finally:
        upgraded.conn.close()

"""E-mail delivery against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import free_port
from digest_fixtures import Desk, sample_day

from crawler.config import Config, DigestConfig, EmailSettings
from crawler.outputs.digest import make_digest
from crawler.outputs.mail import MailError, send_digest

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
REFUSED = "nobody@example.org"


@dataclass
class Inbox:
    """An aiosmtpd handler keeping what it receives; refuses one address."""

    envelopes: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def message(self, index: int = -1) -> email.message.EmailMessage:
        raw = self.envelopes[index].original_content
        return email.message_from_bytes(raw, policy=email.policy.default)


def check_login(server, session, envelope, mechanism, data) -> AuthResult:
    good = isinstance(data, LoginPassword) and data.password == b"s3cret"
    return AuthResult(success=good, handled=False)  # let the server answer 535


@dataclass
class Server:
    inbox: Inbox
    port: int


@pytest.fixture
def smtp() -> Iterator[Server]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=check_login, auth_require_tls=False
    )
    controller.start()
    try:
        yield Server(inbox, port)
    finally:
        controller.stop()


def settings(port: int, **changes) -> EmailSettings:
    base = EmailSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="presswatch <desk@example.org>",
        recipients=("desk@example.org", "editor@example.org"),
    )
    return base.model_copy(update=changes)


def test_a_digest_arrives_as_text_and_html(smtp):
    sent = send_digest(
        settings(smtp.port),
        "presswatch digest: 2026-11-25 — 6 items",
        "Plain digest\n",
        "<p>HTML digest</p>\n",
    )
    assert sent == ["desk@example.org", "editor@example.org"]
    envelope = smtp.inbox.envelopes[0]
    assert envelope.mail_from == "desk@example.org"
    assert envelope.rcpt_tos == ["desk@example.org", "editor@example.org"]
    message = smtp.inbox.message()
    assert message["Subject"] == "presswatch digest: 2026-11-25 — 6 items"
    assert message["To"] == "desk@example.org, editor@example.org"
    assert message["From"] == "presswatch <desk@example.org>"
    assert message.get_content_type() == "multipart/alternative"
    parts = {
        part.get_content_type(): part.get_content().replace("\r\n", "\n")
        for part in message.iter_parts()
    }
    assert parts == {"text/plain": "Plain digest\n", "text/html": "<p>HTML digest</p>\n"}


def test_login_reads_the_password_from_the_environment(smtp, monkeypatch):
    account = settings(smtp.port, user="desk", password_env="PRESSWATCH_TEST_SMTP")
    monkeypatch.setenv("PRESSWATCH_TEST_SMTP", "s3cret")
    assert send_digest(account, "s", "t", "<p>h</p>")
    monkeypatch.setenv("PRESSWATCH_TEST_SMTP", "wrong")
    with pytest.raises(MailError, match=rf"127\.0\.0\.1:{smtp.port}: login as desk refused: 535"):
        send_digest(account, "s", "t", "<p>h</p>")
    monkeypatch.delenv("PRESSWATCH_TEST_SMTP")
    with pytest.raises(MailError, match=r"PRESSWATCH_TEST_SMTP .* is not set"):
        send_digest(account, "s", "t", "<p>h</p>")


def test_refused_recipients_are_an_error(smtp):
    with pytest.raises(MailError, match=f"recipients refused: {REFUSED} \\(550 5.1.1 no such"):
        send_digest(settings(smtp.port, recipients=("desk@example.org", REFUSED)), "s", "t", "h")
    with pytest.raises(MailError, match="recipients refused"):
        send_digest(settings(smtp.port, recipients=(REFUSED,)), "s", "t", "h")


def test_starttls_on_a_server_without_it_is_a_clear_error(smtp):
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        send_digest(settings(smtp.port, security="starttls"), "s", "t", "h")


def test_a_closed_port_is_a_one_line_error_naming_host_and_port():
    port = free_port()
    with pytest.raises(MailError) as caught:
        send_digest(settings(port), "s", "t", "h")
    assert str(caught.value) == f"cannot send mail via 127.0.0.1:{port}: connection refused"


# --- make_digest(send=True) ---------------------------------------------------------------


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    desk = sample_day(Desk.open(tmp_path / "t.db"))
    yield desk
    desk.store.close()


def mailing(port: int) -> Config:
    return Config(digest=DigestConfig(email=settings(port)))


def test_make_digest_sends_and_marks_the_digest_sent(desk, smtp):
    result = make_digest(
        desk.store,
        mailing(smtp.port),
        since="24h",
        unsent=False,
        topics=(),
        fmt="markdown",
        send=True,
        now=NOW,
    )
    assert result.sent and result.recipients == ("desk@example.org", "editor@example.org")
    row = desk.store.db["digests"].get(result.digest_id)
    assert row["sent_at"] == "2026-11-25T07:00:00Z"
    assert row["recipients"] == "desk@example.org, editor@example.org"
    message = smtp.inbox.message()
    assert message["Subject"] == "presswatch digest: 2026-11-25 — 6 items"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert '<mark style="' in html and "Coalition logistics hub opens in Rzeszów" in html
    assert "== Edited stories (2) ==" in text


def test_a_failed_send_leaves_the_items_for_the_next_unsent_digest(desk, smtp):
    def unsent(config: Config, now: datetime, send: bool):
        return make_digest(
            desk.store, config, since=None, unsent=True, topics=(), fmt="json", send=send, now=now
        )

    first = unsent(mailing(smtp.port), NOW - timedelta(days=1), send=True)
    with pytest.raises(MailError, match="connection refused"):
        unsent(mailing(free_port()), NOW, send=True)
    rows = list(desk.store.db.query("SELECT sent_at FROM digests ORDER BY id"))
    assert [row["sent_at"] is None for row in rows] == [False, True]
    retry = unsent(mailing(smtp.port), NOW + timedelta(hours=2), send=True)
    assert json.loads(retry.text)["period"]["start"] == "2026-11-24T07:00:00Z"

    def entries(result) -> int:  # mention entries and edits: each recorded item
        counts = json.loads(result.text)["counts"]
        return counts["mentions"] + counts["edits"]

    assert entries(first) + entries(retry) == 10  # every item of the database, once
    assert len(smtp.inbox.envelopes) == 2


def test_implicit_tls_checks_the_servers_name_and_delivers(tmp_path, monkeypatch):
    """``security = "tls"`` against a server whose certificate names localhost, trusted
    through SSL_CERT_FILE: the name checked is the configured host."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="localhost", port=port, server_hostname="localhost", ssl_context=context
    )
    controller.start()
    try:
        account = settings(port, host="localhost", security="tls")
        with pytest.raises(MailError, match="TLS failed: CERTIFICATE_VERIFY_FAILED"):
            send_digest(account, "s", "t", "<p>h</p>")  # not trusted yet
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert send_digest(account, "s", "t", "<p>h</p>") == list(account.recipients)
    finally:
        controller.stop()
    assert len(inbox.envelopes) == 1

"""Deliver a digest by e-mail: one multipart/alternative message (plain text and HTML).

Settings come from ``[digest.email]``; the password is never in the config file, only
the name of the environment variable that holds it. Every failure is a
:class:`MailError` naming the server and the reason on one line.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from contextlib import suppress
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from crawler.config import EmailSettings


class MailError(Exception):
    """Sending failed: ``cannot send mail via HOST:PORT: REASON``."""


def send_digest(
    settings: EmailSettings,
    subject: str,
    text: str,
    html: str,
    *,
    message_id: str | None = None,
    accepted: Callable[[list[str]], None] | None = None,
) -> list[str]:
    """Send one message to every configured recipient; return the recipients.

    The whole conversation, from connecting to QUIT, must end within
    ``settings.timeout`` seconds. ``accepted`` is called with the recipients as soon as
    the server has accepted the message (250 after DATA), before QUIT: a failed QUIT
    or a connection dropped then does not undo a delivery.

    Raises MailError when the server cannot be reached, does not answer in time,
    refuses TLS or the login, or refuses the sender or any recipient (then nobody
    should count it as delivered).
    """
    password = _password(settings)
    message = build_message(settings, subject, text, html, message_id)
    recipients = list(settings.recipients)
    with Deadline(settings.timeout) as deadline:
        smtp = _deliver(settings, message, password, deadline)
        if accepted is not None:
            accepted(recipients)
        _quit(smtp)
    return recipients


def build_message(
    settings: EmailSettings, subject: str, text: str, html: str, message_id: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id or make_msgid("presswatch", domain=sender_domain(settings))
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def sender_domain(settings: EmailSettings) -> str:
    """The domain of the From address, for Message-IDs."""
    return parseaddr(settings.sender)[1].rpartition("@")[2] or "presswatch.invalid"


class Deadline:
    """Ends a conversation that runs past ``seconds``: a timer shuts the socket down, so
    a server that answers one byte at a time cannot keep a send going (a socket
    timeout only bounds each read)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.smtp: smtplib.SMTP | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        self.expired = True
        sock = self.smtp.sock if self.smtp is not None else None
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _deliver(
    settings: EmailSettings, message: EmailMessage, password: str | None, deadline: Deadline
) -> smtplib.SMTP:
    """Connect, log in and hand the message over; the connection, open for QUIT."""
    smtp: smtplib.SMTP | None = None
    try:
        smtp = _connect(settings, deadline)
        if settings.user is not None:
            smtp.login(settings.user, password or "")
        refused = smtp.send_message(message, to_addrs=list(settings.recipients))
    except (OSError, smtplib.SMTPException) as error:
        if smtp is not None:
            smtp.close()
        raise _error(settings, _reason(error, settings, deadline)) from error
    if refused:
        smtp.close()
        raise _error(settings, "recipients refused: " + _refusals(refused))
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; the message is already accepted, so a server that drops the
    connection or never answers QUIT changes nothing."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _password(settings: EmailSettings) -> str | None:
    if settings.password_env is None:
        return None
    password = os.environ.get(settings.password_env)
    if password is None:
        raise _error(
            settings,
            f"the environment variable {settings.password_env} "
            "(digest.email.password_env) is not set",
        )
    return password


def _connect(settings: EmailSettings, deadline: Deadline) -> smtplib.SMTP:
    """An open connection, encrypted as ``security`` says, watched by ``deadline``."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.security == "tls":
        smtp = smtplib.SMTP_SSL(timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(timeout=settings.timeout)
    # The name TLS checks the certificate against: smtplib sets it only when its
    # constructor connects, which would read the greeting before the deadline watches.
    smtp._host = settings.host
    deadline.smtp = smtp
    try:
        smtp.connect(settings.host, settings.port)
        if settings.security == "starttls":
            smtp.starttls(context=context)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _error(settings: EmailSettings, reason: str) -> MailError:
    return MailError(f"cannot send mail via {settings.host}:{settings.port}: {reason}")


def _reason(error: Exception, settings: EmailSettings, deadline: Deadline) -> str:
    """One line for people about what went wrong."""
    if deadline.expired or isinstance(error, TimeoutError):
        return (
            f"the mail server did not answer within {settings.timeout:g} s ([digest.email] timeout)"
        )
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return 'the server does not offer STARTTLS (set security = "tls" or "none")'
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"login as {settings.user} refused: {_response(error)}"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return f"sender {settings.sender} refused: {_response(error)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "recipients refused: " + _refusals(error.recipients)
    if isinstance(error, smtplib.SMTPResponseException):
        return _response(error)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return " ".join(str(error).split()) or type(error).__name__


def _response(error: smtplib.SMTPResponseException) -> str:
    return _reply(error.smtp_code, error.smtp_error)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({_reply(*reply)})" for address, reply in refused.items())

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
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from crawler.config import EmailSettings

TIMEOUT = 30.0
"""Seconds to wait for the SMTP server at each step."""


class MailError(Exception):
    """Sending failed: ``cannot send mail via HOST:PORT: REASON``."""


def send_digest(settings: EmailSettings, subject: str, text: str, html: str) -> list[str]:
    """Send one message to every configured recipient; return the recipients.

    Raises MailError when the server cannot be reached, refuses TLS or the login, or
    refuses the sender or any recipient (then nobody should count it as delivered).
    """
    password = _password(settings)
    message = build_message(settings, subject, text, html)
    try:
        with _connect(settings) as smtp:
            if settings.user is not None:
                smtp.login(settings.user, password or "")
            refused = smtp.send_message(message, to_addrs=list(settings.recipients))
    except (OSError, smtplib.SMTPException) as error:
        raise _error(settings, _reason(error, settings)) from error
    if refused:
        raise _error(settings, "recipients refused: " + _refusals(refused))
    return list(settings.recipients)


def build_message(settings: EmailSettings, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "presswatch.invalid"
    message["Message-ID"] = make_msgid("presswatch", domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _password(settings: EmailSettings) -> str | None:
    if settings.password_env is None:
        return None
    password = os.environ.get(settings.password_env)
    if password is None:
        raise _error(settings, f"the environment variable {settings.password_env} "
                               "(digest.email.password_env) is not set")
    return password


def _connect(settings: EmailSettings) -> smtplib.SMTP:
    """An open connection, encrypted as ``security`` says."""
    context = ssl.create_default_context()
    if settings.security == "tls":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT, context=context)
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
    if settings.security == "starttls":
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _error(settings: EmailSettings, reason: str) -> MailError:
    return MailError(f"cannot send mail via {settings.host}:{settings.port}: {reason}")


def _reason(error: Exception, settings: EmailSettings) -> str:
    """One line for people about what went wrong."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, TimeoutError):
        return f"no answer within {TIMEOUT:g} s"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "the server does not offer STARTTLS (set security = \"tls\" or \"none\")"
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

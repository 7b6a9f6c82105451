"""Recording and delivering a digest: the ``digests`` row, the output file, the mail,
and :func:`make_digest`, the whole ``presswatch digest`` command."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.config import Config, ConfigError, EmailSettings
from crawler.outputs.digest.collect import collect
from crawler.outputs.digest.filters import day, oneline, when
from crawler.outputs.digest.links import with_diff_links, write_diff_pages
from crawler.outputs.digest.model import Digest, DigestError, DigestResult, Period
from crawler.outputs.digest.period import resolve_period
from crawler.outputs.digest.render import FORMATS, render
from crawler.outputs.mail import MailError, send_digest, sender_domain
from crawler.storage.store import Store
from crawler.times import to_iso, utc_now


def record_digest(
    store: Store,
    period: Period,
    fmt: str,
    item_count: int,
    sent_at: str | None = None,
    recipients: Sequence[str] = (),
    *,
    created_at: str | None = None,
    status: str | None = None,
) -> int:
    """Write a ``digests`` row; return its id."""
    return store.insert_digest(
        {
            "created_at": created_at or to_iso(utc_now()),
            "period_start": period.start,
            "period_end": period.end,
            "format": fmt,
            "sent_at": sent_at,
            "recipients": ", ".join(recipients) or None,
            "item_count": item_count,
            "status": status or ("sent" if sent_at else "unsent"),
        }
    )


def mark_sent(store: Store, digest_id: int, sent_at: str, recipients: Sequence[str] = ()) -> None:
    """Record that a digest was delivered: ``--unsent`` starts after it from now on."""
    store.update_digest(
        digest_id,
        {"sent_at": sent_at, "status": "sent", "recipients": ", ".join(recipients) or None},
    )


def make_digest(
    store: Store,
    config: Config,
    *,
    since: str | None,
    unsent: bool,
    topics: Sequence[str],
    fmt: str,
    send: bool,
    now: datetime,
    output: Path | None = None,
    skip_empty: bool | None = None,
    dry_run: bool = False,
    release_lock: Callable[[], None] | None = None,
    min_significance: float | None = None,
) -> DigestResult:
    """The ``presswatch digest`` command: collect, render, record, deliver.

    The ``digests`` row is written unsent, then the digest is delivered: written to
    ``output`` (when given) and, with ``send``, e-mailed. It is marked sent as soon as
    the mail server accepts the message, so a failed delivery (MailError, DigestError
    for the output file) leaves its items for the next ``--unsent``. With ``unsent``
    and no ``send``, producing the digest is the delivery: the row is marked sent at
    ``now``.

    ``release_lock`` is called once the digest is collected and recorded, before the
    mail server is contacted: a slow server then holds up no pass. ``dry_run`` renders
    and records nothing. ``skip_empty`` (default ``[digest] skip_empty``): a digest
    with nothing new is neither sent nor written, only recorded as ``skipped``.

    With ``send`` and ``unsent``, a digest left ``sending`` (killed between handing it
    to the server and recording the outcome) is first sent again, the same period with
    the same Message-ID, and that is the whole delivery of this call.

    ``min_significance`` (default ``[digest] min_significance``) leaves out edits below it.
    """
    if fmt not in FORMATS:
        raise DigestError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    email = config.digest.email
    if send and email is None and not config.digest.notify:
        raise ConfigError(
            f"{config.path or 'config'}: --send needs a [digest.email] table "
            "or [digest] notify targets"
        )
    if send and unsent and not dry_run and email is not None:
        doubt = store.digest_in_doubt()
        if doubt is not None:
            return _send_again(store, config, email, doubt, topics, fmt, now, release_lock)
    threshold = config.digest.min_significance if min_significance is None else min_significance
    digest = collect(store, resolve_period(store, since, unsent, now), topics, threshold)
    digest = with_diff_links(digest, config.serve.base_url, None if dry_run else output)
    text = render(digest, fmt, config.digest.template_dir)
    if dry_run:
        return DigestResult(text, None, digest.item_count, False, period=digest.period)
    stamp = to_iso(now)
    if (config.digest.skip_empty if skip_empty is None else skip_empty) and not digest.item_count:
        digest_id = record_digest(
            store,
            digest.period,
            fmt,
            0,
            created_at=stamp,
            sent_at=stamp if send or unsent else None,
            status="skipped",
        )
        return DigestResult("", digest_id, 0, False, period=digest.period, skipped=True)
    digest_id = record_digest(store, digest.period, fmt, digest.item_count, created_at=stamp)
    if output is not None:
        _write_diff_pages(store, digest, output, config.digest.template_dir)
        write_output(output, text)
    if send and email is not None:
        message_id = digest_message_id(digest_id, digest.period, email)
        recipients = _send(
            store, config, email, digest, digest_id, message_id, stamp, release_lock, in_doubt=False
        )
        return DigestResult(
            text,
            digest_id,
            digest.item_count,
            True,
            recipients,
            digest.period,
            message_id=message_id,
        )
    if unsent:
        mark_sent(store, digest_id, stamp)
    return DigestResult(text, digest_id, digest.item_count, False, period=digest.period)


def _send_again(
    store: Store,
    config: Config,
    email: EmailSettings,
    row: dict[str, Any],
    topics: Sequence[str],
    fmt: str,
    now: datetime,
    release_lock: Callable[[], None] | None,
) -> DigestResult:
    """Send once more a digest whose delivery is in doubt: same period, same Message-ID
    (a mailbox that has it already can drop the copy)."""
    period = Period(row["period_start"], row["period_end"])
    digest = with_diff_links(collect(store, period, topics), config.serve.base_url, None)
    message_id = row["message_id"] or digest_message_id(row["id"], period, email)
    recipients = _send(
        store,
        config,
        email,
        digest,
        row["id"],
        message_id,
        to_iso(now),
        release_lock,
        in_doubt=True,
    )
    text = render(digest, fmt, config.digest.template_dir)
    return DigestResult(
        text,
        row["id"],
        digest.item_count,
        True,
        recipients,
        period,
        resent=True,
        message_id=message_id,
    )


def _send(
    store: Store,
    config: Config,
    email: EmailSettings,
    digest: Digest,
    digest_id: int,
    message_id: str,
    stamp: str,
    release_lock: Callable[[], None] | None,
    *,
    in_doubt: bool,
) -> tuple[str, ...]:
    """Mail the digest, recorded ``sending`` before the server is contacted and ``sent``
    the moment it accepts the message. A failure leaves it unsent, unless it was already
    in doubt (it may have arrived before): then it stays ``sending``, to be sent again."""
    store.update_digest(digest_id, {"status": "sending", "message_id": message_id})
    if release_lock is not None:
        release_lock()
    try:
        return mail_digest(
            digest,
            email,
            config.digest.template_dir,
            message_id=message_id,
            accepted=lambda to: mark_sent(store, digest_id, stamp, to),
        )
    except MailError:
        if not in_doubt:
            store.update_digest(digest_id, {"status": "unsent"})
        raise


def digest_message_id(digest_id: int, period: Period, email: EmailSettings) -> str:
    """The Message-ID of a digest, derived from its ``digests`` row and period:
    ``<presswatch.digest.42.20261125T070000Z@example.org>``. Sending the same digest
    again gives the same one."""
    end = re.sub(r"[^0-9A-Za-z]", "", period.end)
    return f"<presswatch.digest.{digest_id}.{end}@{sender_domain(email)}>"


def mail_digest(
    digest: Digest,
    email: EmailSettings,
    template_dir: Path | None = None,
    *,
    message_id: str | None = None,
    accepted: Callable[[list[str]], None] | None = None,
) -> tuple[str, ...]:
    """E-mail the digest as plain text and HTML; return the recipients. Raises MailError."""
    text, html = render(digest, "text", template_dir), render(digest, "html", template_dir)
    return tuple(
        send_digest(
            email,
            subject(email.subject, digest),
            text,
            html,
            message_id=message_id,
            accepted=accepted,
        )
    )


def subject(template: str, digest: Digest) -> str:
    """The e-mail subject: ``template`` with {date}, {count}, {start} and {end}."""
    period = digest.period
    return oneline(
        template.format(
            date=day(period.end),
            count=digest.item_count,
            start=when(period.start) if period.start else "the beginning",
            end=when(period.end),
        )
    )


def _write_diff_pages(
    store: Store, digest: Digest, output: Path, template_dir: Path | None
) -> None:
    try:
        write_diff_pages(store, digest, output, template_dir)
    except OSError as error:
        raise DigestError(f"cannot write the diff pages beside {output}: {error}") from error


def write_output(path: Path, text: str) -> None:
    """Write the file whole or not at all: a temporary file renamed into place."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise DigestError(f"cannot write {path}: {error.strerror or error}") from error

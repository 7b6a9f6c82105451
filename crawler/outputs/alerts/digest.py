"""The daily digest through Apprise: ``[digest] notify = ["desk-slack"]``.

Each target gets the digest in the format its service takes (Markdown, HTML or plain
text), cut at a line within the service's size limit. A refusal is recorded in
``errors`` and reported; the digest's e-mail delivery (``[digest.email]``) is apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from crawler.config import Config, EmailSettings, NotifyTarget
from crawler.outputs.alerts.delivery import Answer, send, service_limits
from crawler.outputs.alerts.formats import TEXT
from crawler.outputs.digest import Period, collect, render, subject
from crawler.storage.store import Store
from crawler.times import to_iso, utc_now

log = logging.getLogger("presswatch.alerts")
DIGEST_FORMATS = {"text": "text", "markdown": "markdown", "html": "html"}


def notify_digest(
    store: Store, config: Config, title: str, render: Callable[[str], str]
) -> dict[str, Answer]:
    """Send the digest (``render(format)`` gives it in a digest format) to every target
    in ``[digest] notify``; each target's answer."""
    answers = {}
    for target in config.notify:
        if target.name in config.digest.notify:
            answers[target.name] = _send_digest(store, target, title, render)
    return answers


def _send_digest(
    store: Store, target: NotifyTarget, title: str, render: Callable[[str], str]
) -> Answer:
    limits = service_limits(target)
    fmt, max_body, max_title = limits if limits else (TEXT, 32768, 250)
    body = render(DIGEST_FORMATS[fmt.name])
    if len(body) > max_body:  # too long for the service: plain text, cut at a line
        fmt, body = TEXT, _cut(render("text"), max_body)
    answer = send(target, title[:max_title], body, fmt)
    if answer.ok:
        log.info("digest sent to %s", target.name)
    else:
        message = f"digest to {target.name} ({target.shown_url}) failed: {answer.text}"
        store.record_error(None, "notify", message, to_iso(utc_now()))
        log.error("%s", message)
    return answer


def _cut(text: str, limit: int) -> str:
    note = "\n… (cut to fit the service's size limit)"
    kept = text[: max(0, limit - len(note))]
    if "\n" in kept:
        kept = kept.rsplit("\n", 1)[0]
    return kept + note


def send_period(
    store: Store, config: Config, period: Period, topics: Sequence[str] = ()
) -> list[str]:
    """``presswatch digest --send``: the digest of ``period`` to the ``[digest] notify``
    targets; the names of those that refused it."""
    digest = collect(store, period, topics)
    email = config.digest.email
    template = email.subject if email else EmailSettings.model_fields["subject"].default
    title = subject(template, digest)
    answers = notify_digest(
        store, config, title, lambda fmt: render(digest, fmt, config.digest.template_dir)
    )
    return [name for name, answer in answers.items() if not answer.ok]

"""Delivering the outbox through Apprise, target by target.

For each ``[[notify]]`` target: the messages left in doubt first (marked ``sending``
when a kill came between sending and marking, or refused by the service: sent again
with the same id and the same events), then the new alerts, unless the target's
``min_interval`` has not passed since its last delivery. A message is recorded
``sending`` (committed) before the service is contacted and ``sent``, with the
service's answer, once it accepted it; a refusal puts it back to wait, with a backoff,
and is recorded in ``errors``. So an alert is delivered at least once, and a repeat
carries the same id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.config import Config, NotifyTarget
from crawler.outputs.alerts.formats import FORMATS, TEXT, Format
from crawler.outputs.alerts.messages import Message, compose, diff_link, group, pack
from crawler.storage.store import Store
from crawler.times import from_iso, to_iso, utc_now

log = logging.getLogger("presswatch.alerts")

FIRST_RETRY = timedelta(minutes=1)  # doubled after every refusal ...
LAST_RETRY = timedelta(hours=1)  # ... up to this
MAX_ANSWER = 300  # characters of a service's answer kept


@dataclass
class Delivery:
    """What one delivery did for one target."""

    target: str
    sent: list[str] = field(default_factory=list)  # message ids accepted
    failed: list[str] = field(default_factory=list)  # message ids refused
    skipped: int = 0  # alerts below the target's min_significance
    waiting: bool = False  # new alerts held back by min_interval


@dataclass(frozen=True)
class Answer:
    ok: bool
    text: str


def deliver(
    store: Store,
    config: Config,
    *,
    now: datetime | None = None,
    db: Path | None = None,
    run_id: int | None = None,
) -> list[Delivery]:
    """Send what the outbox holds for every configured target; one result per target."""
    now = now or utc_now()
    db = db or Path(store.path)
    return [_deliver(store, config, target, now, db, run_id) for target in config.notify]


def _deliver(
    store: Store, config: Config, target: NotifyTarget, now: datetime, db: Path, run_id: int | None
) -> Delivery:
    result = Delivery(target.name)
    rows = store.outbox.due(target.name, to_iso(now))
    rows = _drop_insignificant(store, target, rows, now, result)
    service = service_limits(target)
    if service is None:
        return result
    fmt, max_body, max_title = service
    links = {
        row["change_id"]: link
        for row in rows
        if (link := diff_link(config.serve.base_url, row["change_id"]))
    }
    kept = [row for row in rows if row["message_id"]]
    messages = [
        compose(
            group(members),
            fmt,
            max_body=max_body,
            max_title=max_title,
            diff_links=links,
            ident=ident,
        )
        for ident, members in _by_message(kept).items()
    ]
    new = [row for row in rows if not row["message_id"]]
    if new and _interval_passed(store, target, now):
        messages += pack(
            group(new),
            fmt,
            max_body=max_body,
            max_title=max_title,
            diff_links=links,
            batched=bool(target.min_interval),
        )
    elif new:
        result.waiting = True
    for message in messages:
        _send_one(store, target, message, fmt, now, run_id, result)
    return result


def _drop_insignificant(
    store: Store, target: NotifyTarget, rows: list[dict[str, Any]], now: datetime, result: Delivery
) -> list[dict[str, Any]]:
    """Changes scored below the target's ``min_significance`` are never sent (only once
    changes carry a significance: ``changes.significance``)."""
    if not target.min_significance:
        return rows
    low = [
        row
        for row in rows
        if row["significance"] is not None
        and row["significance"] < target.min_significance
        and not row["message_id"]
    ]
    if low:
        store.outbox.skipped(
            [row["id"] for row in low],
            to_iso(now),
            f"below min_significance {target.min_significance}",
        )
        result.skipped = len(low)
    return [row for row in rows if row not in low]


def _by_message(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["message_id"], []).append(row)
    return groups


def _interval_passed(store: Store, target: NotifyTarget, now: datetime) -> bool:
    if not target.min_interval:
        return True
    last = store.outbox.last_sent(target.name)
    return last is None or now - from_iso(last) >= target.min_interval


def _send_one(
    store: Store,
    target: NotifyTarget,
    message: Message,
    fmt: Format,
    now: datetime,
    run_id: int | None,
    result: Delivery,
) -> None:
    ids = message.row_ids
    store.outbox.sending(ids, message.id)
    answer = send(target, message.title, message.body, fmt)
    stamp = to_iso(now)
    if answer.ok:
        store.outbox.sent(ids, stamp, answer.text)
        result.sent.append(message.id)
        log.info("alert %s sent to %s: %d event(s)", message.id, target.name, len(ids))
        return
    attempts = max(row["attempts"] for item in message.items for row in item.rows) + 1
    retry_at = now + min(FIRST_RETRY * 2 ** (attempts - 1), LAST_RETRY)
    store.outbox.failed(ids, stamp, answer.text, to_iso(retry_at))
    reason = f"alert {message.id} to {target.name} ({target.shown_url}) failed: {answer.text}"
    store.record_error(run_id, "notify", f"{reason}; tried again from {to_iso(retry_at)}", stamp)
    log.warning("%s (attempt %d; tried again from %s)", reason, attempts, to_iso(retry_at))
    result.failed.append(message.id)


def service_limits(target: NotifyTarget) -> tuple[Format, int, int] | None:
    """The format a target's service takes natively, and its body and title limits."""
    import apprise

    plugin = apprise.Apprise.instantiate(target.url)
    if plugin is None:
        return None
    if hasattr(plugin, "resolve_format"):  # Apprise 2: honours the URL's ?format=
        name = plugin.resolve_format(None)
    else:
        native = plugin.notify_format
        name = native[0] if isinstance(native, tuple | list) else native
    fmt = FORMATS.get(str(getattr(name, "value", name)), TEXT)
    return fmt, int(plugin.body_maxlen or 32768), int(plugin.title_maxlen or 250) or 250


def send(target: NotifyTarget, title: str, body: str, fmt: Format) -> Answer:
    """Hand one notification to the target's service; its answer, with the URL's secrets
    taken out."""
    import apprise

    notifier = apprise.Apprise()
    notifier.add(target.url)
    apprise_log = logging.getLogger("apprise")
    propagate, apprise_log.propagate = apprise_log.propagate, False  # our lines say it
    try:
        with apprise.LogCapture(level=logging.INFO, fmt="%(message)s") as captured:
            ok = notifier.notify(body=body, title=title, body_format=fmt.name)
        lines = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
    except Exception as error:  # a service plugin's own failure costs this message only
        ok, lines = False, [f"{type(error).__name__}: {error}"]
    finally:
        apprise_log.propagate = propagate
    text = redact(lines[-1] if lines else ("accepted" if ok else "refused"), target)
    return Answer(bool(ok), text[:MAX_ANSWER])


_URL_PARTS = re.compile(r"[/:@?&=#,]+")


def redact(text: str, target: NotifyTarget) -> str:
    """``text`` without the target's URL, its password, or any token-like part of it
    (a path segment or a value of six characters or more); the host stays."""
    text = text.replace(target.url, target.shown_url)
    parts = urlsplit(target.url)
    secrets = [parts.password] if parts.password else []
    secrets += [
        part
        for part in _URL_PARTS.split(f"{parts.path}?{parts.query}#{parts.fragment}")
        if len(part) >= 6
    ]
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


def failing_targets(store: Store, config: Config, since: timedelta = timedelta(0)) -> list[str]:
    """One line per target whose alerts have been refused since longer than ``since``."""
    now = utc_now()
    lines = []
    states = store.outbox.targets()
    for target in config.notify:
        state = states.get(target.name)
        if not state or not state["failing_since"]:
            continue
        if now - from_iso(state["failing_since"]) < since:
            continue
        lines.append(
            f"alert target {target.name} failing since {state['failing_since']}: "
            f"{state['pending']} alert(s) waiting; last answer: {state['last_error']}"
        )
    return lines


def send_test(target: NotifyTarget) -> Answer:
    """``presswatch notify test NAME``: one message to check a target works."""
    service = service_limits(target)
    fmt = service[0] if service else TEXT
    body = fmt.paragraph_break().join(
        [
            fmt.strong(fmt.text("presswatch test")),
            fmt.text(
                f"Alerts for {', '.join(target.topics) or 'every topic'} "
                f"({', '.join(target.events)}) will arrive here."
            ),
            fmt.text(f"presswatch alert pw-test-{to_iso(utc_now())}"),
        ]
    )
    return send(target, "presswatch: test message", body, fmt)


def targets_report(store: Store | None, targets: Sequence[NotifyTarget]) -> list[dict[str, Any]]:
    """``notify list``: each target, its URL redacted, last delivery and failures."""
    states = store.outbox.targets() if store is not None else {}
    return [
        {
            "name": target.name,
            "url": target.shown_url,
            "topics": list(target.topics) or ["(all)"],
            "events": list(target.events),
            "min_interval": str(target.min_interval),
            "last_sent_at": (states.get(target.name) or {}).get("last_sent_at"),
            "pending": (states.get(target.name) or {}).get("pending") or 0,
            "failing_since": (states.get(target.name) or {}).get("failing_since"),
            "last_error": (states.get(target.name) or {}).get("last_error"),
        }
        for target in targets
    ]

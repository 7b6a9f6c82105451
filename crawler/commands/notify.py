"""``presswatch notify``: the instant-alert targets, their outbox, and a test message."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from crawler.commands.common import (
    EXIT_FAILED,
    EXIT_LOCKED,
    config_option,
    database_lock,
    db_option,
    fail,
    open_store,
    read_config,
    require_database,
)
from crawler.config import Config, NotifyTarget


@click.group()
def notify() -> None:
    """Instant alerts through Apprise to the [[notify]] targets (docs/alerts.md)."""


def _target(config: Config, name: str) -> NotifyTarget:
    for target in config.notify:
        if target.name == name:
            return target
    known = ", ".join(t.name for t in config.notify) or "none"
    fail(f"no [[notify]] target named {name!r} (configured: {known})")


@notify.command("test")
@config_option
@click.argument("name")
def test(config_path: Path, name: str) -> None:
    """Send a test message to the target NAME and print the service's answer.

    Exit status: 0 the service accepted it; 1 it did not.
    """
    from crawler.outputs.alerts import send_test

    target = _target(read_config(config_path), name)
    answer = send_test(target)
    click.echo(
        f"{target.name} ({target.shown_url}): {'sent' if answer.ok else 'failed'}: {answer.text}"
    )
    sys.exit(0 if answer.ok else EXIT_FAILED)


@notify.command("list")
@config_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
def list_targets(config_path: Path, db_path: Path | None, as_json: bool) -> None:
    """Show the targets (URLs redacted) with their last delivery and failures."""
    from crawler.outputs.alerts import targets_report

    config = read_config(config_path)
    db = db_path or config.storage.db
    if db.exists():
        with open_store(config_path, db) as store:
            report = targets_report(store, config.notify)
    else:
        report = targets_report(None, config.notify)
    if not report:
        click.echo("no [[notify]] targets configured")
    for row in report:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        failing = (
            f"; failing since {row['failing_since']}: {row['last_error']}"
            if row["failing_since"]
            else ""
        )
        click.echo(
            f"{row['name']}  {row['url']}  topics: {', '.join(row['topics'])}  "
            f"events: {', '.join(row['events'])}\n"
            f"    last sent: {row['last_sent_at'] or 'never'}; {row['pending']} waiting{failing}"
        )


@notify.command("pending")
@config_option
@db_option
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
def pending(config_path: Path, db_path: Path | None, limit: int, as_json: bool) -> None:
    """Show the outbox: alerts not yet accepted by their target, oldest first."""
    from crawler.outputs.alerts.formats import flat

    with open_store(config_path, db_path) as store:
        rows = store.outbox.waiting(limit)
    if not rows and not as_json:
        click.echo("the outbox is empty: every alert was delivered")
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        retry = f", next try {row['next_attempt_at']}" if row["next_attempt_at"] else ""
        error = f"\n    last answer: {flat(row['last_error'])}" if row["last_error"] else ""
        click.echo(
            f"{row['event_id']}  -> {row['target']}  {row['status']}, "
            f"{row['attempts']} attempt(s){retry}\n"
            f"    {row['event']}: {flat(row['topic'] or '')} {flat(row['title'])[:100]}{error}"
        )


@notify.command("send")
@config_option
@db_option
def send(config_path: Path, db_path: Path | None) -> None:
    """Deliver the outbox now (what every pass does at its end).

    Exit status: 0 delivered, or nothing was due; 1 a target refused a message (it is
    tried again later); 3 a pass holds the database.
    """
    from crawler.outputs.alerts import deliver
    from crawler.storage.lock import LockHeld

    config = read_config(config_path)
    db = require_database(db_path or config.storage.db)
    try:
        with database_lock(db), open_store(config_path, db) as store:
            results = deliver(store, config)
    except LockHeld as held:
        click.echo(f"presswatch: {held}", err=True)
        sys.exit(EXIT_LOCKED)
    for result in results:
        click.echo(
            f"{result.target}: {len(result.sent)} sent, {len(result.failed)} failed"
            + (", waiting for min_interval" if result.waiting else "")
        )
    sys.exit(EXIT_FAILED if any(r.failed for r in results) else 0)

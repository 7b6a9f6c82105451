"""``presswatch digest``: what the desk should read about one period, printed, written or sent."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crawler.commands.common import (
    EXIT_FAILED,
    EXIT_LOCKED,
    config_option,
    database_lock,
    db_option,
    open_store,
    output_option,
    read_config_for,
    require_database,
    use_color,
)
from crawler.config import Config, ConfigError
from crawler.outputs.digest import DigestResult
from crawler.storage.store import Store
from crawler.times import next_second
from crawler.tracking.diffs import render_terminal


def default_format(on_terminal: bool) -> str:
    """The format without --format: text for a person at a terminal, else Markdown."""
    return "text" if on_terminal else "markdown"


@click.command()
@config_option
@db_option
@click.option(
    "--since", metavar="WHEN", help="A duration (90m, 24h, 7d) or an ISO 8601 time. Default: 24h."
)
@click.option(
    "--unsent",
    is_flag=True,
    help="Everything since the last digest that was sent (what cron uses).",
)
@click.option(
    "--topic", "topics", multiple=True, metavar="NAME", help="Only this topic (repeatable)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "html", "text", "json", "atom"]),
    default=None,
    help="Default: text when printing to a terminal, else markdown.",
)
@output_option
@click.option(
    "--send",
    is_flag=True,
    help="E-mail it as configured in [digest.email]; print nothing on success.",
)
@click.option(
    "--skip-empty/--no-skip-empty",
    default=None,
    help="Send or write nothing when nothing is new (recorded as skipped). "
    "Default: [digest] skip_empty.",
)
@click.option(
    "--min-significance",
    type=click.FloatRange(0, 1),
    metavar="SCORE",
    help="Leave out edited stories whose significance (0-1) is below this, such as "
    "comma fixes. Default: [digest] min_significance (0).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the digest that would be made; send, write and record nothing.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also print a one-line summary (to stderr when the digest is printed).",
)
def digest(
    config_path: Path,
    db_path: Path | None,
    since: str | None,
    unsent: bool,
    topics: tuple[str, ...],
    fmt: str | None,
    output: Path | None,
    send: bool,
    skip_empty: bool | None,
    min_significance: float | None,
    dry_run: bool,
    verbose: bool,
) -> None:
    """Write the digest: new mentions by topic, edited stories, source health.

    Exit status: 0 written (and sent); 1 delivery failed (the digest stays unsent, so the
    next --unsent includes it); 2 usage or configuration error.
    """
    from crawler.outputs.digest import DigestError, make_digest
    from crawler.outputs.mail import MailError
    from crawler.storage.lock import LockHeld

    on_terminal = output is None and sys.stdout.isatty()
    fmt = fmt or default_format(on_terminal)
    config = read_config_for(config_path, db_path)
    db = require_database(db_path or config.storage.db)
    try:
        # A pass still writing could hold mentions the digest would otherwise miss; the
        # lock is let go before the mail server is contacted.
        with (
            database_lock(db, wait=config.schedule.pass_timeout.total_seconds()) as lock,
            open_store(config_path, db) as store,
        ):
            result = make_digest(
                store,
                config,
                since=since,
                unsent=unsent,
                topics=topics,
                fmt=fmt,
                send=send and not dry_run,
                now=next_second(),
                output=None if dry_run else output,
                skip_empty=skip_empty,
                dry_run=dry_run,
                release_lock=lock.release,
                min_significance=min_significance,
            )
            refused = _to_alert_targets(store, config, result, send and not dry_run, topics)
    except (DigestError, ConfigError) as error:
        raise click.UsageError(str(error)) from error
    except MailError as error:
        click.echo(f"presswatch: error: {error}; the digest stays unsent", err=True)
        sys.exit(EXIT_FAILED)
    except LockHeld as held:
        click.echo(f"presswatch: {held}", err=True)
        sys.exit(EXIT_LOCKED)
    if refused:
        click.echo(f"presswatch: error: the digest was refused by {', '.join(refused)}", err=True)
        sys.exit(EXIT_FAILED)
    printed = (output is None or dry_run) and not result.sent and not result.skipped
    if printed:
        text = result.text
        if fmt == "text" and use_color(None, on_terminal):
            text = render_terminal(text, color=True)
        click.echo(text, nl=not text.endswith("\n"))
    if verbose:
        click.echo(result.describe(), err=printed)


def _to_alert_targets(
    store: Store, config: Config, result: DigestResult, send: bool, topics: tuple[str, ...]
) -> list[str]:
    """``[digest] notify``: the digest through Apprise too; the targets that refused it."""
    if not (send and config.digest.notify) or result.skipped or result.period is None:
        return []
    from crawler.outputs.alerts.digest import send_period

    return send_period(store, config, result.period, topics)

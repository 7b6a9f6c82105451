"""``presswatch run`` and ``presswatch demo``: one monitoring pass, and the offline demo."""

from __future__ import annotations

import json
import logging
import os
import shlex
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.commands.common import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    config_option,
    database_lock,
    db_option,
    log_format_option,
    pass_selection_options,
    read_config_for,
)
from crawler.config import Config
from crawler.storage.migrations import DatabaseProblem
from crawler.storage.store import StorageFailed, Store
from crawler.times import utc_now

if TYPE_CHECKING:
    from crawler.run import PassSummary

DEMO_PORT = 8765
log = logging.getLogger("presswatch.run")


@click.command()
@config_option
@db_option
@pass_selection_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option(
    "--wait",
    type=float,
    default=None,
    metavar="SECONDS",
    help="If another pass holds the database, wait this long for it (exit 3 if it "
    "still does). Without --wait, exit 0 at once with a one-line message "
    "(on stderr, and in --log-file even with --quiet).",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print nothing on success, only errors on failure (for cron).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log what the crawler does to stderr.")
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also log to this file, at least INFO (rotated at 10 MB; its folder is created).",
)
@log_format_option
@click.option(
    "--no-notify",
    is_flag=True,
    help="A silent pass: queue no alert for what it finds, and deliver none.",
)
@click.option(
    "--now",
    "now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    hidden=True,
    help="Pretend the pass runs at this time (UTC when no zone).",
)
def run(
    config_path: Path,
    db_path: Path | None,
    sources: tuple[str, ...],
    no_sources: bool,
    recheck: str,
    as_json: bool,
    wait: float | None,
    quiet: bool,
    verbose: bool,
    log_file: Path | None,
    log_format: str,
    no_notify: bool,
    now: datetime | None,
) -> None:
    """Run one monitoring pass over the configured sources.

    Exit status: 0 the pass completed (failed items are recorded in the errors table),
    or another pass was running; 1 every source failed; 2 usage, configuration or
    database error; 3 another pass still held the database after --wait.
    """
    from crawler.ops.logs import setup_logging
    from crawler.run import run_pass
    from crawler.storage.lock import LockHeld

    log_level = setup_logging(verbose=verbose, quiet=quiet, log_file=log_file, fmt=log_format)
    config = read_config_for(config_path, db_path)
    if no_notify:
        config = config.model_copy(update={"notify": ()})
    db = db_path or config.storage.db
    try:
        with database_lock(db, wait=wait or 0):
            summary = run_pass(
                config,
                db_path=db,
                source_names=sources,
                poll_sources=not no_sources,
                recheck=recheck,
                clock=fixed_clock(now) if now else utc_now,
                log_level=log_level,
                progress=sys.stderr.isatty() and not quiet,
            )
            deliver_alerts(config, db, summary.run_id, now=fixed_clock(now)() if now else None)
    except StorageFailed as error:  # the database could not take even the pass's start
        log.error("pass failed: %s", error)
        sys.exit(EXIT_FAILED)
    except LockHeld as held:
        # A skipped pass leaves a trace: the log file always, stderr unless --quiet.
        log.log(logging.ERROR if wait is not None else logging.WARNING, "pass skipped: %s", held)
        sys.exit(EXIT_LOCKED if wait is not None else EXIT_OK)
    failed = summary.status in ("failed", "interrupted")
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    elif failed or not quiet:
        click.echo(format_summary(summary), err=failed and quiet)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


def deliver_alerts(
    config: Config, db: Path, run_id: int | None = None, now: datetime | None = None
) -> None:
    """Send the alerts the pass queued (and any still waiting): a failed delivery is
    logged and recorded, and never fails the pass."""
    if not config.notify:
        return
    from crawler.outputs.alerts import deliver  # only with [[notify]] targets

    try:
        with closing(Store.open(db)) as store:
            deliver(store, config, run_id=run_id, now=now)
    except (sqlite3.Error, StorageFailed, DatabaseProblem) as error:
        log.error("alerts not delivered: %s; the next pass tries again", error)


def fixed_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at ``start`` and then runs with real time."""
    offset = (start if start.tzinfo else start.replace(tzinfo=UTC)) - utc_now()
    return lambda: utc_now() + offset


def format_summary(summary: PassSummary) -> str:
    s = summary
    lines = [
        f"run {s.run_id}: {s.status} in {s.seconds:.1f}s ({s.db})",
        f"  sources:  {s.sources_polled} polled, {s.sources_failed} failed",
        f"  articles: {s.articles_new} new, {s.articles_checked} re-checked, "
        f"{s.changes_new} changed",
        f"  mentions: {s.mentions_new} new",
        f"  errors:   {s.errors}" + (" (see the errors table)" if s.errors else ""),
    ]
    return "\n".join(lines)


@click.command()
@click.option(
    "--db",
    "db_path",
    default="presswatch-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the demo.",
)
@click.option(
    "--port",
    default=DEMO_PORT,
    show_default=True,
    help="Serve the sample site on this port (0: any free port). The database "
    "does not depend on it: re-running the demo stores nothing twice.",
)
def demo(db_path: Path, port: int) -> None:
    """Serve the bundled sample news site offline, run a real pass, publish a second
    edition with edits, run a second pass and show the changes it found."""
    from crawler.commands.serve import MISSING, datasette_installed
    from crawler.demo import DemoSite
    from crawler.outputs.reports import (
        articles_per_source,
        changes_found,
        format_changes,
        mentions_per_topic,
    )

    try:
        site = DemoSite(port)
    except OSError as error:
        raise click.UsageError(
            f"cannot serve the demo site on port {port}: "
            f"{error.strerror}; choose another with --port"
        ) from error
    with site:
        click.echo(f"Serving the sample news site at {site.base_url}/ (first edition)")
        click.echo(format_summary(site.run_pass(db_path, recheck="none")))
        site.publish_second_edition()
        click.echo(
            "\nPublished the second edition (a few stories edited, one taken down); "
            "re-checking every article"
        )
        click.echo(format_summary(site.run_pass(db_path, recheck="all")))
    db = shlex.quote(str(db_path))
    with closing(Store.open(db_path)) as store:
        click.echo("\nArticles per source:")
        for name, count in articles_per_source(store):
            click.echo(f"  {count:4d}  {name}")
        click.echo("\nMentions per topic:")
        for report in mentions_per_topic(store):
            click.echo(f"  {len(report.titles):4d}  {report.topic}")
            for title in report.titles:
                click.echo(f"          - {title}")
        click.echo(f"\nChanges found (one article's whole history: presswatch diff ID --db {db}):")
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        click.echo(format_changes(changes_found(store), color=color))
    serve = f"presswatch serve --db {db}"
    if not datasette_installed():
        serve = f"{serve}   ({MISSING})"
    click.echo(f"\nExplore it in Datasette: {serve}")

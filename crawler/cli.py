"""The ``presswatch`` command: a thin layer that parses flags and calls the library.

Exit status: 0 the command did its work (a pass that completed, even with some failed
items, which are recorded); 1 the work failed (every source failed); 2 a usage or
configuration error, with a message naming the file, key and problem.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crawler.cli_common import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    PresswatchGroup,
    config_option,
    database_lock,
    db_option,
    log_format_option,
    read_config,
    read_config_for,
    require_database,
    use_color,
)
from crawler.config import ConfigError
from crawler.run import PassSummary
from crawler.storage import StorageFailed, Store
from crawler.times import next_second, to_iso, utc_now

DEMO_PORT = 8765
log = logging.getLogger("presswatch.run")


@click.group(cls=PresswatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "--version", "-V", package_name="presswatch")
def cli() -> None:
    """presswatch: watch news outlets for topics, track how stories are edited."""


@cli.command()
@config_option
@db_option
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Poll only this source (repeatable).")
@click.option("--no-sources", is_flag=True, help="Poll no source: only re-check stored articles.")
@click.option("--recheck", type=click.Choice(["due", "all", "none"]), default="due",
              show_default=True, help="Which stored articles to re-fetch for edits.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--wait", type=float, default=None, metavar="SECONDS",
              help="If another pass holds the database, wait this long for it (exit 3 if it "
                   "still does). Without --wait, exit 0 at once with a one-line message "
                   "(on stderr, and in --log-file even with --quiet).")
@click.option("--quiet", "-q", is_flag=True,
              help="Print nothing on success, only errors on failure (for cron).")
@click.option("--verbose", "-v", is_flag=True, help="Log what the crawler does to stderr.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also log to this file, at least INFO (rotated at 10 MB; its folder is "
                   "created).")
@log_format_option
@click.option("--now", "now", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
              hidden=True, help="Pretend the pass runs at this time (UTC when no zone).")
def run(config_path: Path, db_path: Path | None, sources: tuple[str, ...], no_sources: bool,
        recheck: str, as_json: bool, wait: float | None, quiet: bool, verbose: bool,
        log_file: Path | None, log_format: str, now: datetime | None) -> None:
    """Run one monitoring pass over the configured sources.

    Exit status: 0 the pass completed (failed items are recorded in the errors table),
    or another pass was running; 1 every source failed; 2 usage, configuration or
    database error; 3 another pass still held the database after --wait.
    """
    from crawler.lock import LockHeld
    from crawler.logs import setup_logging
    from crawler.run import run_pass

    log_level = setup_logging(verbose=verbose, quiet=quiet, log_file=log_file, fmt=log_format)
    config = read_config_for(config_path, db_path)
    db = db_path or config.storage.db
    try:
        with database_lock(db, wait=wait or 0):
            summary = run_pass(config, db_path=db, source_names=sources,
                               poll_sources=not no_sources, recheck=recheck,
                               clock=fixed_clock(now) if now else utc_now, log_level=log_level,
                               progress=sys.stderr.isatty() and not quiet)
    except StorageFailed as error:   # the database could not take even the pass's start
        log.error("pass failed: %s", error)
        sys.exit(EXIT_FAILED)
    except LockHeld as held:
        # A skipped pass leaves a trace: the log file always, stderr unless --quiet.
        log.log(logging.ERROR if wait is not None else logging.WARNING,
                "pass skipped: %s", held)
        sys.exit(EXIT_LOCKED if wait is not None else EXIT_OK)
    failed = summary.status in ("failed", "interrupted")
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    elif failed or not quiet:
        click.echo(format_summary(summary), err=failed and quiet)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


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


@cli.command()
@click.option("--db", "db_path", default="presswatch-demo.db", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Where to write the demo.")
@click.option("--port", default=DEMO_PORT, show_default=True,
              help="Serve the sample site on this port (0: any free port). The database "
                   "does not depend on it: re-running the demo stores nothing twice.")
def demo(db_path: Path, port: int) -> None:
    """Serve the bundled sample news site offline, run a real pass, publish a second
    edition with edits, run a second pass and show the changes it found."""
    from crawler.demo import DemoSite
    from crawler.reports import (
        articles_per_source,
        changes_found,
        format_changes,
        mentions_per_topic,
    )
    from crawler.serve import MISSING, datasette_installed

    try:
        site = DemoSite(port)
    except OSError as error:
        raise click.UsageError(f"cannot serve the demo site on port {port}: "
                               f"{error.strerror}; choose another with --port") from error
    with site:
        click.echo(f"Serving the sample news site at {site.base_url}/ (first edition)")
        click.echo(format_summary(site.run_pass(db_path, recheck="none")))
        site.publish_second_edition()
        click.echo("\nPublished the second edition (a few stories edited, one taken down); "
                   "re-checking every article")
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


@cli.command()
@click.argument("article")
@config_option
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "html"]), default="text",
              show_default=True, help="html: a standalone page.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--color/--no-color", default=None,
              help="Colour the diff (default: only on a terminal, and not with NO_COLOR "
                   "set).")
def diff(article: str, config_path: Path, db_path: Path | None, fmt: str,
         output: Path | None, color: bool | None) -> None:
    """Show the change history of one ARTICLE (its id or URL) with each diff."""
    from crawler.reports import change_history, find_article, format_history, history_page

    with open_store(config_path, db_path) as store:
        article_id = find_article(store, article)
        if article_id is None:
            raise click.UsageError(f"no stored article {article!r} in {store.path}")
        history = change_history(store, article_id)
    if fmt == "html":
        text = history_page(history)
    else:
        text = format_history(history, color=use_color(color, output is None))
    write_output(text, output, color=color)


@cli.command()
@config_option
@db_option
@click.option("--since", metavar="WHEN",
              help="A duration (90m, 24h, 7d) or an ISO 8601 time. Default: 24h.")
@click.option("--unsent", is_flag=True,
              help="Everything since the last digest that was sent (what cron uses).")
@click.option("--topic", "topics", multiple=True, metavar="NAME",
              help="Only this topic (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "text", "json", "atom"]),
              default="markdown", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--send", is_flag=True,
              help="E-mail it as configured in [digest.email]; print nothing on success.")
@click.option("--skip-empty/--no-skip-empty", default=None,
              help="Send or write nothing when nothing is new (recorded as skipped). "
                   "Default: [digest] skip_empty.")
@click.option("--dry-run", is_flag=True,
              help="Print the digest that would be made; send, write and record nothing.")
@click.option("--verbose", "-v", is_flag=True,
              help="Also print a one-line summary (to stderr when the digest is printed).")
def digest(config_path: Path, db_path: Path | None, since: str | None, unsent: bool,
           topics: tuple[str, ...], fmt: str, output: Path | None, send: bool,
           skip_empty: bool | None, dry_run: bool, verbose: bool) -> None:
    """Write the digest: new mentions by topic, edited stories, source health.

    Exit status: 0 written (and sent); 1 delivery failed (the digest stays unsent, so the
    next --unsent includes it); 2 usage or configuration error.
    """
    from crawler.digest import DigestError, make_digest
    from crawler.lock import LockHeld
    from crawler.mail import MailError

    config = read_config_for(config_path, db_path)
    db = require_database(db_path or config.storage.db)
    try:
        # A pass still writing could hold mentions the digest would otherwise miss; the
        # lock is let go before the mail server is contacted.
        with database_lock(db, wait=config.schedule.pass_timeout.total_seconds()) as lock, \
                open_store(config_path, db) as store:
            result = make_digest(store, config, since=since, unsent=unsent, topics=topics,
                                 fmt=fmt, send=send and not dry_run, now=next_second(),
                                 output=None if dry_run else output, skip_empty=skip_empty,
                                 dry_run=dry_run, release_lock=lock.release)
    except (DigestError, ConfigError) as error:
        raise click.UsageError(str(error)) from error
    except MailError as error:
        click.echo(f"presswatch: error: {error}; the digest stays unsent", err=True)
        sys.exit(EXIT_FAILED)
    except LockHeld as held:
        click.echo(f"presswatch: {held}", err=True)
        sys.exit(EXIT_LOCKED)
    printed = (output is None or dry_run) and not result.sent and not result.skipped
    if printed:
        click.echo(result.text, nl=not result.text.endswith("\n"))
    if verbose:
        click.echo(result.describe(), err=printed)


@cli.group()
def topics() -> None:
    """Try topic queries against the articles already stored."""


@topics.command("check")
@click.argument("query")
@config_option
@db_option
@click.option("--case-sensitive", is_flag=True, help="Match every term with exact case.")
@click.option("--keep-diacritics", is_flag=True, help="Do not fold Grønland to Gronland.")
@click.option("--limit", default=50, show_default=True, help="List at most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def topics_check(query: str, config_path: Path, db_path: Path | None, case_sensitive: bool,
                 keep_diacritics: bool, limit: int, as_json: bool) -> None:
    """List the stored articles (current versions) that QUERY would match."""
    from crawler.backfill import check
    from crawler.topics import QueryError, check_query

    try:
        matcher = check_query(query, case_sensitive=case_sensitive,
                              fold_diacritics=not keep_diacritics)
    except QueryError as error:
        start = max(0, error.position - 40)   # a long query is shown around the problem
        shown = ("..." if start else "") + query[start:start + 80]
        pointer = " " * (error.position - start + (3 if start else 0)) + "^"
        raise click.UsageError(f"bad query: {error}\n  {shown}\n  {pointer}") from error
    with open_store(config_path, db_path) as store:
        count = 0
        for hit in check(store, matcher):
            count += 1
            if count <= limit:
                click.echo(_format_hit(hit, as_json))
    if not as_json:
        click.echo(f"{count} article(s) match" + (f"; {limit} shown" if count > limit else ""))


def _format_hit(hit: Any, as_json: bool) -> str:
    match = hit.match
    if as_json:
        return json.dumps({"article_id": hit.article_id, "url": hit.url, "title": hit.title,
                           "in_title": match.in_title, "match_count": match.match_count,
                           "terms": list(match.terms), "snippet": match.snippet},
                          ensure_ascii=False)
    from crawler.visible import visible

    return visible(f"#{hit.article_id} {hit.title or '(untitled)'}\n  {hit.url}\n"
                   f"  {match.match_count} match(es)"
                   f"{' in the headline' if match.in_title else ''}: {match.snippet}")


@cli.command()
@config_option
@db_option
@click.option("--topic", "topic_names", multiple=True, metavar="NAME",
              help="Only this topic (repeatable); default: every configured topic.")
def backfill(config_path: Path, db_path: Path | None, topic_names: tuple[str, ...]) -> None:
    """Record the mentions that new or changed topics have in stored articles.

    Mentions found this way are flagged backfilled, with found_at the time of the backfill.
    """
    from crawler.backfill import backfill as run_backfill
    from crawler.lock import LockHeld

    config = read_config(config_path)
    db = require_database(db_path or config.storage.db)
    try:
        with database_lock(db, wait=60), open_store(config_path, db) as store:
            added = run_backfill(store, config, topic_names, to_iso(utc_now()))
    except KeyError as error:
        raise click.UsageError(error.args[0]) from error
    except LockHeld as held:
        click.echo(f"presswatch: {held}", err=True)
        sys.exit(EXIT_LOCKED)
    for name, count in sorted(added.items()):
        click.echo(f"{count:5d} new mention(s)  {name}")


@contextmanager
def open_store(config_path: Path, db_path: Path | None) -> Iterator[Store]:
    """The database named by --db, or by the configuration when there is one."""
    from crawler.storage import Store

    if db_path is None:
        db_path = read_config(config_path).storage.db
    store = Store.open(require_database(db_path))
    try:
        yield store
    finally:
        store.close()


def write_output(text: str, output: Path | None, *, color: bool | None = None) -> None:
    """Standard output (ANSI colour kept only on a terminal or when asked for), or a file."""
    if output is None:
        click.echo(text, color=color)
    else:
        output.write_text(text + "\n", encoding="utf-8")


def main() -> None:
    cli(prog_name="presswatch")


from crawler.serve import serve  # noqa: E402

cli.add_command(serve)

from crawler.schedule import schedule  # noqa: E402

cli.add_command(schedule)

from crawler.status import status  # noqa: E402

cli.add_command(status)

from crawler.sources_cli import sources  # noqa: E402

cli.add_command(sources)

from crawler.cluster.cli import worker  # noqa: E402

cli.add_command(worker)

from crawler.cluster.cli import ingest  # noqa: E402

cli.add_command(ingest)

from crawler.cluster.cli import enqueue  # noqa: E402

cli.add_command(enqueue)

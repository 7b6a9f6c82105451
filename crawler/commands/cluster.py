"""``presswatch worker``, ``ingest`` and ``enqueue``: the click layer of the cluster.

The Redis URL comes from ``--redis``, else the ``PRESSWATCH_REDIS`` environment variable
(which keeps a password out of the process list), else ``[cluster] redis`` in the
configuration (enqueue and ingest).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import click

from crawler.cluster import DEFAULT_HEARTBEAT
from crawler.cluster.keys import DEFAULT_PREFIX, Keys
from crawler.commands.common import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    config_option,
    database_lock,
    db_option,
    log_format_option,
    options,
    pass_selection_options,
    read_config_for,
    user_errors,
)
from crawler.commands.run import deliver_alerts, format_summary
from crawler.config import Config

if TYPE_CHECKING:
    from crawler.run import PassSummary

log = logging.getLogger("presswatch.alerts")

REDIS_HELP = (
    "The Redis server: redis://[:PASSWORD@]HOST:6379/0, rediss:// for TLS. "
    "Default: $PRESSWATCH_REDIS"
)
redis_option = click.option(
    "--redis",
    "redis_url",
    envvar="PRESSWATCH_REDIS",
    metavar="URL",
    help=f"{REDIS_HELP}, then [cluster] redis in the configuration.",
)
worker_redis_option = click.option(
    "--redis", "redis_url", envvar="PRESSWATCH_REDIS", metavar="URL", help=f"{REDIS_HELP}."
)
prefix_option = click.option(
    "--prefix",
    default=DEFAULT_PREFIX,
    show_default=True,
    help="Key prefix in Redis: one cluster per prefix.",
)
idle_exit_option = click.option(
    "--idle-exit",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Exit after SECONDS with nothing queued or in progress anywhere in the cluster "
    "(default: run until SIGTERM or SIGINT).",
)
verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Log what the process does to stderr."
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
log_file_option = click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also log to this file (rotated at 10 MB).",
)


@click.command()
@options(worker_redis_option, prefix_option, idle_exit_option)
@click.option(
    "--worker-id", default="", help="This worker's name, unique in the cluster (default: HOST-PID)."
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=1),
    default=DEFAULT_HEARTBEAT,
    show_default=True,
    metavar="SECONDS",
    help="After SECONDS without a sign of life from this worker (it renews the idle "
    "time of the requests it holds every third of it), the others take over those "
    "requests (XAUTOCLAIM). Give every worker the same value.",
)
@options(verbose_option, quiet_option, log_file_option, log_format_option)
def worker(
    redis_url: str | None,
    prefix: str,
    idle_exit: float | None,
    worker_id: str,
    heartbeat: float,
    verbose: bool,
    quiet: bool,
    log_file: Path | None,
    log_format: str,
) -> None:
    """Fetch, extract and match what the cluster's frontier holds (any number, any host).

    A worker needs only the Redis URL: the configuration is the one `presswatch enqueue`
    published. It hands its findings to `presswatch ingest`. SIGTERM or SIGINT stop it;
    requests it had not started go back to the frontier. A worker restarted under the
    same --worker-id goes on at once with the requests it held.

    Exit status: 0 stopped (or idle for --idle-exit); 1 Redis could not be reached;
    2 usage error; 75 Redis refused a hand-over mid-crawl (start the worker again:
    nothing is lost, others redo its requests).
    """
    from crawler.ops.logs import setup_logging

    log_level = setup_logging(verbose=verbose, quiet=quiet, log_file=log_file, fmt=log_format)
    url = resolve_redis(redis_url, None)
    with redis_errors(url):
        from crawler.cluster.worker import WorkerOptions, run_worker

        run_worker(WorkerOptions(url, prefix, worker_id, heartbeat, idle_exit, log_level))
    sys.exit(EXIT_OK)


@click.command()
@options(config_option, db_option, redis_option, prefix_option, idle_exit_option)
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    expose_value=False,
    metavar="SECONDS",
    help="No longer used: every run, including one opened for messages of no open run, "
    "closes when its work is done. Accepted so that existing scripts keep working.",
)
@click.option(
    "--max-run",
    type=click.FloatRange(min=1),
    default=1800,
    show_default=True,
    metavar="SECONDS",
    help="Close a run open this long and start another, so a "
    "digest waiting for the database gets its turn.",
)
@click.option("--json", "as_json", is_flag=True, help="Print each run's summary as JSON.")
@click.option("--no-notify", is_flag=True, help="Queue and deliver no alert.")
@options(verbose_option, quiet_option, log_file_option, log_format_option)
def ingest(
    config_path: Path,
    db_path: Path | None,
    redis_url: str | None,
    prefix: str,
    idle_exit: float | None,
    max_run: float,
    as_json: bool,
    no_notify: bool,
    verbose: bool,
    quiet: bool,
    log_file: Path | None,
    log_format: str,
) -> None:
    """Write what the workers found to the database: the cluster's one SQLite writer.

    Run exactly one, next to the database. It records through the same code as
    `presswatch run`, one `runs` row per run `presswatch enqueue` opened, and prints
    each run's summary when it closes. It holds the database lock while a run is open.

    Exit status: 0 stopped (or idle for --idle-exit); 1 Redis could not be reached;
    2 usage or configuration error; 3 another ingester already serves this prefix.
    """
    from crawler.ops.logs import setup_logging

    setup_logging(verbose=verbose, quiet=quiet, log_file=log_file, fmt=log_format)
    config = read_config_for(config_path, db_path)
    if no_notify:
        config = config.model_copy(update={"notify": ()})
    url = resolve_redis(redis_url, config)
    with redis_errors(url):
        from crawler.cluster.ingest import IngesterRunning, IngestOptions, WrongDatabase, run_ingest
        from crawler.cluster.keys import redis_client
    db = db_path or config.storage.db
    opts = IngestOptions(db, prefix, idle_exit, max_run, notify=config.notify)
    show = summary_printer(as_json, quiet)

    def closed(summary: PassSummary) -> None:  # each run's alerts go once it is committed
        show(summary)
        if config.notify:
            deliver_locked(config, db, summary.run_id)

    try:
        with redis_errors(url), user_errors():
            run_ingest(opts, redis_client(url), closed)
    except IngesterRunning as running:
        click.echo(f"presswatch: {running}", err=True)
        sys.exit(EXIT_LOCKED)
    except WrongDatabase as wrong:
        click.echo(f"presswatch: error: {wrong}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK)


@click.command()
@options(config_option, db_option, redis_option, prefix_option)
@pass_selection_options
@click.option(
    "--reseed",
    is_flag=True,
    help="Copy every stored URL into Redis again (after Redis lost its data).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@options(quiet_option)
def enqueue(
    config_path: Path,
    db_path: Path | None,
    redis_url: str | None,
    prefix: str,
    sources: tuple[str, ...],
    no_sources: bool,
    recheck: str,
    reseed: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Put the feed polls and due re-checks on the cluster's frontier.

    Run it next to the database, where `presswatch run` would run (the scheduler calls
    it instead of `run` when the cluster is configured). It also publishes the
    configuration to the workers and the ingester.

    Exit status: 0 queued; 1 Redis could not be reached; 2 usage or configuration error.
    """
    config = read_config_for(config_path, db_path)
    url = resolve_redis(redis_url, config)
    with redis_errors(url), user_errors():
        from crawler.cluster.enqueue import enqueue as enqueue_pass
        from crawler.cluster.keys import redis_client

        summary = enqueue_pass(
            config,
            redis_client(url),
            Keys(prefix),
            db_path=db_path,
            source_names=sources,
            poll_sources=not no_sources,
            recheck=recheck,
            reseed=reseed,
        )
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    elif not quiet:
        click.echo(
            f"run {summary.run}: queued {summary.polls} source poll(s) and "
            f"{summary.revisits} re-check(s); {summary.queued} request(s) waiting "
            f"(configuration {summary.generation})"
        )
    sys.exit(EXIT_OK)


# -- helpers -------------------------------------------------------------------------------


def resolve_redis(option: str | None, config: Config | None) -> str:
    """--redis, $PRESSWATCH_REDIS (both in ``option``), or ``[cluster] redis``."""
    cluster = getattr(config, "cluster", None)
    url = option or getattr(cluster, "redis", None)
    if not url:
        raise click.UsageError(
            "no Redis server: give --redis URL, set PRESSWATCH_REDIS, "
            "or set [cluster] redis in the configuration"
        )
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise click.UsageError(
            f"--redis: not a redis://, rediss:// or unix:// URL: {without_password(url)}"
        )
    return url


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def redis_errors(url: str) -> Iterator[None]:
    """Turn a Redis that cannot be reached into one line on stderr and exit status 1."""
    try:
        from redis.exceptions import RedisError
    except ImportError as error:
        raise click.UsageError(
            "the cluster commands need Redis's client and scrapy-redis: "
            "pip install 'presswatch[cluster]'"
        ) from error
    try:
        yield
    except RedisError as error:
        click.echo(f"presswatch: error: Redis at {without_password(url)}: {error}", err=True)
        sys.exit(EXIT_FAILED)


def deliver_locked(config: Config, db: Path, run_id: int) -> None:
    """Deliver the alerts holding the database lock, as `presswatch run` does, so that
    no `presswatch notify send` delivers the same ones at the same time."""
    from crawler.storage.lock import LockHeld

    try:
        with database_lock(db, wait=60):
            deliver_alerts(config, db, run_id)
    except LockHeld as held:
        log.warning("alerts not delivered now (%s): the next run delivers them", held)


def summary_printer(as_json: bool, quiet: bool) -> Callable[[PassSummary], None]:
    def show(summary: PassSummary) -> None:
        if as_json:
            click.echo(json.dumps(summary.as_dict()))
        elif not quiet:
            click.echo(format_summary(summary))

    return show

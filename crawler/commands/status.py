"""``presswatch status``: the last runs, failing sources and due checks; a monitoring check."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from crawler.commands.common import (
    USER_ERRORS,
    config_option,
    db_option,
    read_config,
    require_database,
)
from crawler.config import Config, load_config
from crawler.durations import parse_duration
from crawler.ops.status import (
    CHECK_UNKNOWN,
    Health,
    check_health,
    cluster_set_aside,
    collect_status,
    format_status,
)
from crawler.storage.store import Store
from crawler.times import to_iso, utc_now


def _failing_alert_targets(store: Store, config: Config | None) -> list[str]:
    if config is None or not config.notify:
        return []
    from crawler.outputs.alerts import failing_targets  # only with [[notify]] targets

    return failing_targets(store, config)


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command()
@config_option
@db_option
@click.option(
    "--runs",
    "run_count",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many of the last runs to show.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.option(
    "--check",
    is_flag=True,
    help="A monitoring check (Nagios, Icinga): one line, and exit 0 OK, 1 warning, "
    "2 critical, 3 unknown.",
)
@click.option(
    "--warn-after",
    default="1h",
    show_default=True,
    callback=_duration,
    metavar="DURATION",
    help="--check warns about a source failing longer than this.",
)
@click.option(
    "--crit-after",
    default="2h",
    show_default=True,
    callback=_duration,
    metavar="DURATION",
    help="--check is critical without a successful pass this long.",
)
def status(
    config_path: Path,
    db_path: Path | None,
    run_count: int,
    as_json: bool,
    check: bool,
    warn_after: timedelta,
    crit_after: timedelta,
) -> None:
    """Show the last runs, the sources whose last poll failed and the re-checks due.

    Runs are passes: `ok`, `failed` (every source failed), `running` (in progress, or
    cut off by a crash), `timeout` (stopped by the scheduler's pass_timeout) or
    `interrupted` (killed when the scheduler stopped). The errors column counts rows
    in the `errors` table for that run. The report names the configuration file used.

    With --check: exit 0 healthy, 1 warning (a source failing longer than --warn-after),
    2 critical (no successful pass within --crit-after), 3 unknown (the configuration or
    the database cannot be read).
    """
    if check:
        health = _check(config_path, db_path, warn_after, crit_after)
        click.echo(health.line)
        sys.exit(health.code)
    db, config = _database(config_path, db_path)
    store = Store.open(db)
    try:
        report = collect_status(
            store,
            to_iso(utc_now()),
            runs=run_count,
            sources=_names(config),
            config=_config_file(config),
        )
        alerts = _failing_alert_targets(store, config)
    finally:
        store.close()
    report = replace(report, set_aside=cluster_set_aside(_redis_url(config)))
    if as_json:
        click.echo(json.dumps(report.as_dict() | {"alerts_failing": alerts}, ensure_ascii=False))
        return
    click.echo(format_status(report))
    if alerts:
        click.echo("\nAlert targets failing:\n" + "\n".join(f"  {line}" for line in alerts))


def _redis_url(config: Config | None) -> str | None:
    """The cluster's Redis: $PRESSWATCH_REDIS, else ``[cluster] redis``, if either is set."""
    if os.environ.get("PRESSWATCH_REDIS"):
        return os.environ["PRESSWATCH_REDIS"]
    return config.cluster.redis if config is not None else None


def _check(
    config_path: Path, db_path: Path | None, warn_after: timedelta, crit_after: timedelta
) -> Health:
    try:
        db, config = _database(config_path, db_path, reader=load_config)
        store = Store.open(db)
    except USER_ERRORS as error:
        return Health(CHECK_UNKNOWN, str(error))
    try:
        return check_health(store, utc_now(), warn_after, crit_after, _names(config))
    finally:
        store.close()


def _database(
    config_path: Path, db_path: Path | None, reader: Any = read_config
) -> tuple[Path, Config | None]:
    """The database to read and the configuration (None: --db and no configuration file)."""
    if db_path is None:
        config = reader(config_path)
        db_path = config.storage.db
    else:
        config = reader(config_path) if config_path.exists() else None
    return require_database(db_path), config


def _names(config: Config | None) -> list[str] | None:
    """The configured source names (None: show every source)."""
    return None if config is None else [source.name for source in config.sources]


def _config_file(config: Config | None) -> str | None:
    return str(Path(config.path).absolute()) if config and config.path else None

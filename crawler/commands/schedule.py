"""``presswatch schedule``: run passes, re-checks and the daily digest until stopped."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import click

from crawler.commands.common import (
    config_option,
    db_option,
    log_format_option,
    read_config,
    user_errors,
)
from crawler.ops.logs import setup_logging


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@config_option
@db_option
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also log the scheduler's own workings and show each pass's summary.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the scheduler's log lines to this file (rotated at 10 MB; "
    "its folder is created).",
)
@log_format_option
def schedule(
    config_path: Path, db_path: Path | None, verbose: bool, log_file: Path | None, log_format: str
) -> None:
    """Run passes, re-checks and the daily digest on the configured schedule, until stopped.

    Each source is polled at its own `interval` (default: [schedule] interval), due
    articles are re-checked every [schedule] recheck_interval, and the digest is written
    (or mailed, with [digest.email]) daily at [schedule] digest_at. Each pass is a child
    process, one at a time; one running longer than [schedule] pass_timeout is killed and
    recorded as a `timeout` run. SIGTERM or Ctrl-C stop it after the pass in progress,
    with exit status 0. One line per pass is logged to stderr.
    """
    from crawler.ops.schedule import log, serve  # APScheduler: only for this command

    with user_errors():
        setup_logging(verbose=verbose, log_file=log_file, fmt=log_format)
        if verbose:
            log.setLevel(logging.DEBUG)  # each pass's command line
        config = read_config(config_path)
        serve(
            config,
            config_path,
            db_path,
            stdout=None if verbose else subprocess.DEVNULL,
            log_format=log_format,
        )

"""What every presswatch command shares: the --config and --db options, exit codes,
one-line errors. Command modules import it; it imports none of them."""

from __future__ import annotations

from pathlib import Path

import click

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3

config_option = click.option(
    "--config", "config_path", default="config.toml", show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="The configuration file.")
db_option = click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite database (default: [storage] db in the configuration).")

"""What every presswatch command shares: the --config and --db options, exit codes,
one-line errors. Command modules import it; it imports none of them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from crawler.config import Config, ConfigError, load_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3

config_option = click.option(
    "--config", "config_path", default="config.toml", show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="The configuration file.")
db_option = click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite database (default: [storage] db in the configuration).")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can fix into one line on stderr and exit status 2."""
    try:
        yield
    except ConfigError as error:
        click.echo(f"presswatch: error: {error}", err=True)
        sys.exit(EXIT_USAGE)


def read_config(path: Path) -> Config:
    with user_errors():
        return load_config(path)


def read_config_for(path: Path, db_path: Path | None) -> Config:
    """The configuration; with --db and no configuration file at all, the defaults."""
    if db_path is not None and not path.exists():
        return Config()
    return read_config(path)


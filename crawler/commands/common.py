"""What every presswatch command shares: the --config and --db options, exit codes,
and the one error path. Command modules import it; it imports none of them.

Errors a user can fix (a configuration, a database, a log file) end a command with one
line on stderr, ``presswatch: error: PATH: reason``, and exit status 2, whichever
command met them: the ``presswatch`` group (crawler.commands.main) catches them
around every command (:func:`user_errors`).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from crawler.config import Config, ConfigError, load_config
from crawler.ops.logs import LogFileError
from crawler.storage.migrations import DatabaseProblem
from crawler.storage.store import Store

if TYPE_CHECKING:
    from crawler.storage.lock import DatabaseLock

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
CONFIG_ENV = "PRESSWATCH_CONFIG"
CONFIG_NAME = "config.toml"
USER_ERRORS = (ConfigError, DatabaseProblem, LogFileError)


def config_candidates() -> list[Path]:
    """Where a configuration is looked for without --config or $PRESSWATCH_CONFIG."""
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return [Path(CONFIG_NAME), Path(xdg) / "presswatch" / CONFIG_NAME]


def find_config(given: Path | None) -> Path:
    """--config (or $PRESSWATCH_CONFIG), else the first candidate that exists, else
    ./config.toml (which then reads as missing, or as no configuration beside --db)."""
    if given is not None:
        return given
    return next((path for path in config_candidates() if path.is_file()), Path(CONFIG_NAME))


def _config_callback(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    return find_config(value)


config_option = click.option(
    "--config",
    "config_path",
    envvar=CONFIG_ENV,
    callback=_config_callback,
    type=click.Path(path_type=Path),  # a folder fails in load_config, in one line
    help="The configuration file. Default: $PRESSWATCH_CONFIG, else ./config.toml, else "
    "$XDG_CONFIG_HOME/presswatch/config.toml (~/.config/presswatch/config.toml).",
)
db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite database (default: [storage] db in the configuration).",
)
log_format_option = click.option(
    "--log-format",
    "log_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per log line (journald, Loki).",
)


output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)


def options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several click options as one decorator, applied in the order given."""

    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


# What a pass polls and re-checks: `presswatch run`, and `presswatch enqueue` in a cluster.
pass_selection_options = options(
    click.option(
        "--source",
        "sources",
        multiple=True,
        metavar="NAME",
        help="Poll only this source (repeatable).",
    ),
    click.option(
        "--no-sources", is_flag=True, help="Poll no source: only re-check stored articles."
    ),
    click.option(
        "--recheck",
        type=click.Choice(["due", "all", "none"]),
        default="due",
        show_default=True,
        help="Which stored articles to re-fetch for edits.",
    ),
)


def use_color(flag: bool | None, to_terminal: bool) -> bool:
    """--color/--no-color when given; else colour only on a terminal, and never when the
    NO_COLOR environment variable is set (https://no-color.org)."""
    if flag is not None:
        return flag
    return to_terminal and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """End the command with one line on stderr."""
    click.echo(f"presswatch: error: {message}", err=True)
    sys.exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can fix into one line on stderr and exit status 2."""
    try:
        yield
    except USER_ERRORS as error:
        fail(str(error))
    except sqlite3.DatabaseError as error:
        fail(f"the database: {error}")


def read_config(path: Path) -> Config:
    with user_errors():
        return load_config(path)


def read_config_for(path: Path, db_path: Path | None) -> Config:
    """The configuration; with --db and no configuration file at all, the defaults."""
    if db_path is not None and not path.exists():
        return Config()
    return read_config(path)


def require_database(db_path: Path) -> Path:
    """``db_path`` if it exists; else DatabaseProblem (and no file, no lock is made)."""
    if not db_path.exists():
        raise DatabaseProblem(f"no database at {db_path}: run `presswatch run` first")
    if db_path.is_dir():
        raise DatabaseProblem(f"{db_path}: is a folder, not a database")
    return db_path


@contextmanager
def database_lock(db_path: Path, wait: float = 0.0) -> Iterator[DatabaseLock]:
    """The database's lock (crawler.storage.lock), held while the block runs (it may let go
    earlier with ``release()``); a lock file that cannot be made is a DatabaseProblem
    naming it. Raises LockHeld."""
    from crawler.storage.lock import DatabaseLock, lock_path

    lock = DatabaseLock(db_path, wait=wait)
    try:
        lock.acquire()
    except OSError as error:
        raise DatabaseProblem(
            f"{lock_path(db_path)}: cannot create the lock file: {error.strerror or error}"
        ) from None
    try:
        yield lock
    finally:
        lock.release()


@contextmanager
def open_store(config_path: Path, db_path: Path | None) -> Iterator[Store]:
    """The database named by --db, or by the configuration when there is one."""
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

"""``presswatch serve``: explore the database in Datasette, with presswatch's metadata."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from crawler.commands.common import EXIT_USAGE, config_option, db_option, open_store

DEFAULT_PORT = 8001
MISSING = "Datasette is not installed: pip install 'presswatch[datasette]'"


@click.command()
@config_option
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Listen on this address; 0.0.0.0 makes the database public on the network.",
)
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Listen on this port.",
)
def serve(config_path: Path, db_path: Path | None, host: str, port: int) -> None:
    """Browse and query the database in Datasette.

    Every table, view and column is documented, article versions and changes have
    full-text search, and canned queries answer the common questions (new mentions,
    edited articles, failing sources). The database is upgraded to the current schema
    first. Needs the optional dependency: pip install 'presswatch[datasette]'.
    """
    if not datasette_installed():
        click.echo(f"presswatch: error: {MISSING}", err=True)
        sys.exit(EXIT_USAGE)
    with open_store(config_path, db_path) as store:
        path = Path(store.path)
    run_datasette(path, host, port)


def datasette_installed() -> bool:
    try:
        importlib.import_module("datasette")
    except ImportError:
        return False
    return True


def run_datasette(path: Path, host: str, port: int) -> None:
    """Serve ``path`` until interrupted."""
    import uvicorn

    from crawler.outputs.datasette import make_datasette

    datasette = make_datasette(path)
    click.echo(f"Serving {path} at http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")

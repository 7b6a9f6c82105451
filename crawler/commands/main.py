"""The ``presswatch`` command: a thin layer that parses flags and calls the library.

Exit status: 0 the command did its work (a pass that completed, even with some failed
items, which are recorded); 1 the work failed (every source failed); 2 a usage or
configuration error, with a message naming the file, key and problem.
"""

from __future__ import annotations

import click

from crawler.commands.cluster import enqueue, ingest, worker
from crawler.commands.common import PresswatchGroup
from crawler.commands.diff import diff
from crawler.commands.digest import digest
from crawler.commands.export import export
from crawler.commands.notify import notify
from crawler.commands.run import demo, run
from crawler.commands.schedule import schedule
from crawler.commands.serve import serve
from crawler.commands.sources import sources
from crawler.commands.status import status
from crawler.commands.topics import backfill, topics
from crawler.commands.verify import verify

COMMANDS = (
    run,
    demo,
    diff,
    digest,
    topics,
    backfill,
    serve,
    schedule,
    status,
    sources,
    worker,
    ingest,
    enqueue,
    notify,
    verify,
    export,
)


@click.group(cls=PresswatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "--version", "-V", package_name="presswatch")
def cli() -> None:
    """presswatch: watch news outlets for topics, track how stories are edited."""


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli(prog_name="presswatch")

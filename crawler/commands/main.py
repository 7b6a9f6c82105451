"""The ``presswatch`` command: a thin layer that parses flags and calls the library.

Exit status: 0 the command did its work (a pass that completed, even with some failed
items, which are recorded); 1 the work failed (every source failed); 2 a usage or
configuration error, with a message naming the file, key and problem.

Each command's module is imported only when that command runs: ``presswatch --help``
lists them from :data:`COMMANDS` without importing any (a pass's modules, the
configuration schema and the database layer take most of a second to import), and
``presswatch status`` imports the status command's modules alone.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click

# Every command: its name (the module's attribute of that name is the click command),
# its module, and the one-line summary `presswatch --help` shows, which is the first
# sentence of the command's own help (tests/test_cli.py checks that they agree).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("crawler.commands.run", "Run one monitoring pass over the configured sources."),
    "demo": (
        "crawler.commands.run",
        "Serve the bundled sample news site offline, run a real pass, publish a second "
        "edition with edits, run a second pass and show the changes it found.",
    ),
    "diff": (
        "crawler.commands.diff",
        "Show the change history of one ARTICLE (its id or URL) with each diff.",
    ),
    "digest": (
        "crawler.commands.digest",
        "Write the digest: new mentions by topic, edited stories, source health.",
    ),
    "topics": (
        "crawler.commands.topics",
        "Try topic queries against the articles already stored.",
    ),
    "backfill": (
        "crawler.commands.topics",
        "Record the mentions that new or changed topics have in stored articles.",
    ),
    "serve": ("crawler.commands.serve", "Browse and query the database in Datasette."),
    "schedule": (
        "crawler.commands.schedule",
        "Run passes, re-checks and the daily digest on the configured schedule, until stopped.",
    ),
    "status": (
        "crawler.commands.status",
        "Show the last runs, the sources whose last poll failed and the re-checks due.",
    ),
    "sources": ("crawler.commands.sources", "Add, list and try sources."),
    "worker": (
        "crawler.commands.cluster",
        "Fetch, extract and match what the cluster's frontier holds (any number, any host).",
    ),
    "ingest": (
        "crawler.commands.cluster",
        "Write what the workers found to the database: the cluster's one SQLite writer.",
    ),
    "enqueue": (
        "crawler.commands.cluster",
        "Put the feed polls and due re-checks on the cluster's frontier.",
    ),
    "notify": (
        "crawler.commands.notify",
        "Instant alerts through Apprise to the [[notify]] targets (docs/alerts.md).",
    ),
    "verify": (
        "crawler.commands.verify",
        "Recompute every version's chain hash and every archived body's SHA-256.",
    ),
    "export": ("crawler.commands.export", "Export stored evidence in standard formats."),
}


class LazyGroup(click.Group):
    """The presswatch group: commands imported when they run, listed from COMMANDS, and
    every command failing in one line (crawler.commands.common.user_errors)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return getattr(import_module(COMMANDS[name][0]), name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
            for name in self.list_commands(ctx)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from crawler.commands.common import user_errors

        with user_errors():
            return super().invoke(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "--version", "-V", package_name="presswatch")
def cli() -> None:
    """presswatch: watch news outlets for topics, track how stories are edited."""


def main() -> None:
    cli(prog_name="presswatch")

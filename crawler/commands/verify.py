"""``presswatch verify``: check that the stored versions and archived pages are intact."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crawler.commands.common import EXIT_FAILED, config_option, db_option, open_store


@click.command()
@config_option
@db_option
@click.option(
    "--article",
    metavar="ID|URL",
    help="Check only this article (its id or any URL of it).",
)
def verify(config_path: Path, db_path: Path | None, article: str | None) -> None:
    """Recompute every version's chain hash and every archived body's SHA-256.

    Prints one line per article whose history was altered or cut, then a summary.
    Exit status: 0 intact; 1 a version or an archived body does not match what was
    recorded (each named); 2 usage, configuration or database error.
    """
    from crawler.ops.verify import verify as check
    from crawler.outputs.reports import find_article

    with open_store(config_path, db_path) as store:
        article_id = None
        if article is not None:
            article_id = find_article(store, article)
            if article_id is None:
                raise click.UsageError(f"no stored article {article!r} in {store.path}")
        report = check(store, article_id)
    for problem in report.problems:
        click.echo(problem)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(EXIT_FAILED)

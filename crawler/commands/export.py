"""``presswatch export``: hand the evidence to other tools (``export warc``)."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.commands.common import config_option, db_option, open_store


@click.group()
def export() -> None:
    """Export stored evidence in standard formats."""


@export.command()
@config_option
@db_option
@click.option(
    "--article",
    "articles",
    multiple=True,
    metavar="ID|URL",
    help="Only this article (its id or any URL of it; repeatable).",
)
@click.option("--topic", metavar="NAME", help="Only articles that mentioned this topic.")
@click.option(
    "--since",
    metavar="WHEN",
    help="Only versions fetched since: a duration (90m, 24h, 7d) or an ISO 8601 time.",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The WARC file to write (FILE.warc.gz: gzipped per record).",
)
def warc(
    config_path: Path,
    db_path: Path | None,
    articles: tuple[str, ...],
    topic: str | None,
    since: str | None,
    output: Path,
) -> None:
    """Write the archived responses as WARC 1.1: per version a request, a response and a
    metadata record (article, version, change kinds, hashes).

    Exit status: 0 written; 2 usage, configuration or database error (such as no
    archive file beside the database).
    """
    from crawler.outputs.digest import DigestError, parse_since
    from crawler.outputs.reports import find_article
    from crawler.outputs.warc import ExportError, export_warc
    from crawler.storage.archive import Archive
    from crawler.times import next_second

    with open_store(config_path, db_path) as store:
        ids = []
        for article in articles:
            found = find_article(store, article)
            if found is None:
                raise click.UsageError(f"no stored article {article!r} in {store.path}")
            ids.append(found)
        try:
            start = parse_since(since, next_second()) if since else None
            result = export_warc(Archive.attach(store, create=False), output, ids, topic, start)
        except (DigestError, ExportError) as error:
            raise click.UsageError(str(error)) from error
    click.echo(f"wrote {result.versions} version(s) to {result.path}", err=True)

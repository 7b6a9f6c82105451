"""``presswatch topics check`` and ``presswatch backfill``: topic queries over stored articles."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from crawler.commands.common import (
    EXIT_LOCKED,
    config_option,
    database_lock,
    db_option,
    open_store,
    read_config,
    require_database,
)
from crawler.times import to_iso, utc_now


@click.group()
def topics() -> None:
    """Try topic queries against the articles already stored."""


@topics.command("check")
@click.argument("query")
@config_option
@db_option
@click.option("--case-sensitive", is_flag=True, help="Match every term with exact case.")
@click.option("--keep-diacritics", is_flag=True, help="Do not fold Grønland to Gronland.")
@click.option("--limit", default=50, show_default=True, help="List at most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--full-scan",
    is_flag=True,
    help="Match every stored article, not only those the full-text index finds.",
)
def topics_check(
    query: str,
    config_path: Path,
    db_path: Path | None,
    case_sensitive: bool,
    keep_diacritics: bool,
    limit: int,
    as_json: bool,
    full_scan: bool,
) -> None:
    """List the stored articles (current versions) that QUERY would match."""
    from crawler.matching import QueryError, check_query
    from crawler.matching.backfill import check

    try:
        matcher = check_query(
            query, case_sensitive=case_sensitive, fold_diacritics=not keep_diacritics
        )
    except QueryError as error:
        start = max(0, error.position - 40)  # a long query is shown around the problem
        shown = ("..." if start else "") + query[start : start + 80]
        pointer = " " * (error.position - start + (3 if start else 0)) + "^"
        raise click.UsageError(f"bad query: {error}\n  {shown}\n  {pointer}") from error
    with open_store(config_path, db_path) as store:
        count = 0
        for hit in check(store, matcher, [query], full_scan=full_scan):
            count += 1
            if count <= limit:
                click.echo(_format_hit(hit, as_json))
    if not as_json:
        click.echo(f"{count} article(s) match" + (f"; {limit} shown" if count > limit else ""))


def _format_hit(hit: Any, as_json: bool) -> str:
    match = hit.match
    if as_json:
        return json.dumps(
            {
                "article_id": hit.article_id,
                "url": hit.url,
                "title": hit.title,
                "in_title": match.in_title,
                "match_count": match.match_count,
                "terms": list(match.terms),
                "snippet": match.snippet,
            },
            ensure_ascii=False,
        )
    from crawler.visible import visible

    return visible(
        f"#{hit.article_id} {hit.title or '(untitled)'}\n  {hit.url}\n"
        f"  {match.match_count} match(es)"
        f"{' in the headline' if match.in_title else ''}: {match.snippet}"
    )


@click.command()
@config_option
@db_option
@click.option(
    "--topic",
    "topic_names",
    multiple=True,
    metavar="NAME",
    help="Only this topic (repeatable); default: every configured topic.",
)
@click.option(
    "--full-scan",
    is_flag=True,
    help="Match every stored article, not only those the full-text index finds.",
)
def backfill(
    config_path: Path, db_path: Path | None, topic_names: tuple[str, ...], full_scan: bool
) -> None:
    """Record the mentions that new or changed topics have in stored articles.

    Mentions found this way are flagged backfilled, with found_at the time of the backfill.
    """
    from crawler.matching.backfill import backfill as run_backfill
    from crawler.storage.lock import LockHeld

    config = read_config(config_path)
    db = require_database(db_path or config.storage.db)
    try:
        with database_lock(db, wait=60), open_store(config_path, db) as store:
            added = run_backfill(store, config, topic_names, to_iso(utc_now()), full_scan=full_scan)
    except KeyError as error:
        raise click.UsageError(error.args[0]) from error
    except LockHeld as held:
        click.echo(f"presswatch: {held}", err=True)
        sys.exit(EXIT_LOCKED)
    for name, count in sorted(added.items()):
        click.echo(f"{count:5d} new mention(s)  {name}")

"""``presswatch sources``: add a site's feed to config.toml, list the sources, try one.

``add`` edits config.toml with tomlkit, so every comment and every blank line of the
file stays as it was: the new ``[[sources]]`` table is inserted after the last one, with
a blank line before it, and the whole file is validated again (and restored if it no
longer validates). ``test`` polls one source into a temporary database, so neither the
configured database nor any other file is written.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import tomlkit
from tomlkit.items import AoT, Array, Comment, Table, Whitespace

from crawler.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    config_option,
    db_option,
    read_config,
)
from crawler.config import Config, ConfigError, load_config
from crawler.storage.store import Store

if TYPE_CHECKING:
    from crawler.run import PassSummary
    from crawler.sources.discovery import Candidate

ERROR_WIDTH = 60  # `sources list` shortens the last error to this many characters
ARTICLES_COLUMN = 4  # the one right-aligned column of `sources list`


@click.group(short_help="Add, list and try sources.")
def sources() -> None:
    """Add a site's feed to the configuration, list the sources, try one."""


def fail(code: int, message: str) -> NoReturn:
    """One line on stderr, as every presswatch command reports an error, and exit."""
    click.echo(f"presswatch: error: {message}", err=True)
    sys.exit(code)


# -- sources add ---------------------------------------------------------------------------


@sources.command("add", short_help="Find a site's feeds and add one as a source.")
@click.argument("url")
@click.option("--name", help="The source's name (default: the feed's title, else the host).")
@click.option(
    "--first",
    is_flag=True,
    help="Take the first candidate without asking (needed when stdin is not a "
    "terminal and gives no answer).",
)
@config_option
@click.option("--verbose", "-v", is_flag=True, help="Log what the crawler does to stderr.")
def add(url: str, name: str | None, first: bool, config_path: Path, verbose: bool) -> None:
    """Find the feeds and sitemaps of the site at URL and add one as a source.

    Candidates are the feeds the page at URL declares (<link rel="alternate">), feeds at
    the usual paths (/feed, /rss.xml, /atom.xml, ...) and the sitemaps named in the
    site's robots.txt; each is fetched and offered only if it really is a feed or a
    sitemap. If URL is itself a feed or a sitemap, it is offered alone. Fetching follows
    the [crawl] settings of the configuration (user agent, robots.txt, private addresses).

    The new [[sources]] entry is appended to the configuration file; its comments and
    formatting are kept. Exit status: 0 added; 1 no feed or sitemap found; 2 usage or
    configuration error, a duplicate name or URL, or no answer to the question.
    """
    from crawler.ops.logs import setup_logging

    config = read_config(config_path)
    if name is not None:
        check_unique(config, name=name.strip())
    log_level = setup_logging(verbose=verbose)
    from crawler.run import discover
    from crawler.sources.discovery import DiscoveryError

    try:
        candidates = discover(config, url, log_level=log_level)
    except DiscoveryError as error:
        fail(EXIT_FAILED, f"cannot fetch {error}")
    if not candidates:
        fail(EXIT_FAILED, f"no feed or sitemap found for {url}")
    chosen = choose(candidates, first=first)
    entry = source_entry(chosen, name)
    check_unique(config, name=entry["name"], url=entry["url"])
    try:
        write_source(config_path, entry)
    except ConfigError as error:
        fail(EXIT_USAGE, str(error))
    click.echo(f"added source {entry['name']!r} ({entry['kind']}, {entry['url']}) to {config_path}")


def choose(candidates: Sequence[Candidate], *, first: bool) -> Candidate:
    """Show the numbered candidates; take the first, or the one the user names."""
    for number, candidate in enumerate(candidates, 1):
        title = f"  ({candidate.title})" if candidate.title else ""
        click.echo(f"{number:>3}. {candidate.kind:<8} {candidate.url}{title}")
    if first:
        return candidates[0]
    try:
        number = click.prompt("Add which one?", type=click.IntRange(1, len(candidates)), default=1)
    except click.Abort:
        if sys.stdin.isatty():
            raise
        fail(EXIT_USAGE, "no choice on standard input: use --first to take the first candidate")
    if not sys.stdin.isatty():
        click.echo()  # the answer was not echoed: end the prompt's line
    return candidates[number - 1]


def source_entry(candidate: Candidate, name: str | None) -> dict[str, str]:
    """The new source: --name, else the feed's title, else the host."""
    from crawler.fetching.urls import host_of  # (tldextract: only where a command needs it)

    name = (name or "").strip() or candidate.title or host_of(candidate.url)
    return {"name": name, "url": candidate.url, "kind": candidate.kind}


def check_unique(config: Config, *, name: str, url: str | None = None) -> None:
    """Exit 2 if a configured source already has this name or this URL."""
    from crawler.fetching.urls import canonical_url

    for source in config.sources:
        if url is not None and canonical_url(source.url) == canonical_url(url):
            fail(EXIT_USAGE, f"{config.path}: source {source.name!r} already polls {url}")
    if any(source.name == name for source in config.sources):
        fail(
            EXIT_USAGE,
            f"{config.path}: a source named {name!r} exists already (choose another with --name)",
        )


def write_source(path: Path, entry: dict[str, str]) -> None:
    """Append ``entry`` to the file's sources; restore the file if it no longer validates."""
    original = path.read_bytes()
    path.write_bytes(append_source(original.decode("utf-8"), entry).encode("utf-8"))
    try:
        load_config(path)
    except ConfigError as error:
        path.write_bytes(original)
        raise ConfigError(
            f"{path} left unchanged: with the new source it would not validate: {error}"
        ) from error


def append_source(text: str, entry: dict[str, Any]) -> str:
    """``text`` (a config.toml) with ``entry`` appended to its sources.

    Everything else stays byte for byte: a new ``[[sources]]`` table goes after the
    last one, before any blank line and comments that follow it (those introduce the
    next section), with a blank line in front; inline arrays get an inline table.
    """
    if text and not text.endswith("\n"):
        text += "\n"
    document = tomlkit.parse(text)
    existing = document.get("sources")
    if isinstance(existing, Array):
        existing.append(_inline_table(entry))
    elif isinstance(existing, AoT) and len(existing):
        _append_table(existing, _table(entry))
    else:
        tables = tomlkit.aot()
        tables.append(_table(entry))
        document.append("sources", tables)
    return tomlkit.dumps(document)


def _append_table(tables: AoT, new: Table) -> None:
    body = tables[-1].value.body
    end = len(body)
    while end and body[end - 1][0] is None and isinstance(body[end - 1][1], Comment | Whitespace):
        end -= 1
    # Comments right under the last entry belong to it; from the first blank line on,
    # the trailing lines introduce whatever follows, so they move below the new entry.
    blank = next(
        (n for n in range(end, len(body)) if isinstance(body[n][1], Whitespace)), len(body)
    )
    moved = body[blank:]
    del body[blank:]
    tables[-1].value.append(None, tomlkit.nl())
    for _, item in moved:
        new.value.append(None, item)
    tables.append(new)


def _table(entry: dict[str, Any]) -> Table:
    table = tomlkit.table()
    table.update(entry)
    return table


def _inline_table(entry: dict[str, Any]) -> Any:
    table = tomlkit.inline_table()
    table.update(entry)
    return table


# -- sources list --------------------------------------------------------------------------


@sources.command("list", short_help="List the sources, their last poll and articles.")
@config_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of sources.")
def list_sources(config_path: Path, db_path: Path | None, as_json: bool) -> None:
    """List the configured sources: kind, last poll, its status and error, articles.

    The poll columns and the article counts come from the database, when it exists; a
    source no pass has polled yet shows "never". Articles are counted under the source
    that first found them.
    """
    config = read_config(config_path)
    db = db_path or config.storage.db
    polled = poll_records(db) if db.exists() else {}
    records = [
        source_record(source.name, source.url, source.kind, polled.get(source.name))
        for source in config.sources
    ]
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False))
    elif records:
        click.echo(format_sources(records))
    else:
        click.echo(f"no sources in {config_path}: add one with `presswatch sources add URL`")


def poll_records(db: Path) -> dict[str, dict[str, Any]]:
    """Each source's last poll and article count, by name, as the database records them."""
    store = Store.open(db)
    try:
        return {row["name"]: row for row in store.source_polls()}
    finally:
        store.close()


def source_record(name: str, url: str, kind: str, polled: dict[str, Any] | None) -> dict[str, Any]:
    polled = polled or {}
    return {
        "name": name,
        "url": url,
        "kind": kind,
        "last_polled_at": polled.get("last_polled_at"),
        "last_status": polled.get("last_status"),
        "last_error": polled.get("last_error"),
        "articles": polled.get("articles", 0),
    }


def format_sources(records: list[dict[str, Any]]) -> str:
    """A table: one line per source, the article count right-aligned."""
    header = ("name", "kind", "last poll", "status", "articles", "last error")
    table = [header, *(_source_columns(record) for record in records)]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    return "\n".join(_aligned(row, widths) for row in table)


def _aligned(row: tuple[str, ...], widths: list[int]) -> str:
    cells = [
        value.rjust(width) if column == ARTICLES_COLUMN else value.ljust(width)
        for column, (value, width) in enumerate(zip(row, widths, strict=True))
    ]
    return "  ".join(cells).rstrip()


def _source_columns(record: dict[str, Any]) -> tuple[str, ...]:
    return (
        record["name"],
        record["kind"],
        record["last_polled_at"] or "never",
        record["last_status"] or "-",
        str(record["articles"]),
        shorten(record["last_error"] or "-", ERROR_WIDTH),
    )


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# -- sources test --------------------------------------------------------------------------


@sources.command("test", short_help="Poll one source and show what it would store.")
@click.argument("name")
@config_option
@click.option("--verbose", "-v", is_flag=True, help="Log what the crawler does to stderr.")
def test_source(name: str, config_path: Path, verbose: bool) -> None:
    """Poll the source NAME once and show what a pass would store; store nothing.

    The source is polled and its new articles fetched, extracted and matched against
    the configured topics, all into a temporary database that is deleted afterwards:
    the configured database is never opened. Exit status: 0 the poll worked and at least
    one article could be stored (or there was nothing to fetch); 1 nothing it tried could
    be stored: the poll failed, or it failed for every article it tried; 2 usage or
    configuration error (such as an unknown NAME).
    """
    from crawler.ops.logs import setup_logging
    from crawler.run import run_pass

    config = read_config(config_path)
    try:
        source = config.source(name)
    except ConfigError as error:
        fail(EXIT_USAGE, f"{config_path}: {error}")
    log_level = setup_logging(verbose=verbose)
    with tempfile.TemporaryDirectory(prefix="presswatch-test-") as folder:
        db = Path(folder) / "trial.db"
        summary = run_pass(
            config, db_path=db, source_names=[name], recheck="none", log_level=log_level
        )
        report = trial_report(db, name)
    click.echo(f"source {name!r} ({source.kind}, {source.url}); nothing was stored")
    click.echo(format_trial(report))
    sys.exit(EXIT_FAILED if nothing_stored(summary) else EXIT_OK)


def nothing_stored(summary: PassSummary) -> bool:
    """Did the trial pass fail, or store no article while it recorded errors?"""
    return summary.status == "failed" or (summary.articles_new == 0 and summary.errors > 0)


def trial_report(db: Path, name: str) -> dict[str, Any]:
    """The poll, the articles (with the topics they mention) and the errors in ``db``."""
    store = Store.open(db)
    try:
        poll = store.source_poll(name) or {}
        articles = store.articles_newest_first()
        topics = store.mentioned_topics()
        errors = store.errors_recorded()
    finally:
        store.close()
    for article in articles:
        article["topics"] = topics.get(article.pop("id"), [])
    return {
        "status": poll.get("last_status"),
        "error": poll.get("last_error"),
        "articles": articles,
        "errors": errors,
    }


def format_trial(report: dict[str, Any]) -> str:
    status = report["status"] or "not polled"
    lines = [
        f"poll: {status}" + (f": {report['error']}" if report["error"] else ""),
        "",
        f"articles found: {len(report['articles'])}",
    ]
    for article in report["articles"]:
        topics = ", ".join(article["topics"]) or "none"
        lines += [
            f"  {article['title'] or '(untitled)'}",
            f"    {article['url']}",
            f"    published: {article['published_at'] or 'unknown'}   topics: {topics}",
        ]
    lines += ["", f"errors: {len(report['errors'])}"]
    lines += [
        f"  {error['stage']}: {error['url'] or '-'}: {error['message']}"
        for error in report["errors"]
    ]
    return "\n".join(lines)

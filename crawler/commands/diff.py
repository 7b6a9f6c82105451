"""``presswatch diff``: an article's versions and the edits between them."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.commands.common import (
    config_option,
    db_option,
    open_store,
    output_option,
    use_color,
    write_output,
)


@click.command()
@click.argument("article")
@config_option
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html"]),
    default="text",
    show_default=True,
    help="html: a standalone page.",
)
@output_option
@click.option(
    "--show",
    type=click.Choice(["diff", "raw"]),
    default="diff",
    show_default=True,
    help="raw (with --format html): also the two archived pages side by side, in "
    "sandboxed frames that load nothing and run no script.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the diff (default: only on a terminal, and not with NO_COLOR set).",
)
def diff(
    article: str,
    config_path: Path,
    db_path: Path | None,
    fmt: str,
    output: Path | None,
    show: str,
    color: bool | None,
) -> None:
    """Show the change history of one ARTICLE (its id or URL) with each diff."""
    from crawler.outputs.reports import (
        archived_pages,
        change_history,
        find_article,
        format_history,
        history_page,
    )

    if show == "raw" and fmt != "html":
        raise click.UsageError("--show raw needs --format html")
    with open_store(config_path, db_path) as store:
        article_id = find_article(store, article)
        if article_id is None:
            raise click.UsageError(f"no stored article {article!r} in {store.path}")
        history = change_history(store, article_id)
        raw = archived_pages(store, article_id) if show == "raw" else None
    if fmt == "html":
        text = history_page(history, raw)
    else:
        text = format_history(history, color=use_color(color, output is None))
    write_output(text, output, color=color)

"""Full-diff links for a digest's edits: to ``presswatch serve`` when ``[serve]
base_url`` is set, else to diff pages written beside the digest file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from crawler.outputs.digest.model import Digest, Edit
from crawler.outputs.digest.render import render_diff_page
from crawler.storage.store import Store

DIFF_ROUTE = "/-/presswatch/diff/{}"  # the full-diff page of presswatch serve


def with_diff_links(digest: Digest, base_url: str | None, output: Path | None) -> Digest:
    """The digest with ``diff_url`` set on each edit that has a diff to show: the served
    page under ``base_url``, or a page beside ``output``; none when neither is given."""

    def linked(edit: Edit) -> Edit:
        if edit.change_id is None or (edit.excerpt is None and not edit.retitled):
            return edit
        if base_url:
            return replace(edit, diff_url=base_url.rstrip("/") + DIFF_ROUTE.format(edit.change_id))
        if output is not None:
            folder = quote(diff_folder(output).name)
            return replace(edit, diff_url=f"{folder}/change-{edit.change_id}.html")
        return edit

    overview = replace(digest.overview, top_edits=tuple(map(linked, digest.overview.top_edits)))
    return replace(digest, edits=tuple(map(linked, digest.edits)), overview=overview)


def diff_folder(output: Path) -> Path:
    """Where the diff pages of a digest written to ``output`` go: ``NAME-diffs/``."""
    return output.with_name(f"{output.stem}-diffs")


def write_diff_pages(
    store: Store, digest: Digest, output: Path, template_dir: Path | None = None
) -> list[Path]:
    """Write the page of every edit linked to a file (see :func:`with_diff_links`)."""
    written = []
    for edit in digest.edits:
        if edit.change_id is None or not edit.diff_url or "://" in edit.diff_url:
            continue
        change = store.change_page(edit.change_id)
        if change is None:
            continue
        path = diff_folder(output) / f"change-{edit.change_id}.html"
        path.parent.mkdir(exist_ok=True)
        path.write_text(render_diff_page(change, template_dir), encoding="utf-8")
        written.append(path)
    return written

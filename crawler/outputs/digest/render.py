"""Showing a digest as Markdown, HTML, plain text, JSON or Atom (Jinja templates in
templates/, a template of the same name in ``[digest] template_dir`` wins)."""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from crawler.outputs.digest.filters import environment, shown_data
from crawler.outputs.digest.model import Digest, DigestError

FORMATS = ("markdown", "html", "text", "json", "atom")
TEMPLATES = {
    "markdown": "digest.md.j2",
    "html": "digest.html.j2",
    "text": "digest.txt.j2",
    "atom": "digest.atom.j2",
}
DIFF_TEMPLATE = "diff.html.j2"
TEMPLATE_DIR = Path(__file__).parent / "templates"
JSON_VERSION = 1


def render(digest: Digest, fmt: str, template_dir: Path | None = None) -> str:
    """The digest in ``fmt``; a template of the same name in ``template_dir`` wins."""
    if fmt == "json":
        return json.dumps(shown_data(as_json(digest)), indent=2, ensure_ascii=False) + "\n"
    if fmt not in TEMPLATES:
        raise DigestError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    template = _environment(template_dir).get_template(TEMPLATES[fmt])
    return template.render(digest=digest, feed_id=feed_id(digest)).rstrip("\n") + "\n"


def render_diff_page(change: dict[str, Any], template_dir: Path | None = None) -> str:
    """One change's full diff as an HTML page (``Store.change_page`` gives ``change``)."""
    return _environment(template_dir).get_template(DIFF_TEMPLATE).render(change=change)


def as_json(digest: Digest) -> dict[str, Any]:
    """The documented JSON structure (docs/digest.md), version :data:`JSON_VERSION`."""
    return {
        "version": JSON_VERSION,
        "period": {"start": digest.period.start, "end": digest.period.end},
        "counts": asdict(digest.counts),
        "topics": [asdict(topic) for topic in digest.topics],
        "edits": [asdict(edit) for edit in digest.edits],
        "source_health": [asdict(source) for source in digest.source_health],
        "stories": [asdict(story) for story in digest.stories],
        "overview": {
            "days": list(digest.overview.days),
            "topics": [asdict(topic) for topic in digest.overview.topics],
            "top_edits": [edit.change_id for edit in digest.overview.top_edits],
        },
    }


def feed_id(digest: Digest) -> str:
    """A stable Atom feed id: the same for every digest of the same topic selection."""
    topics = ",".join(quote(name, safe="") for name in digest.selected_topics)
    return "urn:presswatch:digest" + (f":{topics}" if topics else "")


@lru_cache(maxsize=8)
def _environment(template_dir: Path | None) -> jinja2.Environment:
    loaders = [jinja2.FileSystemLoader(template_dir)] if template_dir else []
    return environment(
        jinja2.ChoiceLoader([*loaders, jinja2.FileSystemLoader(TEMPLATE_DIR)]),
        escape_by_default=False,
    )

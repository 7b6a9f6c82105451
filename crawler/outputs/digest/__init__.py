"""The digest: what a desk should read about one period, in five formats.

:func:`resolve_period` (period.py) turns ``--since`` / ``--unsent`` into a half-open
period ``start <= t < end``; :func:`collect` (collect.py) reads the period's new
mentions, edited stories and source problems into the dataclasses of model.py;
:func:`render` (render.py, with the filters of filters.py and the templates in
templates/) shows them as Markdown, HTML, plain text, JSON or Atom; :func:`make_digest`
(deliver.py) is the whole command: collect, render, record a ``digests`` row, deliver,
and mark it sent once delivered.
"""

from crawler.outputs.digest.collect import collect
from crawler.outputs.digest.deliver import (
    digest_message_id,
    mail_digest,
    make_digest,
    mark_sent,
    record_digest,
    subject,
    write_output,
)
from crawler.outputs.digest.filters import (
    html_diff,
    html_snippet,
    markdown_escape,
    markdown_link,
    markdown_snippet,
    oneline,
    plural,
    when,
)
from crawler.outputs.digest.model import (
    Counts,
    Digest,
    DigestError,
    DigestResult,
    Edit,
    Mention,
    Period,
    SourceHealth,
    TopicMentions,
)
from crawler.outputs.digest.period import last_delivered_end, parse_since, resolve_period
from crawler.outputs.digest.render import FORMATS, JSON_VERSION, as_json, render

__all__ = [
    "FORMATS",
    "JSON_VERSION",
    "Counts",
    "Digest",
    "DigestError",
    "DigestResult",
    "Edit",
    "Mention",
    "Period",
    "SourceHealth",
    "TopicMentions",
    "as_json",
    "collect",
    "digest_message_id",
    "html_diff",
    "html_snippet",
    "last_delivered_end",
    "mail_digest",
    "make_digest",
    "mark_sent",
    "markdown_escape",
    "markdown_link",
    "markdown_snippet",
    "oneline",
    "parse_since",
    "plural",
    "record_digest",
    "render",
    "resolve_period",
    "subject",
    "when",
    "write_output",
]

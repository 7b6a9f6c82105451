"""What workers hand to the ingester: items and events as versioned JSON.

An *item* message carries an ``ArticleItem`` after extraction and matching (the article,
its text and its topic matches; never the page's bytes). An *event* message carries one
of the calls the spider makes on a ``PassRecorder`` (an error, a skipped link, a polled
source, an article seen in another source), with its arguments by name. Every message
says when it happened (``at``, UTC) and under which published configuration
(``generation``, see ``crawler.cluster.published``).

    {"v": 1, "kind": "item", "at": "2026-11-25T08:00:00Z", "generation": "3f2a...",
     "item": {"url": ..., "article": {...}, "matches": [...], ...}}
    {"v": 1, "kind": "source_polled", "at": ..., "generation": ...,
     "fields": {"source_id": 2, "status": "ok", "error": null, "etag": "\\"x\\"", ...}}

``v`` changes only when a reader of the old version would misread a message; fields added
later are optional, and readers ignore what they do not know.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from crawler.extract import Article
from crawler.items import ArticleItem, FeedEntry
from crawler.topics.models import TopicMatch

VERSION = 1
ITEM = "item"
EVENTS: dict[str, tuple[str, ...]] = {
    "error": ("stage", "message", "url", "source_id"),
    "article_error": ("stage", "message", "url", "source_id", "new"),
    "skipped": ("source_id", "url", "reason"),
    "source_polled": ("source_id", "status", "error", "etag", "last_modified"),
    "seen_in_source": ("url", "source_id"),
    # A second source offered an article another request of this pass fetches.
    "offered": ("url", "source_id"),
    # A new link answered 404/410 (crawler.recorder.PassRecorder.link_gone).
    "link_gone": ("url", "source_id", "status", "message", "final_url"),
}
NOT_SENT = ("body", "encoding")   # the page itself stays on the worker


class MessageError(ValueError):
    """A message the ingester cannot read."""


@dataclass(frozen=True)
class Message:
    kind: str                     # "item" or one of EVENTS
    at: str                       # when it happened, ISO 8601 UTC
    generation: str               # the published configuration it was made under
    item: ArticleItem | None = None
    fields: dict[str, Any] = field(default_factory=dict)   # an event's arguments


def item_message(item: ArticleItem, *, at: str, generation: str) -> str:
    payload = {f.name: getattr(item, f.name) for f in fields(item) if f.name not in NOT_SENT}
    payload["entry"] = asdict(item.entry)
    payload["article"] = asdict(item.article) if item.article is not None else None
    payload["matches"] = [asdict(match) for match in item.matches]
    return _dumps({"v": VERSION, "kind": ITEM, "at": at, "generation": generation,
                   "item": payload})


def event_message(kind: str, values: dict[str, Any], *, at: str, generation: str) -> str:
    if kind not in EVENTS:
        raise ValueError(f"unknown event {kind!r}")
    payload = {name: values.get(name) for name in EVENTS[kind]}
    return _dumps({"v": VERSION, "kind": kind, "at": at, "generation": generation,
                   "fields": payload})


def decode(raw: bytes | str) -> Message:
    """Read one message; raise MessageError for anything malformed or too new."""
    try:
        data = json.loads(raw)
        version, kind = data["v"], data["kind"]
    except (ValueError, KeyError, TypeError) as error:
        raise MessageError(f"not a presswatch message: {error}") from error
    if not isinstance(version, int) or version > VERSION:
        raise MessageError(f"message version {version!r} is newer than this presswatch "
                           f"({VERSION}): upgrade the ingester first")
    try:
        common = {"kind": kind, "at": data["at"], "generation": data["generation"]}
        if kind == ITEM:
            return Message(**common, item=_item(data["item"]))
        names = EVENTS[kind]
        return Message(**common, fields={name: data["fields"].get(name) for name in names})
    except (KeyError, TypeError, AttributeError) as error:
        raise MessageError(f"malformed {kind!r} message: {error!r}") from error


def _item(payload: dict[str, Any]) -> ArticleItem:
    known = {f.name for f in fields(ArticleItem)} - set(NOT_SENT)
    values = {name: value for name, value in payload.items() if name in known}
    values["entry"] = _dataclass(FeedEntry, values.get("entry") or {})
    article = values.get("article")
    values["article"] = _dataclass(Article, article) if article is not None else None
    values["matches"] = [_match(match) for match in values.get("matches") or []]
    return ArticleItem(**values)


def _match(values: dict[str, Any]) -> TopicMatch:
    return _dataclass(TopicMatch, {**values, "terms": tuple(values.get("terms") or ())})


def _dataclass(cls: type, values: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    return cls(**{name: value for name, value in values.items() if name in known})


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

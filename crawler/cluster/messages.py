"""What workers hand to the ingester: items and events as versioned JSON.

An *item* message carries an ``ArticleItem`` after extraction and matching (the article,
its text and metadata (authors, dates, paywall evidence), its topic matches and the topics
found only in the feed summary; never the page's bytes). An *event* message carries one
of the calls the spider makes on a ``PassRecorder`` (an error, a skipped link, a polled
source, an article seen in another source), with its arguments by name. Every message
says when it happened (``at``, UTC), under which published configuration
(``generation``, see ``crawler.cluster.published``) and, when it has one, the run
``presswatch enqueue`` opened that it belongs to (``run``, an integer).

    {"v": 1, "kind": "item", "at": "2026-11-25T08:00:00Z", "generation": "3f2a...",
     "item": {"url": ..., "article": {...}, "matches": [...], ...}}
    {"v": 1, "kind": "source_polled", "at": ..., "generation": ...,
     "fields": {"source_id": 2, "status": "ok", "error": null, "etag": "\\"x\\"", ...}}

``v`` changes only when a reader of the old version would misread a message; fields added
later are optional, and readers ignore what they do not know.

``decode`` checks a message completely before anything acts on it: every field against
the type its dataclass declares (an item's ``ArticleItem``, ``Article``, ``FeedEntry``
and ``TopicMatch`` fields) or its recorder method's parameter declares (an event's
arguments, :class:`WorkerRecorder`: the pass's ``Recorder`` protocol and ``offered``),
``at`` as an ISO 8601 time, and an item's URL as http(s). So a field added to one of
those is checked too, with no change here. What fails is a ``MessageError`` saying which
field and why.
"""

from __future__ import annotations

import json
import typing
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import Any, Protocol

from crawler.checked import TypedReader, Unreadable, describe
from crawler.context import Recorder
from crawler.items import ArticleItem
from crawler.matching.models import TopicMatch
from crawler.times import from_iso

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
    # A new link answered 404/410 (crawler.tracking.recorder.PassRecorder.link_gone).
    "link_gone": ("url", "source_id", "status", "message", "final_url"),
}
# The page itself stays on the worker (the evidence archive is not kept in cluster mode).
NOT_SENT = ("body", "encoding", "headers")


class MessageError(ValueError):
    """A message the ingester cannot read."""


class WorkerRecorder(Recorder, Protocol):
    """What a worker's recorder reports: every call of the pass's Recorder, and one
    event only a shared frontier has (crawler.cluster.recorder.RemoteRecorder sends them)."""

    def offered(self, url: str, source_id: int) -> None:
        """Another request of this pass fetches ``url``; ``source_id`` offered it too."""
        ...


@dataclass(frozen=True)
class Message:
    kind: str  # "item" or one of EVENTS
    at: str  # when it happened, ISO 8601 UTC
    generation: str  # the published configuration it was made under
    item: ArticleItem | None = None
    run: int | None = None  # the run it belongs to (none from an older worker)
    fields: dict[str, Any] = field(default_factory=dict)  # an event's arguments


def item_message(item: ArticleItem, *, at: str, generation: str, run: int | None = None) -> str:
    payload = {f.name: getattr(item, f.name) for f in fields(item) if f.name not in NOT_SENT}
    payload["entry"] = asdict(item.entry)
    payload["article"] = asdict(item.article) if item.article is not None else None
    payload["matches"] = [asdict(match) for match in item.matches]
    payload["summary_matches"] = [asdict(match) for match in item.summary_matches]
    return _dumps(_envelope(ITEM, at, generation, run) | {"item": payload})


def event_message(
    kind: str, values: dict[str, Any], *, at: str, generation: str, run: int | None = None
) -> str:
    if kind not in EVENTS:
        raise ValueError(f"unknown event {kind!r}")
    payload = {name: values.get(name) for name in EVENTS[kind]}
    return _dumps(_envelope(kind, at, generation, run) | {"fields": payload})


def _envelope(kind: str, at: str, generation: str, run: int | None) -> dict[str, Any]:
    envelope = {"v": VERSION, "kind": kind, "at": at, "generation": generation}
    return envelope if run is None else envelope | {"run": run}


def decode(raw: bytes | str) -> Message:
    """Read and check one message; raise MessageError for anything malformed or too new."""
    try:
        data = json.loads(raw)
        version, kind = data["v"], data["kind"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise MessageError(f"not a presswatch message: {error}") from error
    if not isinstance(version, int) or version > VERSION:
        raise MessageError(
            f"message version {version!r} is newer than this presswatch "
            f"({VERSION}): upgrade the ingester first"
        )
    if kind != ITEM and kind not in EVENTS:
        raise MessageError(f"unknown message kind {kind!r}")
    try:
        common = {
            "kind": kind,
            "at": _time(data.get("at")),
            "generation": _checked(data.get("generation"), str, "generation"),
            "run": _checked(data.get("run"), int | None, "run"),
        }
        if kind == ITEM:
            item = _checked(data.get("item"), ArticleItem, "item")
            if not item.url.startswith(("http://", "https://")):
                raise MessageError(f"item.url: not an http(s) URL: {item.url[:100]!r}")
            return Message(**common, item=item)
        return Message(**common, fields=_event_fields(kind, data.get("fields")))
    except MessageError as error:
        raise MessageError(f"malformed {kind!r} message: {error}") from error


def _time(value: Any) -> str:
    text = _checked(value, str, "at")
    try:
        from_iso(text)
    except (ValueError, OverflowError) as error:
        raise MessageError(f"at: not an ISO 8601 time: {text[:40]!r}") from error
    return text


def _event_fields(kind: str, values: Any) -> dict[str, Any]:
    """An event's arguments, each checked against its recorder parameter's type."""
    if not isinstance(values, dict):
        raise MessageError(f"fields: expected an object, got {describe(values)}")
    hints, required = _event_types(kind)
    checked = {}
    for name in EVENTS[kind]:
        value = values.get(name)
        if value is None and name not in required:
            checked[name] = None
            continue
        checked[name] = _checked(value, hints.get(name, Any), f"fields.{name}")
    return checked


@cache
def _event_types(kind: str) -> tuple[dict[str, Any], frozenset[str]]:
    """The parameter types of the recorder method that sends ``kind``, and which
    parameters have no default."""
    import inspect

    method = getattr(WorkerRecorder, kind)
    hints = typing.get_type_hints(method)
    required = frozenset(
        name
        for name, parameter in inspect.signature(method).parameters.items()
        if parameter.default is inspect.Parameter.empty and name != "self"
    )
    return hints, required


# Field types declared loosely on the dataclass, and what a message must hold there.
_READER = TypedReader(
    declared={
        (ArticleItem, "matches"): list[TopicMatch],
        (ArticleItem, "summary_matches"): list[TopicMatch],
    },
    skipped={ArticleItem: NOT_SENT},
)


def _checked(value: Any, hint: Any, where: str) -> Any:
    try:
        return _READER.read(value, hint, where)
    except Unreadable as error:
        raise MessageError(str(error)) from None


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

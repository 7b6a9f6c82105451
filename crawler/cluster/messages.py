"""What workers hand to the ingester: items and events as versioned JSON (the format is in
docs/scaling.md, "What travels through Redis"). ``decode`` checks a message completely
before anything acts on it: every field against the type its dataclass or its recorder
method's parameter declares (so a field added to one of those is checked with no change
here), ``at`` as an ISO 8601 time, an item's URL as http(s)."""

from __future__ import annotations

import inspect
import json
import typing
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import Any, NotRequired, Protocol

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from crawler.checked import Unreadable, read_json
from crawler.context import Recorder
from crawler.items import ArticleItem
from crawler.matching.models import TopicMatch
from crawler.times import from_iso

VERSION = 1  # changes only when a reader of the old version would misread a message
ITEM = "item"
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


# An event is one recorder call: its kind the method, its fields the arguments by name.
EVENTS: dict[str, tuple[str, ...]] = {
    kind: tuple(inspect.signature(getattr(WorkerRecorder, kind)).parameters)[1:]
    for kind in (
        "error",
        "article_error",
        "skipped",
        "source_polled",
        "seen_in_source",
        "offered",  # a second source offered an article another request of this pass fetches
        "link_gone",  # a new link answered 404/410 (PassRecorder.link_gone)
    )
}


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


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


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
        checked = read_json(_shape(kind), raw)
        at, generation, run = _time(checked["at"]), checked["generation"], checked.get("run")
        if kind != ITEM:
            values = {name: checked["fields"].get(name) for name in EVENTS[kind]}
            return Message(kind, at, generation, run=run, fields=values)
        item = ArticleItem(**{k: v for k, v in vars(checked["item"]).items() if k not in NOT_SENT})
        if not item.url.startswith(("http://", "https://")):
            raise Unreadable(f"item.url: not an http(s) URL: {item.url[:100]!r}")
        return Message(kind, at, generation, item, run)
    except Unreadable as error:
        raise MessageError(f"malformed {kind!r} message: {error}") from None


def _time(text: str) -> str:
    try:
        from_iso(text)
    except (ValueError, OverflowError):
        raise Unreadable(f"at: not an ISO 8601 time: {text[:40]!r}") from None
    return text


@dataclass
class _SentItem(ArticleItem):
    """An item message's ``item``: its matches typed, the page's fields never read."""

    body: Any = b""
    encoding: Any = "utf-8"
    headers: Any = ()
    matches: list[TopicMatch] = field(default_factory=list)
    summary_matches: list[TopicMatch] = field(default_factory=list)


@cache
def _shape(kind: str) -> TypeAdapter[Any]:
    """A message of ``kind``: the envelope with an item, or with an event's arguments
    typed as its recorder method's parameters (those with a default may be left out)."""
    if kind == ITEM:
        body: dict[str, Any] = {"item": _SentItem}
    else:
        method = getattr(WorkerRecorder, kind)
        hints, parameters = typing.get_type_hints(method), inspect.signature(method).parameters
        arguments = {
            name: hints[name]
            if parameters[name].default is inspect.Parameter.empty
            else NotRequired[hints[name]]
            for name in EVENTS[kind]
        }
        body = {"fields": TypedDict(f"{kind}_fields", arguments)}
    envelope = {"at": str, "generation": str, "run": NotRequired[int | None], **body}
    return TypeAdapter(TypedDict(f"{kind}_message", envelope))

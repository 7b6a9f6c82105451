"""What workers tell the ingester, as versioned JSON: ``RemoteRecorder``, the pass's
Recorder on a worker (or enqueue), sends each call as a message on the item stream, and
``decode`` reads one back, checked completely before anything acts on it: every field
against the type its dataclass or its recorder method's parameter declares (so a field
added to one of those is checked with no change here), ``at`` as an ISO 8601 time, an
item's URL as http(s). The format: docs/scaling.md, "What is in Redis"."""

from __future__ import annotations

import inspect
import json
import logging
import typing
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, NotRequired, Protocol

from pydantic import TypeAdapter
from redis import Redis
from redis.exceptions import RedisError
from scrapy import Request
from typing_extensions import TypedDict

from crawler.checked import Unreadable, read_json
from crawler.cluster.frontier import RUN
from crawler.cluster.keys import INGEST_GROUP, Keys
from crawler.cluster.streams import Stream
from crawler.config import Config
from crawler.context import Recorder
from crawler.items import ArticleItem
from crawler.matching.models import TopicMatch
from crawler.storage.store import Store
from crawler.times import from_iso, to_iso, utc_now

log = logging.getLogger("presswatch.cluster")

VERSION = 1  # changes only when a reader of the old version would misread a message
ITEM = "item"
# The page itself stays on the worker (the evidence archive is not kept in cluster mode).
NOT_SENT = ("body", "encoding", "headers")


class MessageError(ValueError):
    """A message the ingester cannot read."""


class WorkerRecorder(Recorder, Protocol):
    """What a worker's recorder reports: every call of the pass's Recorder, and one
    event only a shared frontier has (RemoteRecorder, below, sends them)."""

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
    run: int | None = None  # the run it belongs to (if none, the ingester gives it one)
    fields: dict[str, Any] = field(default_factory=dict)  # an event's arguments


def item_message(item: ArticleItem, *, at: str, generation: str, run: int | None = None) -> str:
    payload = {k: v for k, v in asdict(item).items() if k not in NOT_SENT}
    return _dumps(ITEM, at, generation, run, item=payload)


def event_message(
    kind: str, values: dict[str, Any], *, at: str, generation: str, run: int | None = None
) -> str:
    if kind not in EVENTS:
        raise ValueError(f"unknown event {kind!r}")
    payload = {name: values.get(name) for name in EVENTS[kind]}
    return _dumps(kind, at, generation, run, fields=payload)


def _dumps(kind: str, at: str, generation: str, run: int | None, **body: Any) -> str:
    envelope = {"v": VERSION, "kind": kind, "at": at, "generation": generation}
    envelope |= {} if run is None else {"run": run}
    return json.dumps(envelope | body, ensure_ascii=False, separators=(",", ":"))


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


# The run of the request whose callback is running (set by the scheduler's middleware
# in the task reading that callback's output); events are sent under it.
current_run: ContextVar[int | None] = ContextVar("current_run", default=None)


@dataclass
class RemoteRecorder:
    """The Recorder of a worker (or enqueue), a ``WorkerRecorder`` whose event methods (made
    below from its signatures) send their arguments by name. ``on_lost(error)`` is called
    when Redis cannot take a message, before the error propagates: a worker stops at once
    (``worker.fail_stop``), leaving its requests for another; enqueue lets it propagate."""

    server: Redis
    keys: Keys
    config: Config
    source_ids: dict[str, int]
    generation: str
    store: Store | None = None  # enqueue only
    on_lost: Callable[[RedisError], None] = lambda error: None  # then the error propagates
    clock: Callable[[], datetime] = utc_now
    counts: Counter[str] = field(default_factory=Counter)
    failure: str | None = field(default=None, init=False)  # it writes nothing itself
    run: int | None = None  # enqueue's run; a worker's events take their request's

    def __post_init__(self) -> None:
        self.items = Stream(self.server, self.keys.items, INGEST_GROUP, "", self.keys.dead_letters)
        self.sources_by_id = {
            self.source_ids[s.name]: s for s in self.config.sources if s.name in self.source_ids
        }

    def is_stored(self, url: str) -> bool:
        try:
            return bool(self.server.sismember(self.keys.stored, url))
        except RedisError as error:
            self.on_lost(error)
            raise

    def gone_not_due(self, url: str) -> bool:
        """A worker has no database: a gone link its feed offers again is fetched again
        (the ingester records its error once; enqueue puts due ones on the frontier)."""
        return False

    def duplicate(self, request: Request) -> None:
        """The duplicate filter turned ``request`` away. If it was a new article offered
        by a source, that source still carries it (SourceSpider's ``also_from``, across
        workers)."""
        meta = request.meta
        if "url" in meta and "article_id" not in meta and "redirect_urls" not in meta:
            self._event("offered", meta.get(RUN), url=meta["url"], source_id=meta["source_id"])

    def record(self, item: ArticleItem) -> None:
        """Handed over by the push pipeline."""
        at = to_iso(self.clock())
        self._send(item_message(item, at=at, generation=self.generation, run=item.run), "items")

    def _event(self, kind: str, run: int | None = None, **values: Any) -> None:
        """Send an event, under ``run``, else enqueue's, else that of the request whose
        callback is running."""
        run = next((r for r in (run, self.run, current_run.get()) if r is not None), None)
        at = to_iso(self.clock())
        self._send(event_message(kind, values, at=at, generation=self.generation, run=run), kind)

    def _send(self, message: str, kind: str) -> None:
        try:
            self.items.add(message)
        except RedisError as error:
            log.critical("cannot hand a message to the ingester: %s", error)
            self.on_lost(error)
            raise
        self.counts[kind] += 1


def _sender(kind: str) -> Callable[..., None]:
    """RemoteRecorder's ``kind``: WorkerRecorder's signature, its arguments sent by name."""
    signature = inspect.signature(getattr(WorkerRecorder, kind))

    def send(self: RemoteRecorder, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        self._event(kind, **dict(list(bound.arguments.items())[1:]))

    send.__name__, send.__signature__ = kind, signature  # type: ignore[attr-defined]
    return send


for _kind in EVENTS:
    setattr(RemoteRecorder, _kind, _sender(_kind))

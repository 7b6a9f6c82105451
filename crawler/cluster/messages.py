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

import dataclasses
import json
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import Any, Protocol

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
        raise MessageError(f"fields: expected an object, got {_kind(values)}")
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
_DECLARED = {
    (ArticleItem, "matches"): list[TopicMatch],
    (ArticleItem, "summary_matches"): list[TopicMatch],
}


def _checked(value: Any, hint: Any, where: str) -> Any:
    """``value`` read as ``hint`` (a JSON list becomes a tuple, an object a dataclass);
    raise MessageError naming ``where`` if it is not one."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:  # X | None: X's own reason is the clearer one
            return _checked(value, options[0], where)
        for option in options:
            try:
                return _checked(value, option, where)
            except MessageError:
                continue
        raise MessageError(f"{where}: expected {_name(hint)}, got {_kind(value)}")
    if origin in (list, tuple) and isinstance(value, list):
        inner = args[0] if args else Any
        items = [_checked(v, inner, f"{where}[{n}]") for n, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _dataclass(hint, value, where)
    if _is(value, hint):
        return value
    raise MessageError(f"{where}: expected {_name(hint)}, got {_kind(value)}")


def _is(value: Any, hint: Any) -> bool:
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(hint, type) and isinstance(value, hint)


def _dataclass(cls: type, values: dict[str, Any], where: str) -> Any:
    """A dataclass from a JSON object: every known field checked, a missing field
    without a default refused, unknown fields ignored."""
    hints = typing.get_type_hints(cls)
    checked = {}
    for f in fields(cls):
        if f.name in NOT_SENT and cls is ArticleItem:
            continue
        if f.name not in values:
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default:
                raise MessageError(f"{where}.{f.name}: missing")
            continue
        hint = _DECLARED.get((cls, f.name), hints[f.name])
        checked[f.name] = _checked(values[f.name], hint, f"{where}.{f.name}")
    return cls(**checked)


_SCALAR_NAMES: dict[Any, str] = {
    str: "text",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}
_VALUE_NAMES: dict[Any, str] = {**_SCALAR_NAMES, list: "a list", dict: "an object"}


def _name(hint: Any) -> str:
    if hint in _SCALAR_NAMES:
        return _SCALAR_NAMES[hint]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_name(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) in (list, tuple):
        return "a list"
    return f"an object ({getattr(hint, '__name__', hint)})"


def _kind(value: Any) -> str:
    return f"{_VALUE_NAMES.get(type(value), type(value).__name__)} {json.dumps(value)[:40]}"


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

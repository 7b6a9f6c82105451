"""Requests on the frontier as JSON.

scrapy-redis stores ``Request.to_dict()`` with pickle by default. Anyone who can write to
that Redis could then run code on every worker, so presswatch uses JSON instead: the
dict's bytes (headers, body) are tagged and base64-encoded, the ``Source`` a request polls
travels as its name and the feed entry an article request carries as its fields. Anything
else that is not plain JSON is refused when a request is encoded, and a request naming its
own class (``_class``) is refused when one is decoded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from crawler.config import Source
from crawler.items import FeedEntry

BYTES, SOURCE, ENTRY, PAIRS = "$b", "$source", "$entry", "$pairs"
TAGS = (BYTES, SOURCE, ENTRY, PAIRS)


class CodecError(ValueError):
    """A request that cannot travel through the frontier, or came back unreadable."""


class RequestCodec:
    """``dumps``/``loads`` for scrapy-redis's queue; ``source`` looks a source up by name."""

    def __init__(self, source: Callable[[str], Source]) -> None:
        self.source = source

    def dumps(self, request: dict[str, Any]) -> str:
        # Sorted keys: the same request is the same string, so the queue holds it once.
        return json.dumps(_encode(request), sort_keys=True, separators=(",", ":"))

    def loads(self, text: str | bytes) -> dict[str, Any]:
        try:
            request = self._decode(json.loads(text))
        except (ValueError, KeyError, TypeError, RecursionError) as error:
            raise CodecError(f"unreadable request on the frontier: {error}") from error
        if not isinstance(request, dict) or "_class" in request:
            raise CodecError("the frontier holds a request presswatch did not write")
        return request

    def _decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and next(iter(value)) in TAGS:
            return self._tagged(*next(iter(value.items())))
        return {key: self._decode(v) for key, v in value.items()}

    def _tagged(self, tag: str, value: Any) -> Any:
        if tag == BYTES:
            return base64.b64decode(value)
        if tag == SOURCE:
            return self.source(value)
        if tag == ENTRY:
            return FeedEntry(**value)
        return {self._decode(k): self._decode(v) for k, v in value}


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return {BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return _encode_dict(value)
    if isinstance(value, Source):
        return {SOURCE: value.name}
    if isinstance(value, FeedEntry):
        return {ENTRY: asdict(value)}
    raise CodecError(f"cannot put a {type(value).__name__} on the frontier: {value!r}")


def _encode_dict(value: dict[Any, Any]) -> dict[str, Any]:
    plain = all(isinstance(k, str) and k not in TAGS for k in value)
    if plain:
        return {k: _encode(v) for k, v in value.items()}
    return {PAIRS: [[_encode(k), _encode(v)] for k, v in value.items()]}

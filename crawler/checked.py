"""JSON read into typed values by pydantic, strictly (a number is not text, ``"404"`` is not
an integer; dataclasses, lists and tuples come from JSON objects and lists), with the first
problem as one line naming the place: ``item.article.title: expected text, got an integer
3``. Used for what crosses a process or a network boundary as JSON (the cluster's
messages)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError


class Unreadable(ValueError):
    """A value that is not of its declared type."""


_EXPECTED = {
    "string_type": "text",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dataclass_type": "an object",
    "dict_type": "an object",
}


def read_json(adapter: TypeAdapter[Any], data: str | bytes) -> Any:
    """``data`` read as the adapter's type; Unreadable naming the first misfit if it is not."""
    try:
        return adapter.validate_json(data, strict=True)
    except ValidationError as error:
        detail = error.errors(include_url=False)[0]
        kind, found = detail["type"], detail.get("input")
        if kind in _EXPECTED:
            reason = f"expected {_EXPECTED[kind]}, got {describe(found)}"
        else:
            reason = "missing" if kind == "missing" else detail["msg"]
        raise Unreadable(f"{_path(detail['loc'])}: {reason}") from None


def describe(value: Any) -> str:
    """What a JSON value is, and its start: ``text "abc"``, ``a list [1, 2]``."""
    names = {str: "text", int: "an integer", float: "a number", bool: "true or false"}
    names |= {type(None): "null", list: "a list", dict: "an object"}
    return f"{names.get(type(value), type(value).__name__)} {json.dumps(value)[:40]}"


def _path(loc: tuple[int | str, ...]) -> str:
    """``("item", "matches", 0, "snippet")`` as ``item.matches[0].snippet``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text

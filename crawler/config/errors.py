"""One line for the first problem pydantic found: ``file: sources[2].kind: reason``."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from crawler.config.models import ConfigError
from crawler.config.values import Problem

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "an integer or a number",
    "bool_type": "true or false",
    "tuple_type": "a list",
    "list_type": "a list",
}
_TABLE_TYPES = {"model_type", "model_attributes_type", "dict_type"}


def config_error(error: ValidationError, file: str) -> ConfigError:
    """The ConfigError for the first of ``error``'s problems, worded as the user reads it."""
    where, reason = describe(error.errors(include_url=False)[0])
    return ConfigError(f"{file}: {where}: {reason}")


def describe(detail: ErrorDetails) -> tuple[str, str]:
    """The key path (``sources[2].kind``) and the reason of one pydantic error."""
    loc: list[str | int] = list(detail["loc"])
    kind, value = detail["type"], detail.get("input")
    cause = (detail.get("ctx") or {}).get("error")
    if isinstance(cause, Problem):
        loc.extend(cause.key)
    if cause is not None:
        reason = str(cause)
    elif kind == "missing":
        reason = "is required"
    elif kind == "extra_forbidden":
        reason = "unknown key"
    elif kind in _TABLE_TYPES:
        item = not loc or isinstance(loc[-1], int)  # an entry of a list names its type
        reason = f"expected a table, got {type(value).__name__ if item else repr(value)}"
    elif loc and isinstance(loc[-1], int) and kind == "string_type":
        loc.pop()  # one entry of a list of strings: the list is the key
        reason = f"expected a list of strings, got {value!r}"
    elif kind in _EXPECTED:
        reason = f"expected {_EXPECTED[kind]}, got {value!r}"
    else:
        reason = detail["msg"]
    return _path(loc), reason


def _path(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text

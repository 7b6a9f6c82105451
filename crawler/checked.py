"""JSON read into typed values: each value checked against the type hint declared for it.

``TypedReader.read(value, hint, where)`` reads a decoded JSON value as ``hint``: a JSON
list becomes a list or a tuple, an object a dataclass (every known field checked, a
missing field without a default refused, unknown fields ignored), ``X | None`` accepts
null. Whatever does not fit raises ``Unreadable`` naming the place (``where``, such as
``item.article.title``) and what was found there. Used for what crosses a process or a
network boundary as JSON (crawler.cluster.messages).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


class Unreadable(ValueError):
    """A value that is not of its declared type."""


@dataclass(frozen=True)
class TypedReader:
    # (dataclass, field) -> the type its values must have, where the dataclass declares
    # it loosely
    declared: Mapping[tuple[type, str], Any] = field(default_factory=dict)
    skipped: Mapping[type, tuple[str, ...]] = field(default_factory=dict)  # never read

    def read(self, value: Any, hint: Any, where: str) -> Any:
        """``value`` read as ``hint``; raise Unreadable naming ``where`` if it is not one."""
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is Any:
            return value
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in args:
                return None
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:  # X | None: X's own reason is the clearer one
                return self.read(value, options[0], where)
            for option in options:
                try:
                    return self.read(value, option, where)
                except Unreadable:
                    continue
            raise Unreadable(f"{where}: expected {_name(hint)}, got {describe(value)}")
        if origin in (list, tuple) and isinstance(value, list):
            inner = args[0] if args else Any
            items = [self.read(v, inner, f"{where}[{n}]") for n, v in enumerate(value)]
            return items if origin is list else tuple(items)
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            return self._dataclass(hint, value, where)
        if _is(value, hint):
            return value
        raise Unreadable(f"{where}: expected {_name(hint)}, got {describe(value)}")

    def _dataclass(self, cls: type, values: dict[str, Any], where: str) -> Any:
        hints = typing.get_type_hints(cls)
        checked = {}
        for f in fields(cls):
            if f.name in self.skipped.get(cls, ()):
                continue
            if f.name not in values:
                no_default = (
                    f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                )
                if no_default:
                    raise Unreadable(f"{where}.{f.name}: missing")
                continue
            hint = self.declared.get((cls, f.name), hints[f.name])
            checked[f.name] = self.read(values[f.name], hint, f"{where}.{f.name}")
        return cls(**checked)


def describe(value: Any) -> str:
    """What a JSON value is, and its start: ``text "abc"``, ``a list [1, 2]``."""
    return f"{_VALUE_NAMES.get(type(value), type(value).__name__)} {json.dumps(value)[:40]}"


def _is(value: Any, hint: Any) -> bool:
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(hint, type) and isinstance(value, hint)


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

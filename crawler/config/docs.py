"""The key tables of docs/configuration.md, rendered from the schema's fields.

Each table follows a marker line such as ``<!-- keys: crawl -->``; the prose around the
tables is written by hand. ``python -m crawler.config.docs`` rewrites the tables in place,
and tests/test_config_docs.py fails when they differ from what the schema renders.
"""

from __future__ import annotations

import re
import sys
import types
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from crawler.config.models import (
    ClusterConfig,
    CrawlConfig,
    DigestConfig,
    EmailSettings,
    ScheduleConfig,
    Source,
    StorageConfig,
    Topic,
    TrackingConfig,
)
from crawler.config.values import Label
from crawler.durations import format_duration

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
TABLES: dict[str, type[BaseModel]] = {
    "storage": StorageConfig,
    "crawl": CrawlConfig,
    "tracking": TrackingConfig,
    "sources": Source,
    "topics": Topic,
    "digest": DigestConfig,
    "digest.email": EmailSettings,
    "schedule": ScheduleConfig,
    "cluster": ClusterConfig,
}
MARKER = re.compile(r"^<!-- keys: (\S+) -->$")
HEADER = ("| key | type | default | meaning |", "|---|---|---|---|")


def render_table(model: type[BaseModel]) -> list[str]:
    """The Markdown table of ``model``'s keys: key, type, default, meaning."""
    rows = [
        "|" + "|".join(f" {cell} " if cell else " " for cell in (f"`{key}`", *rest)) + "|"
        for key, *rest in _rows(model)
    ]
    return [*HEADER, *rows]


def _rows(model: type[BaseModel]) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, field in model.model_fields.items():
        kind = _label(field)
        if kind is None:  # a table of its own, with its own key table
            continue
        if name == "queries" and model is Topic:
            rows.append(Topic.shorthand)
        rows.append((field.alias or name, kind, _default(field), field.description or ""))
    return rows


def _label(field: FieldInfo) -> str | None:
    for item in field.metadata:
        if isinstance(item, Label):
            return item.text
    return _label_of(field.annotation)


def _label_of(annotation: Any) -> str | None:
    if get_origin(annotation) is Annotated:
        return next((m.text for m in annotation.__metadata__ if isinstance(m, Label)), None)
    if get_origin(annotation) in (Union, types.UnionType):
        labels = [_label_of(arg) for arg in get_args(annotation) if arg is not type(None)]
        return next((label for label in labels if label), None)
    return None


def _default(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "default" in extra:
        return str(extra["default"])
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    return "none" if value is None or value is PydanticUndefined else f"`{_toml(value)}`"


def _toml(value: Any) -> str:
    """A default as it would be written in config.toml."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, timedelta):
        return f'"{format_duration(value)}"'
    if isinstance(value, time):
        return f'"{value.isoformat("seconds" if value.second else "minutes")}"'
    if isinstance(value, str | Path):
        return f'"{value}"'
    if isinstance(value, tuple) and not value:
        return "[]"
    return str(value)


def render_docs(text: str) -> str:
    """``text`` with the table after each marker replaced by the one the schema renders."""
    lines, out, index = text.split("\n"), [], 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        match = MARKER.match(line)
        if match:
            out.extend(render_table(TABLES[match[1]]))
            while index < len(lines) and lines[index].startswith("|"):
                index += 1
    return "\n".join(out)


def main() -> int:
    """Rewrite docs/configuration.md's key tables from the schema."""
    text = DOCS.read_text(encoding="utf-8")
    rendered = render_docs(text)
    if rendered != text:
        DOCS.write_text(rendered, encoding="utf-8")
        print(f"updated {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

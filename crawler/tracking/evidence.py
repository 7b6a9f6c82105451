"""Proof that stored versions were not altered or removed afterwards: a hash chain.

Each version's ``chain_hash`` is the SHA-256 of the previous version's chain hash (of the
same article; empty for the first) and of the version's own record: the columns
``crawler.storage.store.CHAINED`` as stored, in canonical JSON. Changing any of them, or
removing a version from the middle of an article's history, breaks the chain from there
on; ``presswatch verify`` recomputes it (crawler.ops.verify).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from crawler.storage.store import CHAINED


def version_record(row: Mapping[str, Any]) -> str:
    """The canonical text of a version's chained columns."""
    return json.dumps(
        {column: row[column] for column in CHAINED},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def chain_hash(previous: str | None, row: Mapping[str, Any]) -> str:
    """The chain hash of the version ``row`` after the one whose hash is ``previous``."""
    text = f"{previous or ''}\n{version_record(row)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

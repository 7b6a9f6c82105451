"""Read config.toml once, at the edge, into frozen, validated objects.

Every problem is a :class:`ConfigError` whose message names the file, the key and
the reason, e.g. ``config.toml: sources[2].kind: must be one of feed, got 'rss'``.
Unknown keys and wrong types are errors: a typo must never be silently ignored.
The schema (each key, its type, default and meaning) is :mod:`crawler.config.models`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crawler.config.errors import config_error
from crawler.config.models import (
    DEFAULT_REVISIT,
    EMAIL_SECURITY,
    SOURCE_KINDS,
    ClusterConfig,
    Config,
    ConfigError,
    CrawlConfig,
    DigestConfig,
    EmailSettings,
    ExtractHints,
    RevisitStep,
    ScheduleConfig,
    Source,
    SourceKind,
    StorageConfig,
    Topic,
    TrackingConfig,
)

__all__ = [
    "DEFAULT_REVISIT",
    "EMAIL_SECURITY",
    "SOURCE_KINDS",
    "ClusterConfig",
    "Config",
    "ConfigError",
    "CrawlConfig",
    "DigestConfig",
    "EmailSettings",
    "ExtractHints",
    "RevisitStep",
    "ScheduleConfig",
    "Source",
    "SourceKind",
    "StorageConfig",
    "Topic",
    "TrackingConfig",
    "load_config",
    "parse_config",
]


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raise ConfigError on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text: {error}") from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error
    except RecursionError as error:  # arrays or tables nested thousands deep
        raise ConfigError(f"{path}: not a presswatch config: values nested too deeply") from error
    return parse_config(data, file=str(path), base_dir=path.parent, path=path)


def parse_config(
    data: dict[str, Any],
    *,
    file: str = "config",
    base_dir: Path | None = None,
    path: Path | None = None,
) -> Config:
    """Validate an already-parsed TOML document (tests and the demo build configs this way).

    Keys are read as config.toml spells them (``from``, ``to``), relative paths against
    ``base_dir``; the first problem found is raised as a one-line ConfigError.
    """
    try:
        config = Config.model_validate(
            data, context={"base_dir": base_dir}, by_alias=True, by_name=False
        )
    except ValidationError as error:
        raise config_error(error, file) from error
    config._path = path
    return config

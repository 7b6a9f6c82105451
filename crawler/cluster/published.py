"""The configuration the cluster works with, published in Redis by ``presswatch enqueue``:
the sections of config.toml the crawl needs, with the database's source and topic ids, as
a *generation* (a hash of its content) that messages name (docs/scaling.md, "The
design")."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from redis import Redis

from crawler.cluster.keys import Keys, text
from crawler.config import Config, parse_config

SHARED_SECTIONS = ("crawl", "tracking", "sources", "topics")
KEEP_SECONDS = 30 * 24 * 3600  # an old generation stays readable this long


class NotPublished(LookupError):
    """No configuration has been published under this prefix yet (or it expired)."""


@dataclass(frozen=True)
class Published:
    generation: str
    config: Config
    source_ids: dict[str, int]
    topic_ids: dict[str, int]


def shared_toml(config_path: Path | None) -> str:
    """The sections of the configuration file that the workers need, as TOML."""
    if config_path is None or not config_path.exists():
        return ""
    data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    return tomlkit.dumps({key: data[key] for key in SHARED_SECTIONS if key in data})


def publish(
    server: Redis, keys: Keys, toml: str, source_ids: dict[str, int], topic_ids: dict[str, int]
) -> str:
    """Publish a configuration and make it current; return its generation."""
    fields = {
        "toml": toml,
        "source_ids": json.dumps(source_ids, sort_keys=True),
        "topic_ids": json.dumps(topic_ids, sort_keys=True),
    }
    generation = hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
    with server.pipeline(transaction=True) as pipe:
        pipe.hset(keys.key("config", generation), mapping=fields)
        pipe.expire(keys.key("config", generation), KEEP_SECONDS)
        pipe.set(keys.config_current, generation)
        pipe.execute()
    return generation


def current_generation(server: Redis, keys: Keys) -> str | None:
    value = server.get(keys.config_current)
    return None if value is None else text(value)


def load(server: Redis, keys: Keys, generation: str | None = None) -> Published:
    """A published configuration: ``generation``, or the current one."""
    generation = generation or current_generation(server, keys)
    if generation is None:
        raise NotPublished(f"no configuration under {keys.prefix!r}: run presswatch enqueue")
    fields = {text(k): text(v) for k, v in server.hgetall(keys.key("config", generation)).items()}
    if not fields:
        raise NotPublished(f"configuration {generation} is no longer in Redis")
    data: dict[str, Any] = tomllib.loads(fields["toml"])
    config = parse_config(data, file=f"published configuration {generation}")
    return Published(
        generation, config, json.loads(fields["source_ids"]), json.loads(fields["topic_ids"])
    )

"""The kinds of value config.toml holds: each checks one TOML value and names itself in the docs.

A check that fails raises :class:`Problem` (or ``ValueError``) with the reason a user reads;
:mod:`crawler.config.errors` puts the file and the key in front of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, PlainValidator, Strict

from crawler.durations import parse_duration


class Problem(ValueError):
    """A failed check; ``key`` is where below the checked value, e.g. ``(1, "until")``."""

    def __init__(self, reason: str, *key: str | int) -> None:
        super().__init__(reason)
        self.key = key


@dataclass(frozen=True)
class Label:
    """How the docs' key tables name the type of a value."""

    text: str


def _stripped(text: str) -> str:
    return text.strip()


def _not_empty(text: str) -> str:
    if not text.strip():
        raise Problem("must not be empty")
    return text


def _at_least(minimum: int, reason: str | None = None) -> AfterValidator:
    def check(value: int) -> int:
        if value < minimum:
            raise Problem(reason or f"must be at least {minimum}")
        return value

    return AfterValidator(check)


def _positive(reason: str) -> AfterValidator:
    def check(value: float) -> float:
        if value <= 0:
            raise Problem(reason)
        return value

    return AfterValidator(check)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Problem(f"expected a string, got {value!r}")
    return value


def _duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(_text(value))


def _path(value: Any) -> Path:
    return value if isinstance(value, Path) else Path(_text(value))


def _time_of_day(value: Any) -> time:
    if isinstance(value, time):
        return value
    text = _text(value)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text.strip())
    seconds = int(match[3] or 0) if match else 0
    if not match or int(match[1]) > 23 or int(match[2]) > 59 or seconds > 59:
        raise ValueError(f'{text!r} is not a time of day (HH:MM, e.g. "07:00")')
    return time(int(match[1]), int(match[2]), seconds)


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(
            f'unknown time zone {name!r} (use an IANA name such as "Europe/Berlin" or "UTC")'
        ) from error
    return name


def check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"bad regular expression {pattern!r}: {error}") from error
    return pattern


def _check_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        check_regex(pattern)
    return patterns


def _check_css(selector: str) -> str:
    from cssselect import GenericTranslator, SelectorError

    try:
        GenericTranslator().css_to_xpath(selector)
    except SelectorError as error:
        raise ValueError(f"bad CSS selector {selector!r}: {error}") from error
    return selector


def _domains(domains: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(domain.lower().strip(".") for domain in domains)


def _web_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise Problem(f"must be an http:// or https:// URL, got {url!r}")
    return url


def _redis_url(url: str) -> str:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise Problem(f"expected a redis://, rediss:// or unix:// URL, got {url!r}")
    return url


def _subject(template: str) -> str:
    try:
        template.format(date="2026-11-25", count=0, start="", end="")
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"bad template {template!r} ({error!s}): the fields are {{date}}, "
            "{count}, {start} and {end}"
        ) from error
    return template


def _address(address: str) -> str:
    if "@" not in address:
        raise Problem(f"expected an e-mail address, got {address!r}")
    return address


def _port(port: int) -> int:
    if not 0 < port < 65536:
        raise Problem(f"must be a port number (1-65535), got {port}")
    return port


def _addresses(addresses: tuple[str, ...]) -> tuple[str, ...]:
    if not addresses:
        raise Problem("must list at least one address")
    for address in addresses:
        if "@" not in address:
            raise Problem(f"expected e-mail addresses, got {address!r}")
    return addresses


Text = Annotated[str, Strict(), Label("string")]
# Numbers are TOML's integers and floats, never a boolean or a string.
Count = Annotated[int, Strict(), _at_least(1), Label("integer ≥ 1")]
Workers = Annotated[
    int, Strict(), _at_least(0, "must be 0 (extract inline) or more"), Label("integer ≥ 0")
]
Depth = Annotated[
    int, Strict(), _at_least(0, "must be 0 (no child sitemaps) or more"), Label("integer ≥ 0")
]
Seconds = Annotated[float, Strict(), _positive("must be positive (seconds)"), Label("number > 0")]
SendSeconds = Annotated[
    float, Strict(), _positive("must be positive (seconds)"), Label("number (seconds)")
]
Megabytes = Annotated[float, Strict(), _positive("must be positive"), Label("number > 0")]
Flag = Annotated[bool, Strict(), Label("boolean")]
Port = Annotated[int, Strict(), AfterValidator(_port), Label("integer")]
NonEmpty = Annotated[str, Strict(), AfterValidator(_not_empty), Label("string")]
Name = Annotated[
    str, Strict(), AfterValidator(_stripped), AfterValidator(_not_empty), Label("string")
]
WebUrl = Annotated[
    str, Strict(), AfterValidator(_stripped), AfterValidator(_web_url), Label("string")
]
RedisUrl = Annotated[str, Strict(), AfterValidator(_redis_url), Label("string")]
Strings = Annotated[tuple[Annotated[str, Strict()], ...], Label("list of strings")]
Domains = Annotated[
    tuple[Annotated[str, Strict()], ...], AfterValidator(_domains), Label("list of strings")
]
Regex = Annotated[str, Strict(), AfterValidator(check_regex), Label("regular expression")]
Patterns = Annotated[
    tuple[Annotated[str, Strict()], ...],
    AfterValidator(_check_patterns),
    Label("list of regular expressions"),
]
Css = Annotated[str, Strict(), AfterValidator(_check_css), Label("CSS selector")]
Duration = Annotated[timedelta, PlainValidator(_duration), Label("duration")]
TimeOfDay = Annotated[time, PlainValidator(_time_of_day), Label('`"HH:MM"` or `"HH:MM:SS"`')]
TimeZone = Annotated[str, Strict(), AfterValidator(_time_zone), Label("IANA name")]
FilePath = Annotated[Path, PlainValidator(_path), Label("string")]
Folder = Annotated[Path, PlainValidator(_path), Label("string (folder)")]
Host = Annotated[
    str, Strict(), AfterValidator(_stripped), AfterValidator(_not_empty), Label("string")
]
Sender = Annotated[
    str, Strict(), AfterValidator(_stripped), AfterValidator(_address), Label("string")
]
Recipients = Annotated[
    tuple[Annotated[str, Strict(), AfterValidator(_stripped)], ...],
    AfterValidator(_addresses),
    Label("list of strings"),
]
Subject = Annotated[str, Strict(), AfterValidator(_subject), Label("string")]

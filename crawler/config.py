"""Read config.toml once, at the edge, into frozen, validated objects.

Every problem is a :class:`ConfigError` whose message names the file, the key and
the reason, e.g. ``config.toml: sources[2].kind: must be one of feed, got 'rss'``.
Unknown keys and wrong types are errors: a typo must never be silently ignored.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.durations import parse_duration

SOURCE_KINDS = ("feed", "sitemap", "page", "url")
DEFAULT_USER_AGENT = "presswatch/0.1 (+https://example.org/contact)"


class ConfigError(ValueError):
    """A configuration problem a user can fix; the message says where and what."""


@dataclass(frozen=True)
class RevisitStep:
    """Check every ``every`` while the time since the last change is below ``until``."""

    until: timedelta
    every: timedelta


DEFAULT_REVISIT = (
    RevisitStep(timedelta(hours=3), timedelta(minutes=15)),
    RevisitStep(timedelta(days=1), timedelta(minutes=30)),
    RevisitStep(timedelta(days=7), timedelta(hours=2)),
    RevisitStep(timedelta(days=30), timedelta(days=1)),
)


@dataclass(frozen=True)
class StorageConfig:
    db: Path = Path("presswatch.db")


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = 16
    timeout: float = 30.0
    allow_private_addresses: bool = False
    proxy_resolves_names: bool = False  # a name that does not resolve here may go to a proxy
    max_page_size: int = 10 * 1024 * 1024
    obey_robots: bool = True
    extract_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    per_domain_concurrency: int = 4
    autothrottle: bool = True


@dataclass(frozen=True)
class SignificanceWeights:
    """How much each part of a change counts towards its significance:
    ``[tracking.significance]`` (docs/tracking.md, "Kinds and significance")."""

    headline: float = 0.9
    lede: float = 0.7
    body: float = 0.5
    mention: float = 0.8
    note: float = 0.4
    byline: float = 0.3
    dateline: float = 0.05
    paywall: float = 0.3


@dataclass(frozen=True)
class TrackingConfig:
    revisit: tuple[RevisitStep, ...] = DEFAULT_REVISIT
    noise: tuple[str, ...] = ()
    significance: SignificanceWeights = field(default_factory=SignificanceWeights)


ARCHIVE_KEEP = ("matched", "all", "none")


@dataclass(frozen=True)
class ArchiveConfig:
    """``[archive]``: which versions keep their HTTP response in the archive file beside
    the database (every version keeps the SHA-256 of its body whatever ``keep`` says)."""

    keep: str = "matched"  # from the moment the article first matched a topic


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    kind: str = "feed"
    allowed_domains: tuple[str, ...] = ()
    noise: tuple[str, ...] = ()
    revisit: tuple[RevisitStep, ...] | None = None
    interval: timedelta | None = None
    language: str | None = None
    max_age: timedelta = timedelta(days=2)  # sitemap entries older than this are ignored
    follow: str | None = None  # page: a regex for article URLs
    follow_css: str | None = None  # page: a CSS selector for article links
    body_selector: str | None = None  # extract.body: where the article text is
    max_feed_entries: int = 500  # the newest entries used of one feed or sitemap
    max_sitemap_depth: int = 3  # sitemap: index levels followed below the source
    max_sitemaps: int = 100  # sitemap: documents fetched per pass, at most

    @property
    def forever(self) -> bool:
        """A watched page (kind ``url``) is re-checked for as long as it is configured."""
        return self.kind == "url"


@dataclass(frozen=True)
class Topic:
    name: str
    queries: tuple[str, ...]
    case_sensitive: bool = False
    fold_diacritics: bool = True


EMAIL_SECURITY = {"starttls": 587, "tls": 465, "none": 25}  # each mode and its usual port
DEFAULT_SUBJECT = "presswatch digest: {date} — {count} items"


@dataclass(frozen=True)
class EmailSettings:
    """How ``presswatch digest --send`` delivers: the ``[digest.email]`` table."""

    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = 587
    security: str = "starttls"
    user: str | None = None
    password_env: str | None = None
    subject: str = DEFAULT_SUBJECT
    timeout: float = 60.0  # seconds for the whole conversation with the server


@dataclass(frozen=True)
class DigestConfig:
    template_dir: Path | None = None
    email: EmailSettings | None = None
    skip_empty: bool = False  # send (or write) nothing when nothing is new
    min_significance: float = 0.0  # edited stories below this are left out


@dataclass(frozen=True)
class ScheduleConfig:
    """When ``presswatch schedule`` polls, re-checks and writes the digest: ``[schedule]``."""

    interval: timedelta = timedelta(minutes=15)  # sources without their own interval
    recheck_interval: timedelta = timedelta(minutes=5)  # how often due revisits run
    digest_at: time = time(7, 0)  # daily, in ``timezone``
    timezone: str = "UTC"  # an IANA name
    pass_timeout: timedelta = timedelta(minutes=30)  # a longer pass is stopped
    misfire_grace: timedelta = timedelta(minutes=5)  # a run this late is still made


@dataclass(frozen=True)
class ClusterConfig:
    """``[cluster]``: the Redis frontier shared by ``presswatch worker`` processes."""

    redis: str | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    storage: StorageConfig = field(default_factory=StorageConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    sources: tuple[Source, ...] = ()
    topics: tuple[Topic, ...] = ()
    digest: DigestConfig = field(default_factory=DigestConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (configured: {known})")


class _Table:
    """One TOML table being read: typed getters that raise ConfigError with the key path."""

    def __init__(self, data: Any, where: str, file: str) -> None:
        self.file, self.where = file, where
        if not isinstance(data, dict):
            self.fail("", f"expected a table, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def fail(self, key: str, reason: str) -> None:
        name = f"{self.where}.{key}" if self.where and key else (self.where or key)
        raise ConfigError(f"{self.file}: {name}: {reason}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            names = " or ".join(_type_name(k) for k in kinds)
            self.fail(key, f"expected {names}, got {value!r}")
        return value

    def require(self, key: str, kind: type) -> Any:
        if key not in self.data:
            self.fail(key, "is required")
        return self.get(key, kind)

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        for value in values:
            if not isinstance(value, str):
                self.fail(key, f"expected a list of strings, got {value!r}")
        return tuple(values)

    def duration(self, key: str, default: timedelta | None = None) -> timedelta | None:
        text = self.get(key, str)
        return default if text is None else self.convert(key, parse_duration, text)

    def convert(self, key: str, func: Callable[[Any], Any], value: Any) -> Any:
        try:
            return func(value)
        except ValueError as error:
            self.fail(key, str(error))

    def table(self, key: str) -> _Table:
        return _Table(
            self.get(key, dict, {}), f"{self.where}.{key}" if self.where else key, self.file
        )

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(unknown[0], "unknown key")


def _type_name(kind: type) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }.get(kind, kind.__name__)


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
    """Validate an already-parsed TOML document (tests and the demo build configs this way)."""
    root = _Table(data, "", file)
    storage = _storage(root.table("storage"), base_dir)
    crawl = _crawl(root.table("crawl"))
    tracking = _tracking(root.table("tracking"))
    sources = _list_of_tables(root, "sources", _source)
    topics = _list_of_tables(root, "topics", _topic)
    digest = _digest(root.table("digest"), base_dir)
    schedule = _schedule(root.table("schedule"))
    cluster = _cluster(root.table("cluster"))
    archive = _archive(root.table("archive"))
    root.finish()
    _unique(root, "sources", [s.name for s in sources])
    _unique(root, "topics", [t.name for t in topics])
    _check_queries(file, topics)
    return Config(
        path,
        storage,
        crawl,
        tracking,
        sources,
        topics,
        digest=digest,
        schedule=schedule,
        cluster=cluster,
        archive=archive,
    )


def _archive(table: _Table) -> ArchiveConfig:
    keep = table.get("keep", str, "matched")
    table.finish()
    if keep not in ARCHIVE_KEEP:
        table.fail("keep", f"must be one of {', '.join(ARCHIVE_KEEP)}, got {keep!r}")
    return ArchiveConfig(keep)


def _cluster(table: _Table) -> ClusterConfig:
    redis = table.get("redis", str)
    table.finish()
    if redis is not None and not redis.startswith(("redis://", "rediss://", "unix://")):
        table.fail("redis", f"expected a redis://, rediss:// or unix:// URL, got {redis!r}")
    return ClusterConfig(redis)


def _storage(table: _Table, base_dir: Path | None) -> StorageConfig:
    db = Path(table.get("db", str, "presswatch.db"))
    table.finish()
    if base_dir is not None and not db.is_absolute():
        db = base_dir / db
    return StorageConfig(db=db)


def _crawl(table: _Table) -> CrawlConfig:
    crawl = CrawlConfig(
        user_agent=table.get("user_agent", str, DEFAULT_USER_AGENT),
        concurrency=table.get("concurrency", int, 16),
        timeout=float(table.get("timeout", (int, float), 30.0)),
        allow_private_addresses=table.get("allow_private_addresses", bool, False),
        proxy_resolves_names=table.get("proxy_resolves_names", bool, False),
        max_page_size=table.get("max_page_size_mb", (int, float), 10) * 1024 * 1024,
        obey_robots=table.get("obey_robots", bool, True),
        extract_workers=table.get("extract_workers", int, os.cpu_count() or 1),
        per_domain_concurrency=table.get("per_domain_concurrency", int, 4),
        autothrottle=table.get("autothrottle", bool, True),
    )
    table.finish()
    if crawl.concurrency < 1:
        table.fail("concurrency", "must be at least 1")
    if crawl.per_domain_concurrency < 1:
        table.fail("per_domain_concurrency", "must be at least 1")
    if crawl.extract_workers < 0:
        table.fail("extract_workers", "must be 0 (extract inline) or more")
    if crawl.timeout <= 0:
        table.fail("timeout", "must be positive (seconds)")
    if crawl.max_page_size <= 0:
        table.fail("max_page_size_mb", "must be positive")
    if not crawl.user_agent.strip():
        table.fail("user_agent", "must not be empty")
    return crawl


def _tracking(table: _Table) -> TrackingConfig:
    revisit = _revisit(table, "revisit")
    tracking = TrackingConfig(
        revisit=DEFAULT_REVISIT if revisit is None else revisit,
        noise=_patterns(table, "noise"),
        significance=_weights(table.table("significance")),
    )
    table.finish()
    return tracking


def _weights(table: _Table) -> SignificanceWeights:
    values = {}
    for name in SignificanceWeights.__dataclass_fields__:
        value = table.get(name, (int, float))
        if value is None:
            continue
        if not 0 <= value <= 1:
            table.fail(name, f"must be between 0 and 1, got {value!r}")
        values[name] = float(value)
    table.finish()
    return SignificanceWeights(**values)


def _revisit(table: _Table, key: str) -> tuple[RevisitStep, ...] | None:
    steps = table.get(key, list)
    if steps is None:
        return None
    result = []
    for index, raw in enumerate(steps):
        step = _Table(raw, f"{table.where}.{key}[{index}]".lstrip("."), table.file)
        until = step.duration("until")
        every = step.duration("every")
        step.finish()
        if until is None or every is None:
            step.fail(
                "", "needs both 'until' and 'every', e.g. { until = \"3h\", every = \"15m\" }"
            )
        if result and until <= result[-1].until:
            step.fail("until", "steps must be in increasing order of 'until'")
        result.append(RevisitStep(until, every))
    return tuple(result)


def _patterns(table: _Table, key: str) -> tuple[str, ...]:
    patterns = table.strings(key)
    for pattern in patterns:
        table.convert(key, _check_regex, pattern)
    return patterns


def _check_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"bad regular expression {pattern!r}: {error}") from error


def _list_of_tables(root: _Table, key: str, read: Callable[[_Table], Any]) -> tuple[Any, ...]:
    items = root.get(key, list, [])
    return tuple(read(_Table(item, f"{key}[{i}]", root.file)) for i, item in enumerate(items))


def _source(table: _Table) -> Source:
    name = table.require("name", str).strip()
    url = table.require("url", str).strip()
    kind = table.get("kind", str, "feed")
    if not name:
        table.fail("name", "must not be empty")
    if kind not in SOURCE_KINDS:
        table.fail("kind", f"must be one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
    if not url.startswith(("http://", "https://")):
        table.fail("url", f"must be an http:// or https:// URL, got {url!r}")
    source = Source(
        name=name,
        url=url,
        kind=kind,
        allowed_domains=tuple(d.lower().strip(".") for d in table.strings("allowed_domains")),
        noise=_patterns(table, "noise"),
        revisit=_revisit(table, "revisit"),
        interval=table.duration("interval"),
        language=table.get("language", str),
        max_age=table.duration("max_age", timedelta(days=2)),
        follow=table.get("follow", str),
        follow_css=table.get("follow_css", str),
        body_selector=_extract_hints(table.table("extract")),
        max_feed_entries=table.get("max_feed_entries", int, 500),
        max_sitemap_depth=table.get("max_sitemap_depth", int, 3),
        max_sitemaps=table.get("max_sitemaps", int, 100),
    )
    table.finish()
    for key in ("max_feed_entries", "max_sitemaps"):
        if getattr(source, key) < 1:
            table.fail(key, "must be at least 1")
    if source.max_sitemap_depth < 0:
        table.fail("max_sitemap_depth", "must be 0 (no child sitemaps) or more")
    if source.follow is not None:
        table.convert("follow", _check_regex, source.follow)
    if source.follow_css is not None:
        table.convert("follow_css", _check_css, source.follow_css)
    if kind == "page" and not (source.follow or source.follow_css):
        table.fail(
            "follow",
            "a page source needs 'follow' (a regex for article URLs) "
            "or 'follow_css' (a CSS selector for article links)",
        )
    return source


def _extract_hints(table: _Table) -> str | None:
    body = table.get("body", str)
    table.finish()
    if body is not None:
        table.convert("body", _check_css, body)
    return body


def _check_css(selector: str) -> None:
    from cssselect import GenericTranslator, SelectorError

    try:
        GenericTranslator().css_to_xpath(selector)
    except SelectorError as error:
        raise ValueError(f"bad CSS selector {selector!r}: {error}") from error


def _topic(table: _Table) -> Topic:
    name = table.require("name", str).strip()
    if not name:
        table.fail("name", "must not be empty")
    single = table.get("query", str)
    several = table.strings("queries")
    if single is not None and several:
        table.fail("query", "give either 'query' or 'queries', not both")
    queries = (single,) if single is not None else several
    if not queries:
        table.fail("query", 'is required (a word, a "phrase" or a boolean query)')
    topic = Topic(
        name=name,
        queries=queries,
        case_sensitive=table.get("case_sensitive", bool, False),
        fold_diacritics=table.get("fold_diacritics", bool, True),
    )
    table.finish()
    return topic


def _unique(root: _Table, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            root.fail(key, f"the name {name!r} is used twice")
        seen.add(name)


def _check_queries(file: str, topics: tuple[Topic, ...]) -> None:
    """Parse every query; a pass compiles them into its matcher once, later."""
    from crawler.matching import QueryError, TopicError, parse_query

    for topic in topics:
        for query in topic.queries:
            try:
                parse_query(query)
            except QueryError as error:
                shown = query if len(query) <= 80 else query[:77] + "..."
                message = TopicError(topic.name, shown, error)
                raise ConfigError(f"{file}: topics: {message}") from error


def _digest(table: _Table, base_dir: Path | None) -> DigestConfig:
    folder = table.get("template_dir", str)
    skip_empty = table.get("skip_empty", bool, False)
    min_significance = float(table.get("min_significance", (int, float), 0.0))
    if not 0 <= min_significance <= 1:
        table.fail("min_significance", f"must be between 0 and 1, got {min_significance!r}")
    email = _email(table.table("email")) if "email" in table.data else None
    table.finish()
    if folder is None:
        return DigestConfig(None, email, skip_empty, min_significance)
    template_dir = base_dir / folder if base_dir is not None else Path(folder)
    if not template_dir.is_dir():
        table.fail("template_dir", f"not a folder: {template_dir}")
    return DigestConfig(template_dir, email, skip_empty, min_significance)


def _email(table: _Table) -> EmailSettings:
    security = table.get("security", str, "starttls")
    if security not in EMAIL_SECURITY:
        table.fail("security", f"must be one of {', '.join(EMAIL_SECURITY)}, got {security!r}")
    table.require("to", list)
    settings = EmailSettings(
        host=table.require("host", str).strip(),
        sender=table.require("from", str).strip(),
        recipients=tuple(address.strip() for address in table.strings("to")),
        port=table.get("port", int, EMAIL_SECURITY[security]),
        security=security,
        user=table.get("user", str),
        password_env=table.get("password_env", str),
        subject=table.get("subject", str, DEFAULT_SUBJECT),
        timeout=float(table.get("timeout", (int, float), 60.0)),
    )
    table.finish()
    _check_email(table, settings)
    return settings


def _check_email(table: _Table, email: EmailSettings) -> None:
    if not email.host:
        table.fail("host", "must not be empty")
    if email.timeout <= 0:
        table.fail("timeout", "must be positive (seconds)")
    if not 0 < email.port < 65536:
        table.fail("port", f"must be a port number (1-65535), got {email.port}")
    if "@" not in email.sender:
        table.fail("from", f"expected an e-mail address, got {email.sender!r}")
    if not email.recipients:
        table.fail("to", "must list at least one address")
    for address in email.recipients:
        if "@" not in address:
            table.fail("to", f"expected e-mail addresses, got {address!r}")
    if email.user is not None and email.password_env is None:
        table.fail(
            "password_env",
            "is required with 'user': the environment variable that holds the password",
        )
    if email.password_env is not None and email.user is None:
        table.fail("user", "is required with 'password_env'")
    table.convert("subject", _check_subject, email.subject)


def _check_subject(template: str) -> None:
    try:
        template.format(date="2026-11-25", count=0, start="", end="")
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"bad template {template!r} ({error!s}): the fields are {{date}}, "
            "{count}, {start} and {end}"
        ) from error


def _schedule(table: _Table) -> ScheduleConfig:
    default = ScheduleConfig()
    schedule = ScheduleConfig(
        interval=table.duration("interval", default.interval),
        recheck_interval=table.duration("recheck_interval", default.recheck_interval),
        digest_at=table.convert("digest_at", _time_of_day, table.get("digest_at", str, "07:00")),
        timezone=table.convert("timezone", _time_zone, table.get("timezone", str, "UTC")),
        pass_timeout=table.duration("pass_timeout", default.pass_timeout),
        misfire_grace=table.duration("misfire_grace", default.misfire_grace),
    )
    table.finish()
    return schedule


def _time_of_day(text: str) -> time:
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

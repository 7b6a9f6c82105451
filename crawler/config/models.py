"""The schema of config.toml: one frozen model per table, each key's default and help once.

The models are also the typed configuration the rest of presswatch reads. Unknown keys
are refused; a value of the wrong type is refused, never converted (a boolean is not an
integer, a string is not a number). docs/configuration.md's key tables are rendered from
these fields (:mod:`crawler.config.docs`): a field's ``description`` is its meaning there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from crawler.config.values import (
    Count,
    Css,
    Depth,
    Domains,
    Duration,
    FilePath,
    Flag,
    Folder,
    Host,
    Label,
    Megabytes,
    Name,
    NonEmpty,
    Patterns,
    Port,
    Problem,
    Recipients,
    RedisUrl,
    Regex,
    Seconds,
    Sender,
    SendSeconds,
    Share,
    Strings,
    Subject,
    Text,
    TimeOfDay,
    TimeZone,
    WebUrl,
    Workers,
)


class ConfigError(ValueError):
    """A configuration problem a user can fix; the message says where and what."""


class _Table(BaseModel):
    """A TOML table: frozen, no unknown keys; Python code may give fields by name."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )


def _table() -> Any:
    """A sub-table's field: its default is validated as an empty table, with the context."""
    return Field(default_factory=dict, validate_default=True)


def _relative(path: Path | None, info: ValidationInfo) -> Path | None:
    """A relative path in a file is relative to the file's folder."""
    base_dir = (info.context or {}).get("base_dir")
    if path is None or base_dir is None or path.is_absolute():
        return path
    return base_dir / path


class RevisitStep(_Table):
    """Check every ``every`` while the time since the last change is below ``until``."""

    until: Duration
    every: Duration

    @model_validator(mode="before")
    @classmethod
    def _needs_both(cls, data: Any) -> Any:
        if isinstance(data, dict) and not {"until", "every"} <= data.keys():
            raise Problem(
                "needs both 'until' and 'every', e.g. { until = \"3h\", every = \"15m\" }"
            )
        return data


def _increasing(steps: tuple[RevisitStep, ...]) -> tuple[RevisitStep, ...]:
    for index in range(1, len(steps)):
        if steps[index].until <= steps[index - 1].until:
            raise Problem("steps must be in increasing order of 'until'", index, "until")
    return steps


Revisit = Annotated[
    tuple[RevisitStep, ...], AfterValidator(_increasing), Label("list of `{ until, every }`")
]

DEFAULT_REVISIT = (
    RevisitStep(until=timedelta(hours=3), every=timedelta(minutes=15)),
    RevisitStep(until=timedelta(days=1), every=timedelta(minutes=30)),
    RevisitStep(until=timedelta(days=7), every=timedelta(hours=2)),
    RevisitStep(until=timedelta(days=30), every=timedelta(days=1)),
)


class StorageConfig(_Table):
    """``[storage]``: where the database is."""

    db: FilePath = Field(
        default=Path("presswatch.db"),
        validate_default=True,
        description="the SQLite file; `--db` overrides it",
    )

    @field_validator("db")
    @classmethod
    def _in_folder(cls, db: Path, info: ValidationInfo) -> Path | None:
        return _relative(db, info)


class CrawlConfig(_Table):
    """``[crawl]``: how a pass fetches."""

    user_agent: NonEmpty = Field(
        default="presswatch/0.1 (+https://example.org/contact)",
        description="sent with every request; name your project and a page or address "
        "where site owners can reach you",
    )
    concurrency: Count = Field(default=16, description="requests in flight across all sites")
    per_domain_concurrency: Count = Field(
        default=4,
        description="requests in flight to one site (host name) at most; with a cluster, "
        "across all its workers together ([scaling](scaling.md))",
    )
    autothrottle: Flag = Field(
        default=True,
        description="adapt the pace to each site's response times (Scrapy's AutoThrottle, "
        "aiming at `per_domain_concurrency` requests in flight); turn off only "
        "for your own servers",
    )
    timeout: Seconds = Field(
        default=30.0, description="seconds before a request is given up and recorded as an error"
    )
    allow_private_addresses: Flag = Field(
        default=False,
        description="fetch from loopback, private and link-local addresses; the demo and the "
        "tests set it, a production install should not",
    )
    proxy_resolves_names: Flag = Field(
        default=False,
        description="with a proxy (`http_proxy`/`https_proxy`), every host name is still "
        "resolved here and judged by its addresses before the request; a name "
        "that does not resolve here is refused, unless this is `true`: then it is "
        "handed to the proxy, which resolves it unchecked (see "
        "[reliability](reliability.md#about-addresses))",
    )
    max_page_size_mb: Megabytes = Field(
        default=10.0, description="larger pages and feeds are refused and recorded in `errors`"
    )
    extract_workers: Workers = Field(
        default_factory=lambda: os.cpu_count() or 1,
        description="processes extracting article text in parallel; `0` extracts in the "
        "crawling process",
        json_schema_extra={"default": "number of cores"},
    )
    obey_robots: Flag = Field(default=True, description="honour robots.txt")

    @property
    def max_page_size(self) -> int:
        """``max_page_size_mb`` in bytes."""
        return int(self.max_page_size_mb * 1024 * 1024)


class SignificanceWeights(_Table):
    """``[tracking.significance]``: how much each part of a change counts towards its
    significance (docs/tracking.md, "Kinds and significance")."""

    headline: Share = Field(default=0.9, description="the headline's words changed")
    lede: Share = Field(default=0.7, description="the first paragraph's words changed")
    body: Share = Field(
        default=0.5, description="the other paragraphs' words changed, or text appended"
    )
    mention: Share = Field(default=0.8, description="a watched topic gained or lost")
    note: Share = Field(default=0.4, description="a correction, update or editor's note appeared")
    byline: Share = Field(default=0.3, description="other authors")
    dateline: Share = Field(
        default=0.05,
        description="another declared publication date or a new modified date",
    )
    paywall: Share = Field(default=0.3, description="a teaser became the full text, or the reverse")


class TrackingConfig(_Table):
    """``[tracking]``: how stored articles are re-checked for edits."""

    revisit: Revisit = Field(
        default=DEFAULT_REVISIT,
        description="while the time since the article's last change is below `until`, "
        "re-check it every `every`; after the last step the article is no "
        "longer re-checked",
        json_schema_extra={"default": "see below"},
    )
    noise: Patterns = Field(
        default=(),
        description="extra whole-line patterns for text that changes without being an edit "
        "(added to the built-in ones, see [tracking](tracking.md))",
    )
    significance: SignificanceWeights = _table()


ARCHIVE_KEEP = ("matched", "all", "none")


def _keep(value: str) -> str:
    if value not in ARCHIVE_KEEP:
        raise Problem(f"must be one of {', '.join(ARCHIVE_KEEP)}, got {value!r}")
    return value


class ArchiveConfig(_Table):
    """``[archive]``: which versions keep their HTTP response in the archive file."""

    keep: Annotated[str, Strict(), AfterValidator(_keep), Label("string")] = Field(
        default="matched",
        description="`matched` (every version of an article from the moment it first "
        "matched a topic), `all` or `none`: whose HTTP responses are kept in the archive "
        "file beside the database. Every version records the SHA-256 of its body "
        "(`versions.body_sha256`) whatever `keep` says",
    )


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: what its URL is, the kind-specific keys it reads, its own check."""

    name: str
    meaning: str
    keys: tuple[str, ...] = ()
    check: Callable[[Source], None] | None = None


def _needs_links(source: Source) -> None:
    if not (source.follow or source.follow_css):
        raise Problem(
            "a page source needs 'follow' (a regex for article URLs) "
            "or 'follow_css' (a CSS selector for article links)",
            "follow",
        )


SOURCE_KINDS = {
    kind.name: kind
    for kind in (
        SourceKind("feed", "RSS 0.9x, 1.0, 2.0 or Atom", ("max_feed_entries",)),
        SourceKind(
            "sitemap",
            "a sitemap, news sitemap or sitemap index",
            ("max_age", "max_feed_entries", "max_sitemap_depth", "max_sitemaps"),
        ),
        SourceKind(
            "page",
            "a section or home page whose matching links are articles",
            ("follow", "follow_css"),
            _needs_links,
        ),
        SourceKind(
            "url",
            "one page watched for changes as an article in its own right "
            "(re-checked for as long as it is configured)",
        ),
    )
}


def _for_kinds(key: str, meaning: str) -> str:
    """``meaning`` prefixed with the kinds of source that read ``key``."""
    kinds = [f"`{kind.name}`" for kind in SOURCE_KINDS.values() if key in kind.keys]
    return f"{' and '.join(kinds)}: {meaning}"


def _known_kind(kind: str) -> str:
    if kind not in SOURCE_KINDS:
        raise Problem(f"must be one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
    return kind


Kind = Annotated[str, Strict(), AfterValidator(_known_kind), Label("string")]


class ExtractHints(_Table):
    """A source's ``extract`` table: where its article text is."""

    body: Css | None = Field(default=None, description="a CSS selector for the article text")


class Source(_Table):
    """One ``[[sources]]`` table."""

    name: Name = Field(description="unique; how the source is shown and selected (`--source NAME`)")
    url: WebUrl = Field(description="the http(s) URL of the feed, sitemap or page")
    kind: Kind = Field(
        default="feed",
        description="; ".join(f"`{kind.name}`: {kind.meaning}" for kind in SOURCE_KINDS.values()),
    )
    max_age: Duration = Field(
        default=timedelta(days=2),
        description=_for_kinds(
            "max_age",
            "entries (and child sitemaps of an index) older than this are left "
            "alone, so the first pass over a large outlet's index does not crawl its archive",
        ),
    )
    max_feed_entries: Count = Field(
        default=500,
        description=_for_kinds(
            "max_feed_entries",
            "the newest entries used of one feed or sitemap; a longer "
            "one is cut before it is parsed, and the cut is recorded in `errors` (stage "
            "`feed` or `sitemap`)",
        ),
    )
    max_sitemap_depth: Depth = Field(
        default=3,
        description=_for_kinds(
            "max_sitemap_depth",
            "how many levels of sitemap indexes below the source are "
            "followed; a deeper child is not fetched, recorded in `errors` (stage `sitemap`)",
        ),
    )
    max_sitemaps: Count = Field(
        default=100,
        description=_for_kinds(
            "max_sitemaps",
            "child sitemaps fetched for the source in one pass, at most; the "
            "rest are not fetched, recorded in `errors` (stage `sitemap`)",
        ),
    )
    follow: Regex | None = Field(
        default=None,
        description=_for_kinds(
            "follow", 'links whose absolute URL matches are articles, e.g. `"/news/"`'
        ),
    )
    follow_css: Css | None = Field(
        default=None,
        description=_for_kinds(
            "follow_css",
            "links selected by it (or inside the elements it selects) are "
            'articles, e.g. `"main h2 a"`; a `page` source needs `follow` or `follow_css` (both: '
            "a link must satisfy both)",
        ),
    )
    extract: Annotated[ExtractHints, Label("table")] = Field(
        default_factory=ExtractHints,
        description='extraction hints: `extract = { body = "div.story-body" }` extracts the '
        "text from that element, for a site where automatic detection picks the "
        "wrong block",
        json_schema_extra={"default": "none"},
    )
    allowed_domains: Domains = Field(
        default=(),
        description="article links are followed only on the feed's own registrable domain "
        "(`rss.politico.com` → `politico.com`) and on these domains and their "
        "subdomains; other links are recorded in `skipped`",
    )
    noise: Patterns = Field(
        default=(), description="noise patterns for this source only, added to `[tracking] noise`"
    )
    revisit: Revisit | None = Field(
        default=None,
        description="this source's re-check schedule",
        json_schema_extra={"default": "`[tracking] revisit`"},
    )
    interval: Duration | None = Field(
        default=None,
        description="how often `presswatch schedule` polls this source",
        json_schema_extra={"default": "`[schedule] interval`"},
    )
    language: Text | None = Field(
        default=None,
        description="the outlet's language (a two-letter code), recorded for its articles "
        "whose pages do not declare one",
    )

    @model_validator(mode="after")
    def _kind_check(self) -> Source:
        check = SOURCE_KINDS[self.kind].check
        if check is not None:
            check(self)
        return self

    @property
    def body_selector(self) -> str | None:
        """``extract.body``: where the article text is."""
        return self.extract.body

    @property
    def forever(self) -> bool:
        """A watched page (kind ``url``) is re-checked for as long as it is configured."""
        return self.kind == "url"


class Topic(_Table):
    """One ``[[topics]]`` table; config.toml's ``query = "..."`` is ``queries = ["..."]``."""

    name: Name = Field(description="unique; how the topic is shown")
    queries: Strings = Field(
        default=(),
        description="several queries (aliases, translations) that all count as this topic",
        json_schema_extra={"default": ""},
    )
    case_sensitive: Flag = Field(
        default=False, description="match every term of the topic with exact case"
    )
    fold_diacritics: Flag = Field(default=True, description="`Grønland` matches `Gronland`")

    # The docs' row for the shorthand key, shown before ``queries``.
    shorthand: ClassVar[tuple[str, str, str, str]] = (
        "query",
        "string",
        "one of `query`/`queries`",
        'a word, a `"quoted phrase"` or a boolean query',
    )

    @model_validator(mode="before")
    @classmethod
    def _one_query(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "query" not in data:
            return data
        data = dict(data)
        query = data.pop("query")
        if not isinstance(query, str):
            raise Problem(f"expected a string, got {query!r}", "query")
        if data.get("queries"):
            raise Problem("give either 'query' or 'queries', not both", "query")
        return {**data, "queries": (query,)}

    @model_validator(mode="after")
    def _some_query(self) -> Topic:
        if not self.queries:
            raise Problem('is required (a word, a "phrase" or a boolean query)', "query")
        return self


EMAIL_SECURITY = {"starttls": 587, "tls": 465, "none": 25}  # each mode and its usual port


def _security(mode: str) -> str:
    if mode not in EMAIL_SECURITY:
        raise Problem(f"must be one of {', '.join(EMAIL_SECURITY)}, got {mode!r}")
    return mode


class EmailSettings(_Table):
    """``[digest.email]``: how ``presswatch digest --send`` delivers."""

    host: Host = Field(description="SMTP server")
    port: Port = Field(
        default=EMAIL_SECURITY["starttls"],
        description="",
        json_schema_extra={
            "default": ", ".join(f"{port} for `{mode}`" for mode, port in EMAIL_SECURITY.items())
        },
    )
    security: Annotated[str, Strict(), AfterValidator(_security), Label("string")] = Field(
        default="starttls", description="`starttls`, `tls` (implicit TLS) or `none` (a local relay)"
    )
    user: Text | None = Field(default=None, description="login name")
    password_env: Text | None = Field(
        default=None,
        description="the environment variable that holds the password; the password itself "
        "is never written in the file",
        json_schema_extra={"default": "none (required with `user`)"},
    )
    sender: Sender = Field(alias="from", description="sender address")
    recipients: Recipients = Field(alias="to", description="recipients")
    subject: Subject = Field(
        default="presswatch digest: {date} — {count} items",
        description="fields `{date}`, `{count}`, `{start}`, `{end}`",
    )
    timeout: SendSeconds = Field(
        default=60.0,
        description="the longest one send may take, for the whole conversation with the "
        "server (connect, login, message, QUIT), not per read",
    )

    @model_validator(mode="before")
    @classmethod
    def _usual_port(cls, data: Any) -> Any:
        """Without ``port``, the usual port of the security mode."""
        if isinstance(data, dict) and "port" not in data:
            mode = data.get("security", "starttls")
            if isinstance(mode, str) and mode in EMAIL_SECURITY:
                return {**data, "port": EMAIL_SECURITY[mode]}
        return data

    @model_validator(mode="after")
    def _login(self) -> EmailSettings:
        if self.user is not None and self.password_env is None:
            raise Problem(
                "is required with 'user': the environment variable that holds the password",
                "password_env",
            )
        if self.password_env is not None and self.user is None:
            raise Problem("is required with 'password_env'", "user")
        return self


class DigestConfig(_Table):
    """``[digest]``: the digest's templates and delivery."""

    template_dir: Folder | None = Field(
        default=None,
        description="a folder whose `digest.md.j2`, `digest.html.j2`, `digest.txt.j2` or "
        "`digest.atom.j2` replace the built-in templates",
    )
    skip_empty: Flag = Field(
        default=False,
        description="`presswatch digest` sends, writes and prints nothing when nothing is new, "
        "and records the period as `skipped` (the default of `--skip-empty`)",
    )
    min_significance: Share = Field(
        default=0.0,
        description="edited stories whose `changes.significance` is below this are left out "
        "(the default of `--min-significance`); `0.05` hides comma fixes and other edits "
        "that change no word",
    )
    email: EmailSettings | None = None
    notify: Strings = Field(
        default=(),
        description="`[[notify]]` target names that `presswatch digest --send` also sends the "
        "digest to, through Apprise ([alerts](alerts.md#the-digest-through-apprise))",
    )

    @field_validator("template_dir")
    @classmethod
    def _a_folder(cls, folder: Path | None, info: ValidationInfo) -> Path | None:
        folder = _relative(folder, info)
        if folder is not None and not folder.is_dir():
            raise Problem(f"not a folder: {folder}")
        return folder


class ScheduleConfig(_Table):
    """``[schedule]``: when ``presswatch schedule`` polls, re-checks and writes the digest."""

    interval: Duration = Field(
        default=timedelta(minutes=15),
        description="how often sources without their own `interval` are polled",
    )
    recheck_interval: Duration = Field(
        default=timedelta(minutes=5), description="how often due re-checks of stored articles run"
    )
    digest_at: TimeOfDay = Field(
        default=time(7, 0),
        description="when the daily digest is written next to the database (and sent, with "
        "`[digest.email]`)",
    )
    timezone: TimeZone = Field(
        default="UTC", description='the time zone of `digest_at`, e.g. `"Europe/Brussels"`'
    )
    pass_timeout: Duration = Field(
        default=timedelta(minutes=30),
        description="a pass running longer is stopped and recorded as failed",
    )
    misfire_grace: Duration = Field(
        default=timedelta(minutes=5),
        description="a job that could not start on time still runs if it is at most this "
        "late; a digest whose time passed less than this before the scheduler "
        "started runs at start, unless a delivered digest already covers it",
    )


ALERT_EVENTS = ("mention", "mention_added", "mention_removed", "headline")


def _events(events: tuple[str, ...]) -> tuple[str, ...]:
    for event in events:
        if event not in ALERT_EVENTS:
            raise Problem(f"must be among {', '.join(ALERT_EVENTS)}, got {event!r}")
    return events or ALERT_EVENTS


def _significance(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise Problem(f"must be between 0 and 1, got {value}")
    return value


def _shown(url: str, url_env: str | None) -> str:
    scheme = url.split("://", 1)[0]
    return f"{scheme}://… (${url_env})" if url_env else f"{scheme}://…"


def _apprise_url(url: str, url_env: str | None) -> None:
    """Apprise must know the URL's scheme and be able to read the rest of it."""
    import apprise

    if "://" not in url:
        raise Problem(f"not an Apprise URL ({_shown(url, url_env)}): expected scheme://...")
    if apprise.Apprise.instantiate(url) is None:
        scheme = url.split("://", 1)[0].lower()
        raise Problem(
            f"Apprise cannot use {_shown(url, url_env)}: an unknown scheme {scheme!r}, "
            "or a URL its service cannot read (see https://github.com/caronc/apprise/wiki)"
        )


class NotifyTarget(_Table):
    """One ``[[notify]]`` table: where instant alerts go (an Apprise URL), and which."""

    name: Name = Field(
        description="unique; how the target is named (`presswatch notify test NAME`, "
        "`[digest] notify`)"
    )
    url: Text = Field(
        default="",
        repr=False,
        description="an Apprise URL: `slack://…`, `mailto://…`, `ntfys://…`, `json://…`, ...; "
        "never printed",
        json_schema_extra={"default": "one of `url`, `url_env`"},
    )
    url_env: Text | None = Field(
        default=None,
        description="the environment variable holding the URL, for URLs that hold tokens "
        "(the convention of `password_env`)",
        json_schema_extra={"default": "one of `url`, `url_env`"},
    )
    topics: Strings = Field(
        default=(),
        description="alert only about these configured topics",
        json_schema_extra={"default": "every topic"},
    )
    events: Annotated[Strings, AfterValidator(_events)] = Field(
        default=ALERT_EVENTS,
        description="among `mention`, `mention_added`, `mention_removed`, `headline`",
        json_schema_extra={"default": "all four"},
    )
    min_interval: Duration = Field(
        default=timedelta(0),
        description="at most one message per interval; later alerts wait and go together "
        "in the next one",
        json_schema_extra={"default": "none"},
    )
    min_significance: Annotated[
        float, Strict(), AfterValidator(_significance), Label("number, 0 to 1")
    ] = Field(
        default=0.0,
        description="changes whose `changes.significance` is below it are not sent "
        "(`0.05` keeps comma fixes out); a new article's `mention` always is",
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve_url(cls, data: Any) -> Any:
        """The URL given, or read from ``url_env``; checked by Apprise."""
        if not isinstance(data, dict):
            return data
        url, url_env = data.get("url"), data.get("url_env")
        if (url is None) == (url_env is None):
            raise Problem(
                "give either 'url' or 'url_env' (the environment variable holding it)", "url"
            )
        if url_env is not None:
            if not isinstance(url_env, str):
                return data  # the field's own check says what is wrong
            url = os.environ.get(url_env, "").strip()
            if not url:
                raise Problem(f"the environment variable {url_env} is not set", "url_env")
        if not isinstance(url, str):
            return data
        try:
            _apprise_url(url.strip(), url_env)
        except Problem as problem:
            raise Problem(str(problem), "url" if url_env is None else "url_env") from None
        return {**data, "url": url.strip()}

    @property
    def shown_url(self) -> str:
        """The URL as it may be printed: its scheme only, and where it comes from."""
        return _shown(self.url, self.url_env)

    def wants(self, event: str, topics: tuple[str, ...]) -> bool:
        """Does this target take ``event`` about an article matching ``topics``?"""
        if event not in self.events:
            return False
        return not self.topics or any(topic in self.topics for topic in topics)


class ServeConfig(_Table):
    """``[serve]``: where the Datasette view of the database is published."""

    base_url: WebUrl | None = Field(
        default=None,
        description="where `presswatch serve` is published for readers, e.g. "
        '`"https://presswatch.example.org"`. Digests and alerts then link each edit to '
        "its full diff there (`BASE_URL/-/presswatch/diff/ID`); without it, a digest "
        "written with `--output` links to diff pages written beside it, and a printed or "
        "mailed one, and alerts, have no full-diff links. A trailing `/` is dropped.",
    )

    @field_validator("base_url")
    @classmethod
    def _no_slash(cls, url: str | None) -> str | None:
        return url.rstrip("/") if url else url


class ClusterConfig(_Table):
    """``[cluster]``: the Redis frontier shared by ``presswatch worker`` processes."""

    redis: RedisUrl | None = Field(
        default=None,
        description="a `redis://`, `rediss://` (TLS) or `unix://` URL: the frontier shared by "
        "`presswatch worker` processes on any number of hosts. With it, "
        "`presswatch schedule` enqueues polls and re-checks instead of running "
        "passes, and `presswatch enqueue` / `ingest` use it unless `--redis` is "
        "given. See [scaling.md](scaling.md).",
    )


class Config(_Table):
    """The whole of config.toml; ``path`` is the file it was read from, if any."""

    storage: StorageConfig = _table()
    crawl: CrawlConfig = _table()
    tracking: TrackingConfig = _table()
    sources: tuple[Source, ...] = ()
    topics: tuple[Topic, ...] = ()
    digest: DigestConfig = _table()
    schedule: ScheduleConfig = _table()
    cluster: ClusterConfig = _table()
    notify: tuple[NotifyTarget, ...] = ()
    serve: ServeConfig = _table()
    archive: ArchiveConfig = _table()

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        return self._path

    @model_validator(mode="after")
    def _names_and_queries(self) -> Config:
        _unique("sources", [source.name for source in self.sources])
        _unique("topics", [topic.name for topic in self.topics])
        if self.topics:
            _check_queries(self.topics)
        _check_targets(self)
        return self

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (configured: {known})")


def _unique(key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise Problem(f"the name {name!r} is used twice", key)
        seen.add(name)


def _check_targets(config: Config) -> None:
    """Target names are unique, the topics they name configured, the digest's exist."""
    _unique("notify", [target.name for target in config.notify])
    topics = {topic.name for topic in config.topics}
    for index, target in enumerate(config.notify):
        for topic in target.topics:
            if topic not in topics:
                raise Problem(f"no topic named {topic!r}", "notify", index, "topics")
    names = {target.name for target in config.notify}
    for name in config.digest.notify:
        if name not in names:
            raise Problem(f"no [[notify]] target named {name!r}", "digest", "notify")


def _check_queries(topics: tuple[Topic, ...]) -> None:
    """Parse every query; a pass compiles them into its matcher once, later."""
    from crawler.matching import QueryError, TopicError, parse_query

    for topic in topics:
        for query in topic.queries:
            try:
                parse_query(query)
            except QueryError as error:
                shown = query if len(query) <= 80 else query[:77] + "..."
                raise Problem(str(TopicError(topic.name, shown, error)), "topics") from error

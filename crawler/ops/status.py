"""``presswatch status``: is everything healthy? The last runs, failing sources, due checks.

Everything it shows is read from the database: the ``runs`` table (one row per pass,
including passes the scheduler stopped as ``timeout``), the ``sources`` table's last
poll, and ``articles.next_check_at``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from crawler.durations import format_duration
from crawler.storage.runs import RUN_COUNTS
from crawler.storage.store import Store
from crawler.times import from_iso
from crawler.visible import visible

# Monitoring plugin (Nagios, Icinga, Zabbix) exit codes of `status --check`.
CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN = 0, 1, 2, 3
CHECK_NAMES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")


@dataclass(frozen=True)
class Status:
    """What ``presswatch status`` reports; ``--json`` prints exactly this."""

    db: str
    now: str
    runs: list[dict[str, Any]]  # newest first
    failing_sources: list[dict[str, Any]]  # last poll failed: name, url, when, error
    due_now: int  # articles whose re-check is due
    tracked: int  # articles still being re-checked
    next_checks: list[dict[str, Any]]  # the next few re-checks after now
    # With a cluster: messages the ingester set aside ({"count", "newest": {at, reason,
    # message}} or {"error"} when Redis cannot be reached); None without one.
    set_aside: dict[str, Any] | None = None
    config: str | None = None  # the configuration file read, if any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect_status(
    store: Store,
    now: str,
    *,
    runs: int = 10,
    upcoming: int = 5,
    sources: list[str] | None = None,
    config: str | None = None,
) -> Status:
    """Read the status of ``store`` at ``now``; ``sources`` limits the failing ones shown."""
    return Status(
        db=store.path,
        now=now,
        runs=last_runs(store, runs),
        failing_sources=failing_sources(store, sources),
        due_now=store.count_tracked(due_by=now),
        tracked=store.count_tracked(),
        next_checks=next_checks(store, now, upcoming),
        config=config,
    )


def last_runs(store: Store, limit: int) -> list[dict[str, Any]]:
    return [_with_seconds(row) for row in store.recent_runs(limit)]


def _with_seconds(run: dict[str, Any]) -> dict[str, Any]:
    seconds = None
    if run["finished_at"]:
        elapsed = from_iso(run["finished_at"]) - from_iso(run["started_at"])
        seconds = int(elapsed.total_seconds())
    return {**run, "seconds": seconds}


def failing_sources(store: Store, names: list[str] | None = None) -> list[dict[str, Any]]:
    rows = store.failing_sources()
    return [row for row in rows if names is None or row["name"] in names]


def next_checks(store: Store, now: str, limit: int) -> list[dict[str, Any]]:
    return store.next_checks(now, limit)


def last_ok_pass(store: Store) -> str | None:
    """When the latest pass that ended ``ok`` finished."""
    return store.last_ok_run_end()


# -- the monitoring check --------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """The verdict of ``status --check``: a plugin exit code and its one line."""

    code: int
    message: str

    @property
    def line(self) -> str:
        return f"PRESSWATCH {CHECK_NAMES[self.code]} - {self.message}"


def check_health(
    store: Store,
    now: datetime,
    warn_after: timedelta,
    crit_after: timedelta,
    sources: list[str] | None = None,
) -> Health:
    """Critical without an ``ok`` pass within ``crit_after``; warning when a source has
    been failing longer than ``warn_after``; else OK."""
    last_ok = last_ok_pass(store)
    if last_ok is None:
        return Health(CHECK_CRITICAL, "no successful pass yet")
    age = now - from_iso(last_ok)
    if age > crit_after:
        return Health(
            CHECK_CRITICAL,
            f"no successful pass for {_ago(age)} (since {last_ok}; "
            f"--crit-after {format_duration(crit_after)})",
        )
    failing = failing_sources(store, sources)
    late = [
        source
        for source in failing
        if source["failing_since"] and now - from_iso(source["failing_since"]) > warn_after
    ]
    if late:
        names = ", ".join(
            f"{s['name']} since {s['failing_since']} ({s['last_error']})" for s in late
        )
        return Health(
            CHECK_WARNING,
            f"{len(late)} source(s) failing for more than {format_duration(warn_after)}: {names}",
        )
    return Health(
        CHECK_OK, f"last successful pass {_ago(age)} ago; {len(failing)} source(s) failing"
    )


def _ago(age: timedelta) -> str:
    """A rounded age: 45s, 12m, 5h, 3d."""
    seconds = max(int(age.total_seconds()), 0)
    for unit, size, limit in (("s", 1, 120), ("m", 60, 7200), ("h", 3600, 172800)):
        if seconds < limit:
            return f"{seconds // size}{unit}"
    return f"{seconds // 86400}d"


# -- the text report -----------------------------------------------------------------------


def format_status(status: Status) -> str:
    """The status for people; what came from the web shows without invisible characters."""
    config = status.config or "none (defaults)"
    return visible(
        "\n".join(
            [
                f"database: {status.db}",
                f"config: {config}",
                "",
                *_runs_lines(status.runs),
                "",
                *_sources_lines(status.failing_sources),
                "",
                *_checks_lines(status),
                *_set_aside_lines(status.set_aside),
            ]
        )
    )


def _set_aside_lines(set_aside: dict[str, Any] | None) -> list[str]:
    if set_aside is None:
        return []
    if "error" in set_aside:
        return ["", f"cluster messages set aside: cannot read Redis: {set_aside['error']}"]
    if not set_aside["count"]:
        return ["", "cluster messages set aside: none"]
    newest = set_aside["newest"]
    return [
        "",
        f"cluster messages set aside: {set_aside['count']} "
        f"(in Redis, {set_aside['key']}); the newest, at {newest['at']}:",
        f"    {newest['reason'][:300]}",
    ]


def cluster_set_aside(redis_url: str | None) -> dict[str, Any] | None:
    """What the cluster's ingester set aside, read from Redis (None without a cluster)."""
    if not redis_url:
        return None
    from redis.exceptions import RedisError

    from crawler.cluster.keys import Keys, redis_client
    from crawler.cluster.streams import dead_letters

    keys = Keys()
    try:
        count, newest = dead_letters(redis_client(redis_url), keys.dead_letters)
    except RedisError as error:
        return {"error": str(error)}
    return {"count": count, "key": keys.dead_letters, "newest": newest[0] if newest else None}


def _runs_lines(runs: list[dict[str, Any]]) -> list[str]:
    if not runs:
        return ["last runs: none yet (run `presswatch run` or `presswatch schedule`)"]
    header = (
        f"  {'run':>5}  {'started':20}  {'status':11} {'took':>6}  {'polled':>6} "
        f"{'failed':>6} {'new':>5} {'checked':>7} {'changed':>7} {'mentions':>8} "
        f"{'errors':>6}"
    )
    return ["last runs (newest first):", header, *(_run_line(run) for run in runs)]


def _run_line(run: dict[str, Any]) -> str:
    took = "-" if run["seconds"] is None else f"{run['seconds']}s"
    counts = " ".join(
        f"{run[key]:>{width}}" for key, width in zip(RUN_COUNTS, (6, 6, 5, 7, 7, 8, 6), strict=True)
    )
    return f"  {run['id']:>5}  {run['started_at']:20}  {run['status']:11} {took:>6}  {counts}"


def _sources_lines(sources: list[dict[str, Any]]) -> list[str]:
    if not sources:
        return ["failing sources: none"]
    lines = ["failing sources (their last poll failed):"]
    for source in sources:
        lines.append(f"  {source['name']} ({source['url']}), at {source['last_polled_at']}:")
        lines.append(f"    {source['last_error'] or 'no message'}")
    return lines


def _checks_lines(status: Status) -> list[str]:
    lines = [f"re-checks: {status.due_now} due now, {status.tracked} articles tracked"]
    if status.next_checks:
        lines.append("  next:")
        lines += [
            f"    {check['next_check_at']}  {check['title'] or check['url']}"
            for check in status.next_checks
        ]
    return lines

"""``presswatch status``: is everything healthy? The last runs, failing sources, due checks.

Everything it shows is read from the database: the ``runs`` table (one row per pass,
including passes the scheduler stopped as ``timeout``), the ``sources`` table's last
poll, and ``articles.next_check_at``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import click

from crawler.cli_common import config_option, db_option, read_config
from crawler.storage import Store
from crawler.times import from_iso, to_iso, utc_now
from crawler.visible import visible

RUN_COUNTS = ("sources_polled", "sources_failed", "articles_new", "articles_checked",
              "changes_new", "mentions_new", "errors")
RUN_COLUMNS = ("id", "started_at", "finished_at", "status", *RUN_COUNTS)


@dataclass(frozen=True)
class Status:
    """What ``presswatch status`` reports; ``--json`` prints exactly this."""

    db: str
    now: str
    runs: list[dict[str, Any]]              # newest first
    failing_sources: list[dict[str, Any]]   # last poll failed: name, url, when, error
    due_now: int                            # articles whose re-check is due
    tracked: int                            # articles still being re-checked
    next_checks: list[dict[str, Any]]       # the next few re-checks after now
    # With a cluster: messages the ingester set aside ({"count", "newest": {at, reason,
    # message}} or {"error"} when Redis cannot be reached); None without one.
    set_aside: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect_status(store: Store, now: str, *, runs: int = 10, upcoming: int = 5,
                   sources: list[str] | None = None) -> Status:
    """Read the status of ``store`` at ``now``; ``sources`` limits the failing ones shown."""
    return Status(db=store.path, now=now, runs=last_runs(store, runs),
                  failing_sources=failing_sources(store, sources),
                  due_now=_count(store, "next_check_at <= ?", [now]),
                  tracked=_count(store, "1", []),
                  next_checks=next_checks(store, now, upcoming))


def last_runs(store: Store, limit: int) -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY id DESC LIMIT ?"
    return [_with_seconds(row) for row in store.db.query(sql, [limit])]


def _with_seconds(run: dict[str, Any]) -> dict[str, Any]:
    seconds = None
    if run["finished_at"]:
        elapsed = from_iso(run["finished_at"]) - from_iso(run["started_at"])
        seconds = int(elapsed.total_seconds())
    return {**run, "seconds": seconds}


def failing_sources(store: Store, names: list[str] | None = None) -> list[dict[str, Any]]:
    rows = store.db.query("SELECT name, url, last_polled_at, last_error FROM sources "
                          "WHERE last_status = 'failed' ORDER BY name")
    return [row for row in rows if names is None or row["name"] in names]


def next_checks(store: Store, now: str, limit: int) -> list[dict[str, Any]]:
    return list(store.db.query(
        "SELECT id AS article_id, next_check_at, title, url FROM articles "
        "WHERE next_check_at > ? ORDER BY next_check_at, id LIMIT ?", [now, limit]))


def _count(store: Store, where: str, params: list[str]) -> int:
    sql = f"SELECT count(*) FROM articles WHERE next_check_at IS NOT NULL AND {where}"
    return store.db.execute(sql, params).fetchone()[0]


# -- the text report -----------------------------------------------------------------------

def format_status(status: Status) -> str:
    """The status for people; what came from the web shows without invisible characters."""
    return visible("\n".join([f"database: {status.db}", "", *_runs_lines(status.runs), "",
                              *_sources_lines(status.failing_sources), "",
                              *_checks_lines(status), *_set_aside_lines(status.set_aside)]))


def _set_aside_lines(set_aside: dict[str, Any] | None) -> list[str]:
    if set_aside is None:
        return []
    if "error" in set_aside:
        return ["", f"cluster messages set aside: cannot read Redis: {set_aside['error']}"]
    if not set_aside["count"]:
        return ["", "cluster messages set aside: none"]
    newest = set_aside["newest"]
    return ["", f"cluster messages set aside: {set_aside['count']} "
                f"(in Redis, {set_aside['key']}); the newest, at {newest['at']}:",
            f"    {newest['reason'][:300]}"]


def cluster_set_aside(redis_url: str | None) -> dict[str, Any] | None:
    """What the cluster's ingester set aside, read from Redis (None without a cluster)."""
    if not redis_url:
        return None
    from redis.exceptions import RedisError

    from crawler.cluster.keys import Keys
    from crawler.cluster.queue import ItemQueue
    from crawler.cluster.worker import redis_client

    keys = Keys()
    try:
        count, newest = ItemQueue(redis_client(redis_url), keys).dead_letters()
    except RedisError as error:
        return {"error": str(error)}
    return {"count": count, "key": keys.dead_letters, "newest": newest[0] if newest else None}


def _runs_lines(runs: list[dict[str, Any]]) -> list[str]:
    if not runs:
        return ["last runs: none yet (run `presswatch run` or `presswatch schedule`)"]
    header = (f"  {'run':>5}  {'started':20}  {'status':11} {'took':>6}  {'polled':>6} "
              f"{'failed':>6} {'new':>5} {'checked':>7} {'changed':>7} {'mentions':>8} "
              f"{'errors':>6}")
    return ["last runs (newest first):", header, *(_run_line(run) for run in runs)]


def _run_line(run: dict[str, Any]) -> str:
    took = "-" if run["seconds"] is None else f"{run['seconds']}s"
    counts = " ".join(f"{run[key]:>{width}}" for key, width in zip(
        RUN_COUNTS, (6, 6, 5, 7, 7, 8, 6), strict=True))
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
        lines += [f"    {check['next_check_at']}  {check['title'] or check['url']}"
                  for check in status.next_checks]
    return lines


# -- the command ---------------------------------------------------------------------------

@click.command()
@config_option
@db_option
@click.option("--runs", "run_count", default=10, show_default=True,
              type=click.IntRange(min=1), help="How many of the last runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status(config_path: Path, db_path: Path | None, run_count: int, as_json: bool) -> None:
    """Show the last runs, the sources whose last poll failed and the re-checks due.

    Runs are passes: `ok`, `failed` (every source failed), `running` (in progress, or
    cut off by a crash), `timeout` (stopped by the scheduler's pass_timeout) or
    `interrupted` (killed when the scheduler stopped). The errors column counts rows
    in the `errors` table for that run.
    """
    db, names = _database(config_path, db_path)
    store = Store.open(db)
    try:
        report = collect_status(store, to_iso(utc_now()), runs=run_count, sources=names)
    finally:
        store.close()
    report = replace(report, set_aside=cluster_set_aside(_redis_url(config_path)))
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False) if as_json
               else format_status(report))


def _redis_url(config_path: Path) -> str | None:
    """The cluster's Redis: $PRESSWATCH_REDIS, else ``[cluster] redis``, if either is set."""
    if os.environ.get("PRESSWATCH_REDIS"):
        return os.environ["PRESSWATCH_REDIS"]
    return read_config(config_path).cluster.redis if config_path.exists() else None


def _database(config_path: Path, db_path: Path | None) -> tuple[Path, list[str] | None]:
    """The database to read and the configured source names (None: show every source)."""
    if db_path is None:
        config = read_config(config_path)
        db_path = config.storage.db
    else:
        config = read_config(config_path) if config_path.exists() else None
    if not db_path.exists():
        raise click.UsageError(f"no database at {db_path}: run `presswatch run` first")
    return db_path, None if config is None else [source.name for source in config.sources]


"""The jobs of ``presswatch schedule``, planned from the configuration (pure).

:func:`plan_jobs` turns ``[schedule]`` and each source's ``interval`` into
:class:`JobSpec` s: the polls, grouped by interval, the re-check of due articles and the
daily digest. Each job is a ``presswatch`` command line (``python -m crawler ...``) and
when to run it; crawler.ops.runner runs them, crawler.ops.schedule fires them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import Config
from crawler.durations import format_duration

CRAWLER = (sys.executable, "-m", "crawler")  # every job runs `python -m crawler ARGS`
DATE = "{date}"  # in a job's arguments: the day it runs, e.g. 2026-11-25
SHORT_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: a ``presswatch`` command line and when to run it."""

    name: str  # also the APScheduler job id
    args: tuple[str, ...]  # after `python -m crawler`; DATE stands for the day
    every: timedelta | None = None  # run at this interval, or
    daily_at: time | None = None  # every day at this time of day in ``timezone``
    timezone: str = "UTC"
    folder: Path | None = None  # created before the job runs (where it writes)

    def command(self, day: date) -> list[str]:
        return [*CRAWLER, *(arg.replace(DATE, day.isoformat()) for arg in self.args)]

    def trigger(self) -> BaseTrigger:
        zone = ZoneInfo(self.timezone)
        if self.every is not None:
            return IntervalTrigger(seconds=self.every.total_seconds(), timezone=zone)
        if self.daily_at is None:
            raise ValueError(f"job {self.name!r} has neither an interval nor a time of day")
        at = self.daily_at
        return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=zone)

    def last_fire_before(self, now: datetime) -> datetime | None:
        """When a daily job last fired (or should have) at or before ``now``."""
        if self.daily_at is None:
            return None
        local = now.astimezone(ZoneInfo(self.timezone))
        fire = datetime.combine(local.date(), self.daily_at, tzinfo=local.tzinfo)
        return fire if fire <= local else fire - timedelta(days=1)


def plan_jobs(
    config: Config,
    config_path: str | Path,
    db_path: str | Path | None = None,
    log_format: str = "text",
) -> list[JobSpec]:
    """The jobs the scheduler runs for ``config``: polls grouped by interval, the
    re-check of due articles, and the daily digest. Passes log in ``log_format``."""
    common = _common_args(config_path, db_path)
    db = Path(db_path) if db_path is not None else config.storage.db
    passes = [*_poll_jobs(config, common), _recheck_job(config, common)]
    if log_format != "text":
        passes = [
            replace(job, args=(*job.args, f"--log-format={log_format}"))
            if job.args[0] == "run"
            else job
            for job in passes
        ]
    return [*passes, _digest_job(config, common, db.absolute().parent / "digests")]


def _common_args(config_path: str | Path, db_path: str | Path | None) -> tuple[str, ...]:
    args = ("--config", str(Path(config_path).absolute()))
    return args if db_path is None else (*args, "--db", str(Path(db_path).absolute()))


def _pass_command(config: Config) -> str:
    """``run`` on one machine; ``enqueue`` onto the shared frontier with ``[cluster] redis``
    (the workers fetch, and ``presswatch ingest`` writes, as services of their own)."""
    return "enqueue" if config.cluster.redis else "run"


def _poll_jobs(config: Config, common: tuple[str, ...]) -> list[JobSpec]:
    groups: dict[timedelta, list[str]] = {}
    for source in config.sources:
        groups.setdefault(source.interval or config.schedule.interval, []).append(source.name)
    return [
        JobSpec(
            name=f"poll every {spell_interval(every)}",
            args=(
                _pass_command(config),
                *common,
                "--recheck",
                "none",
                *(f"--source={name}" for name in names),
            ),
            every=every,
        )
        for every, names in sorted(groups.items())
    ]


def _recheck_job(config: Config, common: tuple[str, ...]) -> JobSpec:
    return JobSpec(
        name="recheck",
        args=(_pass_command(config), *common, "--no-sources", "--recheck", "due"),
        every=config.schedule.recheck_interval,
    )


def _digest_job(config: Config, common: tuple[str, ...], folder: Path) -> JobSpec:
    """The digest is always written next to the database, and mailed with [digest.email]."""
    schedule = config.schedule
    send = ("--send",) if config.digest.email is not None else ()
    output = str(folder / f"digest-{DATE}.md")
    return JobSpec(
        name="digest",
        args=("digest", *common, "--unsent", *send, "--output", output),
        daily_at=schedule.digest_at,
        timezone=schedule.timezone,
        folder=folder,
    )


def spell_interval(every: timedelta) -> str:
    """``15m``, or ``0.5s`` for an interval of a fraction of a second."""
    seconds = every.total_seconds()
    return format_duration(every) if seconds.is_integer() else f"{seconds:g}s"


def short_interval_warnings(jobs: list[JobSpec]) -> list[str]:
    """A warning for each job that runs more often than once a minute."""
    return [
        f"{job.name}: runs every {spell_interval(job.every)}, more often than once a "
        "minute; fine for a test, hard on the sites you watch"
        for job in jobs
        if job.every is not None and job.every < SHORT_INTERVAL
    ]


def describe_when(job: JobSpec) -> str:
    """``every 15m``, or ``daily at 07:00 Europe/Berlin``."""
    if job.every is not None:
        return f"every {spell_interval(job.every)}"
    assert job.daily_at is not None
    spelled = f"{job.daily_at:%H:%M:%S}" if job.daily_at.second else f"{job.daily_at:%H:%M}"
    return f"daily at {spelled} {job.timezone}"

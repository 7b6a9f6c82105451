"""Run presswatch around the clock: polls, re-checks and the daily digest on a schedule.

``presswatch schedule`` (or ``python scheduler.py``) plans its jobs from ``[schedule]``
and each source's ``interval`` (:func:`plan_jobs`, a pure function in crawler.ops.jobs)
and fires them with APScheduler (this module). Every job runs as a child process
(``python -m crawler run ...``, crawler.ops.runner), because Twisted's reactor cannot be
restarted in one process; a child also returns its memory when it exits and can be
killed without harming the scheduler.

Passes never overlap: one pass at a time across all jobs (:class:`PassRunner`), and a
job that is still running or waiting is not started a second time. A pass that runs
longer than ``pass_timeout`` is stopped (SIGTERM, then SIGKILL) and recorded in the
database as a ``timeout`` run with an ``errors`` row. SIGTERM or SIGINT stop the
scheduler: no new passes start, the pass in progress gets SIGTERM and up to
``STOP_GRACE`` seconds to finish, and the scheduler exits with status 0.
"""

from __future__ import annotations

import logging
import signal
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler

from crawler.config import Config, ScheduleConfig
from crawler.ops.jobs import (
    CRAWLER,
    DATE,
    JobSpec,
    describe_when,
    plan_jobs,
    short_interval_warnings,
)
from crawler.ops.runner import (
    PassOutcome,
    PassRunner,
    end_process,
    lock_is_held,
    record_failed_pass,
)
from crawler.storage.store import Store
from crawler.times import to_iso

log = logging.getLogger("presswatch.schedule")

__all__ = [  # the scheduler's names, importable from here as before
    "CRAWLER",
    "DATE",
    "JobSpec",
    "PassOutcome",
    "PassRunner",
    "build_scheduler",
    "end_process",
    "log",
    "missed_at_start",
    "plan_jobs",
    "record_failed_pass",
    "serve",
    "short_interval_warnings",
]


def build_scheduler(
    jobs: list[JobSpec], runner: PassRunner, settings: ScheduleConfig, now: datetime | None = None
) -> BlockingScheduler:
    """An APScheduler with one job per spec. Interval jobs also run once at start; a
    daily job runs at start only when :func:`missed_at_start` says it was missed."""
    scheduler = BlockingScheduler(
        timezone=ZoneInfo(settings.timezone),
        executors={"default": {"type": "threadpool", "max_workers": len(jobs) + 1}},
        job_defaults={
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": max(1, int(settings.misfire_grace.total_seconds())),
        },
    )
    now = now or datetime.now(ZoneInfo(settings.timezone))
    for job in jobs:
        start = job.every is not None or missed_at_start(
            job, runner.db_path, now, settings.misfire_grace
        )
        # Without next_run_time the trigger decides; next_run_time=None would pause it.
        when = {"next_run_time": now} if start else {}
        scheduler.add_job(runner.run, job.trigger(), args=[job], id=job.name, name=job.name, **when)
    return scheduler


def missed_at_start(job: JobSpec, db_path: Path, now: datetime, grace: timedelta) -> bool:
    """A daily digest whose time passed less than ``grace`` ago and that no delivered
    digest covers yet (so a restart right after the digest never sends it twice)."""
    fired = job.last_fire_before(now)
    if fired is None or job.name != "digest" or now - fired >= grace:
        return False
    return not digest_covers(db_path, to_iso(fired))


def digest_covers(db_path: Path, moment: str) -> bool:
    """Whether a delivered digest of ``db_path`` reaches ``moment``."""
    if not db_path.exists():
        return False
    store = Store.open(db_path)
    try:
        end = store.last_delivered_end()
    finally:
        store.close()
    return end is not None and end >= moment


def serve(
    config: Config,
    config_path: str | Path,
    db_path: str | Path | None = None,
    *,
    stdout: int | IO[str] | None = subprocess.DEVNULL,
    log_format: str = "text",
) -> None:
    """Run the schedule until SIGTERM or SIGINT; return once the last pass has ended."""
    jobs = plan_jobs(config, config_path, db_path, log_format)
    db = Path(db_path) if db_path is not None else config.storage.db
    Store.open(db).close()  # usable (or a one-line error now), and there for every job
    runner = PassRunner(
        db.absolute(),
        config.schedule.pass_timeout.total_seconds(),
        config.schedule.timezone,
        stdout=stdout,
    )
    scheduler = build_scheduler(jobs, runner, config.schedule)
    for warning in short_interval_warnings(jobs):
        log.warning("%s", warning)
    _install_stop_handlers(scheduler, runner)
    for job in jobs:
        log.info("job %s: %s", job.name, describe_when(job))
    lock_is_held(db.absolute())
    scheduler.start()  # blocks until a stop signal shuts it down
    if not runner.wait_idle(timeout=runner.stop_grace + runner.kill_grace + 5):
        log.warning("the pass in progress did not end")
    log.info("stopped")


def _install_stop_handlers(scheduler: BlockingScheduler, runner: PassRunner) -> None:
    def stop(signum: int, _frame: object) -> None:
        if runner.stopping:  # a second signal: do not wait any longer
            log.info("%s again: killing the pass in progress", signal.Signals(signum).name)
            runner.stop(grace=0)
            return
        log.info("%s: stopping after the pass in progress", signal.Signals(signum).name)
        runner.stop()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

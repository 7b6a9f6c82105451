"""Run presswatch around the clock: polls, re-checks and the daily digest on a schedule.

``presswatch schedule`` (or ``python scheduler.py``) plans its jobs from ``[schedule]``
and each source's ``interval`` (:func:`plan_jobs`, a pure function) and runs them with
APScheduler. Every job runs as a child process (``python -m crawler run ...``), because
Twisted's reactor cannot be restarted in one process; a child also returns its memory
when it exits and can be killed without harming the scheduler.

Passes never overlap: one pass at a time across all jobs (:class:`PassRunner`), and a
job that is still running or waiting is not started a second time. A pass that runs
longer than ``pass_timeout`` is stopped (SIGTERM, then SIGKILL) and recorded in the
database as a ``timeout`` run with an ``errors`` row. SIGTERM or SIGINT stop the
scheduler: no new passes start, the pass in progress gets SIGTERM and up to
``STOP_GRACE`` seconds to finish, and the scheduler exits with status 0.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import IO
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import crawler
from crawler.config import Config, ScheduleConfig
from crawler.durations import format_duration
from crawler.ops.lifeline import die_with_parent
from crawler.storage.lock import lock_holder, lock_path
from crawler.storage.store import Store
from crawler.times import to_iso, utc_now

log = logging.getLogger("presswatch.schedule")

CRAWLER = (sys.executable, "-m", "crawler")  # every job runs `python -m crawler ARGS`
DATE = "{date}"  # in a job's arguments: the day it runs, e.g. 2026-11-25
STOP_GRACE = 60.0  # seconds a pass may take to finish after SIGTERM
KILL_GRACE = 10.0  # seconds from SIGTERM to SIGKILL for a pass over its limit
POLL_SECONDS = 0.2  # how often a waiting pass checks its clock
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


# -- planning: configuration -> jobs (pure) ---------------------------------------------


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
            name=f"poll every {_spell(every)}",
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
    send = ("--send",) if config.digest.email is not None or config.digest.notify else ()
    output = str(folder / f"digest-{DATE}.md")
    return JobSpec(
        name="digest",
        args=("digest", *common, "--unsent", *send, "--output", output),
        daily_at=schedule.digest_at,
        timezone=schedule.timezone,
        folder=folder,
    )


def _spell(every: timedelta) -> str:
    seconds = every.total_seconds()
    return format_duration(every) if seconds.is_integer() else f"{seconds:g}s"


def short_interval_warnings(jobs: list[JobSpec]) -> list[str]:
    """A warning for each job that runs more often than once a minute."""
    return [
        f"{job.name}: runs every {_spell(job.every)}, more often than once a "
        "minute; fine for a test, hard on the sites you watch"
        for job in jobs
        if job.every is not None and job.every < SHORT_INTERVAL
    ]


# -- running: one pass at a time, within its time limit ---------------------------------


@dataclass(frozen=True)
class PassOutcome:
    """How one job's pass ended: ``status`` is exited, timeout or interrupted."""

    job: str
    started_at: str
    seconds: float
    exit_code: int | None
    status: str = "exited"
    run_id: int | None = None  # the run recorded for a timeout or interruption


@dataclass
class PassRunner:
    """Runs jobs as child processes, one at a time, each within ``pass_timeout``."""

    db_path: Path
    pass_timeout: float
    timezone: str = "UTC"
    stop_grace: float = STOP_GRACE
    kill_grace: float = KILL_GRACE
    stdout: int | IO[str] | None = subprocess.DEVNULL  # of each pass; None: inherited
    stderr: int | IO[str] | None = None
    _one_pass: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _child: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)  # no new passes
    _kill_at: float | None = field(default=None, repr=False)  # when stopping

    @property
    def stopping(self) -> bool:
        return self._closed

    def run(self, job: JobSpec) -> PassOutcome | None:
        """Run ``job``'s pass once the one before it ends; None when stopping first."""
        while not self._one_pass.acquire(timeout=POLL_SECONDS):
            if self.stopping:
                return None
        try:
            return None if self.stopping else self._run(job)
        finally:
            self._one_pass.release()

    def close(self) -> None:
        """Start no more passes; the one in progress runs on."""
        self._closed = True

    def stop(self, grace: float | None = None) -> None:
        """Start no more passes; SIGTERM the one in progress, kill it after ``grace``."""
        with self._guard:
            self._closed = True
            self._kill_at = monotonic() + (self.stop_grace if grace is None else grace)
            if self._child is not None:
                self._child.send_signal(signal.SIGTERM)  # a no-op once it has exited

    def wait_idle(self, timeout: float) -> bool:
        """Wait for the pass in progress to end; False if it is still running."""
        if not self._one_pass.acquire(timeout=timeout):
            return False
        self._one_pass.release()
        return True

    def _run(self, job: JobSpec) -> PassOutcome | None:
        started_at, started = to_iso(utc_now()), monotonic()
        child = self._start(job)
        if child is None:
            return None
        try:
            ending = self._wait(child, started)
        finally:
            with self._guard:
                self._child = None
        if ending is None and self._kill_at is not None and child.returncode != 0:
            ending = "interrupted"  # ended by the SIGTERM passed on to it
        outcome = PassOutcome(
            job.name,
            started_at,
            round(monotonic() - started, 1),
            child.returncode,
            ending or "exited",
        )
        return self._record(job, outcome)

    def _start(self, job: JobSpec) -> subprocess.Popen[bytes] | None:
        if job.folder is not None:
            job.folder.mkdir(parents=True, exist_ok=True)
        command = job.command(datetime.now(ZoneInfo(self.timezone)).date())
        log.debug("%s: starting %s", job.name, " ".join(command))
        if job.args[0] == "run" and lock_is_held(self.db_path, job.name):
            return None
        with self._guard:
            if self.stopping:
                return None
            self._child = start_child(command, self.stdout, self.stderr)
            return self._child

    def _wait(self, child: subprocess.Popen[bytes], started: float) -> str | None:
        """Wait for the child; end it when over time or stopping. Why it was ended."""
        while True:
            try:
                child.wait(timeout=POLL_SECONDS)
                return None
            except subprocess.TimeoutExpired:
                pass
            now = monotonic()
            if now - started >= self.pass_timeout:
                end_process(child, self.kill_grace)
                return "timeout"
            if self._kill_at is not None and now >= self._kill_at:
                end_process(child, 0)
                return "interrupted"

    def _record(self, job: JobSpec, outcome: PassOutcome) -> PassOutcome:
        reason = _failure_reason(job, outcome, self.pass_timeout)
        if reason is not None:
            status = "failed" if outcome.status == "exited" else outcome.status
            run_id = record_failed_pass(
                self.db_path, outcome.started_at, status, reason, always=outcome.status == "timeout"
            )
            outcome = replace(outcome, run_id=run_id)
        _log_outcome(outcome)
        return outcome


def _failure_reason(job: JobSpec, outcome: PassOutcome, limit: float) -> str | None:
    if outcome.status == "timeout":
        return (
            f"{job.name}: stopped after the pass time limit of "
            f"{_spell(timedelta(seconds=limit))} ([schedule] pass_timeout)"
        )
    if outcome.status == "interrupted":
        return f"{job.name}: stopped with the scheduler ({exit_text(outcome.exit_code)})"
    if outcome.exit_code:  # a crash leaves its run `running`; a failed pass closed it
        return f"{job.name}: the pass ended unfinished ({exit_text(outcome.exit_code)})"
    return None


def _log_outcome(outcome: PassOutcome) -> None:
    level = logging.INFO if outcome.exit_code == 0 else logging.WARNING
    status = "" if outcome.status == "exited" else f"{outcome.status}, "
    run = f", recorded as run {outcome.run_id}" if outcome.run_id is not None else ""
    log.log(
        level,
        "%s: started %s, %s%s after %.1fs%s",
        outcome.job,
        outcome.started_at,
        status,
        exit_text(outcome.exit_code),
        outcome.seconds,
        run,
    )


def exit_text(code: int | None) -> str:
    """``exit 0``, or ``killed by SIGKILL`` for a child ended by a signal."""
    if code is not None and code < 0:
        with suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit {code}"


def start_child(
    command: list[str], stdout: int | IO[str] | None, stderr: int | IO[str] | None
) -> subprocess.Popen[bytes]:
    """A pass in its own process group that the kernel kills (SIGKILL) if the scheduler
    dies, so no pass outlives it (crawler.ops.lifeline; Linux)."""
    parent = os.getpid()
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        env=child_env(),
        start_new_session=True,
        preexec_fn=lambda: die_with_parent(parent),
    )


def lock_is_held(db_path: Path, job: str | None = None) -> bool:
    """Log one line when a pass (one started by an earlier scheduler, or by cron) still
    holds the database: at start (``job`` None), or for a pass skipped because of it,
    which must not look like a success."""
    holder = lock_holder(db_path)
    if holder is None:
        return False
    by = f"process {holder}" if holder else "another process"
    if job is None:
        log.warning(
            "the database is held: %s holds %s (a pass still running, perhaps "
            "left by an earlier scheduler); passes are skipped until it is free",
            by,
            lock_path(db_path),
        )
    else:
        log.warning("%s: skipped: the database is held (%s holds %s)", job, by, lock_path(db_path))
    return True


def end_process(child: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM ``child``; after ``grace`` seconds SIGKILL its whole process group."""
    if grace > 0:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            pass
    with suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)  # the child and its extraction workers
    child.wait()


def child_env() -> dict[str, str]:
    """The environment of a pass: this one, with this presswatch importable first."""
    root = str(Path(crawler.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def record_failed_pass(
    db_path: Path, started_at: str, status: str, message: str, *, always: bool = False
) -> int | None:
    """Close the runs a stopped pass left ``running`` with ``status`` and an ``errors``
    row (stage ``schedule``); with ``always``, add a run when the pass had none."""
    now = to_iso(utc_now())
    store = Store.open(db_path)
    try:
        run_ids = unfinished_runs(store, started_at)
        if not run_ids and always:
            run_ids = [store.start_run(started_at)]
        for run_id in run_ids:
            store.record_error(run_id, "schedule", message, now)
            store.finish_run(run_id, now, status, {"errors": error_count(store, run_id)})
    finally:
        store.close()
    return run_ids[-1] if run_ids else None


def unfinished_runs(store: Store, since: str) -> list[int]:
    rows = store.db.execute(
        "SELECT id FROM runs WHERE status = 'running' AND started_at >= ? ORDER BY id", [since]
    )
    return [row[0] for row in rows]


def error_count(store: Store, run_id: int) -> int:
    return store.db.execute("SELECT count(*) FROM errors WHERE run_id = ?", [run_id]).fetchone()[0]


# -- the scheduler ------------------------------------------------------------------------


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
    from crawler.outputs.digest import last_delivered_end

    store = Store.open(db_path)
    try:
        end = last_delivered_end(store)
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
        log.info("job %s: %s", job.name, _when(job))
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


def _when(job: JobSpec) -> str:
    if job.every is not None:
        return f"every {_spell(job.every)}"
    assert job.daily_at is not None
    spelled = f"{job.daily_at:%H:%M:%S}" if job.daily_at.second else f"{job.daily_at:%H:%M}"
    return f"daily at {spelled} {job.timezone}"

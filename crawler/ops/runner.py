"""Running the scheduler's jobs: one pass at a time, each a child process within its
time limit.

:class:`PassRunner` starts each job's command as a child process (Twisted's reactor
cannot be restarted in one process; a child also returns its memory when it exits and
can be killed without harming the scheduler), never two at a time. A pass that runs
longer than ``pass_timeout`` is stopped (SIGTERM, then SIGKILL) and recorded in the
database as a ``timeout`` run with an ``errors`` row (:func:`record_failed_pass`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from time import monotonic
from typing import IO
from zoneinfo import ZoneInfo

import crawler
from crawler.ops.jobs import JobSpec, spell_interval
from crawler.ops.lifeline import die_with_parent
from crawler.storage.lock import lock_holder, lock_path
from crawler.storage.store import Store
from crawler.times import to_iso, utc_now

log = logging.getLogger("presswatch.schedule")

STOP_GRACE = 60.0  # seconds a pass may take to finish after SIGTERM
KILL_GRACE = 10.0  # seconds from SIGTERM to SIGKILL for a pass over its limit
POLL_SECONDS = 0.2  # how often a waiting pass checks its clock


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
            f"{spell_interval(timedelta(seconds=limit))} ([schedule] pass_timeout)"
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
        run_ids = store.running_runs_since(started_at)
        if not run_ids and always:
            run_ids = [store.start_run(started_at)]
        for run_id in run_ids:
            store.record_error(run_id, "schedule", message, now)
            store.finish_run(run_id, now, status, {"errors": store.run_error_count(run_id)})
    finally:
        store.close()
    return run_ids[-1] if run_ids else None

"""Benchmark the scheduler's memory over many passes: does a long-running scheduler grow?

Serves the bundled demo site on 127.0.0.1 and runs the real scheduler machinery against
it (plan_jobs, the APScheduler set-up, the pass runner, one child process per pass) with
every source polled and every stored article re-checked each second, until the given
number of passes has run. Prints the scheduler process's resident memory (VmRSS), open
files and threads at the start, every so often, and at the end, plus the peak resident
memory of one pass (the largest child process).

    python bench/scheduler_memory.py --passes 200
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler

from crawler.config import load_config
from crawler.demo import DEMO_CONFIG, DEMO_SITE
from crawler.demo.localsite import LocalSite
from crawler.ops.schedule import PassOutcome, PassRunner, build_scheduler, plan_jobs

SCHEDULE = """
[storage]
db = "bench.db"

[schedule]
interval = "1s"
recheck_interval = "1s"
pass_timeout = "2m"

[tracking]
revisit = [{ until = "30d", every = "1s" }]   # every stored article is due every pass
"""


@dataclass
class Sample:
    passes: int
    seconds: float
    rss_kb: int
    open_files: int
    threads: int


@dataclass
class Tally:
    """Counts passes as the scheduler finishes them; stops it after ``wanted``."""

    wanted: int
    every: int
    started: float = field(default_factory=time.monotonic)
    outcomes: list[PassOutcome] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)

    def sample(self) -> None:
        self.samples.append(
            Sample(
                len(self.outcomes),
                time.monotonic() - self.started,
                rss_kb(),
                open_files(),
                threading.active_count(),
            )
        )


def rss_kb() -> int:
    """The resident memory of this process now, from /proc (peak RSS where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def open_files() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def write_config(folder: Path, base_url: str) -> Path:
    text = DEMO_CONFIG.read_text(encoding="utf-8") + SCHEDULE
    sources = DEMO_SITE / "sources.toml"
    for line in sources.read_text(encoding="utf-8").splitlines():
        if line.startswith("path = "):
            line = f'url = "{base_url}{line.split(chr(34))[1]}"'
        text += line + "\n"
    path = folder / "bench.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(passes: int, every: int, show_output: bool) -> Tally:
    with (
        tempfile.TemporaryDirectory(prefix="presswatch-schedule-bench-") as folder,
        LocalSite(DEMO_SITE) as site,
    ):
        config_path = write_config(Path(folder), site.base_url)
        config = load_config(config_path)
        jobs = [job for job in plan_jobs(config, config_path) if job.every is not None]
        runner = PassRunner(
            config.storage.db,
            config.schedule.pass_timeout.total_seconds(),
            stderr=None if show_output else subprocess.DEVNULL,
        )
        scheduler = build_scheduler(jobs, runner, config.schedule)
        tally = Tally(passes, every)
        scheduler.add_listener(
            _counter(tally, scheduler, runner), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )
        tally.sample()
        scheduler.start()
        runner.wait_idle(timeout=120)
        tally.sample()
    return tally


def _counter(
    tally: Tally, scheduler: BlockingScheduler, runner: PassRunner
) -> Callable[[JobExecutionEvent], None]:
    def executed(event: JobExecutionEvent) -> None:
        if not isinstance(event.retval, PassOutcome):
            return
        tally.outcomes.append(event.retval)
        if len(tally.outcomes) % tally.every == 0:
            tally.sample()
        if len(tally.outcomes) == tally.wanted:
            runner.close()
            scheduler.shutdown(wait=False)

    return executed


def report(tally: Tally) -> None:
    print(f"{'passes':>7} {'elapsed':>8} {'VmRSS':>10} {'files':>6} {'threads':>8}")
    for s in tally.samples:
        print(
            f"{s.passes:>7} {s.seconds:>7.0f}s {s.rss_kb / 1024:>7.1f} MB {s.open_files:>6} "
            f"{s.threads:>8}"
        )
    first, last = tally.samples[0], tally.samples[-1]
    ok = sum(o.exit_code == 0 and o.status == "exited" for o in tally.outcomes)
    seconds = [o.seconds for o in tally.outcomes]
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        f"\n{len(tally.outcomes)} passes ({ok} exited 0), "
        f"{sum(seconds) / len(seconds):.2f}s per pass on average"
    )
    print(
        f"scheduler VmRSS: {first.rss_kb / 1024:.1f} MB at the start, "
        f"{last.rss_kb / 1024:.1f} MB at the end ({(last.rss_kb - first.rss_kb) / 1024:+.1f} MB)"
    )
    print(f"peak resident memory of one pass (largest child): {child_peak / 1024:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=200, help="passes to run (default 200)")
    parser.add_argument(
        "--every", type=int, default=20, help="sample memory every this many passes (default 20)"
    )
    parser.add_argument(
        "--show-output", action="store_true", help="show what each pass writes to stderr"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # skipped runs are expected
    report(run(args.passes, args.every, args.show_output))


if __name__ == "__main__":
    main()

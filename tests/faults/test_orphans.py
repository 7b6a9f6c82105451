"""A killed scheduler or pass leaves no process behind.

Every process a test starts carries a marker in its environment, which its children
(the pass, the extraction forkserver and workers, multiprocessing's resource tracker)
inherit; after a kill the test scans /proc for processes bearing it. A scheduler
started while a pass still holds the database says so, and skips its passes visibly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import child_env, rows, run_cli
from test_crash import article_count, build_site, slow_site, write_config

from crawler.demo.localsite import LocalSite

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and prctl"),
]
MARK = "PRESSWATCH_TEST_PROCESS_MARK"
PAGE_DELAY = 0.3  # a pass of some 15 s: it outlives the checks unless it is killed


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSite]:
    root = tmp_path_factory.mktemp("orphan-site")
    build_site(root)
    with slow_site(root, PAGE_DELAY) as served:
        yield served


def marked(mark: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment holds ``mark``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"{MARK}={mark}".encode() in environ.split(b"\0") and state != "Z":
            found.append((int(entry), command.replace(b"\0", b" ").decode(errors="replace")))
    return found


def survivors(mark: str, within: float = 4.0) -> list[tuple[int, str]]:
    """The marked processes still alive after ``within`` seconds (polling)."""
    deadline = time.monotonic() + within
    while (alive := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def start(mark: str, *args: str, **popen) -> subprocess.Popen:
    env = child_env(**{MARK: mark})
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", *args], env=env, stdin=subprocess.DEVNULL, **popen
    )


def wait_for_extraction(db: Path, mark: str, timeout: float = 60) -> None:
    """Until the pass has stored articles and its extraction workers run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [c for _, c in marked(mark) if "multiprocessing.forkserver" in c]
        if article_count(db) > 0 and len(workers) >= 2:
            return
        time.sleep(0.1)
    raise AssertionError(f"no pass extracting after {timeout}s: {marked(mark)}")


@contextlib.contextmanager
def cleanup(mark: str) -> Iterator[None]:
    """Whatever the test finds, kill what it started before leaving."""
    try:
        yield
    finally:
        for pid, _ in marked(mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_killed_pass_takes_its_extraction_workers_with_it(tmp_path, site):
    mark = uuid.uuid4().hex
    db = tmp_path / "pass.db"
    config = write_config(tmp_path / "config.toml", site, db)
    with cleanup(mark):
        process = start(
            mark,
            "run",
            "--config",
            str(config),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_extraction(db, mark)
        process.send_signal(signal.SIGKILL)  # the pass alone, as the OOM killer does
        process.wait(timeout=10)
        assert survivors(mark) == []
    # The run it left `running` is closed by the next pass, which holds the lock (run at
    # the site's full speed: what it stores is not what is tested here).
    with site.answering_at_once():
        assert run_cli("run", "--config", str(config), "--quiet").code == 0
    statuses = [row["status"] for row in rows(db, "SELECT status FROM runs ORDER BY id")]
    assert statuses == ["failed", "ok"]
    [closed] = rows(db, "SELECT message FROM errors WHERE stage = 'run'")
    assert "ended without recording its end" in closed["message"]


def test_a_killed_scheduler_takes_its_pass_and_workers_with_it(tmp_path, site):
    mark = uuid.uuid4().hex
    db = tmp_path / "scheduled.db"
    config = write_config(tmp_path / "config.toml", site, db)
    with cleanup(mark):
        scheduler = start(
            mark,
            "schedule",
            "--config",
            str(config),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_extraction(db, mark)
        scheduler.send_signal(signal.SIGKILL)
        scheduler.wait(timeout=10)
        assert survivors(mark) == []


def test_a_new_scheduler_reports_a_pass_still_running_and_skips_visibly(tmp_path, site):
    mark = uuid.uuid4().hex
    db = tmp_path / "held.db"
    config = write_config(tmp_path / "config.toml", site, db)
    holder_code = (
        "import sys, time; from crawler.storage.lock import DatabaseLock\n"
        "with DatabaseLock(sys.argv[1]):\n    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    env = child_env(**{MARK: mark})
    with cleanup(mark):
        holder = subprocess.Popen(
            [sys.executable, "-c", holder_code, str(db)], env=env, stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout.readline() == "held\n"
        log = tmp_path / "schedule.log"
        scheduler = start(
            mark,
            "schedule",
            "--config",
            str(config),
            "--log-file",
            str(log),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while "skipped" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, log.read_text() if log.exists() else ""
            time.sleep(0.2)
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(timeout=30)
        holder.kill()
        holder.wait()
    lines = log.read_text().splitlines()
    assert any(f"the database is held: process {holder.pid} holds" in line for line in lines), lines
    skipped = [line for line in lines if ": skipped: the database is held" in line]
    assert skipped and all(f"process {holder.pid}" in line for line in skipped)
    assert not any("exit 0" in line for line in lines), lines
    assert article_count(db) == 0

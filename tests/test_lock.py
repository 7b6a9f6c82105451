"""The database lock, contended by real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

from crawler.storage.lock import DatabaseLock, LockHeld, lock_path

HOLDER = """
import sys, time
from crawler.storage.lock import DatabaseLock
with DatabaseLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(db: Path, seconds: float = 60) -> subprocess.Popen:
    """Another process that takes the lock and keeps it for ``seconds``."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout.readline().strip() == "held"
    return child


@pytest.fixture
def holder(tmp_path) -> Iterator[subprocess.Popen]:
    child = hold(tmp_path / "pw.db")
    yield child
    child.kill()
    child.wait()


def test_the_lock_lives_next_to_the_database(tmp_path):
    assert lock_path(tmp_path / "pw.db") == tmp_path / "pw.db.lock"
    with DatabaseLock(tmp_path / "pw.db") as lock:
        assert lock.held
        assert (tmp_path / "pw.db.lock").read_text() == f"{os.getpid()}\n"
    assert not lock.held
    assert (tmp_path / "pw.db.lock").exists()  # kept: removing it would race


def test_a_second_process_is_refused_at_once_and_told_who_holds_it(tmp_path, holder):
    started = time.monotonic()
    with pytest.raises(LockHeld) as caught, DatabaseLock(tmp_path / "pw.db"):
        pass
    assert time.monotonic() - started < 1
    assert caught.value.holder == holder.pid
    assert str(caught.value) == (
        f"{tmp_path / 'pw.db.lock'} is held by process {holder.pid}: "
        "another presswatch pass is running"
    )


def test_waiting_gives_up_after_the_timeout(tmp_path, holder):
    started = time.monotonic()
    with (
        pytest.raises(LockHeld, match=r"after waiting 0\.5s"),
        DatabaseLock(tmp_path / "pw.db", wait=0.5),
    ):
        pass
    assert 0.5 <= time.monotonic() - started < 3


def test_waiting_gets_the_lock_once_the_holder_is_done(tmp_path):
    child = hold(tmp_path / "pw.db", seconds=1)
    with DatabaseLock(tmp_path / "pw.db", wait=30) as lock:
        assert lock.held
        assert child.poll() is not None or child.wait(timeout=5) == 0


def test_a_killed_holder_leaves_no_stale_lock(tmp_path, holder):
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with DatabaseLock(tmp_path / "pw.db") as lock:
        assert lock.held


def test_one_process_cannot_take_its_own_lock_twice(tmp_path):
    with DatabaseLock(tmp_path / "pw.db") as lock:
        with pytest.raises(RuntimeError, match="already held"):
            lock.acquire()
        with pytest.raises(LockHeld):
            DatabaseLock(tmp_path / "pw.db").acquire()


# Says it is ready; once the file GO exists, adds one to a counter file TIMES times,
# each under the lock. It imports only the lock (the test's own module would cost it
# two seconds of imports).
ADDER = """
import sys, time
from pathlib import Path
from crawler.storage.lock import DatabaseLock
db, counter, times, go = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
for _ in range(times):
    with DatabaseLock(db, wait=30, poll=0.001):
        value = int(counter.read_text())
        time.sleep(0.001)
        counter.write_text(str(value + 1))
"""


def test_contending_processes_never_hold_it_together(tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", ADDER, str(tmp_path / "pw.db"), str(counter), "50", str(go)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    assert [worker.stdout.readline() for worker in workers] == ["ready\n"] * 4
    go.touch()  # all four at once
    for worker in workers:
        assert worker.wait(timeout=60) == 0
    assert counter.read_text() == "200"  # no increment lost to an overlap

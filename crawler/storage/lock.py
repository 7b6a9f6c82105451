"""One writer at a time: an exclusive lock on a file next to the database.

``DatabaseLock(db)`` holds ``<db>.lock`` with ``flock`` for as long as it is entered.
The kernel releases the lock when its holder exits, however it exits, so a killed pass
never leaves a stale lock behind; the file itself stays (removing it would let two
processes lock two different files). The holder writes its process id into the file,
so the message a second process gets can name it.

flock works between processes on one machine; it is not reliable on network file
systems, where the database should not live anyway (SQLite's WAL mode needs shared
memory on one host).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

POLL_SECONDS = 0.1


class LockHeld(RuntimeError):
    """Another process holds the database's lock (and still did after any wait)."""

    def __init__(self, path: Path, holder: int | None, waited: float = 0.0) -> None:
        self.path, self.holder, self.waited = path, holder, waited
        by = f" by process {holder}" if holder else ""
        after = f" after waiting {waited:g}s" if waited else ""
        super().__init__(f"{path} is held{by}{after}: another presswatch pass is running")


def lock_path(db_path: str | Path) -> Path:
    """Where the lock of ``db_path`` lives: the same name with ``.lock`` appended."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


class DatabaseLock:
    """An exclusive, non-blocking lock on ``<db>.lock``; ``wait`` seconds to keep trying.

    Use it as a context manager::

        with DatabaseLock(db_path, wait=30):
            run_the_pass()

    Entering raises :class:`LockHeld` when another process holds the lock.
    """

    def __init__(
        self, db_path: str | Path, *, wait: float = 0.0, poll: float = POLL_SECONDS
    ) -> None:
        self.path = lock_path(db_path)
        self.wait, self.poll = wait, poll
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this lock")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._lock(fd)
        except BaseException:
            os.close(fd)
            raise
        _write_pid(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def _lock(self, fd: int) -> None:
        deadline = time.monotonic() + self.wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise LockHeld(self.path, _read_pid(self.path), self.wait)
            time.sleep(min(self.poll, max(deadline - time.monotonic(), 0)))

    def __enter__(self) -> DatabaseLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def lock_holder(db_path: str | Path) -> int | None:
    """The process holding ``db_path``'s lock now (0 when it cannot be told), or None
    when it is free. Never creates the lock file."""
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        if _try_lock(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        return _read_pid(path) or 0
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_pid(fd: int) -> None:
    """Name the holder in the file; the lock holds even when that cannot be written (a
    full disk), then a second process just cannot say who holds it."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None

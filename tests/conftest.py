"""Shared fixtures and helpers: sample sites served on 127.0.0.1, the real CLI run
against them in a child process (a Scrapy crawl runs once per process), the configs
they read, and the databases they leave."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import locale
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
import sqlite_utils

from crawler.demo.localsite import LocalSite
from crawler.storage.archive import archive_path
from crawler.storage.migrations import MIGRATIONS, sqlite3_statements

SITES = Path(__file__).parent / "sites"
REPO = Path(__file__).parent.parent


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a ``python -m crawler`` child: this checkout importable first,
    plus ``extra``."""
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def run_cli(
    *args: str,
    cwd: Path | None = None,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> CliResult:
    """Run ``presswatch ARGS`` as a user would, in a child process, with ``input`` on
    its stdin (a pipe, never a terminal; without input, stdin is empty) and the
    environment ``env`` (default: ``child_env()``).

    The child is forked from a process that has imported presswatch once (see
    tests/forkserver.py): the same ``python -m crawler`` in a fresh process, without
    two seconds of imports. ``PRESSWATCH_TEST_FORKSERVER=0`` starts each child from
    scratch instead."""
    if os.environ.get("PRESSWATCH_TEST_FORKSERVER") == "0":
        done = subprocess.run(
            [sys.executable, "-m", "crawler", *args],
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env or child_env(),
            timeout=timeout,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)
    return _fork_server().run(list(args), env or child_env(), cwd or Path.cwd(), input, timeout)


class ForkServer:
    """The client of tests/forkserver.py: one server per test process, started at the
    first ``run_cli`` and ended with the test process."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="presswatch-forks-")
        self.address = os.path.join(self.folder, "socket")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(self.address)
        listener.listen(8)
        server = Path(__file__).parent / "forkserver.py"
        self.process = subprocess.Popen(
            [sys.executable, str(server), "--fd", str(listener.fileno())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=child_env(),
            pass_fds=[listener.fileno()],
        )
        listener.close()  # the server has its own; requests queue until it has imported

    def start(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path,
        stdio: tuple[int, int, int],
        session: bool = False,
    ) -> ForkedChild:
        """Fork ``python -m crawler ARGS`` with the file descriptors ``stdio`` as its
        stdin, stdout and stderr (in a session of its own if ``session``)."""
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        connection.connect(self.address)
        message = {"args": args, "env": env, "cwd": str(cwd), "session": session}
        request = json.dumps(message).encode()
        socket.send_fds(connection, [request], list(stdio))
        connection.settimeout(120)  # the first request waits for the server's imports
        pid = json.loads(connection.recv(4096))["pid"]
        return ForkedChild(["presswatch", *args], pid, connection)

    def run(
        self, args: list[str], env: dict[str, str], cwd: Path, input: str | None, timeout: float
    ) -> CliResult:
        with contextlib.ExitStack() as stack:
            out, err = (stack.enter_context(tempfile.TemporaryFile()) for _ in range(2))
            stdin = stack.enter_context(open(os.devnull, "rb"))
            if input is not None:
                read, write = os.pipe()
                stdin = stack.enter_context(open(read, "rb"))
                with open(write, "wb") as feed:  # small inputs: the pipe holds them
                    feed.write(input.encode())
            child = self.start(args, env, cwd, (stdin.fileno(), out.fileno(), err.fileno()))
            try:
                code = child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                raise
            out.seek(0)
            err.seek(0)
            return CliResult(code, _text(out.read()), _text(err.read()))

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


class ForkedChild:
    """A child forked by the ForkServer, with the part of ``subprocess.Popen``'s
    interface the tests use (its exit status comes from the server, its parent)."""

    def __init__(self, args: list[str], pid: int, connection: socket.socket) -> None:
        self.args, self.pid, self.connection = args, pid, connection
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.connection.settimeout(0)
            with contextlib.suppress(BlockingIOError):
                self._ended(self.connection.recv(4096))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.connection.settimeout(timeout)
            try:
                self._ended(self.connection.recv(4096))
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout) from None
        assert self.returncode is not None
        return self.returncode

    def _ended(self, message: bytes) -> None:
        if not message:
            raise RuntimeError("the test fork server ended before its child")
        self.returncode = json.loads(message)["returncode"]
        self.connection.close()

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def start_cli(
    *args: str,
    stdout: IO[bytes],
    stderr: IO[bytes],
    env: dict[str, str] | None = None,
    session: bool = False,
) -> subprocess.Popen[bytes] | ForkedChild:
    """Start ``presswatch ARGS`` in a child process writing to the files ``stdout`` and
    ``stderr`` (stdin empty), forked like ``run_cli``'s; poll, wait or kill it. With
    ``session``, the child leads a process group of its own: ``os.killpg(child.pid)``
    kills it with its extraction workers."""
    env = env or child_env()
    if os.environ.get("PRESSWATCH_TEST_FORKSERVER") == "0":
        return subprocess.Popen(
            [sys.executable, "-m", "crawler", *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env,
            start_new_session=session,
        )
    with open(os.devnull, "rb") as stdin:
        stdio = (stdin.fileno(), stdout.fileno(), stderr.fileno())
        return _fork_server().start(list(args), env, Path.cwd(), stdio, session)


def _text(data: bytes) -> str:
    """Bytes a child wrote, read as ``subprocess.run(text=True)`` reads them."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


_fork_servers: list[ForkServer] = []


def _fork_server() -> ForkServer:
    if not _fork_servers:
        _fork_servers.append(ForkServer())
        atexit.register(_fork_servers[0].stop)
    return _fork_servers[0]


def invoke(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """Run ``presswatch ARGS`` in this process with click's CliRunner: for the commands
    that run no crawl (their arguments, errors and reports). A Scrapy crawl can run only
    once in a process: ``presswatch run`` goes through ``run_cli``."""
    from click.testing import CliRunner

    from crawler.commands.main import cli

    done = CliRunner().invoke(
        cli, list(args), env=env, catch_exceptions=False, prog_name="presswatch"
    )
    return CliResult(done.exit_code, done.stdout, done.stderr)


def free_port() -> int:
    """A loopback port nothing listens on (for a server a test starts, or to be refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The basic site's sources and the topics its pages mention (tests/sites/basic).
BASIC_SOURCES = [
    ("News", "news/feed.xml"),
    ("Wire", "wire/atom.xml"),
    ("Broken", "broken/feed.xml"),
    ("Salvage", "salvage/feed.xml"),
]
BASIC_TOPICS = [
    ("coalition of the willing", '"coalition of the willing"'),
    ("Greenland", "Greenland"),
    ("NATO", "NATO"),
    ("Ukraine", "Ukraine"),
    ("European Security Council", '"European Security Council"'),
]


class SlowSite(LocalSite):
    """A sample site answering the paths ``slow`` selects after ``delay`` seconds, so a
    pass over it lasts long enough to be watched, killed or overlapped."""

    def __init__(
        self,
        root: str | Path,
        delay: float = 1.5,
        slow: Callable[[str], bool] = lambda path: path.endswith(".html"),
    ) -> None:
        super().__init__(root)
        self.delay, self.slow = delay, slow

    def respond(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if self.slow(path):
            time.sleep(self.delay)
        return super().respond(path)

    @contextlib.contextmanager
    def answering_at_once(self) -> Iterator[None]:
        """Within the block, the slow paths answer without delay too."""
        delay, self.delay = self.delay, 0.0
        try:
            yield
        finally:
            self.delay = delay


def write_config(
    path: Path,
    site: LocalSite,
    sources: list[tuple[str, str]],
    topics: list[tuple[str, str]],
    extra: str = "",
    *,
    db: Path | None = None,
    workers: int = 0,
    autothrottle: bool = False,
) -> Path:
    """A config.toml with the given (name, path) feeds on ``site`` and (name, query) topics,
    its database ``db`` (default: test.db beside it).

    A test pass runs as fast as the sample site answers: articles are extracted inline and
    AutoThrottle's pacing is off, unless ``workers`` (the extraction pool) or
    ``autothrottle`` ask for them, as in a pass with the default settings."""
    lines = [
        "[storage]",
        f'db = "{db or path.parent / "test.db"}"',
        "",
        "[crawl]",
        "allow_private_addresses = true",
        "timeout = 10",
        f"extract_workers = {workers}",
        f"autothrottle = {str(autothrottle).lower()}",
        "",
        extra,
        "",
    ]
    for name, feed in sources:
        lines += ["[[sources]]", f'name = "{name}"', f'url = "{site.url(feed)}"', ""]
    for name, query in topics:
        lines += ["[[topics]]", f'name = "{name}"', f"query = '{query}'", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def basic_site() -> Iterator[LocalSite]:
    with LocalSite(SITES / "basic") as site:
        yield site


def copy_database(db: Path, folder: Path) -> Path:
    """A copy of the database ``db`` (with its write-ahead log) as test.db in ``folder``,
    for a test that writes to a database a module's tests share."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            shutil.copyfile(f"{db}{suffix}", folder / f"test.db{suffix}")
    return folder / "test.db"


@dataclass(frozen=True)
class Demo:
    db: Path  # the demo's database (its archive beside it)
    result: CliResult  # what ``presswatch demo`` answered


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """``presswatch demo`` (two editions of the sample site, two real passes), run once
    for all the test processes of a session: the first to ask makes it, the others
    wait for it and read it. Read-only: copy it (``copy_demo``) to write."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, db = shared / "demo", shared / "demo" / "demo.db"
    answer = folder / "answer.json"
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not answer.exists():
            folder.mkdir(exist_ok=True)
            made = run_cli("demo", "--db", str(db), "--port", "0")
            answer.write_text(json.dumps(made.__dict__), encoding="utf-8")
    return Demo(db, CliResult(**json.loads(answer.read_text(encoding="utf-8"))))


def copy_demo(demo: Demo, folder: Path) -> Path:
    """A copy of the demo's database and its archive in ``folder``; the copy's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (demo.db, archive_path(demo.db)):
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{path}{suffix}").exists():
                shutil.copyfile(f"{path}{suffix}", folder / f"{path.name}{suffix}")
    return folder / demo.db.name


def rows(db_path: Path, sql: str, params: tuple = ()) -> list[dict]:
    db = sqlite_utils.Database(db_path)
    try:
        return list(db.query(sql, params))
    finally:
        db.conn.close()


def rows_so_far(db_path: Path, sql: str, params: tuple = ()) -> list[dict]:
    """``rows`` of a database that a running pass may still be creating: nothing until
    the file and its tables exist."""
    if not db_path.exists():
        return []
    try:
        return rows(db_path, sql, params)
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise


def step_adding(text: str) -> int:
    """The number of the schema step whose SQL contains ``text``."""
    return next(
        number for number, step in enumerate(MIGRATIONS) if isinstance(step, str) and text in step
    )


def database_before(path: Path, step: int) -> sqlite3.Connection:
    """A database made by the schema steps before ``step``, as an older presswatch left
    it (its user_version says so); the caller adds rows, commits and closes it."""
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:step]:
        if callable(migration):
            migration(sqlite_utils.Database(conn))
        else:
            for statement in sqlite3_statements(migration):
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {step}")
    conn.commit()
    return conn


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow tests first, then files with property tests (hypothesis: the
    longest of the inner loop's, -m "not slow"): the test processes start on the longest
    files, and the short ones fill in around them instead of one long file finishing
    last. (xdist hands out the files in this order: --no-loadscope-reorder.)"""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    property_files = {
        item.path
        for item in items
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
    }
    items.sort(key=lambda item: (item.path not in slow_files, item.path not in property_files))


try:  # the cluster's fixtures: a private redis-server, the cluster's processes
    from clustering import make_cluster, redis_url  # noqa: F401
except ImportError:  # the cluster extra is not installed

    @pytest.fixture
    def redis_url() -> str:
        pytest.skip("the cluster extra is not installed")

"""What the cluster's tests share: a real ``redis-server`` on a free loopback port, the
cluster's processes started as a user would start them, and the database they produce
compared with the one ``presswatch run`` produces. Its fixtures reach the tests through
conftest, where the cluster extra is installed."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    BASIC_SOURCES,
    BASIC_TOPICS,
    ForkedChild,
    child_env,
    free_port,
    rows,
    run_cli,
    start_cli,
)
from redis import Redis

from crawler.tracking.recorder import COUNTERS

SOURCES, TOPICS = BASIC_SOURCES, BASIC_TOPICS
Child = subprocess.Popen[bytes] | ForkedChild  # a started presswatch process
REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
TIMEOUT = 120


# -- fixtures ------------------------------------------------------------------------------


def start_redis(folder: Path, port: int, *persistence: str) -> subprocess.Popen[bytes]:
    """A private redis-server on ``port``, keeping its files in ``folder``; without
    persistence unless ``persistence`` (its options) says otherwise."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    folder.mkdir(exist_ok=True)
    options = [*(persistence or ("--appendonly", "no")), "--dir", str(folder)]
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except Exception:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.05)
        finally:
            client.close()
    return server


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on a free loopback port, without persistence."""
    port = free_port()
    server = start_redis(tmp_path / "redis", port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


class Cluster:
    """Child processes of one test's cluster; whatever is left is killed at the end."""

    def __init__(self, folder: Path, redis_url: str, config: Path) -> None:
        self.folder, self.redis_url, self.config = folder, redis_url, config
        self.processes: dict[str, Child] = {}
        self.redis = Redis.from_url(redis_url)

    def start(self, name: str, *args: str) -> Child:
        env = child_env(PRESSWATCH_REDIS=self.redis_url)
        with (
            open(self.folder / f"{name}.out", "wb") as out,
            open(self.folder / f"{name}.err", "wb") as err,
        ):
            process = start_cli(*args, stdout=out, stderr=err, env=env)
        self.processes[name] = process
        return process

    def enqueue(self, *args: str) -> dict:
        result = run_cli(
            "enqueue", "--config", str(self.config), "--redis", self.redis_url, "--json", *args
        )
        assert result.code == 0, result.stderr
        return result.json()

    def worker(self, name: str) -> Child:
        return self.start(
            name, "worker", "--worker-id", name, "--idle-exit", "2", "--heartbeat", "2"
        )

    def ingester(self, name: str = "ingest") -> Child:
        return self.start(
            name,
            "ingest",
            "--config",
            str(self.config),
            "--idle-exit",
            "3",
            "--json",
        )

    def wait(self) -> None:
        """Every process exits by itself (--idle-exit), with status 0 unless killed."""
        for name, process in self.processes.items():
            code = process.wait(timeout=TIMEOUT)
            if code != -signal.SIGKILL:
                assert code == 0, f"{name} exited {code}:\n{self.output(name, 'err')}"

    def output(self, name: str, stream: str = "out") -> str:
        return (self.folder / f"{name}.{stream}").read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        self.redis.close()


@pytest.fixture
def make_cluster(tmp_path: Path, redis_url: str) -> Iterator:
    made: list[Cluster] = []

    def make(config: Path) -> Cluster:
        made.append(Cluster(tmp_path, redis_url, config))
        return made[-1]

    yield make
    for cluster in made:
        cluster.close()


def cluster_pass(cluster: Cluster, workers: int = 2) -> None:
    cluster.processes.clear()
    cluster.enqueue()
    for number in range(workers):
        cluster.worker(f"w{number + 1}")
    cluster.ingester()
    cluster.wait()


def local_pass(config: Path, db: Path) -> dict:
    result = run_cli("run", "--config", str(config), "--db", str(db), "--json")
    assert result.code == 0, result.stderr
    return result.json()


def assert_stored_once_as_locally(cluster_db: Path, local_db: Path) -> None:
    """After a fault: every article once, and what a local pass stores. A process killed
    just after handing over an error may have it fetched and handed over again, so the
    errors are compared as a set: none missing."""
    urls = [row["url"] for row in rows(cluster_db, "SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == 9
    got, want = snapshot(cluster_db), snapshot(local_db)
    got_errors, want_errors = got.pop("errors"), want.pop("errors")
    assert {tuple(e.values()) for e in got_errors} == {tuple(e.values()) for e in want_errors}
    assert got == want


def snapshot(db: Path) -> dict[str, list[dict]]:
    """What a reader of the database sees, without ids and times. Not compared: which of
    two feeds offering an article reached it first (its source_id and feed summary), a
    race in a local pass as much as in a cluster; article_sources lists both."""
    join = "JOIN articles a ON a.id = {0}.article_id"
    return {
        "articles": rows(db, "SELECT url, title, author, published_at FROM articles ORDER BY url"),
        "versions": rows(
            db,
            "SELECT a.url, v.title, v.text, v.topics FROM versions v "
            f"{join.format('v')} ORDER BY a.url, v.id",
        ),
        "mentions": rows(
            db,
            "SELECT t.name AS topic, a.url, m.match_count, m.in_title, "
            f"m.snippet FROM mentions m {join.format('m')} "
            "JOIN topics t ON t.id = m.topic_id ORDER BY topic, a.url",
        ),
        "errors": rows(db, "SELECT stage, url, message FROM errors ORDER BY stage, url"),
        "skipped": rows(db, "SELECT url, reason FROM skipped ORDER BY url"),
        "sources": rows(
            db, "SELECT name, last_status, last_error, etag FROM sources ORDER BY name"
        ),
        "article_sources": rows(
            db,
            "SELECT a.url, s.name FROM article_sources x "
            f"{join.format('x')} JOIN sources s ON s.id = x.source_id "
            "ORDER BY a.url, s.name",
        ),
    }


def summaries(cluster: Cluster) -> list[dict]:
    return [json.loads(line) for line in cluster.output("ingest").splitlines() if line]


COUNTS = (*COUNTERS, "status")  # a pass summary's figures

"""The cluster on one machine: the same 1,000-article pass with 1, 2 and 4 workers.

    python bench/cluster.py [--articles 1000] [--feeds 10] [--workers 1,2,4]
                            [--extract-workers 1] [--ingest-copies 5] [--no-reference]
                            [--hosts 1]

Needs redis-server on the PATH. Builds the bench corpus (bench/corpus.py), serves it on
127.0.0.1 and reports:

- a local ``presswatch run`` of the same pass, and one worker with the same extraction
  pool as the local pass (one process per core): what the cluster's hand-overs cost;
- for each number of workers, the time from ``presswatch enqueue`` until the ingester
  has committed every article (workers and ingester started beforehand and idle);
- the ingester alone, draining a queue of items the workers left (the originals plus
  ``--ingest-copies`` - 1 renamed copies of each, so that all are new articles): the
  writes per second one SQLite writer sustains.

Each worker runs ``--extract-workers`` extraction processes (default 1), as if each
worker were a one-core host: extraction is the costly step, so throughput grows with
workers until the machine's own cores run out.

``--hosts N`` serves the outlets from N loopback addresses (127.0.0.2, 127.0.0.3, ...,
outlet k on address k mod N), so that a site is not the whole crawl: each address is a
site of its own for politeness, held to ``per_domain_concurrency = 4`` (the default) by
the local pass and by the whole cluster alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

from corpus import write_corpus  # noqa: E402
from redis import Redis  # noqa: E402
from run import timed_pass, write_config  # noqa: E402

from crawler.cluster.keys import Keys  # noqa: E402
from crawler.demo.localsite import LocalSite  # noqa: E402

KEYS = Keys()
TABLES = ("articles", "versions", "mentions", "article_sources", "article_fingerprints", "errors")


@dataclass
class ClusterResult:
    workers: int
    extract_workers: int
    seconds: float
    articles: int
    cpu: float  # CPU seconds of the presswatch processes


@dataclass
class IngestResult:
    messages: int
    articles: int
    rows: int
    seconds: float  # from the ingester's start to its last commit
    sustained: float  # from its first commit to its last


class Cluster:
    """redis-server on a free port and the presswatch processes started against it."""

    def __init__(self, folder: Path) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit("bench/cluster.py needs redis-server (apt-get install redis-server)")
        port = _free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        self.folder = folder
        self.server = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        self.redis = Redis.from_url(self.url)
        wait_until(self._answers, timeout=10)
        self.processes: list[subprocess.Popen[str]] = []

    def _answers(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False

    def start(self, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler", *args],
            cwd=REPO,
            env={**os.environ, "PRESSWATCH_REDIS": self.url},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.processes.append(process)
        return process

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "crawler", *args],
            cwd=REPO,
            env={**os.environ, "PRESSWATCH_REDIS": self.url},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"presswatch {args[0]} failed:\n{done.stderr}")
        return done.stdout

    def workers(self, count: int) -> None:
        for number in range(count):
            self.start("worker", "--worker-id", f"w{number}", "--idle-exit", "2")

    def ingester(self, config: Path) -> subprocess.Popen[str]:
        """Runs until stopped (``stop``): on a loaded machine workers can take longer to
        start than any idle time it could be given."""
        return self.start("ingest", "--config", str(config), "--settle", "0.5", "--json")

    @staticmethod
    def stop(process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)

    def wait_workers(self, ingester: subprocess.Popen[str]) -> None:
        """The workers exit by themselves (--idle-exit); then the ingester is stopped."""
        for process in self.processes:
            if process is not ingester:
                process.wait(timeout=600)
        self.stop(ingester)
        self.processes.clear()

    def wait(self) -> None:
        for process in self.processes:
            process.wait(timeout=600)
        self.processes.clear()

    def close(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()
        self.redis.close()
        self.server.terminate()
        self.server.wait()


def wait_until(condition: Callable[[], bool], timeout: float = 600, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("bench/cluster.py: timed out")
        time.sleep(poll)


def article_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def row_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return sum(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES)


class Hosts:
    """The corpus served on several loopback addresses, one site each; ``url`` puts
    outlet k on address k mod N (the articles follow their feed: the sites write links
    with the address they were asked on)."""

    def __init__(self, root: Path, count: int) -> None:
        self.sites = [LocalSite(root, host=f"127.0.0.{n + 2}") for n in range(count)]

    def __enter__(self) -> Hosts:
        for site in self.sites:
            site.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for site in self.sites:
            site.__exit__(*exc)

    def url(self, path: str) -> str:
        outlet = int(path.removeprefix("outlet").partition("/")[0])
        return self.sites[outlet % len(self.sites)].url(path)


def serve(root: Path, hosts: int) -> LocalSite | Hosts:
    return LocalSite(root) if hosts == 1 else Hosts(root, hosts)


def bench_config(folder: Path, site: LocalSite | Hosts, feeds: int, db: Path) -> Path:
    """The bench's configuration; over several hosts, with the default politeness."""
    config = write_config(folder, site, feeds, db)  # type: ignore[arg-type]
    if isinstance(site, Hosts):
        text = config.read_text(encoding="utf-8").replace(
            "per_domain_concurrency = 16", "per_domain_concurrency = 4"
        )
        config.write_text(text, encoding="utf-8")
    return config


def cluster_config(
    folder: Path, site: LocalSite | Hosts, feeds: int, db: Path, extract_workers: int
) -> Path:
    config = bench_config(folder, site, feeds, db)
    text = config.read_text(encoding="utf-8").replace(
        "[crawl]\n", f"[crawl]\nextract_workers = {extract_workers}\n"
    )
    path = folder / f"{db.stem}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def publish_only(cluster: Cluster, config: Path) -> None:
    """Publish the configuration (workers wait for one) without queueing anything."""
    cluster.redis.flushall()
    cluster.run("enqueue", "--config", str(config), "--no-sources", "--recheck", "none")


class CpuMeter:
    """CPU seconds used by this process's descendants (but ``exclude``) while it runs,
    read from /proc every 0.1 s: extraction processes are children of a forkserver that
    is never waited for, so getrusage(RUSAGE_CHILDREN) would miss them."""

    def __init__(self, exclude: int) -> None:
        self.exclude = exclude
        self.used: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuMeter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.used.values())

    def _run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(0.1):
            for pid, ticks in _descendants(os.getpid(), self.exclude).items():
                self.used[pid] = max(self.used.get(pid, 0.0), ticks / tick)


def _descendants(root: int, exclude: int) -> dict[int, int]:
    """utime + stime, in clock ticks, of every descendant of ``root`` but ``exclude``."""
    parents, ticks = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            ticks[int(entry)] = int(fields[11]) + int(fields[12])
    found: dict[int, int] = {}
    for pid in parents:
        ancestor = pid
        while ancestor > 1 and ancestor != root and ancestor != exclude:
            ancestor = parents.get(ancestor, 1)
        if ancestor == root and pid != root:
            found[pid] = ticks[pid]
    return found


def consumers(redis: Redis) -> int:
    """Workers reading the frontier (each joins the consumer group when it starts)."""
    try:
        return len(redis.xinfo_consumers(KEYS.frontier, "workers"))
    except Exception:  # no group yet
        return 0


def cluster_pass(
    cluster: Cluster, config: Path, db: Path, workers: int, extract_workers: int, articles: int
) -> ClusterResult:
    publish_only(cluster, config)
    with CpuMeter(exclude=cluster.server.pid) as cpu:
        ingester = cluster.ingester(config)
        cluster.workers(workers)
        wait_until(lambda: consumers(cluster.redis) == workers, timeout=120)
        started = time.perf_counter()
        cluster.run("enqueue", "--config", str(config))
        wait_until(lambda: article_count(db) >= articles)
        seconds = time.perf_counter() - started
        cluster.wait_workers(ingester)
    return ClusterResult(workers, extract_workers, seconds, article_count(db), cpu.seconds)


def ingest_alone(cluster: Cluster, config: Path, db: Path, copies: int) -> IngestResult:
    """Workers fill the item queue; then the ingester drains it, timed."""
    publish_only(cluster, config)
    cluster.workers(2)
    cluster.run("enqueue", "--config", str(config))
    cluster.wait()
    messages = multiply_items(cluster.redis, copies)
    started = time.perf_counter()
    ingester = cluster.ingester(config)
    first: list[float] = []

    def drained() -> bool:
        if not first and article_count(db):
            first.append(time.perf_counter())
        waiting = cluster.redis.xlen(KEYS.items)
        return bool(first) and not waiting  # a message leaves Redis once committed

    wait_until(drained, poll=0.02)
    done = time.perf_counter()
    cluster.wait_workers(ingester)
    return IngestResult(messages, article_count(db), row_count(db), done - started, done - first[0])


def multiply_items(redis: Redis, copies: int) -> int:
    """Add ``copies - 1`` renamed copies of every item message; return the queue length."""
    for _, fields in redis.xrange(KEYS.items):
        message = json.loads(fields[b"m"])
        if message["kind"] != "item":
            continue
        for number in range(1, copies):
            item = dict(message["item"], url=f"{message['item']['url']}?copy={number}")
            item["article"] = dict(item["article"], canonical_url=None)
            redis.xadd(KEYS.items, {"m": json.dumps({**message, "item": item})})
    return int(redis.xlen(KEYS.items))


def report(
    articles: int,
    local: tuple[float, float] | None,
    results: list[ClusterResult],
    ingest: IngestResult | None,
) -> None:
    print(f"\n{articles} articles, {os.cpu_count()} cores\n")
    print(
        "| pass | extraction processes | seconds | articles/s | vs 1 worker | "
        "CPU ms/article | articles stored |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    if local is not None:
        seconds, cpu = local
        print(
            f"| local `presswatch run` | {os.cpu_count()} | {seconds:.1f} | "
            f"{articles / seconds:.1f} | | {cpu / articles * 1000:.0f} | {articles} |"
        )
    scaling = [r for r in results if r.extract_workers == results[-1].extract_workers]
    one = scaling[0].seconds
    for r in results:
        versus = f"{one / r.seconds:.2f}x" if r in scaling else ""
        print(
            f"| {r.workers} worker(s) | {r.workers} x {r.extract_workers} | "
            f"{r.seconds:.1f} | {articles / r.seconds:.1f} | {versus} | "
            f"{r.cpu / articles * 1000:.0f} | {r.articles} |"
        )
    if ingest is not None:
        print(
            f"\ningester alone: {ingest.messages} messages ({ingest.articles} new articles, "
            f"{ingest.rows} rows) in {ingest.seconds:.1f} s from its start = "
            f"{ingest.messages / ingest.seconds:.0f} messages/s; sustained "
            f"{ingest.articles / ingest.sustained:.0f} articles/s, "
            f"{ingest.rows / ingest.sustained:.0f} rows/s"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--extract-workers", type=int, default=1, help="extraction processes per worker"
    )
    parser.add_argument(
        "--ingest-copies",
        type=int,
        default=5,
        help="items the ingester drains, as a multiple of the pass (0: skip)",
    )
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="skip the local pass and the one worker with a full pool",
    )
    parser.add_argument(
        "--hosts", type=int, default=1, help="loopback addresses serving the outlets"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="presswatch-cluster-bench-") as tmp:
        root = Path(tmp)
        write_corpus(root / "site", args.articles, args.feeds)
        cluster = Cluster(root)
        try:
            with serve(root / "site", args.hosts) as site:
                local = None
                runs = [(int(n), args.extract_workers) for n in args.workers.split(",")]
                if not args.no_reference:
                    with CpuMeter(exclude=cluster.server.pid) as cpu:
                        seconds = timed_pass(
                            "local", bench_config(root, site, args.feeds, root / "local.db")
                        ).seconds
                    local = seconds, cpu.seconds
                    runs.insert(0, (1, os.cpu_count() or 1))
                results = []
                for workers, extract_workers in runs:
                    db = root / f"cluster-{workers}-{extract_workers}.db"
                    config = cluster_config(root, site, args.feeds, db, extract_workers)
                    results.append(
                        cluster_pass(cluster, config, db, workers, extract_workers, args.articles)
                    )
                ingest = None
                if args.ingest_copies:
                    db = root / "ingest.db"
                    config = cluster_config(root, site, args.feeds, db, args.extract_workers)
                    ingest = ingest_alone(cluster, config, db, args.ingest_copies)
        finally:
            cluster.close()
    print(f"\noutlets served from {args.hosts} loopback address(es)")
    report(args.articles, local, results, ingest)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()

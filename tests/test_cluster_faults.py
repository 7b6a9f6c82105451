"""The cluster under faults: a worker, the ingester or Redis itself killed mid-pass, a
feed's requests against its acknowledgement, overlapping runs. Each test runs a real
``redis-server`` and the cluster's processes, and compares with a local pass."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    SITES,
    SlowSite,
    free_port,
    rows,
    write_config,
)

pytest.importorskip("redis", reason="the cluster extra is not installed")
pytest.importorskip("scrapy_redis", reason="the cluster extra is not installed")

from clustering import (
    REDIS_CLI,
    SOURCES,
    TIMEOUT,
    TOPICS,
    Cluster,
    assert_stored_once_as_locally,
    local_pass,
    start_redis,
    summaries,
)
from redis import Redis
from redis.exceptions import ResponseError

from crawler.cluster.keys import Keys


@pytest.mark.slow
def test_killing_a_worker_mid_pass_loses_nothing(tmp_path, make_cluster):
    # article pages that take a while: requests stay in flight
    with SlowSite(SITES / "basic", 1.5, lambda path: path.endswith(".html")) as site:
        config = write_config(
            tmp_path / "config.toml", site, SOURCES, TOPICS, extra="concurrency = 3"
        )
        cluster = make_cluster(config)
        cluster.enqueue()
        doomed = cluster.worker("doomed")
        cluster.worker("survivor")
        cluster.ingester()
        held = wait_for_article_lease(cluster.redis, "doomed")
        doomed.send_signal(signal.SIGKILL)
        cluster.wait()
        with site.answering_at_once():  # what is stored, not when, is compared
            local_pass(config, tmp_path / "local.db")

    assert held, "the worker was killed while it held an article request"
    assert_stored_once_as_locally(tmp_path / "test.db", tmp_path / "local.db")
    assert "took over" in cluster.output("survivor", "err")
    assert cluster.redis.xlen(Keys().frontier) == 0  # every request acknowledged


@pytest.mark.slow
def test_killing_the_ingester_mid_batch_loses_nothing_and_its_successor_starts_at_once(
    tmp_path, make_cluster
):
    with SlowSite(SITES / "basic") as site:
        config = write_config(tmp_path / "config.toml", site, SOURCES, TOPICS)
        cluster = make_cluster(config)
        cluster.enqueue()
        cluster.worker("w1")
        cluster.worker("w2")
        doomed = cluster.ingester("doomed")
        caught = wait_for_pending_messages(cluster.redis)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        claim_left = cluster.redis.get(Keys().ingester)
        cluster.ingester("successor")
        cluster.wait()
        with site.answering_at_once():  # what is stored, not when, is compared
            local_pass(config, tmp_path / "local.db")

    assert caught, "the ingester was killed while it held messages"
    # the dead one's claim was still in Redis, yet its successor took it over at once
    assert claim_left and claim_left.startswith(b"presswatch-ingest-")
    assert_stored_once_as_locally(tmp_path / "test.db", tmp_path / "local.db")
    assert "took over the claim" in cluster.output("successor", "err")
    assert cluster.redis.xlen(Keys().items) == 0


AOF = ("--appendonly", "yes", "--appendfsync", "always")


@pytest.mark.slow
def test_killing_redis_mid_pass_loses_nothing_once_it_is_back_with_its_aof(tmp_path):
    """Redis SIGKILLed while workers hold article requests, and started again on its
    append-only file (appendfsync always): the processes that lost it exit, started
    again (as systemd would) they go on, and the run completes with nothing twice."""
    port = free_port()
    redis = start_redis(tmp_path / "redis", port, *AOF)
    with SlowSite(SITES / "basic") as site:
        config = write_config(tmp_path / "config.toml", site, SOURCES, TOPICS)
        cluster = Cluster(tmp_path, f"redis://127.0.0.1:{port}/0", config)
        try:
            cluster.enqueue()
            cluster.worker("w1")
            cluster.worker("w2")
            cluster.ingester()
            held = wait_for_article_lease(cluster.redis, "w1", "w2")
            redis.kill()
            redis.wait()
            time.sleep(1)  # long enough for every process to notice
            redis = start_redis(tmp_path / "redis", port, *AOF)
            restarted = restart_the_fallen(cluster)
            cluster.wait()
        finally:
            cluster.close()
            redis.terminate()
            redis.wait(timeout=10)
        with site.answering_at_once():  # what is stored, not when, is compared
            local_pass(config, tmp_path / "local.db")

    assert held, "Redis was killed while a worker held an article request"
    assert restarted, "some process lost Redis and was started again"
    cluster_db = tmp_path / "test.db"
    assert_stored_once_as_locally(cluster_db, tmp_path / "local.db")
    # the run the lost ingester had open was interrupted; its successor finished it
    runs = rows(cluster_db, "SELECT status FROM runs ORDER BY id")
    assert runs[-1] == {"status": "ok"}
    assert {run["status"] for run in runs} <= {"interrupted", "ok"}


def restart_the_fallen(cluster: Cluster) -> list[str]:
    """Start again, under the same names, the processes that exited with an error."""
    fallen = []
    for name, process in list(cluster.processes.items()):
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue  # it rode out the restart
        if code != 0:
            fallen.append(name)
            (cluster.ingester if name == "ingest" else cluster.worker)(name)
    return fallen


@pytest.mark.slow
def test_a_feed_is_acknowledged_only_once_its_article_requests_are_on_the_frontier(
    tmp_path, basic_site, make_cluster
):
    """A worker killed at any moment loses no follow-up request: every article request a
    feed leads to is on the frontier, and every duplicate it offers is reported to the
    ingester (which is how a second source's offer is recorded), before the feed's own
    entry is acknowledged. Read from what Redis executed, in order (MONITOR)."""
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, TOPICS)
    cluster = make_cluster(config)
    cluster.enqueue()
    keys = Keys()
    feeds = {
        entry.decode(): json.loads(fields[b"m"])["meta"]["source_id"]
        for entry, fields in cluster.redis.xrange(keys.frontier)
    }
    commands, stop = monitor(cluster.redis_url, tmp_path)
    cluster.worker("w1")
    cluster.ingester()
    cluster.wait()
    stop()

    requests = offers = 0
    for entry, source_id in feeds.items():
        acks = [n for n, c in enumerate(commands) if c.startswith('"XACK"') and entry in c]
        acked = acks[0]  # the first acknowledgement counts
        produced = [
            n
            for n, c in enumerate(commands)
            if c.startswith(f'"XADD" "{keys.frontier}"')
            and "parse_article" in c
            and f'"source_id":{source_id},' in c
        ]
        offered = [
            n
            for n, c in enumerate(commands)
            if c.startswith(f'"XADD" "{keys.items}"')
            and '"kind":"offered"' in c
            and f'"source_id":{source_id}}}' in c
        ]
        assert all(n < acked for n in produced + offered), f"feed {source_id}: acknowledged first"
        requests, offers = requests + len(produced), offers + len(offered)
    # News: a1 to a5 and the missing page; Wire: w1, w2; Salvage: s1, s2. Offered again:
    # a1 by News (with utm) and by Wire (with fbclid), never put on the frontier
    assert (requests, offers) == (10, 2)


def monitor(url: str, folder: Path) -> tuple[list[str], Callable[[], None]]:
    """Every command Redis executes from now on, in order (``redis-cli monitor``), and
    how to stop listening."""
    if REDIS_CLI is None:
        pytest.skip("redis-cli is not installed")
    log = folder / "monitor.log"
    with open(log, "wb") as out:
        listener = subprocess.Popen([REDIS_CLI, "-u", url, "monitor"], stdout=out)
    client = Redis.from_url(url)
    while b"monitor-ready" not in log.read_bytes():
        client.echo("monitor-ready")
        time.sleep(0.05)
    commands: list[str] = []

    def stop() -> None:
        listener.terminate()
        listener.wait(timeout=10)
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        commands.extend(line.partition("] ")[2].replace("\\", "") for line in lines)

    return commands, stop


@pytest.mark.slow
def test_two_overlapping_enqueues_are_two_runs(tmp_path, make_cluster):
    """Each enqueue opens a run of its own, closed when its own work is done, though the
    other's keeps the cluster busy all the while."""
    with SlowSite(SITES / "basic", 3.0) as site:
        config = write_config(tmp_path / "config.toml", site, SOURCES, TOPICS)
        cluster = make_cluster(config)
        first = cluster.enqueue("--source", "News")
        cluster.worker("w1")
        cluster.ingester()
        assert wait_for_article_lease(cluster.redis, "w1")  # the first run is under way
        second = cluster.enqueue("--source", "Wire")
        cluster.wait()

    assert first["run"] != second["run"]
    db = tmp_path / "test.db"
    by_source = {
        (run["sources_polled"], run["articles_new"], run["errors"], run["status"])
        for run in rows(db, "SELECT * FROM runs")
    }
    # News: a1 to a5 and the missing page's error; Wire: w1 and w2 (a1 is News's)
    assert by_source == {(1, 5, 1, "ok"), (1, 2, 0, "ok")}
    assert len(summaries(cluster)) == 2
    a1 = (
        "SELECT s.name FROM article_sources x JOIN articles a ON a.id = x.article_id "
        "JOIN sources s ON s.id = x.source_id WHERE a.url LIKE '%/news/a1.html' ORDER BY 1"
    )
    assert [row["name"] for row in rows(db, a1)] == ["News", "Wire"]
    assert cluster.redis.hlen(Keys().runs) == 0  # both closed


def wait_for_pending_messages(redis: Redis) -> bool:
    """True as soon as the ingester holds messages it has not acknowledged."""
    deadline, keys = time.monotonic() + TIMEOUT, Keys()
    while time.monotonic() < deadline:
        try:
            if redis.xpending(keys.items, "ingest")["pending"]:
                return True
        except ResponseError:  # no stream, or the ingester has not made its group yet
            pass
        time.sleep(0.001)
    return False


def wait_for_article_lease(redis: Redis, *workers: str) -> list[bytes]:
    """The article requests pending under ``workers``, as soon as one of them holds one."""
    deadline, keys = time.monotonic() + TIMEOUT, Keys()
    while time.monotonic() < deadline:
        held = []
        if redis.exists(keys.frontier):
            pending = [
                row
                for worker in workers
                for row in redis.xpending_range(keys.frontier, "workers", "-", "+", 100, worker)
            ]
            for row in pending:
                for _, fields in redis.xrange(keys.frontier, row["message_id"], row["message_id"]):
                    if b"parse_article" in fields[b"m"]:
                        held.append(fields[b"m"])
        if held:
            return held
        time.sleep(0.02)
    return []

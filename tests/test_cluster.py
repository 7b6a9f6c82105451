"""The cluster: workers sharing a Redis frontier and one ingester, on the basic sample site.

A real ``redis-server`` runs on a free loopback port for each test; workers, the ingester
and enqueue run as ``python -m crawler ...`` child processes, as a user would run them.
The database they produce is compared with the one ``presswatch run`` produces.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from pathlib import Path

import pytest
from conftest import (
    SITES,
    SlowSite,
    child_env,
    rows,
    run_cli,
    write_config,
)

from crawler.demo.localsite import LocalSite

pytest.importorskip("redis", reason="the cluster extra is not installed")
pytest.importorskip("scrapy_redis", reason="the cluster extra is not installed")

from clustering import (
    COUNTS,
    SOURCES,
    TOPICS,
    cluster_pass,
    local_pass,
    snapshot,
    summaries,
)
from redis import Redis

from crawler.cluster.frontier import CodecError, RequestCodec
from crawler.cluster.ingest import Ingester, IngestOptions
from crawler.cluster.keys import Keys
from crawler.cluster.messages import (
    EVENTS,
    MessageError,
    RemoteRecorder,
    WorkerRecorder,
    decode,
    event_message,
    item_message,
)
from crawler.config import Source
from crawler.items import Article, ArticleItem, FeedEntry
from crawler.matching.models import TopicMatch
from crawler.tracking.recorder import PassRecorder

# -- a pass over several workers -------------------------------------------------------------


@pytest.mark.slow
def test_a_cluster_pass_stores_what_a_local_pass_stores(tmp_path, basic_site, make_cluster):
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, TOPICS)
    cluster = make_cluster(config)
    cluster_pass(cluster, workers=2)
    local = local_pass(config, tmp_path / "local.db")

    cluster_db = tmp_path / "test.db"
    urls = [row["url"] for row in rows(cluster_db, "SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == 9
    assert snapshot(cluster_db) == snapshot(tmp_path / "local.db")
    [run] = summaries(cluster)
    assert {key: run[key] for key in COUNTS} == {key: local[key] for key in COUNTS}
    assert rows(cluster_db, "SELECT status, articles_new, mentions_new, errors FROM runs") == [
        {"status": "ok", "articles_new": 9, "mentions_new": 8, "errors": 3}
    ]
    stored = cluster.redis.smembers(Keys().stored)
    assert {url.encode() for url in urls} <= stored


@pytest.mark.slow
def test_a_second_cluster_pass_adds_only_a_run(tmp_path, basic_site, make_cluster):
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, TOPICS)
    cluster = make_cluster(config)
    cluster_pass(cluster, workers=2)
    db = tmp_path / "test.db"
    before = snapshot(db)
    cluster_pass(cluster, workers=1)

    second = summaries(cluster)[-1]
    assert (second["articles_new"], second["mentions_new"], second["errors"]) == (0, 0, 1)
    unchanged = ("articles", "versions", "mentions", "skipped", "article_sources")
    after = snapshot(db)
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert len(rows(db, "SELECT * FROM runs")) == 2
    # As in a local pass: the feeds whose articles were all stored, or remembered as gone
    # (the 404), answer 304, so the gone link waits for its next try.
    assert ("/wire/atom.xml", 304) in basic_site.requests
    assert ("/news/feed.xml", 304) in basic_site.requests
    assert basic_site.requests.count(("/news/missing.html", 404)) == 1
    assert sorted(e["url"] for e in rows(db, "SELECT url FROM errors WHERE run_id = 2")) == [
        basic_site.url("broken/feed.xml")
    ]
    assert [r["url"] for r in rows(db, "SELECT url FROM gone_links")] == [
        basic_site.url("news/missing.html")
    ]


# -- politeness across the cluster ---------------------------------------------------------


class CountingSite(SlowSite):
    """The slow site, counting how many article requests it serves at the same time."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lock, self.in_flight, self.most = threading.Lock(), 0, 0

    def respond(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if not path.endswith(".html"):
            return super().respond(path)
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            return super().respond(path)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.mark.slow
def test_two_workers_are_together_as_polite_to_a_site_as_one_pass(tmp_path, make_cluster):
    """per_domain_concurrency = 2 is the whole cluster's limit: each worker alone could
    send 2 at once (4 together); the site never sees more than 2."""
    with CountingSite(SITES / "basic") as site:
        config = write_config(
            tmp_path / "config.toml",
            site,
            SOURCES,
            TOPICS,
            extra="concurrency = 8\nper_domain_concurrency = 2",
        )
        cluster = make_cluster(config)
        started = time.monotonic()
        cluster_pass(cluster, workers=2)
        took = time.monotonic() - started

    assert site.most == 2
    # article requests of 1.5 s each, 2 at a time
    articles = [path for path, _ in site.requests if path.endswith(".html")]
    assert len(articles) >= 9
    assert took >= 1.5 * len(articles) / 2
    assert len(rows(tmp_path / "test.db", "SELECT url FROM articles")) == 9
    assert cluster.redis.keys("presswatch:site:*") == []  # every slot given back, expired


# -- the ingester ----------------------------------------------------------------------------


def two_events(tmp_path: Path, site: LocalSite, redis_url: str) -> tuple[str, str, str]:
    """A published configuration, and two messages made under it: an error, a skip."""
    config = write_config(tmp_path / "config.toml", site, SOURCES, TOPICS)
    result = run_cli(
        "enqueue", "--config", str(config), "--redis", redis_url, "--no-sources", "--json"
    )
    assert result.code == 0, result.stderr
    generation = result.json()["generation"]
    source_id = rows(tmp_path / "test.db", "SELECT id FROM sources WHERE name = 'News'")[0]["id"]
    taken = event_message(
        "error",
        {"stage": "fetch", "message": "HTTP 500", "url": "u1", "source_id": source_id},
        at="2026-11-25T08:00:00Z",
        generation=generation,
    )
    waiting = event_message(
        "skipped",
        {"source_id": source_id, "url": "u2", "reason": "r"},
        at="2026-11-25T08:00:01Z",
        generation=generation,
    )
    return str(config), taken, waiting


def ingest_all(db: Path, redis: Redis) -> None:
    Ingester(IngestOptions(db, Keys().prefix, idle_exit=0.5), redis).serve()


def assert_both_events_stored(db: Path) -> None:
    assert rows(db, "SELECT url, message, at FROM errors") == [
        {"url": "u1", "message": "HTTP 500", "at": "2026-11-25T08:00:00Z"}
    ]
    assert rows(db, "SELECT url FROM skipped") == [{"url": "u2"}]
    # the messages name no run: a run of their own (the upgrade's, or one for late
    # messages), beside the (empty) one enqueue opened
    assert rows(db, "SELECT status, errors FROM runs ORDER BY errors") == [
        {"status": "ok", "errors": 0},
        {"status": "ok", "errors": 1},
    ]


def dead_letters(redis: Redis) -> list[dict[str, str]]:
    return [
        {k.decode(): v.decode() for k, v in fields.items()}
        for _, fields in redis.xrange(Keys().dead_letters)
    ]


def test_messages_a_dead_ingester_took_are_ingested_by_the_next(tmp_path, basic_site, redis_url):
    _, taken, waiting = two_events(tmp_path, basic_site, redis_url)
    redis, keys = Redis.from_url(redis_url), Keys()
    redis.xgroup_create(keys.items, "ingest", id="0", mkstream=True)
    redis.xadd(keys.items, {"m": taken})
    redis.xreadgroup("ingest", "ingest", {keys.items: ">"}, count=1)  # taken, never acked
    redis.xadd(keys.items, {"m": waiting})
    redis.xadd(keys.items, {"m": b"not json"})

    started = time.monotonic()
    ingest_all(tmp_path / "test.db", redis)

    assert time.monotonic() - started < 10  # no waiting for the dead one's claim
    assert_both_events_stored(tmp_path / "test.db")
    assert redis.xlen(keys.items) == 0
    assert redis.xpending(keys.items, "ingest")["pending"] == 0
    [aside] = dead_letters(redis)
    assert aside["message"] == "not json"
    assert aside["reason"].startswith("not a presswatch message")


def test_an_offer_outlives_the_ingester_that_read_it(tmp_path, basic_site, redis_url):
    """A second source's offer of an article not stored yet stays unacknowledged until
    the article is: an ingester that dies in between hands it on with its pending
    entries, and the next one links the article to both sources."""
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, TOPICS)
    result = run_cli("enqueue", "--config", str(config), "--redis", redis_url, "--no-sources")
    assert result.code == 0, result.stderr
    redis, keys, db = Redis.from_url(redis_url), Keys(), tmp_path / "test.db"
    generation = redis.get(keys.config_current).decode()
    ids = {row["name"]: row["id"] for row in rows(db, "SELECT id, name FROM sources")}
    url, at = basic_site.url("news/a1.html"), "2026-11-25T08:00:00Z"
    offer = {"url": url, "source_id": ids["Wire"]}
    redis.xadd(keys.items, {"m": event_message("offered", offer, at=at, generation=generation)})

    doomed = Ingester(IngestOptions(db, keys.prefix), redis)
    doomed.ingest(doomed.recover() + doomed.stream.read(10, block=1))
    assert redis.xpending(keys.items, "ingest")["pending"] == 1  # committed, offer kept
    doomed.lock.release()  # and it dies: no run closed, nothing more acknowledged
    doomed.store.close()

    article = Article("Allies weigh a coalition", "Troops may help.", None, None, "en")
    item = ArticleItem(url=url, source_id=ids["News"], status=200, article=article)
    redis.xadd(keys.items, {"m": item_message(item, at=at, generation=generation)})
    ingest_all(db, redis)

    linked = "SELECT s.name FROM article_sources JOIN sources s ON s.id = source_id"
    assert sorted(row["name"] for row in rows(db, linked)) == ["News", "Wire"]
    assert redis.xlen(keys.items) == 0


def test_an_offer_waits_for_an_older_run_still_fetching_its_article(
    tmp_path, basic_site, redis_url
):
    """Two overlapping runs: the second's source offers an article the first is still
    fetching, and the second closes first. The offer waits in the first run, and the
    article is linked to both sources once the first stores it."""
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, TOPICS)
    redis, keys, db = Redis.from_url(redis_url), Keys(), tmp_path / "test.db"
    runs = []
    for _ in range(2):
        result = run_cli(
            "enqueue", "--config", str(config), "--redis", redis_url, "--no-sources", "--json"
        )
        assert result.code == 0, result.stderr
        runs.append(result.json()["run"])
    first, second = runs
    redis.sadd(keys.key("run", first, "open"), "a1-request")  # the first fetches a1
    generation = redis.get(keys.config_current).decode()
    ids = {row["name"]: row["id"] for row in rows(db, "SELECT id, name FROM sources")}
    url, at = basic_site.url("news/a1.html"), "2026-11-25T08:00:00Z"
    offer = {"url": url, "source_id": ids["Wire"]}
    message = event_message("offered", offer, at=at, generation=generation, run=second)
    redis.xadd(keys.items, {"m": message})

    ingester = Ingester(IngestOptions(db, keys.prefix), redis)
    ingester.ingest(ingester.recover() + ingester.stream.read(10, block=1))
    ingester._close_finished_runs()
    assert list(ingester.runs) == [first]  # the second closed, its offer not linked yet

    article = Article("Allies weigh a coalition", "Troops may help.", None, None, "en")
    item = ArticleItem(url=url, source_id=ids["News"], status=200, article=article)
    redis.xadd(keys.items, {"m": item_message(item, at=at, generation=generation, run=first)})
    redis.srem(keys.key("run", first, "open"), "a1-request")
    ingester.ingest(ingester.stream.read(10, block=1))
    ingester._close_finished_runs()
    ingester.store.close()

    assert ingester.runs == {}
    linked = "SELECT s.name FROM article_sources JOIN sources s ON s.id = source_id"
    assert sorted(row["name"] for row in rows(db, linked)) == ["News", "Wire"]
    assert redis.xlen(keys.items) == 0  # the offer acknowledged with the first run


def test_a_late_message_of_a_closed_run_goes_to_a_run_of_its_own_and_is_stored_once(
    tmp_path, basic_site, redis_url
):
    """A message naming a run already closed (a copy delivered again after a fault) goes
    to a run the ingester opens for it and closes like enqueue's: its article is stored
    once, the second copy recorded as a re-check of it."""
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, TOPICS)
    result = run_cli(
        "enqueue", "--config", str(config), "--redis", redis_url, "--no-sources", "--json"
    )
    assert result.code == 0, result.stderr
    run, generation = result.json()["run"], result.json()["generation"]
    redis, keys, db = Redis.from_url(redis_url), Keys(), tmp_path / "test.db"
    source_id = rows(db, "SELECT id FROM sources WHERE name = 'News'")[0]["id"]
    article = Article("Allies weigh a coalition", "Troops may help.", None, None, "en")
    item = ArticleItem(url=basic_site.url("news/a1.html"), source_id=source_id, article=article)
    message = item_message(item, at="2026-11-25T08:00:00Z", generation=generation, run=run)
    redis.xadd(keys.items, {"m": message})
    ingest_all(db, redis)  # its run closes with it
    redis.xadd(keys.items, {"m": message})  # and it comes again
    ingest_all(db, redis)

    assert rows(db, "SELECT url FROM articles") == [{"url": item.url}]
    assert len(rows(db, "SELECT id FROM versions")) == 1
    assert rows(db, "SELECT status, articles_new, articles_checked FROM runs ORDER BY id") == [
        {"status": "ok", "articles_new": 1, "articles_checked": 0},
        {"status": "ok", "articles_new": 0, "articles_checked": 1},
    ]
    assert redis.hlen(keys.runs) == 0  # both closed
    assert redis.xlen(keys.items) == 0


def test_a_message_made_under_a_newer_configuration_joins_its_open_run(
    tmp_path, basic_site, redis_url
):
    """A worker adopts a newer configuration while requests of an older run are still
    under way: what it reports about them is checked against the configuration it names
    and recorded in their run."""
    _, older, _ = two_events(tmp_path, basic_site, redis_url)
    redis, keys, db = Redis.from_url(redis_url), Keys(), tmp_path / "test.db"
    run = int(redis.get(keys.run_ids))
    config = write_config(tmp_path / "config.toml", basic_site, SOURCES, [*TOPICS, ("X", "X")])
    result = run_cli("enqueue", "--config", str(config), "--redis", redis_url, "--no-sources")
    assert result.code == 0, result.stderr
    first = json.loads(older) | {"run": run}
    newer = redis.get(keys.config_current).decode()
    second = first | {"generation": newer, "at": "2026-11-25T08:00:02Z"}
    for message in (first, second):
        redis.xadd(keys.items, {"m": json.dumps(message)})
    ingest_all(db, redis)

    assert dead_letters(redis) == []
    assert rows(db, "SELECT run_id, at FROM errors ORDER BY at") == [
        {"run_id": 1, "at": "2026-11-25T08:00:00Z"},
        {"run_id": 1, "at": "2026-11-25T08:00:02Z"},
    ]


def test_an_upgrade_ingests_what_the_old_lists_held(tmp_path, basic_site, redis_url):
    """Before Redis Streams: a list of messages, a list of taken ones, a list set aside."""
    _, taken, waiting = two_events(tmp_path, basic_site, redis_url)
    redis, keys = Redis.from_url(redis_url), Keys()
    redis.lpush(keys.key("items", "processing"), taken)
    redis.lpush(keys.key("items"), waiting)
    old_record = {"at": "2026-11-20T08:00:00Z", "reason": "old reason", "message": "x"}
    redis.lpush(keys.key("items", "dead"), json.dumps(old_record))

    ingest_all(tmp_path / "test.db", redis)

    assert_both_events_stored(tmp_path / "test.db")
    assert not redis.exists(
        keys.key("items"), keys.key("items", "processing"), keys.key("items", "dead")
    )
    [aside] = dead_letters(redis)
    assert (aside["reason"], aside["message"]) == ("old reason", "x")


def test_an_upgrade_keeps_the_old_frontier_s_requests_in_order(redis_url):
    from crawler.cluster.upgrade import migrate

    redis, keys = Redis.from_url(redis_url), Keys()
    redis.zadd(keys.key("requests"), {"second": 0, "first": -10})
    redis.hset(keys.key("leases"), "w1:7", "-5 leased")  # a worker held it
    moved = migrate(redis, keys)

    assert moved.requests == 3
    assert [f[b"m"] for _, f in redis.xrange(keys.frontier)] == [b"first", b"leased", b"second"]
    assert not redis.exists(keys.key("requests"), keys.key("leases"))
    assert migrate(redis, keys).requests == 0  # once


def test_an_upgrade_moves_what_the_old_lists_held_as_one_run(redis_url):
    """What moves names no run: it becomes one, closed when its requests are done."""
    from crawler.cluster.frontier import RUN, TOKEN
    from crawler.cluster.upgrade import migrate

    redis, keys = Redis.from_url(redis_url), Keys()
    redis.set(keys.config_current, "g1")  # the older presswatch published its configuration
    request = {"url": "https://example.org/a", "meta": {"source_id": 1}}
    redis.zadd(keys.key("requests"), {json.dumps(request): 0})
    message = {"v": 1, "kind": "skipped", "at": "2026-11-25T08:00:00Z", "generation": "g1"}
    redis.lpush(keys.key("items"), json.dumps(message), "not json")
    migrate(redis, keys)

    [(_, fields)] = redis.xrange(keys.frontier)
    meta = json.loads(fields[b"m"])["meta"]
    run = meta[RUN]
    assert redis.hgetall(keys.runs) == {str(run).encode(): b"g1"}
    assert redis.smembers(keys.key("run", run, "open")) == {meta[TOKEN].encode()}
    moved = [fields[b"m"] for _, fields in redis.xrange(keys.items)]
    assert json.loads(moved[0]) == message | {"run": run}
    assert moved[1] == b"not json"  # as it was: the ingester sets it aside


def test_a_request_that_keeps_killing_workers_is_set_aside(redis_url):
    from crawler.cluster.streams import MAX_DELIVERIES, Stream

    redis, keys = Redis.from_url(redis_url), Keys()
    first = Stream(redis, keys.frontier, "workers", "w1", keys.dead_letters, idle=0.001)
    first.create_group()
    first.add("poison")
    first.add("fine")
    assert [e.data for e in first.read(1)] == [b"poison"]  # w1 dies holding it
    for number in range(MAX_DELIVERIES - 1):  # each worker that takes it over dies
        time.sleep(0.01)
        taker = Stream(redis, keys.frontier, "workers", f"w{number + 2}", keys.dead_letters, 0.001)
        assert [e.data for e in taker.take_over(10)] == [b"poison"]
    time.sleep(0.01)
    last = Stream(redis, keys.frontier, "workers", "last", keys.dead_letters, idle=0.001)
    assert last.take_over(10) == []
    assert [e.data for e in last.read(10)] == [b"fine"]  # the others go on
    [aside] = dead_letters(redis)
    assert aside["message"] == "poison"
    assert f"delivered {MAX_DELIVERIES + 1} times" in aside["reason"]


def test_status_shows_what_was_set_aside(tmp_path, basic_site, redis_url, monkeypatch):
    config, _, _ = two_events(tmp_path, basic_site, redis_url)
    redis = Redis.from_url(redis_url)
    redis.xadd(Keys().items, {"m": b'{"v": 1, "kind": "nonsense"}'})
    ingest_all(tmp_path / "test.db", redis)
    monkeypatch.setenv("PRESSWATCH_REDIS", redis_url)

    result = run_cli("status", "--config", config)

    assert result.code == 0, result.stderr
    assert "cluster messages set aside: 1 (in Redis, presswatch:stream:dead)" in result.stdout
    assert "unknown message kind 'nonsense'" in result.stdout


def test_an_ingester_on_another_database_stops_and_sets_nothing_aside(
    tmp_path, basic_site, redis_url
):
    _, taken, _ = two_events(tmp_path, basic_site, redis_url)
    redis, keys = Redis.from_url(redis_url), Keys()
    redis.xadd(keys.items, {"m": taken})
    other = str(tmp_path / "other.db")
    result = run_cli("ingest", "--db", other, "--redis", redis_url, "--idle-exit", "1")

    assert result.code == 2
    assert "enqueue and ingest must use the same database" in result.stderr
    assert dead_letters(redis) == []
    assert redis.xlen(keys.items) == 1  # left for the right ingester


def test_a_second_ingester_is_refused(tmp_path, redis_url):
    redis, key = Redis.from_url(redis_url), Keys().ingester
    elsewhere = Redis.from_url(redis_url, client_name="elsewhere-1")
    elsewhere.set(key, "elsewhere-1")  # a live ingester on another host
    result = run_cli("ingest", "--db", str(tmp_path / "x.db"), "--redis", redis_url)
    assert result.code == 3
    assert "ingester elsewhere-1 already serves" in result.stderr
    assert redis.get(key) == b"elsewhere-1"


def test_the_ingester_s_claim_is_its_connection(redis_url):
    """A claim lives as long as its holder's connection to Redis: a dead holder's claim is
    taken over at once, on whatever host it ran, and one that Redis lost is taken again."""
    from crawler.cluster.ingest import Claim, IngesterRunning

    redis, key = Redis.from_url(redis_url), Keys().ingester
    first = Claim(redis, key)
    assert first.take() is None
    assert Claim(redis, key, "other-host-7").take() == first.me  # refused: it is connected
    redis.delete(key)  # as a Redis restarted without persistence would
    first.keep()
    assert redis.get(key) == first.me.encode()
    first.server.connection_pool.disconnect()  # its process dies
    second = Claim(redis, key, "other-host-7")
    assert second.take() is None  # at once
    with pytest.raises(IngesterRunning, match="took over"):
        first.keep()
    first.release()  # the claim is not its own any more: left alone
    assert redis.get(key) == second.me.encode()
    second.release()
    assert not redis.exists(key)


def test_ingest_still_accepts_settle_which_no_run_needs_any_more(tmp_path, redis_url):
    """--settle was documented: scripts that pass it keep working."""
    db = str(tmp_path / "x.db")
    args = ("--db", db, "--redis", redis_url, "--idle-exit", "0", "--settle", "0.5")
    result = run_cli("ingest", *args)
    assert result.code == 0, result.stderr


def test_worker_needs_a_redis_url():
    env_free = {k: v for k, v in child_env().items() if k != "PRESSWATCH_REDIS"}
    done = run_cli("worker", env=env_free, timeout=60)
    assert done.code == 2
    assert "no Redis server" in done.stderr


# -- what travels through Redis --------------------------------------------------------------


def test_an_item_survives_the_trip_to_the_ingester():
    item = ArticleItem(
        url="https://example.org/a",
        source_id=3,
        body=b"<html>",
        status=200,
        entry=FeedEntry("Feed title", "2026-11-25T08:00:00Z", "Summary"),
        also_from=[4],
        etag='"x"',
        body_hash="abc",
        fingerprint=2**63 + 5,
        is_partial=True,
        article=Article(
            "Title",
            "Text with NATO.",
            "Ann, Bo",
            "2026-11-25",
            "en",
            canonical_url="https://example.org/a",
            authors=("Ann", "Bo"),
            title_raw="Title | Example",
            modified_at="2026-11-26T09:00:00Z",
            published_from="json-ld",
            modified_from="meta",
            declared_not_free=True,
            hidden_part_missing=True,
        ),
        matches=[TopicMatch("NATO", False, 1, ("NATO",), "Text with **NATO**.")],
        summary_matches=[TopicMatch("Arctic", False, 1, ("Arctic",), "the **Arctic**")],
    )
    message = decode(item_message(item, at="2026-11-25T08:00:00Z", generation="g1"))
    assert (message.kind, message.at, message.generation) == ("item", "2026-11-25T08:00:00Z", "g1")
    assert message.item == ArticleItem(**{**item.__dict__, "body": b""})


def test_events_carry_their_arguments_by_name():
    raw = event_message(
        "source_polled",
        {"source_id": 2, "status": "ok", "etag": '"e"'},
        at="2026-11-25T08:00:00Z",
        generation="g1",
    )
    message = decode(raw)
    assert message.kind == "source_polled"
    assert message.fields == {
        "source_id": 2,
        "status": "ok",
        "error": None,
        "etag": '"e"',
        "last_modified": None,
    }


def test_an_event_argument_of_the_wrong_type_is_refused_by_name():
    raw = event_message(
        "link_gone",
        {"url": "https://example.org/a", "source_id": 2, "status": "404", "message": "gone"},
        at="2026-11-25T08:00:00Z",
        generation="g1",
    )
    with pytest.raises(MessageError, match=r"fields\.status: expected an integer"):
        decode(raw)


def test_workers_send_each_event_with_the_arguments_the_ingester_replays():
    """Messages are checked against the Recorder protocol's signatures: a worker's
    RemoteRecorder and the ingester's PassRecorder take each event as it declares."""
    for kind in EVENTS:
        declared = inspect.signature(getattr(WorkerRecorder, kind))
        assert inspect.signature(getattr(RemoteRecorder, kind)) == declared, kind
        if kind != "offered":  # the ingester links an offered article itself
            assert inspect.signature(getattr(PassRecorder, kind)) == declared, kind


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"v": 99, "kind": "item"}',
        b'{"v": 1, "kind": "x"}',
        b'{"v": 1, "kind": "error", "at": "t", "generation": "g"}',
    ],
)
def test_unreadable_messages_are_refused(raw):
    with pytest.raises(MessageError):
        decode(raw)


def test_requests_travel_as_json_without_pickle():
    source = Source(name="News", url="https://example.org/feed.xml")
    codec = RequestCodec({"News": source}.__getitem__)
    request = {
        "url": "https://example.org/a",
        "headers": {b"If-None-Match": [b'"e"']},
        "body": b"",
        "meta": {"source": source, "entry": FeedEntry("T"), "ids": [1]},
    }
    text = codec.dumps(request)
    assert "pickle" not in text and '"$source":"News"' in text
    assert codec.loads(text) == request
    with pytest.raises(CodecError):
        codec.dumps({"meta": {"thing": object()}})
    with pytest.raises(CodecError):
        codec.loads('{"url": "x", "_class": "os.system"}')

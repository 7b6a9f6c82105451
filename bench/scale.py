"""Benchmark presswatch at scale: 10k, 100k and 1M articles.

Builds databases by duplicating the rows of a real pass's database (by default the
offline demo's two passes, made on first use) at a steady rate of articles per day, so
the newest day holds as many articles at every size and the 1M database spans a year.
Texts are the real pass's full texts (about 2.5 KB each). Each copy is its own article:
its own URL, times, versions, mentions, changes and full-text rows.

Then times, with the code of this checkout: the schema migration (when the cached
database is older), every canned query, every view's first page with its row count, each
table's default page, every facet the metadata offers, full-text search, and the CLI
commands `topics check`, `backfill`, `digest --since 24h`, `status`, `diff` and a pass
with nothing due. Datasette figures come from Datasette's own client with its default
limits (1 s per query, 200 ms per facet). Built databases are cached (``--cache``) and
reused; the migration upgrades the cached file in place (``--no-migrate`` keeps it as
it is, to time an older checkout's code on it: ``SCALE_CODE=/path/to/old/tree``).

    nice -n 19 python bench/scale.py --sizes 10000,100000,1000000 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

CODE = os.environ.get("SCALE_CODE", str(Path(__file__).resolve().parent.parent))
"""The checkout whose code is timed (default: this one); set SCALE_CODE to time another
(an older commit's tree, for figures before a change)."""
sys.path.insert(0, CODE)

from crawler.outputs.datasette import database_name, load_metadata, make_datasette  # noqa: E402
from crawler.storage.migrations import SCHEMA_VERSION  # noqa: E402
from crawler.storage.store import connect  # noqa: E402

PER_DAY = 2740
"""Articles stored per day: a desk watching about 50 outlets (1M articles in 365 days)."""
OUTLETS = 48
SECOND_VERSION_EVERY = 5  # versions: 1.2x the articles
NO_CHANGE_EVERY = 30  # changes: 1/5 - 1/30 = 0.17x the articles
CHECK_QUERIES = ("NATO AND Trump", "NATO AND Ukraine")
"""topics check: a query no stored article matches, and one matching 1 article in 12."""
NEW_TOPIC = "scale new topic"
NEW_QUERY = "Moldova"
"""The new topic backfilled: 1 article in 36."""
"""Each backfill gets a new name, so that every run finds the topic new and writes."""
SEARCH = "ceasefire"


def fmt_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- building ------------------------------------------------------------------------------


def make_seed(path: Path) -> None:
    """The offline demo's database: two real passes over the bundled sample site."""
    subprocess.run(
        [sys.executable, "-m", "crawler", "demo", "--db", str(path), "--port", "0"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def read_seed(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    seed = {
        "sources": [dict(r) for r in conn.execute("SELECT * FROM sources ORDER BY id")],
        "topics": [dict(r) for r in conn.execute("SELECT * FROM topics ORDER BY id")],
        "articles": [dict(r) for r in conn.execute("SELECT * FROM articles ORDER BY id")],
        "changes": [
            dict(r) for r in conn.execute("SELECT * FROM changes WHERE kind = 'edited' ORDER BY id")
        ],
    }
    versions: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute("SELECT * FROM versions ORDER BY id"):
        versions.setdefault(row["article_id"], []).append(dict(row))
    mentions: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute("SELECT * FROM mentions ORDER BY id"):
        mentions.setdefault(row["article_id"], []).append(dict(row))
    seed["versions"], seed["mentions"] = versions, mentions
    conn.close()
    return seed


def build(seed: dict[str, Any], n: int, path: Path, end: datetime) -> None:
    """A database of ``n`` articles copied from ``seed``, the newest stored at ``end``."""
    connect(path).conn.close()  # the schema of this checkout
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    sources = seed["sources"]
    for k in range(OUTLETS):
        source = sources[k % len(sources)]
        conn.execute(
            "INSERT INTO sources (id, name, url, kind, last_polled_at, last_status) "
            "VALUES (?, ?, ?, 'feed', ?, 'ok')",
            [k + 1, f"{source['name']} {k + 1}", f"{source['url']}?outlet={k + 1}", fmt_time(end)],
        )
    for topic in seed["topics"]:
        conn.execute(
            "INSERT INTO topics (id, name, query) VALUES (?, ?, ?)",
            [topic["id"], topic["name"], topic["query"]],
        )
    articles = [a for a in seed["articles"] if a["current_version_id"]]
    step = 86400 / PER_DAY
    start = end - timedelta(seconds=step * n)
    version_id = change_id = mention_id = 0
    for i in range(1, n + 1):
        a = articles[(i - 1) % len(articles)]
        seen = start + timedelta(seconds=step * i)
        versions = seed["versions"][a["id"]]
        first, last = versions[0], versions[-1]
        v_ids = []
        texts = (
            [first]
            if i % SECOND_VERSION_EVERY
            else [
                first,
                last if last is not first else {**first, "text": first["text"] + "\nUpdated."},
            ]
        )
        for number, v in enumerate(texts):
            version_id += 1
            v_ids.append(version_id)
            fetched = seen + timedelta(minutes=30 * number)
            conn.execute(
                "INSERT INTO versions (id, article_id, fetched_at, title, text, "
                "text_hash, topics) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    version_id,
                    i,
                    fmt_time(fetched),
                    v["title"],
                    v["text"],
                    f"{v['text_hash'][:48]}{i:016d}",
                    v["topics"],
                ],
            )
        changed = seen + timedelta(minutes=30 * (len(v_ids) - 1))
        tracked = end - seen < timedelta(days=3)
        next_check = fmt_time(end + timedelta(days=2, seconds=i % 3600)) if tracked else None
        source_id = (i % OUTLETS) + 1
        conn.execute(
            "INSERT INTO articles (id, url, source_id, first_seen_at, last_checked_at, "
            "published_at, title, author, language, summary, status, current_version_id, "
            "last_changed_at, next_check_at, body_hash, story_id, is_partial) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            [
                i,
                f"{a['url']}-{i}",
                source_id,
                fmt_time(seen),
                fmt_time(changed),
                fmt_time(seen - timedelta(hours=1)),
                last["title"],
                a["author"],
                a["language"],
                a["summary"],
                a["status"],
                v_ids[-1],
                fmt_time(changed),
                next_check,
                f"{i:040x}",
                i,
            ],
        )
        conn.execute("INSERT INTO article_sources VALUES (?, ?, ?)", [i, source_id, fmt_time(seen)])
        conn.execute(
            "INSERT INTO article_fingerprints VALUES (?, ?, ?, ?, ?, ?)",
            [i, i, i & 0xFFFF, (i >> 16) & 0xFFFF, i % 65521, i % 65519],
        )
        for m in seed["mentions"].get(a["id"], []):
            mention_id += 1
            conn.execute(
                "INSERT INTO mentions (id, topic_id, article_id, version_id, "
                "found_at, in_title, match_count, snippet, terms) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    mention_id,
                    m["topic_id"],
                    i,
                    v_ids[0],
                    fmt_time(seen),
                    m["in_title"],
                    m["match_count"],
                    m["snippet"],
                    m["terms"],
                ],
            )
        if len(v_ids) == 2 and i % NO_CHANGE_EVERY:
            c = seed["changes"][(i // SECOND_VERSION_EVERY) % len(seed["changes"])]
            change_id += 1
            conn.execute(
                "INSERT INTO changes (id, article_id, from_version_id, to_version_id, "
                "detected_at, kind, title_before, title_after, chars_added, "
                "chars_removed, diff, diff_html, mentions_added, mentions_removed) "
                "VALUES (?, ?, ?, ?, ?, 'edited', ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    change_id,
                    i,
                    v_ids[0],
                    v_ids[1],
                    fmt_time(changed),
                    first["title"],
                    last["title"],
                    c["chars_added"],
                    c["chars_removed"],
                    c["diff"],
                    c["diff_html"],
                    c["mentions_added"],
                    c["mentions_removed"],
                ],
            )
        if i % 100 == 0:
            conn.execute(
                "INSERT INTO errors (run_id, source_id, url, stage, message, at) "
                "VALUES (NULL, ?, ?, 'fetch', 'HTTP 503 Service Unavailable', ?)",
                [source_id, f"{a['url']}-{i}-gone", fmt_time(seen)],
            )
    hours = int((end - start).total_seconds() // 3600) + 1
    for h in range(hours):
        started = start + timedelta(hours=h)
        conn.execute(
            "INSERT INTO runs (started_at, finished_at, status, sources_polled, "
            "articles_new) VALUES (?, ?, 'ok', ?, ?)",
            [fmt_time(started), fmt_time(started + timedelta(minutes=3)), OUTLETS, PER_DAY // 24],
        )
    for d in range(hours // 24):
        period_end = start + timedelta(days=d + 1)
        conn.execute(
            "INSERT INTO digests (created_at, period_start, period_end, format, "
            "sent_at, item_count, status) VALUES (?, ?, ?, 'markdown', ?, 10, 'sent')",
            [
                fmt_time(period_end),
                fmt_time(period_end - timedelta(days=1)),
                fmt_time(period_end),
                fmt_time(period_end),
            ],
        )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def cached_database(cache: Path, seed: Path, n: int) -> tuple[Path, float | None]:
    """The cached database of ``n`` articles (built when missing) and its build time."""
    path = cache / f"scale-{n}.db"
    if path.exists():
        return path, None
    if not seed.exists():
        make_seed(seed)
    partial = path.with_suffix(".building")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    build(read_seed(seed), n, partial, datetime.now(UTC).replace(microsecond=0))
    partial.rename(path)
    return path, time.perf_counter() - started


def migrate_if_older(path: Path) -> float | None:
    """Upgrade the file to this checkout's schema; the seconds it took, if it had to."""
    conn = sqlite3.connect(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    if version >= SCHEMA_VERSION:
        return None
    started = time.perf_counter()
    connect(path).conn.close()
    return time.perf_counter() - started


# -- timing --------------------------------------------------------------------------------


def median_of(repeat: int, action: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def datasette_paths(path: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(label, URL, what to check) for every page the benchmark times."""
    name = database_name(path)
    meta = load_metadata(name)["databases"][name]
    base = f"/{name}"
    for query, spec in meta["queries"].items():
        params = {p: "" for p in ("topic", "days") if f":{p}" in spec["sql"]}
        if query == "topic_timeline":
            params["topic"] = "NATO"
        if query == "search_topic":
            params = {"q": SEARCH, "topic": "Ukraine"}
        if query == "most_edited":
            for days in ("", "30"):
                yield (
                    f"query {query} days={days or 'all'}",
                    f"{base}/{query}.json?{urlencode({'days': days})}",
                    {},
                )
            continue
        yield f"query {query}", f"{base}/{query}.json?{urlencode(params)}", {}
    for table, spec in meta["tables"].items():
        if spec.get("hidden"):
            continue
        facets = [
            f if isinstance(f, str) else next(iter(f.values())) for f in spec.get("facets", [])
        ]
        yield f"page {table}", f"{base}/{table}.json", {"facets": facets}
        for facet in spec.get("facets", []):
            if isinstance(facet, str):
                label, query = facet, {"_facet": facet}
            else:
                kind, column = next(iter(facet.items()))
                label, query = f"{kind}:{column}", {f"_facet_{kind}": column}
            yield f"facet {table} {label}", f"{base}/{table}.json?{urlencode(query)}", {}
    yield "search versions", f"{base}/versions.json?{urlencode({'_search': SEARCH})}", {}
    yield "search changes", f"{base}/changes.json?{urlencode({'_search': 'NATO'})}", {}
    # presswatch's own pages (crawler/outputs/datasette/plugin.py)
    yield "plugin dashboard", "/-/presswatch/dashboard", {}
    yield "plugin topic feed (Atom)", "/feeds/topic/Ukraine.atom", {}
    yield "plugin article page", "/-/presswatch/article/5", {}
    yield "plugin diff page", "/-/presswatch/diff/1", {}
    yield "plugin search", f"/-/search?{urlencode({'q': SEARCH})}", {}


def time_datasette(path: Path, repeat: int) -> list[dict[str, Any]]:
    async def measure() -> list[dict[str, Any]]:
        datasette = make_datasette(path)
        await datasette.invoke_startup()
        results = []
        for label, url, expect in datasette_paths(path):
            responses = []
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                responses.append(await datasette.client.get(url))
                times.append(time.perf_counter() - started)
            response = responses[-1]
            body = (
                response.json()
                if response.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            problems = []
            if response.status_code != 200 or body.get("ok") is False:
                error = re.sub(r"<[^>]+>|\s+", " ", str(body.get("error", ""))).strip()
                problems.append(f"HTTP {response.status_code}: {error[:60]}")
            if "filtered_table_rows_count" in body and body["filtered_table_rows_count"] is None:
                problems.append("count timed out")
            shown = set(body.get("facet_results", {}))
            if "_facet" in url:
                wanted = {f.split("=", 1)[1].split("&")[0] for f in [url.split("?", 1)[1]]}
                if not shown:
                    problems.append(f"facet dropped ({', '.join(wanted)})")
            dropped = [f for f in expect.get("facets", []) if f not in shown]
            if dropped:
                problems.append(f"facets dropped: {', '.join(dropped)}")
            results.append(
                {
                    "what": label,
                    "seconds": statistics.median(times),
                    "count": body.get("filtered_table_rows_count", len(body.get("rows", []))),
                    "suggested": len(body.get("suggested_facets", [])),
                    "problems": problems,
                }
            )
        return results

    return asyncio.run(measure())


def write_config(folder: Path, db: Path, new_topic: str | None = None) -> Path:
    seed = sqlite3.connect(db)
    topics = seed.execute(
        "SELECT name, query FROM topics WHERE name NOT LIKE ? ORDER BY id", [NEW_TOPIC + "%"]
    ).fetchall()
    seed.close()
    if new_topic:
        topics.append((new_topic, NEW_QUERY))
    lines = [f"[storage]\ndb = {json.dumps(str(db))}\n"]
    for name, query in topics:
        lines.append(f"[[topics]]\nname = {json.dumps(name)}\nquery = {json.dumps(query)}\n")
    config = folder / "config.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config


def presswatch(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": CODE}
    result = subprocess.run(
        [sys.executable, "-m", "crawler", *args], capture_output=True, text=True, env=env, cwd=CODE
    )
    if result.returncode != 0:
        raise RuntimeError(f"presswatch {' '.join(args)}: {result.stderr.strip()[-300:]}")
    return result.stdout


def forget_new_topics(db: Path) -> None:
    """Delete the mentions and rows of the benchmark's new topics (their names stay in
    versions.topics: removing them there would re-index text before the trigger fix)."""
    conn = sqlite3.connect(db)
    conn.execute(
        "DELETE FROM mentions WHERE topic_id IN (SELECT id FROM topics WHERE name LIKE ?)",
        [NEW_TOPIC + "%"],
    )
    conn.execute("DELETE FROM topics WHERE name LIKE ?", [NEW_TOPIC + "%"])
    conn.commit()
    conn.close()


def time_commands(db: Path, repeat: int, slow_repeat: int) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder), db)
        plain = ["--db", str(db)]

        def record(what: str, seconds: float, out: str) -> None:
            lines = out.strip().splitlines()
            results.append(
                {"what": what, "seconds": seconds, "output": lines[-1][:100] if lines else ""}
            )

        for what, args, times in [
            *[
                (f"topics check {query!r}", ["topics", "check", query, *plain], slow_repeat)
                for query in CHECK_QUERIES
            ],
            ("digest --since 24h", ["digest", "--since", "24h", "--config", str(config)], repeat),
            ("status", ["status", *plain], repeat),
            ("diff", ["diff", "5", *plain], repeat),
            (
                "pass with nothing due",
                ["run", "--no-sources", "--config", str(config), "-q"],
                repeat,
            ),
        ]:
            record(what, *median_of(times, lambda args=args: presswatch(*args)))

        def new_topic_backfill() -> str:
            forget_new_topics(db)
            name = f"{NEW_TOPIC} {time.time_ns()}"
            topic_config = write_config(Path(folder), db, name)
            return presswatch("backfill", "--topic", name, "--config", str(topic_config))

        record("backfill of a new topic", *median_of(slow_repeat, new_topic_backfill))
        forget_new_topics(db)
        record("start-up (presswatch --help)", *median_of(repeat, lambda: presswatch("--help")))
    return results


def matching_versions(db: Path) -> int:
    """Current versions the new topic matches (what backfill should be linear in)."""
    conn = sqlite3.connect(db)
    count = conn.execute(
        "SELECT count(*) FROM versions_fts WHERE versions_fts MATCH ? AND rowid IN "
        "(SELECT current_version_id FROM articles)",
        [NEW_QUERY],
    ).fetchone()[0]
    conn.close()
    return count


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    out = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("articles", "versions", "mentions", "changes")
    }
    out["bytes"] = os.path.getsize(db)
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "presswatch-scale",
        help="Where built databases are kept.",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        help="A real pass's database to copy "
        "(default: the offline demo's, made in the cache folder).",
    )
    parser.add_argument("--repeat", type=int, default=3, help="Median of this many runs.")
    parser.add_argument(
        "--slow-repeat",
        type=int,
        default=1,
        help="Runs of topics check and backfill (slow before the index).",
    )
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--no-commands", action="store_true")
    parser.add_argument(
        "--no-migrate", action="store_true", help="Do not upgrade a cached database's schema."
    )
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    seed = args.seed or args.cache / "seed.db"
    report: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "sizes": {}}
    for n in [int(s) for s in args.sizes.split(",")]:
        db, built = cached_database(args.cache, seed, n)
        entry: dict[str, Any] = {"built_seconds": built}
        print(
            f"== {n} articles: {db}" + (f" (built in {built:.0f} s)" if built else ""), flush=True
        )
        if args.build_only:
            entry["counts"] = counts(db)
            report["sizes"][n] = entry
            continue
        entry["migration_seconds"] = None if args.no_migrate else migrate_if_older(db)
        if entry["migration_seconds"] is not None:
            print(f"   migrated in {entry['migration_seconds']:.1f} s", flush=True)
        entry["counts"] = counts(db)
        entry["datasette"] = time_datasette(db, args.repeat)
        for row in entry["datasette"]:
            flag = "; ".join(row["problems"])
            print(f"   {row['seconds']:7.3f} s  {row['what']}  {flag}", flush=True)
        if not args.no_commands:
            entry["new_topic_matching_versions"] = matching_versions(db)
            entry["commands"] = time_commands(db, args.repeat, args.slow_repeat)
            for row in entry["commands"]:
                print(f"   {row['seconds']:7.3f} s  {row['what']}  [{row['output']}]", flush=True)
        report["sizes"][n] = entry
        if args.json:
            args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Passes over the largest hostile inputs of the fault suite: time, peak memory, SIGTERM.

    python bench/hostile.py

Serves tests/faults/server.py on 127.0.0.1 and runs ``presswatch run`` over:

- a feed of 200,000 entries (about 25 MB; ``max_page_size_mb = 30`` so that the parser,
  not the size limit, meets it), default ``max_feed_entries`` (500);
- a feed of 10 MB (80,000 entries) under the default size limit;
- a sitemap index tree without end (ten child indexes per index), default
  ``max_sitemap_depth`` and ``max_sitemaps``;

reporting each pass's wall time and peak memory (proportional set size of the pass and
its extraction workers, sampled every 0.1 s), then how long a pass takes to exit after
SIGTERM at each stage: while the big feed is parsed, while the sitemap tree is walked,
while articles are fetched and extracted. Targets (docs/reliability.md): a 10 MB feed's
pass at most 300 MB, SIGTERM honoured within 5 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE), str(REPO / "tests" / "faults")]

from run import tree_usage  # noqa: E402
from server import FaultServer, _big_feed  # noqa: E402


def write_config(folder: Path, url: str, *, kind: str = "feed", extra: str = "") -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[storage]\ndb = "{folder / "bench.db"}"\n[crawl]\nallow_private_addresses = true\n'
        f'timeout = 30\nautothrottle = false\n{extra}\n[[sources]]\nname = "Big"\n'
        f'url = "{url}"\nkind = "{kind}"\n[[topics]]\nname = "Harbour"\nquery = "harbour"\n',
        encoding="utf-8",
    )
    return config


def start(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "run", "--config", str(config), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def measured_pass(label: str, config: Path) -> None:
    started = time.perf_counter()
    process = start(config)
    peak = [0]

    def watch() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_usage(process.pid)[0])
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - started
    watcher.join()
    summary = json.loads(out) if out.strip() else {"status": f"exit {process.returncode}"}
    print(
        f"| {label} | {seconds:.1f} s | {peak[0] / 1024:.0f} MB | {summary['status']}, "
        f"{summary.get('articles_new', '?')} articles, {summary.get('errors', '?')} "
        "errors |",
        flush=True,
    )


def sigterm_latency(label: str, config: Path, ready: Callable[[], bool]) -> None:
    process = start(config)
    deadline = time.monotonic() + 120
    while not ready() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    sent = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=120)
    seconds = time.perf_counter() - sent
    status = json.loads(out)["status"] if out.strip() else f"exit {process.returncode}"
    print(f"| SIGTERM {label} | {seconds:.1f} s to exit | {status} |", flush=True)


def main() -> None:
    with FaultServer() as server, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def folder(name: str) -> Path:
            path = root / name
            path.mkdir()
            return path

        big = server.url("/big-feed?entries=200000")
        ten = server.url("/big-feed?entries=80000")
        for entries in (200_000, 80_000):  # built before the clock starts
            _big_feed(server.base_url, entries)
        tree = server.url("/sitemap-tree/t")
        print("| pass | time | peak memory | result |\n|---|---|---|---|")
        measured_pass(
            "200,000-entry feed (25 MB)",
            write_config(folder("big"), big, extra="max_page_size_mb = 30"),
        )
        measured_pass("10 MB feed (80,000 entries)", write_config(folder("ten"), ten))
        measured_pass("endless sitemap tree", write_config(folder("tree"), tree, kind="sitemap"))
        print()

        def hits(prefix: str, count: int) -> Callable[[], bool]:
            return lambda: sum(hit.path.startswith(prefix) for hit in server.hits) >= count

        server.hits.clear()
        sigterm_latency(
            "while the 200,000-entry feed is parsed",
            write_config(folder("term-feed"), big, extra="max_page_size_mb = 30"),
            hits("/big-feed", 1),
        )
        server.hits.clear()
        sigterm_latency(
            "while the sitemap tree is walked",
            write_config(folder("term-tree"), tree, kind="sitemap"),
            hits("/sitemap-tree/", 20),
        )
        server.hits.clear()
        sigterm_latency(
            "while articles are fetched and extracted",
            write_config(folder("term-articles"), ten),
            hits("/story/", 50),
        )


if __name__ == "__main__":
    main()

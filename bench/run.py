"""presswatch against bare trafilatura on a generated news corpus, in one run.

    python bench/run.py [--articles 1000] [--feeds 10] [--memory-sizes 1000,5000]

Builds a corpus of real-looking article pages, serves it on 127.0.0.1, and reports:
bare trafilatura in one process (the floor), a first pass, re-runs with nothing changed
(default recheck, and --recheck all), a pass after 10% of the articles changed, the
peak memory of each pass (proportional set size of the pass and its workers), and
topic matching with 10 vs 1,000 topics.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from corpus import change_page, write_corpus  # noqa: E402

from crawler.demo.localsite import LocalSite  # noqa: E402

TOPICS = """
[[topics]]
name = "coalition of the willing"
query = '"coalition of the willing"'
[[topics]]
name = "Greenland"
query = 'Greenland NOT ("Greenland shark" OR "Greenland sharks")'
[[topics]]
name = "NATO"
queries = ["=NATO", "=OTAN"]
[[topics]]
name = "Ukraine"
queries = ["Ukraine", "Ukrainian", "Kyiv"]
[[topics]]
name = "European Security Council"
query = '"European Security Council"'
"""


@dataclass
class PassResult:
    label: str
    seconds: float
    peak_mb: float
    cpu_seconds: float  # CPU time of the pass and its workers (last sample before exit)
    summary: dict
    own_cpu_seconds: float = 0.0  # of which the pass's own process (fetching, writing)


def bare_trafilatura(pages: list[Path]) -> float:
    """Pages per second of plain ``trafilatura.extract`` in this one process."""
    import trafilatura

    texts = [page.read_text(encoding="utf-8") for page in pages]
    started = time.perf_counter()
    for text in texts:
        trafilatura.extract(text)
    return len(texts) / (time.perf_counter() - started)


def presswatch_extraction(pages: list[Path]) -> float:
    """Pages per second of presswatch's own extraction function in this one process."""
    from crawler.extraction.article import extract

    texts = [page.read_text(encoding="utf-8") for page in pages]
    started = time.perf_counter()
    for text in texts:
        extract(text)
    return len(texts) / (time.perf_counter() - started)


def write_config(
    folder: Path, site: LocalSite, feeds: int, db: Path, *, obey_robots: bool = False
) -> Path:
    """A configuration of ``feeds`` outlets on ``site``, writing to ``db``."""
    sources = "".join(
        f'[[sources]]\nname = "Outlet {n}"\nurl = "{site.url(f"outlet{n}/feed.xml")}"\n'
        for n in range(feeds)
    )
    config = folder / "bench.toml"
    # Every outlet of the corpus is served by one local server, so the politeness that
    # spaces requests to one real site (AutoThrottle, 4 at a time) is turned off.
    config.write_text(
        f'[storage]\ndb = "{db}"\n[crawl]\nallow_private_addresses = true\n'
        f"obey_robots = {str(obey_robots).lower()}\nconcurrency = 16\nper_domain_concurrency = 16\n"
        f"autothrottle = false\n{sources}{TOPICS}",
        encoding="utf-8",
    )
    return config


def timed_pass(label: str, config: Path, *extra: str) -> PassResult:
    """Run ``presswatch run`` as a user would and watch its memory while it runs."""
    command = [sys.executable, "-m", "crawler", "run", "--config", str(config), "--json", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE.parent
    )
    peak = [0, 0.0, 0.0]
    watcher = threading.Thread(target=_watch, args=(process, peak), daemon=True)
    watcher.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"{label}: presswatch run failed ({process.returncode}):\n{err}")
    return PassResult(label, seconds, peak[0] / 1024, peak[1], json.loads(out), peak[2])


def _watch(process: subprocess.Popen, peak: list) -> None:
    while process.poll() is None:
        memory, cpu = tree_usage(process.pid)
        peak[0], peak[1] = max(peak[0], memory), max(peak[1], cpu)
        peak[2] = max(peak[2], process_cpu(process.pid))
        time.sleep(0.1)


def tree_usage(root: int) -> tuple[int, float]:
    """Proportional set size (KiB) and CPU seconds of a process and its descendants."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    memory, seconds, todo = 0, 0.0, [root]
    while todo:
        pid = todo.pop()
        memory += _pss_kb(pid)
        seconds += cpu.get(pid, 0.0)
        todo += children.get(pid, [])
    return memory, seconds


def process_cpu(pid: int) -> float:
    """CPU seconds of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_passes(articles: int, feeds: int) -> tuple[tuple[float, float], list[PassResult]]:
    with tempfile.TemporaryDirectory(prefix="presswatch-bench-") as tmp:
        root = Path(tmp)
        pages = write_corpus(root / "site", articles, feeds)
        sample = pages[:300]
        floor = bare_trafilatura(sample), presswatch_extraction(sample)
        with LocalSite(root / "site") as site:
            config = write_config(root, site, feeds, root / "bench.db")
            results = [
                timed_pass("first pass", config),
                timed_pass("re-run, nothing changed (recheck due)", config),
                timed_pass("re-run, nothing changed (--recheck all)", config, "--recheck", "all"),
            ]
            rng = random.Random(11)
            for page in rng.sample(pages, len(pages) // 10):
                change_page(page, rng)
            results.append(timed_pass("10% changed (--recheck all)", config, "--recheck", "all"))
    return floor, results


def matching_cost() -> list[dict]:
    import topics

    docs = topics.articles(1000, 20250101)
    return topics.measure([10, 1000], docs, 20250101, rounds=3, real_share=0.005)


def report(articles: int, floors: tuple[float, float], results: list[PassResult]) -> None:
    floor, own = floors
    first = results[0]
    rate = first.summary["articles_new"] / first.seconds
    print(f"\n{articles} articles, {os.cpu_count()} cores\n")
    print(f"bare trafilatura.extract, one process: {floor:.1f} pages/s")
    print(f"presswatch's extract(), one process:    {own:.1f} pages/s\n")
    print(
        "| pass | seconds | articles/s | vs bare | vs first pass | new | checked | "
        "versions | peak MB | CPU s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        s = result.summary
        done = s["articles_new"] + s["articles_checked"]
        print(
            f"| {result.label} | {result.seconds:.2f} | {done / result.seconds:.1f} | "
            f"{done / result.seconds / floor:.2f}x | {result.seconds / first.seconds:.1%} | "
            f"{s['articles_new']} | {s['articles_checked']} | {s['versions_new']} | "
            f"{result.peak_mb:.0f} | {result.cpu_seconds:.1f} |"
        )
    print(f"\nfirst pass: {rate:.1f} articles/s = {rate / floor:.2f}x bare trafilatura")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument(
        "--memory-sizes",
        default="",
        help="also run first passes of these sizes, e.g. 1000,5000, and compare their peak memory",
    )
    parser.add_argument("--no-topics", action="store_true", help="skip the matching benchmark")
    args = parser.parse_args(argv)
    floor, results = run_passes(args.articles, args.feeds)
    report(args.articles, floor, results)
    if args.memory_sizes:
        print("\n| first pass of | seconds | articles/s | peak MB |\n|---:|---:|---:|---:|")
        for size in (int(n) for n in args.memory_sizes.split(",")):
            _, (first, *_) = run_passes(size, args.feeds)
            print(
                f"| {size} | {first.seconds:.1f} | {size / first.seconds:.1f} | "
                f"{first.peak_mb:.0f} |"
            )
    if not args.no_topics:
        ten, thousand = matching_cost()
        print(
            f"\nmatching: 10 topics {ten['per_article'] * 1e6:.0f} µs/article, 1,000 topics "
            f"{thousand['per_article'] * 1e6:.0f} µs/article "
            f"({thousand['per_article'] / ten['per_article']:.2f}x)"
        )


if __name__ == "__main__":
    main()

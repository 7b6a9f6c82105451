"""presswatch against bare trafilatura on the project's real-page corpus, in one run.

    python bench/realpages.py [--copies 4] [--feeds 8] [--memory-sizes 1000,5000] [--profile]

Serves tests/corpus/ (207 real article pages from 190 outlets, byte for byte) ``--copies``
times over as distinct articles behind ``--feeds`` RSS feeds on 127.0.0.1, robots.txt
obeyed, per-site pacing off (every "outlet" is the one local server), the extraction pool
as configured (one worker per core), and prints side by side:

- bare single-core ``trafilatura.extract`` over the same pages (the floor);
- the first pass, a pass with nothing new and nothing due, and ``--recheck all`` with
  nothing changed (every article answers 304), with their CPU time;
- the peak memory of first passes of ``--memory-sizes`` articles;
- the wall time of ``presswatch --help`` and ``presswatch status``;
- a per-stage CPU breakdown per article: the pure stages timed in this process on the
  same pages, and, with ``--profile``, every stage of the first pass itself from a py-spy
  profile of the pass and its workers (``pip install py-spy``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from corpus import write_feed  # noqa: E402
from run import PassResult, timed_pass, write_config  # noqa: E402

from crawler.demo.localsite import LocalSite  # noqa: E402

CORPUS = HERE.parent / "tests" / "corpus"
ROBOTS = "User-agent: *\nDisallow: /private/\n"


def corpus_pages() -> list[tuple[str | None, bytes]]:
    """(address, bytes) of every page of the real-page corpus."""
    index = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    return [(page["url"], (CORPUS / page["file"]).read_bytes()) for page in index["pages"]]


def write_site(root: Path, articles: int, feeds: int) -> list[Path]:
    """``articles`` pages (the corpus over and over, each copy its own address) behind
    ``feeds`` feeds, and a robots.txt. ``.htm``: served without a charset, as the page's
    own bytes say."""
    pages = corpus_pages()
    written = []
    for number in range(articles):
        _, body = pages[number % len(pages)]
        path = root / f"outlet{number % feeds}" / f"article-{number:05d}.htm"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        written.append(path)
    for feed in range(feeds):
        write_feed(
            root / f"outlet{feed}", feed, [p for p in written if p.parent.name == f"outlet{feed}"]
        )
    (root / "robots.txt").write_text(ROBOTS, encoding="utf-8")
    return written


def bare_trafilatura(pages: list[Path]) -> tuple[float, float]:
    """Wall and CPU seconds of plain ``trafilatura.extract`` over ``pages``, one process."""
    import trafilatura

    bodies = [page.read_bytes() for page in pages]
    wall, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        trafilatura.extract(body)
    return time.perf_counter() - wall, time.process_time() - cpu


def stage_costs(config_path: Path) -> dict[str, float]:
    """CPU seconds per article of the pure stages, one core, over the corpus's pages.

    Each page's metadata and extraction are timed before anything else reads the page,
    and the metadata's caches (htmldate's) start cold, as in an extraction worker: what
    filling them costs is counted."""
    from crawler.config import load_config
    from crawler.matching import TopicMatcher
    from crawler.tracking.normalize import Normalizer

    pages = [(url, body.decode("utf-8", errors="replace")) for url, body in corpus_pages()]
    matcher = TopicMatcher.compile(load_config(config_path).topics)
    normalizer = Normalizer()
    costs: Counter[str] = Counter()
    done = 0
    for url, html in pages:
        page_costs: Counter[str] = Counter()
        if _page_costs(page_costs, url, html, matcher, normalizer):
            costs.update(page_costs)
            done += 1
    return {stage: seconds / done for stage, seconds in costs.items()}


def _page_costs(costs: Counter[str], url, html, matcher, normalizer) -> bool:
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html

    from crawler.extraction.article import extract
    from crawler.extraction.metadata import page_metadata
    from crawler.extraction.partial import is_partial
    from crawler.tracking.normalize import content_hash
    from crawler.tracking.similarity import simhash

    tree = load_html(html)
    costs["metadata"] += _cpu(lambda: page_metadata(tree, url))
    costs["extraction (trafilatura)"] += _cpu(
        lambda: bare_extraction(load_html(html), url=url, include_comments=False)
    )
    try:
        article = extract(html, url)
    except ValueError:
        return False
    costs["paywall + fingerprint"] += _cpu(
        lambda: (is_partial(article, None), simhash(article.text))
    )
    costs["matching"] += _cpu(lambda: matcher.match(article.title or "", article.text))
    title, text = article.title or "", article.text
    costs["normalisation + hashing"] += _cpu(
        lambda: (
            content_hash(normalizer.normalize_title(title), normalizer.normalize(text)),
            hashlib.sha1(html.encode()).hexdigest(),
        )
    )
    job = (html.encode(), "utf-8", url, None)
    costs["hand-over (pickling, both ways)"] += _cpu(
        lambda: (pickle.loads(pickle.dumps(job)), pickle.loads(pickle.dumps((article, 1))))
    )
    return True


def _cpu(work) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


# A sampled stack goes to the first stage (in this order) one of its frames belongs to.
STAGES = (
    ("start-up (imports)", ("<frozen importlib",)),
    ("metadata", ("extraction/metadata.py", "htmldate/")),
    ("paywall + fingerprint", ("tracking/similarity.py", "extraction/partial.py")),
    ("extraction (trafilatura)", ("extraction/", "trafilatura/", "justext/", "lxml")),
    ("matching", ("crawler/matching/",)),
    ("normalisation + hashing", ("tracking/normalize.py", "hashlib")),
    ("database writes with FTS", ("storage/", "tracking/recorder.py", "sqlite")),
    ("inter-process hand-over", ("concurrent/futures", "multiprocessing/", "pickle")),
    ("feed and sitemap parsing", ("crawler/sources/", "feedparser/")),
    ("Scrapy request/response handling", ("scrapy/", "twisted/", "asyncio/", "spiders/")),
)


def profiled_pass(config: Path, folder: Path, rate: int) -> tuple[PassResult, dict[str, float]]:
    """A first pass under py-spy (the pass and its workers): CPU seconds per stage."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = folder / "profile.txt"
    command = [
        py_spy, "record", "--subprocesses", "--rate", str(rate), "--format", "raw",
        "--output", str(raw), "--", sys.executable, "-m", "crawler", "run",
        "--config", str(config), "--json",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"profiled pass failed:\n{done.stderr}")
    out = done.stdout
    summary = json.JSONDecoder().raw_decode(out[out.index("{") :])[0]
    samples: Counter[str] = Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        samples[_stage(stack)] += int(count)
    stages = {stage: count / rate for stage, count in samples.items()}
    return PassResult(
        "first pass under py-spy", seconds, 0.0, sum(stages.values()), summary
    ), stages


def _stage(stack: str) -> str:
    for stage, markers in STAGES:
        if any(marker in stack for marker in markers):
            return stage
    return "other"


def cli_seconds(*args: str, rounds: int = 5) -> tuple[float, float, float]:
    """Best and median wall seconds, and median CPU seconds, of ``presswatch ARGS``."""
    command = [sys.executable, "-m", "crawler"]  # this tree's presswatch
    walls, cpus = [], []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([*command, *args], capture_output=True, check=True, cwd=HERE.parent)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), statistics.median(walls), statistics.median(cpus)


def first_pass_memory(size: int, feeds: int) -> PassResult:
    with tempfile.TemporaryDirectory(prefix="presswatch-realpages-") as tmp:
        root = Path(tmp)
        write_site(root / "site", size, feeds)
        with LocalSite(root / "site") as site:
            config = write_config(root, site, feeds, root / "bench.db", obey_robots=True)
            return timed_pass(f"first pass of {size}", config)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, help="times the corpus is served")
    parser.add_argument("--feeds", type=int, default=8)
    parser.add_argument("--memory-sizes", default="1000,5000", help="'' to skip")
    parser.add_argument("--profile", action="store_true", help="also a first pass under py-spy")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    args = parser.parse_args(argv)
    say(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="presswatch-realpages-") as tmp:
        root = Path(tmp)
        pages = write_site(root / "site", args.copies * len(corpus_pages()), args.feeds)
        articles = len(pages)
        say(f"\n{articles} articles ({args.copies} x the corpus) behind {args.feeds} feeds\n")
        say("| | wall s | CPU s | CPU ms/article | wall vs bare | CPU vs bare | vs first pass |")
        say("|---|---:|---:|---:|---:|---:|---:|")
        floor = bare_trafilatura(pages)
        say(
            f"| bare `trafilatura.extract`, one process | {floor[0]:.2f} | {floor[1]:.1f} | "
            f"{floor[1] / articles * 1e3:.1f} | 1.00x | 1.00x | |"
        )
        with LocalSite(root / "site") as site:
            config = write_config(root, site, args.feeds, root / "bench.db", obey_robots=True)
            first = timed_pass("presswatch first pass", config)
            pass_row(first, first, floor, articles)
            pass_row(timed_pass("nothing new, nothing due", config), first, floor, articles)
            recheck = timed_pass("nothing new, --recheck all", config, "--recheck", "all")
            pass_row(recheck, first, floor, articles)
            workers = first.cpu_seconds - first.own_cpu_seconds
            say(
                f"\nfirst pass, CPU by process: the pass itself {first.own_cpu_seconds:.1f} s "
                f"({first.own_cpu_seconds / articles * 1e3:.1f} ms/article), its extraction "
                f"workers and their fork server {workers:.1f} s "
                f"({workers / articles * 1e3:.1f} ms/article)"
            )
            for label, cli in (
                ("--help", ("--help",)),
                ("status", ("status", "--config", str(config))),
            ):
                best, median, cpu = cli_seconds(*cli)
                say(
                    f"\npresswatch {label}: {best:.3f} s best, {median:.3f} s median wall, "
                    f"{cpu:.3f} s median CPU, of 5"
                )
            say("\nper-stage CPU per article, one core, timed in this process on the corpus:\n")
            say("| stage | ms/article |\n|---|---:|")
            for stage, seconds in stage_costs(config).items():
                say(f"| {stage} | {seconds * 1e3:.2f} |")
        if args.profile:
            (root / "bench.db").unlink()
            with LocalSite(root / "site") as site:
                config = write_config(root, site, args.feeds, root / "bench.db", obey_robots=True)
                profile_report(*profiled_pass(config, root, args.rate))
    memory = []
    for size in (int(n) for n in args.memory_sizes.split(",") if n):
        if not memory:
            say("\n| first pass of | wall s | articles/s | CPU s | peak MB |")
            say("|---:|---:|---:|---:|---:|")
        result = first_pass_memory(size, args.feeds)
        memory.append(result)
        say(
            f"| {size} | {result.seconds:.1f} | {size / result.seconds:.1f} | "
            f"{result.cpu_seconds:.1f} | {result.peak_mb:.0f} |"
        )
    if len(memory) > 1:
        say(f"peak memory {memory[-1].peak_mb / memory[0].peak_mb - 1:+.1%} from the first size")
    say(f"\nload average after: {os.getloadavg()}")


def say(line: str) -> None:
    print(line, flush=True)


def pass_row(result: PassResult, first: PassResult, floor: tuple[float, float], n: int) -> None:
    s = result.summary
    say(
        f"| {result.label} ({s['articles_new']} new, {s['articles_checked']} checked) | "
        f"{result.seconds:.2f} | {result.cpu_seconds:.1f} | {result.cpu_seconds / n * 1e3:.1f} | "
        f"{floor[0] / result.seconds:.2f}x | {floor[1] / result.cpu_seconds:.2f}x | "
        f"{result.seconds / first.seconds:.1%} |"
    )


def profile_report(result: PassResult, sampled: dict[str, float]) -> None:
    n = result.summary["articles_new"]
    say(f"\nfirst pass under py-spy ({result.seconds:.1f} s, {n} articles): CPU per article\n")
    say("| stage | ms/article | share |\n|---|---:|---:|")
    total = sum(sampled.values())
    for stage, seconds in sorted(sampled.items(), key=lambda kv: -kv[1]):
        say(f"| {stage} | {seconds / n * 1e3:.2f} | {seconds / total:.0%} |")
    say(f"| total | {total / n * 1e3:.2f} | |")


if __name__ == "__main__":
    main()

"""Two things at once on one database, through real passes: two passes started
together, and Datasette reading while a pass writes."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils
from conftest import ForkedChild, SlowSite, start_cli
from test_crash import FEEDS, PER_FEED, build_site, slow_site, write_config

from crawler.outputs.datasette import database_name, make_datasette

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlowSite]:
    root = tmp_path_factory.mktemp("concurrency-site")
    build_site(root)
    with slow_site(root) as served:
        yield served


@dataclass
class Pass:
    """A ``presswatch run`` started in a child process, its output kept in two files."""

    process: subprocess.Popen[bytes] | ForkedChild
    out: Path
    err: Path

    def poll(self) -> int | None:
        return self.process.poll()

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def communicate(self) -> tuple[str, str]:
        """What the finished pass wrote to stdout and stderr."""
        self.process.wait()
        return self.out.read_text(encoding="utf-8"), self.err.read_text(encoding="utf-8")


def start_pass(config: Path, *args: str) -> Pass:
    number = len(list(config.parent.glob("pass-*.out")))
    out, err = (config.parent / f"pass-{number}.{stream}" for stream in ("out", "err"))
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = start_cli("run", "--config", str(config), *args, stdout=stdout, stderr=stderr)
    return Pass(process, out, err)


def outcome(db: Path) -> tuple[list[str], int, list]:
    database = sqlite_utils.Database(db)
    try:
        runs = [row[0] for row in database.execute("SELECT status FROM runs")]
        duplicates = database.execute(
            "SELECT article_id FROM versions GROUP BY article_id HAVING count(*) > 1"
        ).fetchall()
        return runs, database["articles"].count, duplicates
    finally:
        database.conn.close()


@pytest.mark.parametrize(("args", "codes"), [((), [0, 0]), (("--wait", "0"), [0, 3])])
def test_two_passes_started_together_one_runs_and_the_other_exits(tmp_path, site, args, codes):
    db = tmp_path / "twice.db"
    config = write_config(tmp_path / "config.toml", site, db)
    passes = [start_pass(config, *args), start_pass(config, *args)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in passes]
    assert sorted(code for code, _, _ in results) == codes
    losers = [
        out + err for _, out, err in results if "another presswatch pass is running" in out + err
    ]
    assert len(losers) == 1
    runs, articles, duplicates = outcome(db)
    assert runs == ["ok"]  # exactly one pass ran; the other left no run behind
    assert articles == FEEDS * PER_FEED and duplicates == []


def test_datasette_reads_while_a_pass_writes(tmp_path, site):
    db = tmp_path / "read.db"
    config = write_config(tmp_path / "config.toml", site, db)
    process = start_pass(config)
    name = database_name(db)
    paths = [
        f"/{name}",
        f"/{name}/articles?_sort_desc=id",
        f"/{name}/mentions",
        f"/{name}.json?sql=select+count(*)+as+n+from+articles&_shape=array",
    ]

    async def read_during_the_pass() -> tuple[list[int], list[int]]:
        while not db.exists():
            await asyncio.sleep(0.05)
        datasette = make_datasette(db)
        await datasette.invoke_startup()
        statuses, counts = [], []
        while process.poll() is None:
            for path in paths:
                response = await datasette.client.get(path)
                statuses.append(response.status_code)
                if path.endswith("_shape=array") and response.status_code == 200:
                    counts.append(response.json()[0]["n"])
        return statuses, counts

    statuses, counts = asyncio.run(read_during_the_pass())
    assert process.wait(timeout=300) == 0, process.communicate()[1]
    assert len(statuses) >= 20
    assert set(statuses) == {200}, statuses
    assert any(0 < count < FEEDS * PER_FEED for count in counts), counts  # read mid-pass
    assert outcome(db)[1] == FEEDS * PER_FEED

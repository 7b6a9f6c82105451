"""The offline demo: serve the bundled sample news site, run a pass, publish a second
edition with real edits, run a second pass, and show the changes found.

The site is served on a loopback port, but its pages and the database know it as
``http://demo.presswatch.test`` (a name reserved for tests, never a real site): each
pass reaches it through the demo server acting as its HTTP proxy. So an article's
identity does not depend on the port, and the demo can be re-run into the same
database, on any port, without storing anything twice.

The second edition is the first with the files of ``edition2/`` laid over it: a
reworded paragraph, a changed headline, a paragraph that adds a topic mention, and a
story taken down (it leaves its feed and its page answers 410 Gone).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from crawler.config import Config, parse_config
from crawler.demo.localsite import LocalSite
from crawler.run import PassSummary

DEMO_SITE = Path(str(resources.files("crawler.demo") / "site"))
DEMO_EDITION2 = Path(str(resources.files("crawler.demo") / "edition2"))
DEMO_CONFIG = Path(str(resources.files("crawler.demo") / "demo.toml"))
DEMO_BASE = "http://demo.presswatch.test"
PROXY_VARIABLES = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
)


def demo_config(base_url: str, db: Path) -> Config:
    """The demo's configuration, with its sources pointing at ``base_url``."""
    data: dict[str, Any] = tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    sites = tomllib.loads((DEMO_SITE / "sources.toml").read_text(encoding="utf-8"))
    data["sources"] = [
        {"name": s["name"], "kind": s.get("kind", "feed"), "url": base_url + s["path"]}
        for s in sites["sources"]
    ]
    data["storage"] = {"db": str(db)}
    return parse_config(data, file=str(DEMO_CONFIG))


@dataclass
class DemoSite:
    """The sample site on a loopback port, in its first or second edition."""

    port: int = 0

    def __post_init__(self) -> None:
        self.site = LocalSite(DEMO_SITE, port=self.port, public_base=DEMO_BASE)
        self._folder = tempfile.TemporaryDirectory(prefix="presswatch-demo-")

    @property
    def base_url(self) -> str:
        return self.site.base_url

    def __enter__(self) -> DemoSite:
        self.site.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.stop()
        self._folder.cleanup()

    def publish_second_edition(self) -> None:
        """Serve the second edition from now on: the first with the edits laid over it."""
        root = Path(self._folder.name) / "edition2"
        shutil.copytree(DEMO_SITE, root)
        shutil.copytree(DEMO_EDITION2, root, dirs_exist_ok=True)
        self.site.root = root

    def run_pass(self, db: Path, recheck: str) -> PassSummary:
        """One real pass over the site into ``db``, in a child process (a pass's reactor
        runs once per process)."""
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            return pool.submit(_pass_through_proxy, self.base_url, str(db), recheck).result()


def _pass_through_proxy(proxy: str, db: str, recheck: str) -> PassSummary:
    """Run in the child: every request goes to the demo server, as its HTTP proxy."""
    from crawler.run import run_pass

    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
    os.environ["http_proxy"] = proxy
    return run_pass(demo_config(DEMO_BASE, Path(db)), db_path=db, recheck=recheck)

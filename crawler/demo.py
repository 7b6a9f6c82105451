"""The offline demo: serve the bundled sample news site and run a real pass against it."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from crawler.config import Config, parse_config

DEMO_SITE = Path(str(resources.files("crawler") / "demo_site"))
DEMO_CONFIG = Path(str(resources.files("crawler") / "demo.toml"))


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

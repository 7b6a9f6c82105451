"""The database as analysts see it in Datasette: metadata, canned queries and
presswatch's own plugin (plugin.py: rendered diffs and snippets, a dashboard, article
timelines, search results, Atom feeds).

The full-text indexes and views analysts use are migration steps of the storage layer
(``crawler/storage/analyst_views.sql`` and later steps in ``crawler/storage/migrations.py``).
``metadata.yml`` documents every table, view and column and holds the canned queries.
Only make_datasette imports Datasette, which is an optional dependency.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
METADATA_PATH = HERE / "metadata.yml"
# The database name metadata.yml is written for: Datasette names a database by its file
# name, and presswatch.db is the default file.
METADATA_DATABASE = "presswatch"


def database_name(path: str | Path) -> str:
    """The name Datasette gives the database in ``path``: the file name, less suffix."""
    return Path(path).stem


def load_metadata(database: str = METADATA_DATABASE) -> dict[str, Any]:
    """The Datasette metadata, with its table metadata keyed to ``database``."""
    metadata = copy.deepcopy(_parsed_metadata())
    databases = metadata["databases"]
    databases[database] = databases.pop(METADATA_DATABASE)
    return metadata


@cache
def _parsed_metadata() -> dict[str, Any]:
    import yaml  # comes with Datasette, not with presswatch itself

    return yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))


# Datasette's settings for presswatch: no suggested facets, which cost up to 50 ms per
# column on every table page (over a second on a large table); the facets metadata.yml
# offers are the cheap ones. Datasette's time limits stay at their defaults.
SETTINGS = {"suggest_facets": False}


def make_datasette(path: str | Path, **options: Any) -> Any:
    """A Datasette instance serving the database at ``path`` with presswatch's metadata.

    Needs the optional ``datasette`` dependency; ``options`` go to ``Datasette()``, and
    ``settings`` among them override :data:`SETTINGS`.
    """
    from datasette.app import Datasette

    register_plugin()
    metadata = load_metadata(database_name(path))
    settings = {**SETTINGS, **options.pop("settings", {})}
    return Datasette([str(path)], metadata=metadata, settings=settings, **options)


def register_plugin() -> None:
    """Load presswatch's own plugin (plugin.py) into Datasette, once per process."""
    from datasette.plugins import pm

    from crawler.outputs.datasette import plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="presswatch")

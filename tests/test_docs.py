"""The configuration examples shown in the docs are valid configurations."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from crawler.config import parse_config

REPO = Path(__file__).parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCKS = [
    (path.name, number, block)
    for path in DOCS
    for number, block in enumerate(
        re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    )
]


@pytest.mark.parametrize(
    ("doc", "number", "block"), BLOCKS, ids=[f"{doc}#{number}" for doc, number, _ in BLOCKS]
)
def test_toml_examples_in_the_docs_are_valid(doc, number, block, tmp_path, monkeypatch):
    data = tomllib.loads(block)
    for target in data.get("notify", []):  # a URL with a token comes from the environment
        if "url_env" in target:
            monkeypatch.setenv(target["url_env"], "jsons://alerts.example.org/presswatch")
    template_dir = data.get("digest", {}).get("template_dir")
    if template_dir:
        (tmp_path / template_dir).mkdir(parents=True)
    parse_config(data, file=f"{doc} example {number}", base_dir=tmp_path)


def test_there_are_examples_to_check():
    assert len(BLOCKS) >= 5

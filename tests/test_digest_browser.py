"""The HTML digest as a desk receives it: rendered by headless Chromium at phone width."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

pytestmark = [
    pytest.mark.slow,  # the demo, then a real browser
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)"
    ),
]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", header[16:24])


def test_the_html_digest_renders_on_a_phone(tmp_path):
    db = tmp_path / "demo.db"
    assert run_cli("demo", "--db", str(db), "--port", "0").code == 0
    page = tmp_path / "digest.html"
    result = run_cli(
        "digest", "--db", str(db), "--since", "30d", "--format", "html", "--output", str(page)
    )
    assert result.code == 0, result.stderr
    assert "<script" not in page.read_text().lower()

    shot = tmp_path / "digest.png"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=412,1400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert png_size(shot) == (412, 1400)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    if os.environ.get("PRESSWATCH_UPDATE_SCREENSHOT"):
        shutil.copy(shot, REPO / "docs" / "digest.png")

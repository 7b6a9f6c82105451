"""The HTML digest as a desk receives it: rendered by headless Chromium at phone width."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, copy_demo, run_cli

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


def test_the_html_digest_renders_on_a_phone(demo_digest, tmp_path):
    page = demo_digest
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


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


MEASURE = (
    "<script>document.title = 'bottom=' + Math.ceil("
    "document.getElementById('overview').getBoundingClientRect().bottom);</script>"
)


@pytest.fixture(scope="module")
def demo_digest(tmp_path_factory, demo) -> Path:
    """The demo's HTML digest of the last 30 days, written as a desk receives it."""
    assert demo.result.code == 0, demo.result.stderr
    folder = tmp_path_factory.mktemp("demo-digest")
    db = copy_demo(demo, folder)
    page = folder / "digest.html"
    result = run_cli(
        "digest", "--db", str(db), "--since", "30d", "--format", "html", "--output", str(page)
    )
    assert result.code == 0, result.stderr
    return page


@pytest.mark.slow
def test_the_overview_fits_the_first_screen_of_a_phone(demo_digest, tmp_path):
    """At 412×915 (a large phone) the topics, their bars and the edits to read first end
    above the fold. The mail itself has no script: a copy gets one that measures it."""
    html = demo_digest.read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<svg" not in html.lower()
    assert 'id="overview"' in html and ">Stories <span" in html
    measured = tmp_path / "measured.html"
    measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--window-size=412,915", "--dump-dom", measured.as_uri()).stdout
    match = re.search(r"<title>bottom=(\d+)</title>", dom)
    assert match, dom[:500]
    assert int(match.group(1)) < 915

    shot = tmp_path / "digest-phone.png"
    chromium(tmp_path, "--window-size=412,915", f"--screenshot={shot}", demo_digest.as_uri())
    assert png_size(shot) == (412, 915)
    assert shot.stat().st_size > 20_000


@pytest.mark.slow
def test_the_screenshots_in_the_docs_are_made_by_a_script(tmp_path, demo):
    """tools/screenshots.py makes docs/digest.png, dashboard.png and article.png from the
    demo; run here into a temporary folder (from the demo database the other tests
    read), it proves they can be remade as they are."""
    db = copy_demo(demo, tmp_path / "demo")
    script = REPO / "tools" / "screenshots.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    sizes = {
        name: png_size(tmp_path / name) for name in ("digest.png", "dashboard.png", "article.png")
    }
    assert sizes == {
        "digest.png": (412, 915),
        "dashboard.png": (1000, 900),
        "article.png": (1000, 560),
    }
    for name in sizes:
        assert (REPO / "docs" / name).exists(), f"docs/{name} is missing: run tools/screenshots.py"
        assert (tmp_path / name).stat().st_size > 20_000  # a rendered page, not a blank one

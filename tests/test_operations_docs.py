"""The crontab and the systemd units in docs/operations.md and docs/digest.md work as
written: each command line is run with the example paths (/srv/presswatch, ...) moved
into a temporary folder, against the served sample site and a real SMTP server."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from conftest import REPO, SITES, free_port
from test_mail import Inbox

from crawler.demo.localsite import LocalSite

DOCS = REPO / "docs"
UNIT = re.compile(r"`/etc/systemd/system/([\w.-]+)`:\s*\n\s*```ini\n(.*?)```", re.S)
CRONTAB = re.compile(r"```crontab\n(.*?)```", re.S)
EXAMPLE_PATHS = ("/srv/presswatch", "/var/log/presswatch", "/etc/presswatch")


def crontab_lines(doc: Path) -> list[tuple[str, str]]:
    """(schedule, command) of every line of the doc's crontab blocks."""
    lines = []
    for block in CRONTAB.findall(doc.read_text(encoding="utf-8")):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                fields = line.split(None, 5)
                lines.append((" ".join(fields[:5]), fields[5]))
    return lines


def units() -> dict[str, dict[str, str]]:
    """Each documented unit file: its keys (the last value of a repeated key)."""
    found = {}
    for name, text in UNIT.findall((DOCS / "operations.md").read_text(encoding="utf-8")):
        keys = {}
        for line in text.splitlines():
            if "=" in line and not line.startswith(("#", "[")):
                key, value = line.split("=", 1)
                keys[key] = value
        found[name] = keys
    return found


class Machine:
    """The example paths of the docs, moved under ``root``, with presswatch installed at
    /srv/presswatch/venv/bin/presswatch and a config.toml for the sample site."""

    def __init__(self, root: Path, site: LocalSite, smtp_port: int) -> None:
        self.root = root
        for path in EXAMPLE_PATHS:
            self.here(path).mkdir(parents=True)
        program = self.here("/srv/presswatch/venv/bin/presswatch")
        program.parent.mkdir(parents=True)
        program.write_text(f'#!/bin/sh\nexec {sys.executable} -m crawler "$@"\n')
        program.chmod(0o755)
        (self.here("/srv/presswatch") / "config.toml").write_text(
            '[storage]\ndb = "presswatch.db"\n\n'
            "[crawl]\nallow_private_addresses = true\ntimeout = 10\nextract_workers = 1\n\n"
            '[[sources]]\nname = "News"\n'
            f'url = "{site.url("news/feed.xml")}"\n\n'
            '[[topics]]\nname = "Greenland"\nquery = "Greenland"\n\n'
            f'[digest.email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
            'from = "presswatch <pw@example.org>"\nto = ["desk@example.org"]\n',
            encoding="utf-8",
        )

    def here(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def substitute(self, text: str) -> str:
        for path in EXAMPLE_PATHS:
            text = text.replace(path, str(self.here(path)))
        return text

    @property
    def env(self) -> dict[str, str]:
        """Roughly cron's: a minimal PATH, so the documented program path must be right."""
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root),
            "SHELL": "/bin/sh",
            "PYTHONPATH": str(REPO),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }

    def cron(self, command: str) -> subprocess.CompletedProcess:
        """Run a crontab command as cron does: `/bin/sh -c`, with `\\%` meaning `%`."""
        command = self.substitute(command).replace("\\%", "%")
        return subprocess.run(
            ["/bin/sh", "-c", command],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.root,
            timeout=180,
        )

    def exec_start(self, unit: dict[str, str]) -> tuple[list[str], Path]:
        return (
            shlex.split(self.substitute(unit["ExecStart"])),
            Path(self.substitute(unit["WorkingDirectory"])),
        )


@pytest.fixture
def machine(tmp_path) -> Machine:
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with LocalSite(SITES / "basic") as site:
            box = Machine(tmp_path, site, port)
            box.inbox = inbox
            yield box
    finally:
        controller.stop()


def test_the_two_docs_show_one_crontab():
    operations, digest = crontab_lines(DOCS / "operations.md"), crontab_lines(DOCS / "digest.md")
    assert operations and operations == digest
    for schedule, _ in operations:
        CronTrigger.from_crontab(schedule)  # a valid cron schedule


@pytest.mark.slow
def test_the_documented_crontab_runs_as_written(machine):
    from crawler.storage.lock import DatabaseLock

    (_, run), (_, digest) = crontab_lines(DOCS / "operations.md")
    log = machine.here("/var/log/presswatch/run.log")
    shutil.rmtree(log.parent)  # the folder is created by the pass
    first = machine.cron(run)
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    assert "pass 1 ok" in log.read_text()

    sent = machine.cron(digest)
    assert sent.returncode == 0, sent.stderr
    [envelope] = machine.inbox.envelopes
    assert envelope.rcpt_tos == ["desk@example.org"]
    assert (
        "Greenland talks resume in Nuuk"
        in machine.inbox.message().get_body(("plain",)).get_content()
    )

    with DatabaseLock(machine.here("/srv/presswatch") / "presswatch.db"):  # a long pass
        skipped = machine.cron(run)
    assert (skipped.returncode, skipped.stdout, skipped.stderr) == (0, "", "")
    assert "pass skipped: " in log.read_text().splitlines()[-1]


@pytest.mark.slow
def test_the_documented_timer_services_run_as_written(machine):
    documented = units()
    assert {
        "presswatch-run.service",
        "presswatch-run.timer",
        "presswatch-digest.service",
        "presswatch-digest.timer",
        "presswatch.service",
    } <= set(documented)
    for name in ("presswatch-run.service", "presswatch-digest.service"):
        unit = documented[name]
        assert unit["Type"] == "oneshot"
        command, folder = machine.exec_start(unit)
        done = subprocess.run(
            command, cwd=folder, env=machine.env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, (name, done.stderr)
    assert len(machine.inbox.envelopes) == 1
    if shutil.which("systemd-analyze"):
        for name in ("presswatch-run.timer", "presswatch-digest.timer"):
            calendar = documented[name]["OnCalendar"]
            checked = subprocess.run(
                ["systemd-analyze", "calendar", calendar], capture_output=True, text=True
            )
            assert checked.returncode == 0, (name, checked.stderr)


@pytest.mark.slow
def test_the_documented_scheduler_service_starts_and_stops_on_sigterm(machine):
    unit = units()["presswatch.service"]
    assert unit["KillMode"] == "mixed"
    command, folder = machine.exec_start(unit)
    log = machine.root / "journal.log"
    with log.open("w") as journal:
        scheduler = subprocess.Popen(command, cwd=folder, env=machine.env, stderr=journal)
    try:
        deadline = time.monotonic() + 90
        while (
            not (
                "recheck: started" in log.read_text()
                and "poll every 15m: started" in log.read_text()
            )
            and time.monotonic() < deadline
        ):
            assert scheduler.poll() is None, log.read_text()
            time.sleep(0.2)
        assert "poll every 15m: started" in log.read_text(), log.read_text()
    finally:
        signalled = time.monotonic()
        scheduler.send_signal(signal.SIGTERM)
        code = scheduler.wait(timeout=int(unit["TimeoutStopSec"]))
    assert code == 0
    assert time.monotonic() - signalled < 2  # idle: well within TimeoutStopSec

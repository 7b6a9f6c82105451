"""Alerts end to end: real passes (`presswatch run`) over a site on 127.0.0.1 whose second
edition edits its articles, delivering through real Apprise to a loopback webhook."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from alert_receiver import Receiver, receiver
from conftest import SITES, rows, run_cli, start_cli, write_config

from crawler.demo.localsite import LocalSite

pytestmark = pytest.mark.slow

TOPICS = [
    ("coalition of the willing", '"coalition of the willing"'),
    ("Greenland", "Greenland"),
    ("Arctic rift", '"rift over Arctic patrols"'),
]
EDITION1, EDITION2 = SITES / "tracking" / "edition1", SITES / "tracking" / "edition2"


@pytest.fixture
def watched(tmp_path) -> Iterator[tuple[LocalSite, Receiver, object]]:
    with LocalSite(EDITION1) as site, receiver() as hook:
        notify = f'[[notify]]\nname = "desk"\nurl = "{hook.url()}"\n'
        config = write_config(tmp_path / "config.toml", site, [("Desk", "feed.xml")], TOPICS)
        config.write_text(config.read_text() + "\n" + notify)
        yield site, hook, config


def titles(hook: Receiver, start: int = 0) -> list[str]:
    return sorted(arrival.fields()["title"] for arrival in hook.arrivals[start:])


def test_a_pass_alerts_what_it_found_once(watched, tmp_path):
    site, hook, config = watched
    first = run_cli("run", "--config", str(config), "--json")
    assert first.code == 0, first.stderr
    assert titles(hook) == [
        "presswatch: Arctic rift in a new article",
        "presswatch: Greenland in a new article",
    ]
    greenland = next(a for a in hook.messages() if a.startswith("Greenland"))
    assert "Fishing quotas agreed for northern waters <http://127.0.0.1:" in greenland
    assert "Fishermen from Greenland will receive" in greenland

    site.root = EDITION2
    second = run_cli("run", "--config", str(config), "--recheck", "all", "--json")
    assert second.code == 0, second.stderr
    assert titles(hook, 2) == [
        "presswatch: Greenland removed by an edit",
        "presswatch: Headline changed",
        "presswatch: coalition of the willing added by an edit",
    ]
    by_title = {a.fields()["title"]: a.fields()["message"] for a in hook.arrivals[2:]}
    added = by_title["presswatch: coalition of the willing added by an edit"]
    assert "{+Officials said Rotterdam would also be a key hub if the coalition" in added
    removed = by_title["presswatch: Greenland removed by an edit"]
    assert "[-Fishermen from Greenland will receive" in removed
    headline = by_title["presswatch: Headline changed"]
    assert "[-Minister denies rift over Arctic patrols-] → {+Minister admits" in headline

    idle = run_cli("run", "--config", str(config), "--recheck", "all", "--json")
    assert idle.code == 0, idle.stderr
    assert len(hook.arrivals) == 5  # an idle pass sends nothing
    outbox = rows(
        tmp_path / "test.db", "SELECT status, count(*) AS n FROM notifications GROUP BY 1"
    )
    assert outbox == [{"status": "sent", "n": 5}]


def test_a_silent_pass_queues_and_sends_nothing(watched, tmp_path):
    _site, hook, config = watched
    result = run_cli("run", "--config", str(config), "--no-notify", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["mentions_new"] == 2
    assert hook.arrivals == []
    assert rows(tmp_path / "test.db", "SELECT * FROM notifications") == []


def test_a_kill_between_sending_and_marking_repeats_the_same_id(watched, tmp_path):
    _site, hook, config = watched
    with open(os.devnull, "wb") as nowhere:
        child = start_cli("run", "--config", str(config), "--quiet", stdout=nowhere, stderr=nowhere)
    hook.on_arrival = lambda arrival: os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=180) == -signal.SIGKILL
    hook.on_arrival = None
    db = tmp_path / "test.db"
    [in_doubt] = rows(db, "SELECT message_id FROM notifications WHERE status = 'sending'")
    first_id = hook.messages()[0].splitlines()[-1]
    assert first_id == f"presswatch alert {in_doubt['message_id']}"

    again = run_cli("notify", "send", "--config", str(config))
    assert again.code == 0, again.stderr
    ids = [message.splitlines()[-1] for message in hook.messages()]
    assert ids.count(first_id) == 2  # the one repeat, with the same id
    assert len(ids) == 3  # and the other alert, once
    assert rows(db, "SELECT DISTINCT status FROM notifications") == [{"status": "sent"}]

    idle = run_cli("notify", "send", "--config", str(config))
    assert idle.code == 0 and len(hook.arrivals) == 3

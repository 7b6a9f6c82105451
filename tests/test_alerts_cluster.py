"""Alerts in cluster mode: `presswatch ingest` queues and delivers the alerts of what the
workers found, through real Apprise to a loopback webhook (needs redis-server)."""

from __future__ import annotations

import pytest
from alert_receiver import receiver
from conftest import rows, write_config

pytest.importorskip("redis", reason="the cluster extra is not installed")
pytest.importorskip("scrapy_redis", reason="the cluster extra is not installed")

from clustering import SOURCES, TOPICS, cluster_pass

pytestmark = pytest.mark.slow


def test_ingest_delivers_the_alerts_of_a_cluster_pass(tmp_path, basic_site, make_cluster):
    with receiver() as hook:
        notify = f'[[notify]]\nname = "desk"\nurl = "{hook.url()}"\n'
        config = write_config(tmp_path / "config.toml", basic_site, SOURCES, TOPICS, notify)
        cluster_pass(make_cluster(config), workers=1)

        db = tmp_path / "test.db"
        mentions = rows(db, "SELECT article_id, topic_id FROM mentions")
        assert len(mentions) == 8
        queued = rows(db, "SELECT event_id, status, message_id FROM notifications")
        assert {row["event_id"] for row in queued} == {
            f"mention-{m['article_id']}-{m['topic_id']}" for m in mentions
        }
        assert {row["status"] for row in queued} == {"sent"}
        shown = {message.splitlines()[-1] for message in hook.messages()}
        assert shown == {f"presswatch alert {row['message_id']}" for row in queued}

"""Instant alerts: real Apprise delivering to a webhook receiver on 127.0.0.1 (its json://
and form:// targets) and to a real SMTP server (aiosmtpd), from a real database."""

from __future__ import annotations

import email
import email.policy
import html
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from alert_receiver import Receiver, receiver
from click.testing import CliRunner
from conftest import database_before, rows
from digest_fixtures import HOSTILE, Desk

from crawler.commands.main import cli
from crawler.config import ConfigError, parse_config
from crawler.outputs.alerts import deliver
from crawler.storage.migrations import SCHEMA_VERSION
from crawler.storage.store import Store
from crawler.tracking import alert_events

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FOUND = "2026-12-01T11:58:00Z"
TOPICS = [{"name": "Greenland", "query": "Greenland"}, {"name": "NATO", "query": "NATO"}]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    desk = Desk.open(tmp_path / "presswatch.db")
    for name in ("POLITICO", "Reuters", "AP"):
        desk.source(name)
    for topic in TOPICS:
        desk.topic(topic["name"])
    yield desk
    desk.store.close()


def config(*targets: dict, base_url: str | None = None, **digest):
    data = {"topics": TOPICS, "notify": list(targets)}
    if base_url:
        data["serve"] = {"base_url": base_url}
    if digest:
        data["digest"] = digest
    return parse_config(data, file="config.toml")


def new_article(desk: Desk, cfg, source: str, title: str, topics=("Greenland",), story=None):
    """An article as a pass stores it, and the alerts the recorder queues with it."""
    article = desk.article(source, title, FOUND)
    with desk.store.transaction():
        desk.store.update_article(article, {"story_id": story or article})
    for topic in topics:
        desk.mention(topic, article, FOUND, snippet=f"… the **{topic}** question …")
    with desk.store.transaction():
        desk.store.outbox.queue(
            alert_events.new_article(cfg.notify, desk.topics, article, topics, FOUND)
        )
    return article


def edit(desk: Desk, cfg, article: int, diff: str, *, before=(), after=(), title=None):
    change = desk.change(article, FOUND, diff=diff, title_after=title)
    with desk.store.transaction():
        desk.store.outbox.queue(
            alert_events.edited(
                cfg.notify, desk.topics, article, change, before, after, bool(title), FOUND
            )
        )
    return change


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [value for name, value in attrs if name == "href"]


def parsed(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


# --- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ({"url": "nosuch://x"}, "notify[0].url: Apprise cannot use nosuch://…"),
        ({"url_env": "PW_TEST_UNSET"}, "notify[0].url_env: the environment variable PW_TEST_UNSET"),
        ({"url": "json://h", "events": ["edit"]}, "notify[0].events: must be among mention"),
        ({"url": "json://h", "topics": ["Arctic"]}, "notify[0].topics: no topic named 'Arctic'"),
        ({"url": "json://h", "url_env": "X"}, "notify[0].url: give either 'url' or 'url_env'"),
        ({"url": "json://h", "min_significance": 2}, "min_significance: must be between 0 and 1"),
        ({"url": "json://h", "min_interval": "soon"}, "notify[0].min_interval:"),
    ],
)
def test_a_bad_target_is_refused_at_load_naming_file_key_and_reason(target, reason):
    with pytest.raises(ConfigError) as error:
        config({"name": "desk", **target})
    assert str(error.value).startswith("config.toml: ")
    assert reason in str(error.value)


def test_a_missing_environment_variable_is_exit_2_in_one_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[notify]]\nname = "desk"\nurl_env = "PW_TEST_UNSET"\n')
    result = CliRunner().invoke(cli, ["notify", "list", "--config", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"presswatch: error: {path}: notify[0].url_env: the environment variable "
        "PW_TEST_UNSET is not set"
    ]


def test_the_digest_names_only_configured_targets():
    with pytest.raises(ConfigError, match=r"digest\.notify: no \[\[notify\]\] target named 'x'"):
        config(notify=["x"])


def test_the_upgrade_adds_the_outbox_to_a_database_of_the_previous_schema(tmp_path):
    database_before(tmp_path / "old.db", SCHEMA_VERSION - 1).close()
    store = Store.open(tmp_path / "old.db")
    try:
        columns = {row[1] for row in store.db.execute("PRAGMA table_info(notifications)")}
    finally:
        store.close()
    assert {"event_id", "target", "event", "status", "message_id", "answer"} <= columns


# --- content -------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["json", "form"])
def test_a_mention_arrives_with_headline_outlet_time_snippet_and_link(desk, hook, scheme):
    cfg = config({"name": "desk", "url": hook.url(scheme)})
    article = new_article(desk, cfg, "POLITICO", "Greenland votes on its future")

    [result] = deliver(desk.store, cfg, now=NOW)

    assert result.sent == [f"pw-mention-{article}-{desk.topics['Greenland']}"]
    [arrival] = hook.arrivals
    fields = arrival.fields()
    assert fields["title"] == "presswatch: Greenland in a new article"
    assert fields["message"].splitlines() == [
        "Greenland in a new article",
        "Greenland votes on its future <https://politico.example/greenland-votes-on-its-future>",
        "POLITICO · 2026-12-01 11:58 UTC",
        "… the Greenland question …",
        "",
        f"presswatch alert {result.sent[0]}",
    ]
    [row] = rows(desk.store.path, "SELECT status, message_id, answer FROM notifications")
    assert row["status"] == "sent" and row["message_id"] == result.sent[0]
    assert row["answer"].startswith("Sent ")


def test_hostile_headlines_stay_text_in_markdown_and_html(desk, hook):
    markdown_it = pytest.importorskip("markdown_it")
    cfg = config(
        {"name": "md", "url": hook.url("json", "/md?format=markdown")},
        {"name": "html", "url": hook.url("json", "/html?format=html")},
    )
    article = desk.article("POLITICO", HOSTILE, FOUND)
    desk.mention("Greenland", article, FOUND, snippet=f"… {HOSTILE} **Greenland** <img src=x> …")
    with desk.store.transaction():
        desk.store.outbox.queue(
            alert_events.new_article(cfg.notify, desk.topics, article, ["Greenland"], FOUND)
        )

    deliver(desk.store, cfg, now=NOW)

    by_path = {a.path.split("?")[0]: a.fields()["message"] for a in hook.arrivals}
    page = markdown_it.MarkdownIt("commonmark").render(by_path["/md"])
    for rendered in (page, by_path["/html"]):
        tags = parsed(rendered)
        assert not {"script", "img"} & set(tags.tags)
        assert all(href.startswith("https://politico.example/") for href in tags.hrefs)
        assert len(tags.hrefs) == 1
        assert html.escape("<script>alert(1)</script>", quote=False) in rendered
    assert "<b>Greenland</b>" in by_path["/html"]
    assert "<strong>Greenland</strong>" in page


def test_an_added_mention_shows_the_changed_sentence_and_the_full_diff_link(desk, hook):
    cfg = config(
        {"name": "text", "url": hook.url("json", "/text")},
        {"name": "html", "url": hook.url("form", "/html?format=html")},
        base_url="https://presswatch.example.org",
    )
    article = desk.article("Reuters", "Arctic talks resume", FOUND)
    desk.mention("Greenland", article, FOUND)
    diff = (
        "Talks resumed on Monday.\n"
        "The minister said [-Denmark-]{+Greenland+} would decide. Nothing else changed."
    )
    change = edit(desk, cfg, article, diff, after=("Greenland",))

    deliver(desk.store, cfg, now=NOW)

    by_path = {a.path.split("?")[0]: a.fields()["message"] for a in hook.arrivals}
    text = by_path["/text"].splitlines()
    assert text[0] == "Greenland added by an edit"
    assert "The minister said [-Denmark-]{+Greenland+} would decide." in text
    assert f"The full diff <https://presswatch.example.org/-/presswatch/diff/{change}>" in text
    assert "Talks resumed" not in by_path["/text"]
    assert "said <del>Denmark</del><ins>Greenland</ins> would decide." in by_path["/html"]
    assert f'href="https://presswatch.example.org/-/presswatch/diff/{change}"' in by_path["/html"]


def test_a_new_headline_shows_before_and_after(desk, hook):
    cfg = config({"name": "desk", "url": hook.url()})
    article = desk.article("AP", "Minister denies rift", FOUND)
    desk.mention("NATO", article, FOUND)
    change = edit(
        desk, cfg, article, None, before=("NATO",), after=("NATO",), title="Minister admits rift"
    )

    [result] = deliver(desk.store, cfg, now=NOW)

    assert result.sent == [f"pw-headline-{change}"]
    message = hook.messages()[0].splitlines()
    assert message[:2] == [
        "Headline changed",
        "[-Minister denies rift-] → {+Minister admits rift+}",
    ]


def test_syndicated_copies_in_one_delivery_are_one_message(desk, hook):
    cfg = config({"name": "desk", "url": hook.url()})
    first = new_article(desk, cfg, "POLITICO", "Greenland votes")
    new_article(desk, cfg, "Reuters", "Greenland votes (wire)", story=first)
    new_article(desk, cfg, "AP", "Greenland votes (AP)", story=first)
    new_article(desk, cfg, "AP", "Another Greenland story")

    [result] = deliver(desk.store, cfg, now=NOW)

    assert len(result.sent) == len(hook.arrivals) == 2
    syndicated = hook.messages()[0]
    assert "POLITICO · 2026-12-01 11:58 UTC · also in 2 outlets: AP, Reuters" in syndicated
    statuses = rows(desk.store.path, "SELECT DISTINCT status FROM notifications")
    assert statuses == [{"status": "sent"}]


def test_a_message_stays_within_the_service_size_limit(desk, hook):
    cfg = config({"name": "ntfy-sized", "url": hook.url()})
    article = desk.article("POLITICO", "Greenland " * 400, FOUND)
    desk.mention("Greenland", article, FOUND, snippet="**Greenland** " + "word " * 3000)
    with desk.store.transaction():
        desk.store.outbox.queue(
            alert_events.new_article(cfg.notify, desk.topics, article, ["Greenland"], FOUND)
        )
    from crawler.outputs.alerts import messages

    [item] = messages.group(desk.store.outbox.due("ntfy-sized", "9999"))
    small = messages.compose([item], messages.TEXT, max_body=500, max_title=40, diff_links={})
    assert len(small.body) <= 500 and len(small.title) <= 40
    assert small.body.endswith(small.id)

    deliver(desk.store, cfg, now=NOW)
    assert len(hook.messages()[0]) < 1500  # headline and snippet are cut to a few hundred


# --- routing and batching --------------------------------------------------------------


def test_targets_get_only_their_topics_and_events(desk, hook):
    cfg = config(
        {"name": "greenland", "url": hook.url("json", "/g"), "topics": ["Greenland"]},
        {"name": "edits", "url": hook.url("json", "/e"), "events": ["mention_removed"]},
    )
    new_article(desk, cfg, "POLITICO", "Greenland votes")
    nato = new_article(desk, cfg, "AP", "NATO meets", topics=("NATO",))
    edit(desk, cfg, nato, "[-NATO said so.-]", before=("NATO",), after=())

    deliver(desk.store, cfg, now=NOW)

    titles = [(a.path, a.fields()["title"]) for a in hook.arrivals]
    assert sorted(titles) == [
        ("/e", "presswatch: NATO removed by an edit"),
        ("/g", "presswatch: Greenland in a new article"),
    ]


def test_min_interval_batches_alerts_into_one_message_per_interval(desk, hook):
    cfg = config({"name": "desk", "url": hook.url(), "min_interval": "10m"})
    new_article(desk, cfg, "POLITICO", "Greenland votes")
    new_article(desk, cfg, "AP", "NATO meets", topics=("NATO",))

    [first] = deliver(desk.store, cfg, now=NOW)
    assert len(first.sent) == 1 and hook.arrivals[0].fields()["title"] == "presswatch: 2 alerts"

    new_article(desk, cfg, "Reuters", "Greenland again")
    [held] = deliver(desk.store, cfg, now=NOW + timedelta(minutes=5))
    assert held.waiting and not held.sent and len(hook.arrivals) == 1

    [later] = deliver(desk.store, cfg, now=NOW + timedelta(minutes=11))
    assert len(later.sent) == 1 and "Greenland again" in hook.messages()[1]


def test_nothing_is_sent_when_nothing_is_new(desk, hook):
    cfg = config({"name": "desk", "url": hook.url()})
    new_article(desk, cfg, "POLITICO", "Greenland votes")
    deliver(desk.store, cfg, now=NOW)
    [idle] = deliver(desk.store, cfg, now=NOW + timedelta(minutes=15))
    assert idle.sent == idle.failed == []
    assert len(hook.arrivals) == 1


# --- failures --------------------------------------------------------------------------


def test_a_refusal_is_retried_with_backoff_and_the_same_id(desk, hook, tmp_path, monkeypatch):
    secret = "T0KEN-s3cr3t-abcdef"
    monkeypatch.setenv("PW_TEST_HOOK", hook.url("json", f"/hooks/{secret}"))
    cfg = config({"name": "desk", "url_env": "PW_TEST_HOOK"})
    new_article(desk, cfg, "POLITICO", "Greenland votes")
    hook.statuses = [500]

    [failed] = deliver(desk.store, cfg, now=NOW)
    assert failed.failed and not failed.sent
    [error] = rows(desk.store.path, "SELECT stage, message FROM errors")
    assert error["stage"] == "notify"
    assert "desk (json://… ($PW_TEST_HOOK)) failed" in error["message"]
    assert "500" in error["message"] and secret not in error["message"]

    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[storage]\ndb = "{desk.store.path}"\n[[topics]]\nname = "Greenland"\n'
        'query = "Greenland"\n[[notify]]\nname = "desk"\nurl_env = "PW_TEST_HOOK"\n'
    )
    shown = CliRunner().invoke(cli, ["status", "--config", str(config_file)])
    assert "Alert targets failing:" in shown.output
    assert "alert target desk failing since 2026-12-01T12:00:00Z" in shown.output
    listed = CliRunner().invoke(cli, ["notify", "list", "--config", str(config_file)])
    assert "desk  json://… ($PW_TEST_HOOK)" in listed.output and secret not in listed.output
    pending = CliRunner().invoke(cli, ["notify", "pending", "--config", str(config_file)])
    assert "-> desk  pending, 1 attempt(s), next try 2026-12-01T12:01:00Z" in pending.output

    [early] = deliver(desk.store, cfg, now=NOW + timedelta(seconds=30))
    assert not early.sent and len(hook.arrivals) == 1  # not due before its backoff

    [retried] = deliver(desk.store, cfg, now=NOW + timedelta(minutes=1))
    assert retried.sent == failed.failed
    ids = [message.splitlines()[-1] for message in hook.messages()]
    assert ids == [f"presswatch alert {failed.failed[0]}"] * 2
    again = CliRunner().invoke(cli, ["status", "--config", str(config_file)])
    assert "Alert targets failing" not in again.output


def test_a_change_below_min_significance_is_not_sent(desk, hook):
    cfg = config({"name": "desk", "url": hook.url(), "min_significance": 0.5})
    article = desk.article("AP", "NATO meets", FOUND)
    desk.mention("NATO", article, FOUND)
    low = edit(desk, cfg, article, "[-NATO said so.-]", before=("NATO",), after=())
    desk.store.db.conn.execute("UPDATE changes SET significance = 0.1 WHERE id = ?", [low])
    desk.store.db.conn.commit()

    [result] = deliver(desk.store, cfg, now=NOW)

    assert result.skipped == 1 and not hook.arrivals
    [row] = rows(desk.store.path, "SELECT status FROM notifications")
    assert row["status"] == "skipped"


# --- commands and mail -----------------------------------------------------------------


def test_notify_test_prints_the_service_answer(hook, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[[notify]]\nname = "desk"\nurl = "{hook.url()}"\n')
    sent = CliRunner().invoke(cli, ["notify", "test", "desk", "--config", str(path)])
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith("desk (json://…): sent: Sent JSON")
    assert hook.arrivals[0].fields()["title"] == "presswatch: test message"

    hook.statuses = [503]
    refused = CliRunner().invoke(cli, ["notify", "test", "desk", "--config", str(path)])
    assert refused.exit_code == 1 and "failed" in refused.output and "503" in refused.output

    unknown = CliRunner().invoke(cli, ["notify", "test", "nope", "--config", str(path)])
    assert unknown.exit_code == 2 and "no [[notify]] target named 'nope'" in unknown.output


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    from test_mail import Inbox, free_port

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_an_alert_arrives_by_mail_as_escaped_html(desk, smtp):
    inbox, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=alerts@example.org&to=desk@example.org&mode=insecure"
    cfg = config({"name": "mail", "url": url})
    article = desk.article("POLITICO", HOSTILE, FOUND)
    desk.mention("Greenland", article, FOUND)
    with desk.store.transaction():
        desk.store.outbox.queue(
            alert_events.new_article(cfg.notify, desk.topics, article, ["Greenland"], FOUND)
        )

    [result] = deliver(desk.store, cfg, now=NOW)

    assert result.sent, rows(desk.store.path, "SELECT * FROM errors")
    message = email.message_from_bytes(
        inbox.envelopes[0].original_content, policy=email.policy.default
    )
    assert message["Subject"] == "presswatch: Greenland in a new article"
    assert inbox.envelopes[0].rcpt_tos == ["desk@example.org"]
    body = message.get_body(("html",)).get_content()
    tags = parsed(body)
    assert "script" not in tags.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert [h for h in tags.hrefs if "politico" in h] == [
        "https://politico.example/%3Cscript%3Ealert(1)%3C/script%3E-%5Bx%5D(javascript:alert(1))"
    ]
    assert f"presswatch alert {result.sent[0]}" in body


def test_the_digest_goes_to_its_notify_targets(desk, hook, tmp_path):
    new_article(desk, config(), "POLITICO", "Greenland votes")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\ndb = "{desk.store.path}"\n[digest]\nnotify = ["desk"]\n'
        f'[[topics]]\nname = "Greenland"\nquery = "Greenland"\n'
        f'[[notify]]\nname = "desk"\nurl = "{hook.url("json", "/digest?format=markdown")}"\n'
    )
    result = CliRunner().invoke(
        cli, ["digest", "--config", str(path), "--since", "1000d", "--send"]
    )
    assert result.exit_code == 0, result.output
    [arrival] = hook.arrivals
    assert arrival.fields()["title"].startswith("presswatch digest: ")
    assert "Greenland votes" in arrival.fields()["message"]
    assert json.loads(arrival.body)["type"] == "info"


@pytest.mark.parametrize(
    "web_text",
    ["# Big news", "1. First", "- item", "> quoted", "**loud**", "`code`", "<b>x</b>", "a_b_c *d*"],
)
def test_web_text_is_never_markdown_markup(web_text):
    markdown_it = pytest.importorskip("markdown_it")
    from crawler.outputs.alerts.formats import MARKDOWN

    page = markdown_it.MarkdownIt("commonmark").render(MARKDOWN.text(web_text))
    assert set(parsed(page).tags) == {"p"}
    assert html.escape(web_text, quote=False) in page

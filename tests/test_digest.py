"""The digest: periods, what is collected, every format, escaping, recording, --unsent."""

from __future__ import annotations

import html
import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from digest_fixtures import HOSTILE, Desk, sample_day
from hypothesis import given
from hypothesis import strategies as st

from crawler.config import Config, ConfigError, DigestConfig, EmailSettings, parse_config
from crawler.outputs.digest import (
    FORMATS,
    DigestError,
    Period,
    collect,
    make_digest,
    mark_sent,
    markdown_escape,
    oneline,
    record_digest,
    render,
    resolve_period,
)

DAY = Period("2026-11-24T07:00:00Z", "2026-11-25T07:00:00Z")
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    desk = sample_day(Desk.open(tmp_path / "t.db"))
    yield desk
    desk.store.close()


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[Desk]:
    """A database with sources and topics but nothing found yet."""
    desk = Desk.open(tmp_path / "quiet.db")
    desk.source("Brussels Ledger")
    desk.topic("NATO")
    yield desk
    desk.store.close()


def titles(digest, topic: str) -> list[str]:
    return [m.title for t in digest.topics if t.name == topic for m in t.mentions]


# --- what is collected ----------------------------------------------------------------


def test_mentions_are_grouped_by_topic_newest_story_first(desk):
    digest = collect(desk.store, DAY)
    assert [t.name for t in digest.topics] == ["coalition of the willing", "Greenland", "NATO"]
    assert titles(digest, "coalition of the willing") == [
        "Coalition logistics hub opens in Rzeszów",
        "Coalition of the willing firms up troop pledges",
    ]
    # a date-only publication sorts before earlier timestamps; the start is inside
    assert titles(digest, "Greenland") == [
        "EU ministers open Greenland talks",
        "Pituffik radar upgrade approved",
    ]
    # the mention found on the period's end, and the one the day before, are outside
    assert titles(digest, "NATO") == ["Coalition of the willing firms up troop pledges"]
    first = digest.topics[0].mentions[1]
    assert first.outlet == "Brussels Ledger"
    assert first.published_at == "2026-11-24T08:30:00Z"
    assert first.in_title is True
    assert first.snippet == "… the **coalition of the willing** met in Paris to firm up …"


def test_an_article_is_listed_once_per_topic_it_mentions(desk):
    digest = collect(desk.store, DAY)
    listed = Counter((t.name, m.url) for t in digest.topics for m in t.mentions)
    assert set(listed.values()) == {1}
    pledges = "https://brussels-ledger.example/coalition-of-the-willing-firms-up-troop-pledges"
    assert sorted(topic for topic, url in listed if url == pledges) == [
        "NATO",
        "coalition of the willing",
    ]


def test_counts(desk):
    digest = collect(desk.store, DAY)
    counts = digest.counts
    assert (counts.mentions, counts.articles, counts.topics) == (5, 4, 3)
    assert (counts.edits, counts.sources_with_problems) == (2, 2)
    # the pledges story mentions two topics: it is one story, listed once
    assert counts.stories == 4
    assert digest.item_count == counts.items == 4 + 2
    assert digest.summary() == (
        "5 mentions of 3 topics in 4 articles, 2 edited stories, 2 sources with problems"
    )


def test_edited_stories_newest_first_with_headlines_topics_and_excerpt(desk):
    edited, retitled = collect(desk.store, DAY).edits
    assert edited.kind == "edited" and edited.detected_at == "2026-11-24T21:05:00Z"
    assert edited.excerpt == "The minister [-said-]{+denied+} that pledges were final."
    assert edited.topics == ("coalition of the willing", "NATO")
    assert edited.topics_added == ("Ukraine",) and edited.topics_removed == ()
    assert not edited.retitled
    assert retitled.retitled
    assert retitled.title == "NATO summit moves to Lisbon after Madrid falls through"
    assert retitled.title_before == "NATO summit planning moves to Lisbon"
    assert retitled.outlet == "Atlantic Defence Daily"


def test_source_health_counts_fetch_and_feed_errors_and_failed_sources(desk):
    failed, erring = collect(desk.store, DAY).source_health
    assert (failed.name, failed.status, failed.errors) == ("Brussels Ledger", "failed", 0)
    assert failed.last_error == "unreadable feed: not XML"
    assert failed.last_error_at == "2026-11-25T06:00:00Z"
    assert (erring.name, erring.errors) == ("Nordic Security Review", 2)  # not 'extract'
    assert erring.last_error == "HTTP 503 Service Unavailable"
    assert erring.last_error_at == "2026-11-24T22:00:00Z"


def test_topic_filter_limits_mentions_and_edits(desk):
    greenland = collect(desk.store, DAY, ["Greenland"])
    assert [t.name for t in greenland.topics] == ["Greenland"]
    assert greenland.edits == ()
    assert len(greenland.source_health) == 2  # sources are not about a topic
    nato = collect(desk.store, DAY, ["NATO"])
    assert len(nato.edits) == 2 and nato.item_count == 3


def test_an_unknown_topic_is_an_error_naming_the_known_ones(desk):
    with pytest.raises(DigestError, match=r"--topic 'Ukraine': no such topic.*'NATO'"):
        collect(desk.store, DAY, ["Ukraine"])


# --- formats --------------------------------------------------------------------------


def test_json_has_the_documented_structure(desk):
    data = json.loads(render(collect(desk.store, DAY), "json"))
    assert list(data)[:6] == ["version", "period", "counts", "topics", "edits", "source_health"]
    assert list(data)[6:] == ["stories", "overview"]  # added in the same version: fields only
    assert data["version"] == 1
    assert data["period"] == {"start": "2026-11-24T07:00:00Z", "end": "2026-11-25T07:00:00Z"}
    assert data["counts"] == {
        "items": 6,
        "mentions": 5,
        "articles": 4,
        "topics": 3,
        "edits": 2,
        "sources_with_problems": 2,
        "stories": 4,
    }
    assert set(data["topics"][0]) == {"name", "mentions"}
    assert set(data["topics"][0]["mentions"][0]) == {
        "title",
        "url",
        "outlet",
        "published_at",
        "found_at",
        "snippet",
        "in_title",
        "also_in",
    }
    assert set(data["edits"][0]) == {
        "kind",
        "detected_at",
        "title",
        "title_before",
        "title_after",
        "url",
        "outlet",
        "topics",
        "topics_added",
        "topics_removed",
        "excerpt",
        "chars_added",
        "chars_removed",
        "redirect_url",
        "change_id",
        "diff_url",
        "kinds",
        "significance",
    }
    pledges = data["stories"][1]
    assert pledges["title"] == "Coalition of the willing firms up troop pledges"
    assert pledges["topics"] == ["coalition of the willing", "NATO"] and pledges["edited"]
    assert data["overview"]["days"][0] == "2026-11-12" and len(data["overview"]["days"]) == 14
    nato = data["overview"]["topics"][2]
    assert nato["name"] == "NATO" and nato["mentions"] == 1
    assert nato["per_day"][-3:] == [1, 1, 0]  # the 23rd (before the period) counts in the bars
    assert set(data["source_health"][0]) == {
        "name",
        "url",
        "status",
        "errors",
        "last_error",
        "last_error_at",
    }


def test_atom_is_a_valid_feed_with_one_entry_per_mention(desk):
    feed = feedparser.parse(render(collect(desk.store, DAY), "atom"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == 5
    assert len({entry.id for entry in feed.entries}) == 5
    first = feed.entries[0]
    assert first.title == "[coalition of the willing] Coalition logistics hub opens in Rzeszów"
    assert first.link.startswith("https://atlantic-defence-daily.example/coalition-logistics")
    assert first.updated == "2026-11-24T15:00:00Z"
    assert "coalition of the willing" in first.summary
    assert "<strong>coalition of the willing</strong>" in first.summary


def test_markdown_shows_sections_links_and_details(desk):
    text = render(collect(desk.store, DAY), "markdown")
    assert text.startswith("# presswatch digest, 2026-11-25\n")
    assert "- **coalition of the willing**: 2 mentions · `▁▁▁▁▁▁▁▁▁▁▁▁█▁`" in text
    assert "## Stories (4)" in text
    # once in the edits to read first, once as a story, once as an edited story
    assert text.count("Coalition of the willing firms up troop pledges](") == 3
    assert "  Topics: coalition of the willing, NATO\n" in text
    assert (
        "- **[EU ministers open Greenland talks]"
        "(<https://brussels-ledger.example/eu-ministers-open-greenland-talks>)** — "
        "Brussels Ledger, 2026-11-24 (in the headline)"
    ) in text
    assert "  > … the **coalition of the willing** met in Paris to firm up …" in text
    assert "## Edited stories (2)" in text
    assert "  - Headline before: NATO summit planning moves to Lisbon" in text
    assert "  - Change: The minister [-said-]{+denied+} that" in text  # readable, not escaped
    assert (
        "- **Nordic Security Review**: 2 errors in this period, the last at "
        "2026-11-24 22:00 UTC: HTTP 503 Service Unavailable"
    ) in text


def test_plain_text_reads_without_markup(desk):
    text = render(collect(desk.store, DAY), "text")
    assert "== Stories (4) ==" in text
    assert "  ▁▁▁▁▁▁▁▁▁▁▁▄▄▁  NATO: 1 mention\n" in text
    assert "  [coalition of the willing] [NATO]\n" in text
    talks = "* EU ministers open Greenland talks\n  [Greenland]\n  Brussels Ledger, 2026-11-24"
    assert talks in text
    assert "  https://brussels-ledger.example/eu-ministers-open-greenland-talks" in text
    assert "  The minister [-said-]{+denied+} that pledges were final." in text
    assert "<" not in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]


def test_html_is_self_contained_and_email_safe(desk):
    page = render(collect(desk.store, DAY), "html")
    parsed = _Tags()
    parsed.feed(page)
    assert '<meta name="viewport"' in page
    assert not {"script", "style", "link", "img", "iframe"} & set(parsed.tags)
    assert all(
        value.startswith("https://") for tag, name, value in parsed.attrs if name in ("href", "src")
    )
    assert "<mark style=" in page
    assert '<del style="' in page and ">said</del>" in page


def test_every_format_renders(desk):
    digest = collect(desk.store, DAY)
    for fmt in FORMATS:
        assert "Rzeszów" in render(digest, fmt)
    with pytest.raises(DigestError, match="unknown format 'pdf'"):
        render(digest, "pdf")


# --- hostile text from the web -----------------------------------------------------------


@pytest.fixture
def hostile(quiet: Desk) -> Desk:
    article = quiet.article("Brussels Ledger", HOSTILE, "2026-11-24T12:00:00Z")
    quiet.mention(
        "NATO",
        article,
        "2026-11-24T12:00:00Z",
        snippet=f"… {HOSTILE} **NATO** <img src=x onerror=alert(1)> …",
    )
    odd = quiet.article(
        "Brussels Ledger", "A javascript: link", "2026-11-24T13:00:00Z", url="javascript:alert(1)"
    )
    quiet.mention("NATO", odd, "2026-11-24T13:00:00Z")
    return quiet


def test_hostile_headlines_are_text_in_html(hostile):
    page = render(collect(hostile.store, DAY), "html")
    parsed = _Tags()
    parsed.feed(page)
    assert not {"script", "img"} & set(parsed.tags)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1))" in page
    assert all(
        not value.lower().startswith("javascript:")
        for tag, name, value in parsed.attrs
        if name == "href"
    )
    assert "NATO</mark> &lt;img src=x onerror=alert(1)&gt; …" in page


def test_hostile_headlines_are_text_in_markdown(hostile):
    markdown_it = pytest.importorskip("markdown_it")
    text = render(collect(hostile.store, DAY), "markdown")
    assert "<script>" not in text and "](javascript:" not in text
    page = markdown_it.MarkdownIt("commonmark").render(text)
    parsed = _Tags()
    parsed.feed(page)
    assert not {"script", "img"} & set(parsed.tags)
    hrefs = [value for tag, name, value in parsed.attrs if name == "href"]
    assert hrefs == [
        "https://brussels-ledger.example/"
        "%3Cscript%3Ealert(1)%3C/script%3E-%5Bx%5D(javascript:alert(1))"
    ]
    assert html.escape(HOSTILE, quote=False) in page
    assert "A javascript: link" in page


def test_hostile_headlines_are_text_in_atom(hostile):
    raw = render(collect(hostile.store, DAY), "atom")
    assert "<script>" not in raw
    feed = feedparser.parse(raw)
    assert not feed.bozo
    assert feed.entries[1].title == f"[NATO] {HOSTILE}"
    assert 'href="javascript' not in raw  # javascript: is never a link
    assert feed.entries[0].id == "urn:presswatch:mention:javascript%3Aalert%281%29:NATO"
    assert "<script>" not in feed.entries[1].summary


@given(st.text(max_size=80))
def test_markdown_escape_always_shows_the_text_itself(text):
    markdown_it = pytest.importorskip("markdown_it")
    page = markdown_it.MarkdownIt("commonmark").render("x " + markdown_escape(text))
    assert page.startswith("<p>") and page.endswith("</p>\n")
    assert "<" not in page[3:-5]  # no element: no link, no emphasis, no HTML
    assert oneline(html.unescape(page[3:-5])) == oneline(f"x {text}")


# --- an empty period ----------------------------------------------------------------------


def test_a_period_with_nothing_new_is_one_line(quiet):
    digest = collect(quiet.store, DAY)
    line = "Nothing new between 2026-11-24 07:00 UTC and 2026-11-25 07:00 UTC.\n"
    assert render(digest, "markdown") == line
    assert render(digest, "text") == line
    assert line.strip() in render(digest, "html")
    assert json.loads(render(digest, "json"))["topics"] == []
    feed = feedparser.parse(render(digest, "atom"))
    assert not feed.bozo and feed.entries == []


def test_failing_sources_still_show_on_a_quiet_day(quiet):
    quiet.polled("Brussels Ledger", "2026-11-25T06:00:00Z", "failed", "HTTP 500")
    text = render(collect(quiet.store, DAY), "markdown")
    assert text.startswith("Nothing new between")
    assert "- **Brussels Ledger**: last poll failed at 2026-11-25 06:00 UTC: HTTP 500" in text


# --- the period -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "start"),
    [
        (None, "2026-11-24T07:00:00Z"),
        ("24h", "2026-11-24T07:00:00Z"),
        ("90m", "2026-11-25T05:30:00Z"),
        ("7d", "2026-11-18T07:00:00Z"),
        ("1h30m", "2026-11-25T05:30:00Z"),
        ("2026-11-23T06:00Z", "2026-11-23T06:00:00Z"),
        ("2026-11-23T06:00:00+01:00", "2026-11-23T05:00:00Z"),
        ("2026-11-23", "2026-11-23T00:00:00Z"),
    ],
)
def test_since_takes_a_duration_or_an_iso_time(quiet, since, start):
    assert resolve_period(quiet.store, since, False, NOW) == Period(start, "2026-11-25T07:00:00Z")


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("yesterday", "not a time"),
        ("24", "not a time"),
        ("2026-13-01", "not a time"),
        ("0h", "must be positive"),
        ("3 weeks", "not a duration"),
        ("2026-11-26T00:00Z", "is not before now"),
    ],
)
def test_bad_since_values_are_clear_errors(quiet, since, message):
    with pytest.raises(DigestError, match=message) as caught:
        resolve_period(quiet.store, since, False, NOW)
    assert str(caught.value).startswith("--since ")


def test_since_and_unsent_together_is_an_error(quiet):
    with pytest.raises(DigestError, match="either --since or --unsent"):
        resolve_period(quiet.store, "24h", True, NOW)


def test_unsent_starts_after_the_last_delivered_digest(quiet):
    assert resolve_period(quiet.store, None, True, NOW) == Period(None, "2026-11-25T07:00:00Z")
    sent = record_digest(quiet.store, Period(None, "2026-11-23T07:00:00Z"), "markdown", 0)
    record_digest(
        quiet.store, Period("2026-11-23T07:00:00Z", "2026-11-24T07:00:00Z"), "markdown", 3
    )  # never delivered
    mark_sent(quiet.store, sent, "2026-11-23T07:00:05Z", ["desk@example.org"])
    assert resolve_period(quiet.store, None, True, NOW).start == "2026-11-23T07:00:00Z"


def test_record_digest_and_mark_sent_write_the_row(quiet):
    digest_id = record_digest(quiet.store, DAY, "html", 7, created_at="2026-11-25T07:00:00Z")
    mark_sent(quiet.store, digest_id, "2026-11-25T07:00:02Z", ["a@example.org", "b@example.org"])
    assert quiet.store.db["digests"].get(digest_id) == {
        "id": digest_id,
        "created_at": "2026-11-25T07:00:00Z",
        "period_start": "2026-11-24T07:00:00Z",
        "period_end": "2026-11-25T07:00:00Z",
        "format": "html",
        "sent_at": "2026-11-25T07:00:02Z",
        "recipients": "a@example.org, b@example.org",
        "item_count": 7,
        "status": "sent",
        "message_id": None,
    }


# --- make_digest and --unsent over several days -------------------------------------------------


def delivered(result) -> set[str]:
    data = json.loads(result.text)
    mentions = {f"{t['name']} {m['url']}" for t in data["topics"] for m in t["mentions"]}
    return mentions | {f"edit {e['url']} {e['detected_at']}" for e in data["edits"]}


def unsent_digest(desk: Desk, now: datetime, **options):
    return make_digest(
        desk.store,
        Config(),
        since=None,
        unsent=True,
        topics=(),
        fmt="json",
        send=False,
        now=now,
        **options,
    )


def test_unsent_daily_runs_deliver_every_item_exactly_once_even_after_a_skipped_day(quiet):
    desk, morning = quiet, datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    everything: set[str] = set()
    seen: Counter[str] = Counter()
    for day in range(4):
        run_at = morning + timedelta(days=day)
        for hour in (-1, 0, 5):  # items just before, exactly at and after each run time
            found = run_at + timedelta(hours=hour)
            stamp = found.strftime("%Y-%m-%dT%H:%M:%SZ")
            article = desk.article("Brussels Ledger", f"Story of {stamp}", stamp)
            desk.mention("NATO", article, stamp)
            desk.change(article, stamp, diff="{+more+}")
            everything |= {
                f"NATO {desk.store.db['articles'].get(article)['url']}",
                f"edit {desk.store.db['articles'].get(article)['url']} {stamp}",
            }
        if day == 2:
            continue  # the server was down: no digest that morning
        result = unsent_digest(desk, run_at)
        seen.update(delivered(result))
        # an ad-hoc look in between is not a delivery and moves nothing
        make_digest(
            desk.store,
            Config(),
            since="2h",
            unsent=False,
            topics=(),
            fmt="text",
            send=False,
            now=run_at,
        )
    seen.update(delivered(unsent_digest(desk, morning + timedelta(days=4, hours=6))))
    assert set(seen) == everything
    assert set(seen.values()) == {1}


def test_make_digest_records_the_row_and_marks_unsent_runs_delivered(desk):
    result = unsent_digest(desk, NOW)
    row = desk.store.db["digests"].get(result.digest_id)
    assert (row["period_start"], row["period_end"]) == (None, "2026-11-25T07:00:00Z")
    assert row["sent_at"] == "2026-11-25T07:00:00Z" and row["format"] == "json"
    assert row["item_count"] == result.item_count
    assert result.sent is False  # nothing was e-mailed
    looked = make_digest(
        desk.store,
        Config(),
        since="24h",
        unsent=False,
        topics=(),
        fmt="markdown",
        send=False,
        now=NOW,
    )
    assert desk.store.db["digests"].get(looked.digest_id)["sent_at"] is None
    assert looked.item_count == 6 and looked.text.startswith("# presswatch digest")


def test_make_digest_writes_the_output_file_before_marking_it_sent(desk, tmp_path):
    output = tmp_path / "digest.md"
    result = make_digest(
        desk.store,
        Config(),
        since=None,
        unsent=True,
        topics=(),
        fmt="markdown",
        send=False,
        now=NOW,
        output=output,
    )
    assert output.read_text(encoding="utf-8") == result.text
    assert not list(tmp_path.glob(".*.tmp"))


def test_an_output_that_cannot_be_written_leaves_the_digest_unsent(desk, tmp_path):
    with pytest.raises(DigestError, match=r"cannot write .*missing/digest\.md"):
        unsent_digest(desk, NOW, output=tmp_path / "missing" / "digest.md")
    assert [row["sent_at"] for row in desk.store.db["digests"].rows] == [None]
    retry = unsent_digest(desk, NOW + timedelta(hours=1))
    assert desk.store.db["digests"].get(retry.digest_id)["period_start"] is None


def test_send_without_email_settings_is_a_config_error(desk):
    with pytest.raises(ConfigError, match=r"--send needs a \[digest.email\] table"):
        make_digest(
            desk.store, Config(), since=None, unsent=True, topics=(), fmt="text", send=True, now=NOW
        )
    assert desk.store.db["digests"].count == 0


# --- templates -------------------------------------------------------------------------------


def test_a_template_dir_overrides_templates_by_file_name(desk, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "digest.md.j2").write_text(
        "{{ digest.item_count }} items{% for t in digest.topics %}; "
        "{{ t.name | markdown_escape }}{% endfor %}\n",
        encoding="utf-8",
    )
    digest = collect(desk.store, DAY)
    assert render(digest, "markdown", folder) == (
        "6 items; coalition of the willing; Greenland; NATO\n"
    )
    assert render(digest, "html", folder) == render(digest, "html")  # not overridden
    config = Config(digest=DigestConfig(template_dir=folder))
    result = make_digest(
        desk.store,
        config,
        since="24h",
        unsent=False,
        topics=(),
        fmt="markdown",
        send=False,
        now=NOW,
    )
    assert result.text.startswith("6 items;")


# --- configuration ------------------------------------------------------------------------------

EMAIL = {
    "host": "smtp.example.org",
    "from": "presswatch <desk@example.org>",
    "to": ["desk@example.org"],
}


def test_digest_config_with_email(tmp_path):
    (tmp_path / "look").mkdir()
    config = parse_config(
        {
            "digest": {
                "template_dir": "look",
                "email": {
                    **EMAIL,
                    "user": "desk",
                    "password_env": "SMTP_PASSWORD",
                    "security": "tls",
                },
            }
        },
        base_dir=tmp_path,
    )
    assert config.digest.template_dir == tmp_path / "look"
    assert config.digest.email == EmailSettings(
        host="smtp.example.org",
        sender="presswatch <desk@example.org>",
        recipients=("desk@example.org",),
        port=465,
        security="tls",
        user="desk",
        password_env="SMTP_PASSWORD",
    )
    assert parse_config({}).digest == DigestConfig()
    assert parse_config({"digest": {"email": EMAIL}}).digest.email.port == 587


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"template_dir": "nowhere"}, "digest.template_dir: not a folder"),
        ({"colour": "red"}, "digest.colour: unknown key"),
        ({"email": {**EMAIL, "securty": "tls"}}, "digest.email.securty: unknown key"),
        ({"email": {**EMAIL, "security": "ssl"}}, "must be one of starttls, tls, none, got 'ssl'"),
        ({"email": {**EMAIL, "port": "25"}}, "digest.email.port: expected an integer"),
        ({"email": {**EMAIL, "to": []}}, "digest.email.to: must list at least one address"),
        ({"email": {**EMAIL, "to": "desk@example.org"}}, "digest.email.to: expected a list"),
        ({"email": {"host": "h", "to": ["a@b"]}}, "digest.email.from: is required"),
        ({"email": {"host": "h", "from": "a@b"}}, "digest.email.to: is required"),
        ({"email": {**EMAIL, "user": "desk"}}, "digest.email.password_env: is required with"),
        ({"email": {**EMAIL, "subject": "{day}"}}, "digest.email.subject: bad template"),
    ],
)
def test_bad_digest_configs_name_the_key(tmp_path, table, message):
    with pytest.raises(ConfigError, match=r"my\.toml: ") as caught:
        parse_config({"digest": table}, file="my.toml", base_dir=tmp_path)
    assert message in str(caught.value)


def test_the_toml_examples_in_the_docs_are_valid(tmp_path):
    docs = (Path(__file__).parent.parent / "docs" / "digest.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", docs, re.DOTALL)
    assert len(blocks) == 2
    (tmp_path / "templates").mkdir()
    for block in blocks:
        parse_config(tomllib.loads(block), file="docs/digest.md", base_dir=tmp_path)

"""config.toml read through the schema: each problem is one exact line, as users have seen
it so far, and a valid file gives the typed values the rest of presswatch reads."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from pydantic import ValidationError

from crawler.config import ConfigError, EmailSettings, Source, load_config, parse_config

A = {"name": "A", "url": "https://a.example/feed"}
MAIL = {"host": "h", "from": "a@b", "to": ["c@d"]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"crawl": {"concurrency": True}},
            "my.toml: crawl.concurrency: expected an integer, got True",
        ),
        (
            {"crawl": {"concurrency": 2.5}},
            "my.toml: crawl.concurrency: expected an integer, got 2.5",
        ),
        (
            {"crawl": {"timeout": "30"}},
            "my.toml: crawl.timeout: expected an integer or a number, got '30'",
        ),
        ({"crawl": {"timeout": 0}}, "my.toml: crawl.timeout: must be positive (seconds)"),
        ({"crawl": {"max_page_size_mb": 0}}, "my.toml: crawl.max_page_size_mb: must be positive"),
        (
            {"crawl": {"extract_workers": -1}},
            "my.toml: crawl.extract_workers: must be 0 (extract inline) or more",
        ),
        ({"crawl": {"user_agent": "  "}}, "my.toml: crawl.user_agent: must not be empty"),
        ({"storage": {"db": 3}}, "my.toml: storage.db: expected a string, got 3"),
        ({"sources": [{**A}, 3]}, "my.toml: sources[1]: expected a table, got int"),
        ({"sources": "x"}, "my.toml: sources: expected a list, got 'x'"),
        (
            {"sources": [{**A, "kind": "page"}]},
            "my.toml: sources[0].follow: a page source needs 'follow' (a regex for article URLs) "
            "or 'follow_css' (a CSS selector for article links)",
        ),
        (
            {"sources": [{**A, "max_sitemap_depth": -1}]},
            "my.toml: sources[0].max_sitemap_depth: must be 0 (no child sitemaps) or more",
        ),
        (
            {"sources": [{**A, "max_age": 3}]},
            "my.toml: sources[0].max_age: expected a string, got 3",
        ),
        (
            {"sources": [{**A, "allowed_domains": [1]}]},
            "my.toml: sources[0].allowed_domains: expected a list of strings, got 1",
        ),
        (
            {"sources": [{**A, "extract": "x"}]},
            "my.toml: sources[0].extract: expected a table, got 'x'",
        ),
        (
            {"sources": [{**A, "extract": {"bod": "p"}}]},
            "my.toml: sources[0].extract.bod: unknown key",
        ),
        (
            {
                "sources": [
                    {
                        **A,
                        "revisit": [{"until": "1h", "every": "1m"}, {"until": "1h", "every": "1m"}],
                    }
                ]
            },
            "my.toml: sources[0].revisit[1].until: steps must be in increasing order of 'until'",
        ),
        (
            {"topics": [{"name": "T", "query": "x", "queries": ["y"]}]},
            "my.toml: topics[0].query: give either 'query' or 'queries', not both",
        ),
        (
            {"topics": [{"name": "T", "queries": [3]}]},
            "my.toml: topics[0].queries: expected a list of strings, got 3",
        ),
        (
            {"topics": [{"name": "T", "query": "x"}, {"name": "T", "query": "y"}]},
            "my.toml: topics: the name 'T' is used twice",
        ),
        ({"tracking": {"revisit": [3]}}, "my.toml: tracking.revisit[0]: expected a table, got int"),
        (
            {"digest": {"email": {**MAIL, "security": "ssl"}}},
            "my.toml: digest.email.security: must be one of starttls, tls, none, got 'ssl'",
        ),
        (
            {"digest": {"email": {**MAIL, "port": 0}}},
            "my.toml: digest.email.port: must be a port number (1-65535), got 0",
        ),
        (
            {"digest": {"email": {"host": "h", "from": "nobody", "to": ["c@d"]}}},
            "my.toml: digest.email.from: expected an e-mail address, got 'nobody'",
        ),
        (
            {"digest": {"email": {"host": "h", "from": "a@b", "to": []}}},
            "my.toml: digest.email.to: must list at least one address",
        ),
        (
            {"digest": {"email": {**MAIL, "user": "u"}}},
            "my.toml: digest.email.password_env: is required with 'user': the environment "
            "variable that holds the password",
        ),
        (
            {"digest": {"email": {**MAIL, "password_env": "P"}}},
            "my.toml: digest.email.user: is required with 'password_env'",
        ),
        (
            {"digest": {"email": {**MAIL, "subject": "{nope}"}}},
            "my.toml: digest.email.subject: bad template '{nope}' ('nope'): the fields are "
            "{date}, {count}, {start} and {end}",
        ),
        (
            {"digest": {"email": {"host": "h", "from": "a@b"}}},
            "my.toml: digest.email.to: is required",
        ),
        (
            {"digest": {"email": {**MAIL, "sender": "x@y"}}},
            "my.toml: digest.email.sender: unknown key",
        ),
        (
            {"schedule": {"digest_at": "25:00"}},
            "my.toml: schedule.digest_at: '25:00' is not a time of day (HH:MM, e.g. \"07:00\")",
        ),
        (
            {"schedule": {"timezone": "Mars/Base"}},
            "my.toml: schedule.timezone: unknown time zone 'Mars/Base' (use an IANA name such "
            'as "Europe/Berlin" or "UTC")',
        ),
        (
            {"cluster": {"redis": "http://x"}},
            "my.toml: cluster.redis: expected a redis://, rediss:// or unix:// URL, got 'http://x'",
        ),
        ({"path": "elsewhere.toml"}, "my.toml: path: unknown key"),
    ],
)
def test_each_problem_is_one_exact_line(data, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, file="my.toml")
    assert str(caught.value) == message


def test_a_bad_css_selector_names_the_key_and_the_selector():
    with pytest.raises(
        ConfigError,
        match=r"^my.toml: sources\[0\].extract.body: bad CSS "
        r"selector 'a\[\['",
    ):
        parse_config({"sources": [{**A, "extract": {"body": "a[["}}]}, file="my.toml")


def test_values_are_converted_once_at_the_edge(tmp_path):
    (tmp_path / "looks").mkdir()
    path = tmp_path / "config.toml"
    path.write_text(
        """
[storage]
db = "data/pw.db"
[crawl]
max_page_size_mb = 2.5
timeout = 5
[[sources]]
name = " Ministry "
url = "https://www.example.gov/press/"
kind = "page"
follow_css = "main h2 a"
extract = { body = "div.story" }
allowed_domains = ["Gov.Example."]
interval = "1h30m"
[[topics]]
name = "NATO"
query = "=NATO"
[digest]
template_dir = "looks"
[digest.email]
host = "smtp.example.org"
security = "tls"
from = "desk@example.org"
to = [" editor@example.org "]
[schedule]
digest_at = "06:30"
timezone = "Europe/Brussels"
""",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.path == path
    assert config.storage.db == tmp_path / "data" / "pw.db"
    assert config.crawl.max_page_size == int(2.5 * 1024 * 1024)
    assert config.crawl.timeout == 5.0
    source = config.source("Ministry")
    assert (source.kind, source.body_selector, source.allowed_domains) == (
        "page",
        "div.story",
        ("gov.example",),
    )
    assert source.interval == timedelta(minutes=90) and source.max_age == timedelta(days=2)
    assert config.topics[0].queries == ("=NATO",)
    assert config.digest.template_dir == tmp_path / "looks"
    assert config.digest.email == EmailSettings(
        host="smtp.example.org",
        port=465,
        security="tls",
        sender="desk@example.org",
        recipients=("editor@example.org",),
    )
    assert config.schedule.digest_at == time(6, 30)


def test_the_typed_configuration_cannot_be_changed_in_place():
    source = Source(name="A", url="https://a.example/feed")
    with pytest.raises(ValidationError):
        source.kind = "page"  # type: ignore[misc]
    assert source.model_copy(update={"language": "de"}).language == "de"
    assert source.language is None

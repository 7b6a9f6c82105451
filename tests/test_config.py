from datetime import timedelta
from pathlib import Path

import pytest

from crawler.config import DEFAULT_REVISIT, ConfigError, load_config, parse_config

REPO = Path(__file__).parent.parent


def test_the_shipped_config_is_valid():
    config = load_config(REPO / "config.toml")
    names = [topic.name for topic in config.topics]
    assert names == [
        "coalition of the willing",
        "Greenland",
        "NATO",
        "Ukraine",
        "European Security Council",
    ]
    assert sum("politico" in source.url for source in config.sources) >= 3
    assert len({source.url.split("/")[2] for source in config.sources}) >= 7
    assert config.storage.db == REPO / "presswatch.db"
    assert config.crawl.allow_private_addresses is False
    assert config.tracking.revisit == DEFAULT_REVISIT


def test_defaults_for_an_almost_empty_config():
    config = parse_config({"sources": [{"name": "A", "url": "https://a.example/feed"}]})
    assert config.sources[0].kind == "feed"
    assert config.crawl.concurrency == 16
    assert config.topics == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"crawl": {"concurency": 3}}, "crawl.concurency: unknown key"),
        ({"crawl": {"concurrency": "many"}}, "crawl.concurrency: expected an integer, got 'many'"),
        ({"crawl": {"concurrency": 0}}, "crawl.concurrency: must be at least 1"),
        ({"crawl": {"allow_private_addresses": "yes"}}, "expected true or false"),
        ({"sources": [{"url": "https://a.example/"}]}, "sources[0].name: is required"),
        (
            {"sources": [{"name": "A", "url": "ftp://a.example/"}]},
            "sources[0].url: must be an http",
        ),
        (
            {"sources": [{"name": "A", "url": "https://a/", "kind": "rss"}]},
            "sources[0].kind: must be one of feed, sitemap, page, url, got 'rss'",
        ),
        (
            {"sources": [{"name": "A", "url": "https://a/"}, {"name": "A", "url": "https://b/"}]},
            "the name 'A' is used twice",
        ),
        ({"topics": [{"name": "T"}]}, "topics[0].query: is required"),
        ({"topics": [{"name": "T", "query": "NATO AND ("}]}, "topic 'T'"),
        ({"tracking": {"revisit": [{"until": "3h"}]}}, "needs both 'until' and 'every'"),
        ({"tracking": {"revisit": [{"until": "3 hours", "every": "1m"}]}}, "is not a duration"),
        ({"tracking": {"noise": ["(unclosed"]}}, "tracking.noise: bad regular expression"),
        ({"storage": []}, "storage: expected a table"),
    ],
)
def test_bad_configs_name_the_key_and_the_problem(data, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, file="my.toml")
    assert str(caught.value).startswith("my.toml: ")
    assert message in str(caught.value)


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[crawl]\nconcurrency = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.toml: .*line 2"):
        load_config(path)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_per_source_revisit_and_durations():
    config = parse_config(
        {
            "sources": [
                {
                    "name": "A",
                    "url": "https://a.example/feed",
                    "interval": "90m",
                    "revisit": [{"until": "1d", "every": "1h"}],
                    "allowed_domains": ["B.example."],
                }
            ]
        }
    )
    source = config.sources[0]
    assert source.interval == timedelta(minutes=90)
    assert source.revisit[0].every == timedelta(hours=1)
    assert source.allowed_domains == ("b.example",)

"""The digest's first screen: the overview (topics, counts, daily bars, the edits to read
first), each story once with its topics, full-diff links, readable Markdown, and the
default format at a terminal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from digest_fixtures import HOSTILE, Desk, sample_day

from crawler.commands.digest import default_format
from crawler.commands.main import cli
from crawler.config import Config, ConfigError, ServeConfig, parse_config
from crawler.outputs.digest import Period, collect, make_digest, markdown_escape, render

DAY = Period("2026-11-24T07:00:00Z", "2026-11-25T07:00:00Z")
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    desk = sample_day(Desk.open(tmp_path / "t.db"))
    yield desk
    desk.store.close()


def digest_of(desk: Desk, config: Config | None = None, **options) -> str:
    return make_digest(
        desk.store,
        config or Config(),
        since="24h",
        unsent=False,
        topics=(),
        fmt=options.pop("fmt", "html"),
        send=False,
        now=NOW,
        **options,
    ).text


class Links(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


# --- the overview ---------------------------------------------------------------------


def test_the_overview_counts_each_topic_and_draws_its_days(desk):
    overview = collect(desk.store, DAY).overview
    assert overview.days[0] == "2026-11-12" and overview.days[-1] == "2026-11-25"
    assert [(t.name, t.mentions) for t in overview.topics] == [
        ("coalition of the willing", 2),
        ("Greenland", 2),
        ("NATO", 1),
    ]
    nato = overview.topics[2]
    assert nato.per_day[-3:] == (1, 1, 0)  # the radar mention of the 23rd is in the bars
    assert overview.peak == 2


def test_the_html_overview_is_bars_in_html_and_css_before_the_stories(desk):
    page = render(collect(desk.store, DAY), "html")
    parsed = Links(page)
    assert not {"script", "svg", "img", "style"} & set(parsed.tags)  # inline styles only
    overview = page.split('id="overview"')[1].split("Stories")[0]
    assert "<b>Greenland</b>" in overview and "<b>NATO</b>" in overview
    heights = re.findall(r"width:7px;height:(\d+)px;background:#(?!c9c9c4)", overview)
    assert len(heights) == 3 * 14 * 1
    assert heights[12] == "24" and heights[13] == "0"  # coalition: 2 on the 24th, the peak
    assert "Edits to read first" in overview
    assert page.index('id="overview"') < page.index(">Stories <span")


def test_the_edits_to_read_first_rank_retitles_and_large_edits(desk):
    top = collect(desk.store, DAY).overview.top_edits
    assert [edit.kind for edit in top] == ["retitled", "edited"]


# --- each story once ----------------------------------------------------------------


def test_a_story_under_two_topics_is_listed_once_with_both_labels(desk):
    digest = collect(desk.store, DAY)
    titles = [story.title for story in digest.stories]
    assert len(titles) == len(set(titles)) == 4
    [pledges] = [s for s in digest.stories if s.title.startswith("Coalition of the willing")]
    assert pledges.topics == ("coalition of the willing", "NATO") and pledges.edited
    page = render(digest, "html")
    stories = page.split(">Stories <span")[1].split(">Edited stories <span")[0]
    assert stories.count(">Coalition of the willing firms up troop pledges</a>") == 1
    assert digest.item_count == 4 + 2


# --- full-diff links ------------------------------------------------------------------


def test_with_a_base_url_edits_link_to_presswatch_serve(desk):
    config = parse_config({"serve": {"base_url": "https://desk.example/pw/"}})
    assert config.serve == ServeConfig(base_url="https://desk.example/pw")
    page = digest_of(desk, config)
    links = [h for h in Links(page).hrefs if "/-/presswatch/diff/" in h]
    assert set(links) == {
        "https://desk.example/pw/-/presswatch/diff/1",
        "https://desk.example/pw/-/presswatch/diff/2",
    }
    markdown = digest_of(desk, config, fmt="markdown")
    assert "[The full diff](<https://desk.example/pw/-/presswatch/diff/2>)" in markdown


def test_without_a_base_url_the_diffs_are_written_beside_the_digest(desk, tmp_path):
    output = tmp_path / "digest.html"
    digest_of(desk, output=output)
    page = output.read_text(encoding="utf-8")
    links = sorted({h for h in Links(page).hrefs if "diffs/" in h})
    assert links == ["digest-diffs/change-1.html", "digest-diffs/change-2.html"]
    diff = (tmp_path / "digest-diffs" / "change-2.html").read_text(encoding="utf-8")
    assert re.search(r"The minister <del[^>]*>said</del><ins[^>]*>denied</ins> that", diff)
    assert "Coalition of the willing firms up troop pledges" in diff


def test_printed_without_a_base_url_there_is_no_dangling_link(desk):
    assert "diffs/" not in digest_of(desk) and "full diff" not in digest_of(desk).lower()


def test_a_diff_page_escapes_what_came_from_the_web(desk, tmp_path):
    article = desk.article("Brussels Ledger", HOSTILE, "2026-11-24T10:00:00Z")
    desk.mention("NATO", article, "2026-11-24T10:00:00Z")
    change = desk.change(article, "2026-11-24T11:00:00Z", diff="[-a-]{+b+}")
    desk.store.db["changes"].update(change, {"diff_html": "<p><ins>b</ins></p><script>x</script>"})
    output = tmp_path / "digest.md"
    digest_of(desk, output=output, fmt="markdown")
    diff = (tmp_path / "digest-diffs" / f"change-{change}.html").read_text(encoding="utf-8")
    assert "<script>" not in diff and "&lt;script&gt;alert(1)&lt;/script&gt;" in diff
    assert "<p><ins>b</ins></p>&lt;script&gt;x&lt;/script&gt;" in diff


@pytest.mark.parametrize("value", ["desk.example", "ftp://desk.example", 3])
def test_a_bad_base_url_names_the_key(value):
    with pytest.raises(ConfigError, match=r"serve\.base_url: "):
        parse_config({"serve": {"base_url": value}})


# --- Markdown that reads in a terminal --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("so-called peace plan", "so-called peace plan"),
        ("Smith & Wesson", "Smith & Wesson"),
        ("The {+Defence+} [-Ministry-] line", "The {+Defence+} [-Ministry-] line"),
        ("snake_case and 3+4 (maybe)!", "snake_case and 3+4 (maybe)!"),
        ("*bold* claim", "\\*bold\\* claim"),
        ("[x](javascript:alert(1))", "\\[x]\\(javascript:alert(1))"),
        ("<b>tag</b> & &amp; entity", "&lt;b>tag&lt;/b> & &amp;amp; entity"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "1\\. not a list"),
    ],
)
def test_markdown_escapes_only_what_would_become_markup(text, shown):
    assert markdown_escape(text) == shown


# --- the default format -----------------------------------------------------------------


def test_the_default_format_is_text_at_a_terminal_and_markdown_elsewhere(desk):
    assert default_format(True) == "text" and default_format(False) == "markdown"
    result = CliRunner().invoke(cli, ["digest", "--db", desk.store.path, "--since", "30d"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# presswatch digest")  # CliRunner's stdout is no terminal

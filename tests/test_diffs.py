import re

from hypothesis import given
from hypothesis import strategies as st

from crawler.tracking import diffs
from crawler.tracking.diffs import Diff, diff_texts, excerpt, html_page, render_terminal

PARAGRAPHS = [
    "The finance minister announced on Tuesday that next year's budget would be cut.",
    "Opposition parties immediately called the plan reckless and demanded a vote.",
    "Unions said they would meet on Thursday to decide on strikes across the country.",
    "Economists were divided over whether the cuts would slow growth or calm markets.",
    "The minister is expected to present the details to parliament next week.",
]
ARTICLE = "\n".join(PARAGRAPHS)
LONG = (
    "According to officials who spoke on condition of anonymity because they were not "
    "authorised to discuss the talks, the delegation arrived in Geneva late on Sunday "
    "and met counterparts for nearly six hours before agreeing to continue the "
    "negotiations the following morning at a location that was not disclosed."
)
MARKER = re.compile(r"\[-.*?-\]|\{\+.*?\+\}")


def test_one_word_change_is_one_line_not_the_article() -> None:
    after = ARTICLE.replace("Thursday", "Friday")
    diff = diff_texts(ARTICLE, after)
    assert "\n" not in diff.text
    assert "[-Thursday-]{+Friday+}" in diff.text
    assert diff.text.startswith("Unions said")
    for unchanged in (PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[3], PARAGRAPHS[4]):
        assert unchanged not in diff.text
    assert (diff.chars_added, diff.chars_removed) == (len("Friday"), len("Thursday"))


def test_long_paragraph_keeps_about_twelve_words_of_context() -> None:
    diff = diff_texts(LONG, LONG.replace("Geneva", "Vienna"))
    before, change, after = diff.text.partition("[-Geneva-]{+Vienna+}")
    assert change
    assert before.startswith("… ") and after.endswith(" …")
    assert len(before.split()) == 1 + 12 and len(after.split()) == 12 + 1
    assert "anonymity" not in diff.text and "disclosed" not in diff.text


def test_short_unchanged_runs_are_not_elided() -> None:
    diff = diff_texts("one two three four five", "one two THREE four five")
    assert diff.text == "one two [-three-]{+THREE+} four five"


def test_changes_in_separate_paragraphs_are_separated_by_a_gap() -> None:
    after = ARTICLE.replace("Tuesday", "Monday").replace("next week", "on Friday")
    lines = diff_texts(ARTICLE, after).text.split("\n")
    assert len(lines) == 3
    assert "[-Tuesday-]{+Monday+}" in lines[0]
    assert lines[1] == "…"
    assert "[-next week.-]{+on Friday.+}" in lines[2]


def test_added_paragraph_is_shown_as_added() -> None:
    added = "A spokesperson later said the figures were provisional."
    after = "\n".join([*PARAGRAPHS[:2], added, *PARAGRAPHS[2:]])
    diff = diff_texts(ARTICLE, after)
    assert diff.text == f"{{+{added}+}}"
    assert diff.html == f'<p class="added"><ins>{added}</ins></p>'
    assert diff.chars_added == len(added.replace(" ", ""))
    assert diff.chars_removed == 0


def test_removed_paragraph_is_shown_as_removed() -> None:
    after = "\n".join(PARAGRAPHS[:1] + PARAGRAPHS[2:])
    diff = diff_texts(ARTICLE, after)
    assert diff.text == f"[-{PARAGRAPHS[1]}-]"
    assert diff.html == f'<p class="removed"><del>{PARAGRAPHS[1]}</del></p>'
    assert diff.chars_removed == len(PARAGRAPHS[1].replace(" ", ""))
    assert diff.chars_added == 0


def test_rewritten_paragraph_is_removed_and_added() -> None:
    diff = diff_texts("Alpha beta gamma delta.", "Something else entirely now.")
    assert diff.text == "[-Alpha beta gamma delta.-]\n{+Something else entirely now.+}"


def test_char_counts_on_known_input() -> None:
    diff = diff_texts("The cat sat on the mat.", "The dog sat on the red mat.")
    assert diff.text == "The [-cat-]{+dog+} sat on the {+red+} mat."
    assert (diff.chars_added, diff.chars_removed) == (6, 3)


def test_identical_texts_give_an_empty_diff() -> None:
    diff = diff_texts(ARTICLE, ARTICLE)
    assert diff == Diff(chars_added=0, chars_removed=0, text="", html="")


def test_whitespace_only_changes_give_an_empty_diff() -> None:
    assert diff_texts("a  b\n\nc", " a b\t\nc \n").text == ""


def test_a_real_change_is_not_empty() -> None:
    assert diff_texts("a b", "a c").text == "a [-b-]{+c+}"


def test_html_escapes_everything_from_the_texts() -> None:
    before = 'Quote "x" & <b>bold</b>\nstays'
    after = 'Quote "y" & <script>alert(1)</script>\nstays'
    diff = diff_texts(before, after)
    assert "<script>" not in diff.html and "<b>" not in diff.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in diff.html
    assert "&quot;x&quot;" in diff.html and "&amp;" in diff.html
    assert diff.html.startswith("<p>") and diff.html.endswith("</p>")
    assert "<del>" in diff.html and "<ins>" in diff.html


def test_render_terminal_without_colour_keeps_markers() -> None:
    text = "The [-cat-]{+dog+} sat."
    assert render_terminal(text, color=False) == text


def test_render_terminal_with_colour() -> None:
    shown = render_terminal("The [-cat-]{+dog+} sat.\n{+New.+}", color=True)
    assert shown == ("The \x1b[31;9mcat\x1b[0m\x1b[32;4mdog\x1b[0m sat.\n\x1b[32;4mNew.\x1b[0m")


def test_excerpt_of_a_short_diff_is_the_diff_on_one_line() -> None:
    assert excerpt("a [-b-]{+c+}\n…\n{+d+}") == "a [-b-]{+c+} … {+d+}"


def test_excerpt_starts_near_the_first_change_and_fits() -> None:
    text = diff_texts(LONG, LONG.replace("nearly six", "almost seven")).text
    short = excerpt(text, 60)
    assert len(short) <= 60
    assert "[-nearly six-]{+almost seven+}" in short
    assert short.startswith("… ") and short.endswith(" …")


def test_excerpt_does_not_cut_a_marker() -> None:
    text = "intro [-" + "removed words " * 40 + "-] outro"
    short = excerpt(text, 50)
    assert len(short) <= 50
    assert short.count("[-") == 1 and short.count("-]") == 1
    assert re.search(r"\[-removed words.* …-\]", short)


def test_excerpt_keeps_a_replacement_together() -> None:
    text = " ".join(["word"] * 30) + " [-old-]{+new+} " + " ".join(["tail"] * 30)
    for size in range(20, 120, 7):
        short = excerpt(text, size)
        assert "[-old-]{+new+}" in short, size
        assert len(short) <= size


def test_html_page_is_standalone_and_escapes_headings() -> None:
    fragment = diff_texts("a <x> b", "a <y> b").html
    page = html_page("<script>alert(1)</script> & co", [("v1 → v2 <i>", fragment)])
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "v1 → v2 &lt;i&gt;" in page
    assert fragment in page
    assert "<style>" in page and "line-through" in page
    assert "http://" not in page and "https://" not in page


def test_html_page_without_sections() -> None:
    assert "No changes recorded." in html_page("Title", [])


def _words(lines: list[diffs.Line], keep: set[str]) -> list[str]:
    return [word for line in lines for op, words in line if op in keep for word in words]


paragraph_texts = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "d", "e", "x.", "y,"]), max_size=15).map(" ".join),
    max_size=6,
).map("\n".join)


@given(paragraph_texts, paragraph_texts)
def test_full_diff_reconstructs_both_texts(before: str, after: str) -> None:
    lines = diffs._diff_lines(before, after, full=True)
    assert _words(lines, {diffs._EQUAL, diffs._INSERT}) == after.split()
    assert _words(lines, {diffs._EQUAL, diffs._DELETE}) == before.split()


@given(paragraph_texts, paragraph_texts)
def test_counts_match_the_full_diff(before: str, after: str) -> None:
    diff = diff_texts(before, after)
    lines = diffs._diff_lines(before, after, full=True)
    assert diff.chars_added == sum(map(len, _words(lines, {diffs._INSERT})))
    assert diff.chars_removed == sum(map(len, _words(lines, {diffs._DELETE})))
    same = [p.split() for p in before.splitlines() if p.split()] == [
        p.split() for p in after.splitlines() if p.split()
    ]
    assert (diff.text == "") == same


@given(paragraph_texts, paragraph_texts, st.integers(min_value=20, max_value=200))
def test_excerpt_fits_and_keeps_markers_whole(before: str, after: str, size: int) -> None:
    short = excerpt(diff_texts(before, after).text, size)
    assert len(short) <= size
    assert not re.search(r"\[-|-\]|\{\+|\+\}", MARKER.sub("", short))

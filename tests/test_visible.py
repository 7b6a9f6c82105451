"""What presswatch shows of text from the web: no invisible control or format character."""

from __future__ import annotations

import sys
import unicodedata

from crawler.visible import visible


def test_every_control_and_format_character_is_removed_and_the_rest_kept():
    every = [chr(code) for code in range(sys.maxunicode + 1)]
    hidden = [c for c in every if unicodedata.category(c) in ("Cc", "Cf")]
    kept = "\t\n\r"
    text = "".join(c for c in hidden if c not in "\u200c\u200d")
    assert visible(text) == kept
    # every letter, mark, digit, space and symbol stays (a sample of the planes)
    shown = "".join(c for c in every[::7] if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    assert visible(shown) == shown


def test_a_joiner_is_kept_only_between_two_letters():
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # as Persian writes it
    assert visible(persian) == persian
    assert visible("pay\u200cpal 1\u200d2 \u200c\u202egnp.exe\u202c") == "pay\u200cpal 12 gnp.exe"

"""The title an incident raised from a feed message starts with: the message's own first
line (its first sentence when that fits), cut at a word boundary to at most 120
characters."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.domain.feed import TITLE_LIMIT, FeedMessage

REPORT = (
    "Hi on-call :wave: one partner (Galerie Nord) can't log in to CMS — their password "
    "reset email never arrives. Could someone take a look?"
)


def message(text: str) -> FeedMessage:
    return FeedMessage(
        channel="incidents",
        ts="1.000001",
        at=datetime(2026, 1, 1, tzinfo=UTC),
        author="p",
        text=text,
    )


def test_a_report_keeps_its_words_whole():
    title = message(REPORT).title_guess()
    assert TITLE_LIMIT == 120
    # its first sentence, whole: not the feed row's "…their passwo…"
    assert title == REPORT.split(". ", 1)[0]
    assert title.endswith("their password reset email never arrives")


def test_a_long_sentence_is_cut_after_a_whole_word():
    text = REPORT.replace(". Could", ", could") + " " + "and more words " * 5
    title = message(text).title_guess()
    assert len(title) <= TITLE_LIMIT and title.endswith("…")
    assert text.startswith(title[:-1]) and text[len(title) - 1] == " "


def test_a_short_line_is_whole_and_only_the_first_line_counts():
    assert message("Checkout is failing. For everyone!").title_guess() == "Checkout is failing"
    assert message("v1.2 is out, search is down for EU").title_guess() == (
        "v1.2 is out, search is down for EU"
    )
    assert message("  Search   is down\nsecond line").title_guess() == "Search is down"


def test_every_cut_is_at_a_word_boundary_within_the_limit():
    words = " ".join(f"word{i}" for i in range(60))
    for n in range(100, 160):
        text = words[:n]
        title = message(text).title_guess()
        assert len(title) <= TITLE_LIMIT
        if len(text) <= TITLE_LIMIT:
            assert title == text.strip()
        else:
            cut = title.removesuffix("…")
            assert text.startswith(cut) and text[len(cut)] == " "


def test_one_long_word_is_cut_with_a_mark():
    url = "https://example.com/" + "x" * 300
    title = message(url).title_guess()
    assert len(title) == TITLE_LIMIT and title.endswith("…") and url.startswith(title[:-1])

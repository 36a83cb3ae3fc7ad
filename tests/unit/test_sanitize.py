import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.domain.sanitize import sanitize, sanitize_tree

FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff]"
)

HOSTILE = [
    "\x1b[2J\x1b[H",  # clear screen
    "\x1b]0;owned\x07",  # window title
    "\x1b]52;c;cm0gLXJmIH4=\x07",  # OSC 52 clipboard write
    "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",  # hyperlink
    "\x1bP+q544e\x1b\\",  # DCS
    "\x9b31m",  # 8-bit CSI
    "\x9d0;title\x9c",  # 8-bit OSC
    "abc\u202eevil\u202c",  # bidi override
    "\ud800lone",  # lone surrogate
    "a\x00b\x7fc\x08",
]


def test_hostile_corpus_is_cleaned():
    for text in HOSTILE:
        out = sanitize(text)
        assert "\x1b" not in out and not FORBIDDEN.search(out), repr(out)


def test_visible_text_survives():
    assert sanitize("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\") == "click"
    assert sanitize("\x1b[31mred\x1b[0m text") == "red text"
    assert (
        sanitize("[@click=app.quit]hi[/]") == "[@click=app.quit]hi[/]"
    )  # markup is not our job here
    assert sanitize("naïve café 🚒 👩‍🚒") == "naïve café 🚒 👩‍🚒"
    assert sanitize("line1\r\nline2\rline3\tx") == "line1\nline2\nline3\tx"


def test_single_line():
    assert sanitize("a\nb\tc", single_line=True) == "a b c"


def test_combining_flood_is_capped():
    out = sanitize("Z" + "\u0301" * 200 + "ok")
    assert out == "Z" + "\u0301" * 4 + "ok"


def test_none_bytes_and_objects():
    assert sanitize(None) == ""
    assert sanitize(b"caf\xc3\xa9 \xff") == "café \ufffd"
    assert sanitize(42) == "42"


def test_tree():
    assert sanitize_tree({"a\x1b[1m": ["x\x07", 1, None, {"k": "\u202ev"}]}) == {
        "a": ["x", 1, None, {"k": "v"}]
    }


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200))
def test_property_no_control_reaches_output(text: str):
    out = sanitize(text)
    assert "\x1b" not in out
    assert not FORBIDDEN.search(out)
    assert sanitize(out) == out  # idempotent


@given(st.lists(st.sampled_from([*HOSTILE, "plain", "[b]x[/b]", "\n", "é"]), max_size=20))
def test_property_concatenated_hostile_pieces(pieces: list[str]):
    out = sanitize("".join(pieces))
    assert "\x1b" not in out and not FORBIDDEN.search(out)


def test_for_display_drops_what_terminals_disagree_about():
    from cockpit.domain.sanitize import for_display

    assert for_display("zero\u200b\u200bwidth\ufeff") == "zerowidth"
    assert for_display("fire 👩\u200d🚒 🏳\ufe0f\u200d🌈") == "fire 👩🚒 🏳🌈"
    assert for_display("Z\u0301\u0301\u0301algo") == "Z\u0301algo"
    assert for_display("plain [b]text[/b]") == "plain [b]text[/b]"

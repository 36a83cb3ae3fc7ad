"""Loading playbook files, and the file:line errors of bad ones (`playbook.loader`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.domain.errors import PlaybookError
from cockpit.domain.playbook import load_playbook
from tests.unit.playbook._helpers import SMALL


def test_load_playbook_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(SMALL, encoding="utf-8")
    pb = load_playbook(path)
    assert pb.name == "small"
    assert pb.source == str(path)
    assert [i.id for i in pb.items] == ["a", "b", "c", "d", "e"]
    assert pb.item("c").step_id == "s1"
    assert str(pb.item("e").when) == "status in [reported, fixing]"


def test_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "night-shift.toml"
    path.write_text(SMALL.replace('name = "small"\n', ""), encoding="utf-8")
    assert load_playbook(path).name == "night-shift"


def test_texts_are_sanitized(tmp_path: Path) -> None:
    path = tmp_path / "esc.toml"
    path.write_text(SMALL.replace('text = "A"', 'text = "A\\u001b]0;pwned\\u0007!"'))
    assert load_playbook(path).item("a").text == "A!"


# Each bad file, and the line its error must point at. Line numbers are counted by hand.
BAD_FILES: list[tuple[str, str, int, str]] = [
    (
        "toml-syntax",
        """\
name = "x"

[[steps]]
id = "s"
title = "S"
text = "unterminated
""",
        6,
        "TOML syntax error",
    ),
    (
        "duplicate-id",
        """\
[[steps]]
id = "s"
title = "S"

[[steps.items]]
id = "same"
text = "first"

[[steps.items]]
text = "second"
id = "same"
""",
        11,
        "duplicate item id 'same' (first used at line 6)",
    ),
    (
        "duplicate-id-across-steps",
        """\
[[steps]]
id = "s1"
title = "S1"
[[steps.items]]
id = "x"
text = "X"
[[steps]]
id = "s2"
title = "S2"
[[steps.items]]
id = "y"
text = "Y"
[[steps.items]]
id = "x"
text = "X again"
""",
        14,
        "duplicate item id 'x' (first used at line 5)",
    ),
    (
        "unknown-item-key",
        """\
[[steps]]
id = "s"
title = "S"

[[steps.items]]
id = "a"
text = "A"

[[steps.items]]
id = "b"
text = "B"
whn = "jira"
""",
        12,
        "unknown key 'whn' in item 'b' (did you mean 'when'?)",
    ),
    (
        "unknown-step-key",
        """\
name = "x"
[[steps]]
id = "s"
title = "S"
colour = "red"
[[steps.items]]
id = "a"
text = "A"
""",
        5,
        "unknown key 'colour' in step 1",
    ),
    (
        "unknown-top-key",
        """\
name = "x"
version = 2
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "a"
text = "A"
""",
        2,
        "unknown key 'version' at the top level",
    ),
    (
        "bad-condition",
        """\
[[steps]]
id = "s"
title = "S"

[[steps.items]]
id = "a"
text = "A"

[[steps.items]]
id = "b"
text = "B"
action = "post-mortem"
when = "severity == urgent"
""",
        13,
        "item 'b': bad condition 'severity == urgent': unknown severity 'urgent'",
    ),
    (
        "unknown-action",
        """\
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "a"
action = "create-tiket"
text = "A"
""",
        6,
        "item 'a': unknown action 'create-tiket' (did you mean 'create-ticket'?)",
    ),
    (
        "missing-text",
        """\
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "a"
text = "A"

[[steps.items]]
id = "b"
help = "no text"
""",
        8,
        "item 'b': missing 'text'",
    ),
    (
        "missing-id",
        """\
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "a"
text = "A"
[[steps.items]]
text = "B"
""",
        7,
        "item 2 of step 's': missing 'id'",
    ),
    (
        "missing-step-title",
        """\
[[steps]]
id = "s"
[[steps.items]]
id = "a"
text = "A"
""",
        1,
        "step 's': missing 'title'",
    ),
    (
        "empty-step-list",
        """\
name = "x"
steps = []
""",
        2,
        "the step list is empty",
    ),
    (
        "no-steps",
        'name = "x"\n',
        1,
        "the playbook has no steps",
    ),
    (
        "step-without-items",
        """\
[[steps]]
id = "s1"
title = "S1"
[[steps.items]]
id = "a"
text = "A"

[[steps]]
id = "s2"
title = "S2"
""",
        8,
        "step 's2' has no items",
    ),
    (
        "not-a-string",
        """\
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "a"
text = 42
""",
        6,
        "item 'a': 'text' must be a string, not a number",
    ),
    (
        "empty-text",
        """\
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "a"
text = "   "
""",
        6,
        "item 'a': 'text' is empty",
    ),
    (
        "not-kebab-case",
        """\
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "Create_Ticket"
text = "A"
""",
        5,
        "id 'Create_Ticket' must be kebab-case",
    ),
    (
        "duplicate-step-id",
        """\
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "a"
text = "A"
[[steps]]
id = "s"
title = "S again"
[[steps.items]]
id = "b"
text = "B"
""",
        8,
        "duplicate step id 's' (first used at line 2)",
    ),
    (
        # A multi-line help text that looks like tables must not shift the count.
        "header-lookalikes-inside-a-string",
        '''\
[[steps]]
id = "s"
title = "S"
[[steps.items]]
id = "a"
text = "A"
help = """
[[steps.items]]
id = "fake"
when = "fake"
"""
[[steps.items]]
id = "b"
text = "B"
when = "severity == huge"
''',
        15,
        "item 'b': bad condition",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "line", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_bad_files_name_the_file_and_the_line(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}: "), msg
    assert message in msg, msg


def test_toml_syntax_error_is_reformatted(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[[steps]\nid = "s"\n', encoding="utf-8")
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:2: TOML syntax error: "), msg
    assert "(at line" not in msg  # tomllib's suffix became the path:line prefix


def test_toml_error_at_the_end_of_the_document(tmp_path: Path) -> None:
    path = tmp_path / "cut.toml"
    path.write_text('name = "x"\nsteps = [\n', encoding="utf-8")
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    assert str(err.value).startswith(f"{path}:2: TOML syntax error: "), str(err.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    assert str(err.value).startswith(f"{path}: cannot read"), str(err.value)


def test_non_utf8_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    assert str(err.value).startswith(f"{path}: not UTF-8"), str(err.value)

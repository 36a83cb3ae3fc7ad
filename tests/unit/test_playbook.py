"""The playbook as data: the default file, conditions, loading errors, checklist progress."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.domain.checklist import Tick
from cockpit.domain.errors import NotFound, PlaybookError
from cockpit.domain.incident import Severity, Status
from cockpit.domain.playbook import (
    KNOWN_ACTIONS,
    Condition,
    ConditionContext,
    ConditionError,
    Item,
    ItemState,
    Playbook,
    Step,
    checklist_view,
    default_playbook,
    load_playbook,
    next_open,
    parse_playbook,
)

AT = datetime(2026, 11, 27, 14, 3, tzinfo=UTC)
KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def ctx(
    severity: Severity | None = None,
    status: Status = Status.REPORTED,
    configured: tuple[str, ...] = (),
) -> ConditionContext:
    return ConditionContext(severity=severity, status=status, configured=frozenset(configured))


def tick(item_id: str, ticked: bool = True) -> Tick:
    return Tick(item_id=item_id, ticked=ticked, by="ana", at=AT)


# ======================================================================================
# The default playbook
# ======================================================================================


def test_default_playbook_has_the_five_steps_in_order() -> None:
    pb = default_playbook()
    assert [s.id for s in pb.steps] == ["alert", "raise", "assess", "address", "resolve"]
    assert [s.title for s in pb.steps] == ["Alert", "Raise", "Assess", "Address", "Resolve"]
    assert pb.name == "Responding to an incident"
    assert pb.source.endswith("default.toml")
    assert all(s.items for s in pb.steps)


def test_default_playbook_is_read_once() -> None:
    assert default_playbook() is default_playbook()


def test_default_playbook_ids_are_unique_kebab_case_and_texts_short() -> None:
    import re

    pb = default_playbook()
    ids = [i.id for i in pb.items]
    assert len(ids) == len(set(ids))
    assert sum(len(s.items) for s in pb.steps) == len(ids)
    for item in pb.items:
        assert re.match(KEBAB, item.id), item.id
        assert 0 < len(item.text) <= 60, item.text
        assert "\n" not in item.text
        assert pb.step_of(item.id).id == item.step_id


def test_default_playbook_actions_are_known_and_each_is_used_once() -> None:
    pb = default_playbook()
    actions = [i.action for i in pb.items if i.action is not None]
    assert set(actions) <= KNOWN_ACTIONS
    # Every known action has exactly one item, so "perform action X" finds one item to tick.
    assert sorted(actions) == sorted(KNOWN_ACTIONS)
    for action in KNOWN_ACTIONS:
        assert len(pb.items_with_action(action)) == 1, action


@pytest.mark.parametrize(
    ("step_id", "text"),
    [
        ("alert", "Watch #alerts (waking hours)"),
        ("raise", "Link the Slack thread in the ticket"),
        ("raise", "Reply in the original thread with the ticket and channel"),
        ("assess", "Answer the assess questions"),
        ("assess", "Mark FIXING (you facilitate)"),
        ("address", "Update the ticket with milestones"),
        ("address", "Status page: acknowledge (investigating)"),
        ("resolve", "Create follow-up tickets and link them"),
        ("resolve", "Mark RESOLVED"),
        ("resolve", "Resolve the status-page incident"),
        ("resolve", "Post mortem within two days"),
        ("resolve", "Update the playbooks with lessons"),
    ],
)
def test_default_playbook_uses_the_playbooks_words(step_id: str, text: str) -> None:
    pb = default_playbook()
    assert text in [i.text for i in pb.step(step_id).items]


def test_default_playbook_conditions() -> None:
    pb = default_playbook()
    assert str(pb.items_with_action("post-mortem")[0].when) == "severity == critical"
    for action in ("statuspage-create", "statuspage-update", "statuspage-resolve"):
        assert str(pb.items_with_action(action)[0].when) == "statuspage"
    cancel = pb.items_with_action("cancel-incident")[0]
    assert cancel.step_id == "assess"
    assert cancel.when is not None
    assert cancel.when.evaluate(ctx(status=Status.FIXING))
    assert not cancel.when.evaluate(ctx(status=Status.MONITORING))
    # The core path has no condition: it always applies.
    for action in ("create-ticket", "mark-fixing", "mark-resolved", "set-severity"):
        assert pb.items_with_action(action)[0].when is None


def test_default_playbook_progress_for_a_minor_incident_without_integrations() -> None:
    pb = default_playbook()
    view = checklist_view(pb, {}, ctx(Severity.MINOR, Status.FIXING))
    skipped = {v.item.id for v in view.items if v.state is ItemState.SKIPPED}
    assert skipped == {
        "statuspage-acknowledge",
        "statuspage-progress",
        "statuspage-resolve",
        "post-mortem",
    }
    assert view.total == len(pb.items) - 4
    assert view.done == 0
    first = next_open(view)
    assert first is not None and first.item.id == "watch-incidents"


# ======================================================================================
# The Playbook API
# ======================================================================================


def _small() -> Playbook:
    a = Item("a", "A", step_id="s1")
    b = Item("b", "B", action="create-ticket", step_id="s1")
    c = Item("c", "C", action="create-ticket", step_id="s2")
    return Playbook("small", (Step("s1", "S1", items=(a, b)), Step("s2", "S2", items=(c,))))


def test_playbook_lookups() -> None:
    pb = _small()
    assert [i.id for i in pb.items] == ["a", "b", "c"]
    assert pb.item("b").text == "B"
    assert pb.step_of("c").id == "s2"
    assert pb.step("s1").title == "S1"
    assert [i.id for i in pb.items_with_action("create-ticket")] == ["b", "c"]
    assert pb.items_with_action("escalate") == ()


def test_playbook_lookups_of_unknown_ids_raise_not_found() -> None:
    pb = _small()
    with pytest.raises(NotFound, match="'zzz'"):
        pb.item("zzz")
    with pytest.raises(NotFound, match="'zzz'"):
        pb.step_of("zzz")
    with pytest.raises(NotFound, match="'zzz'"):
        pb.step("zzz")


def test_playbook_built_by_hand_refuses_duplicate_item_ids() -> None:
    with pytest.raises(ValueError, match="duplicate item id 'a'"):
        Playbook("dup", (Step("s", "S", items=(Item("a", "A"), Item("a", "again"))),))


def test_playbook_is_immutable() -> None:
    pb = _small()
    with pytest.raises(AttributeError):
        pb.name = "other"  # type: ignore[misc]


# ======================================================================================
# Conditions
# ======================================================================================

N = None
MI, MA, CR = Severity.MINOR, Severity.MAJOR, Severity.CRITICAL
REP, FIX, MON, RES, CAN = (
    Status.REPORTED,
    Status.FIXING,
    Status.MONITORING,
    Status.RESOLVED,
    Status.CANCELED,
)


@pytest.mark.parametrize(
    ("text", "severity", "status", "configured", "expected"),
    [
        # equality
        ("severity == critical", CR, REP, (), True),
        ("severity == critical", MA, REP, (), False),
        ("severity != minor", MA, REP, (), True),
        ("severity != minor", MI, REP, (), False),
        # membership
        ("severity in [major, critical]", MA, REP, (), True),
        ("severity in [major, critical]", CR, REP, (), True),
        ("severity in [major, critical]", MI, REP, (), False),
        ("severity not in [minor]", MA, REP, (), True),
        ("severity not in [minor]", MI, REP, (), False),
        # ranks: minor < major < critical
        ("severity >= major", MI, REP, (), False),
        ("severity >= major", MA, REP, (), True),
        ("severity >= major", CR, REP, (), True),
        ("severity > major", MA, REP, (), False),
        ("severity > major", CR, REP, (), True),
        ("severity <= major", MA, REP, (), True),
        ("severity <= major", CR, REP, (), False),
        ("severity < major", MI, REP, (), True),
        ("severity < major", MA, REP, (), False),
        # unset severity: every comparison is false, its negation true
        ("severity == critical", N, REP, (), False),
        ("severity != minor", N, REP, (), False),
        ("severity >= minor", N, REP, (), False),
        ("severity <= critical", N, REP, (), False),
        ("severity in [minor, major, critical]", N, REP, (), False),
        ("severity not in [minor]", N, REP, (), False),
        ("not severity == critical", N, REP, (), True),
        # status
        ("status in [reported, fixing]", REP, REP, (), True),
        ("status in [reported, fixing]", N, FIX, (), True),
        ("status in [reported, fixing]", N, MON, (), False),
        ("status in [reported, fixing]", N, CAN, (), False),
        ("status == resolved", N, RES, (), True),
        ("status == resolved", N, MON, (), False),
        ("status != resolved", N, MON, (), True),
        ("status == cancelled", N, CAN, (), True),
        ("status not in [resolved, canceled]", N, FIX, (), True),
        ("status not in [resolved, canceled]", N, RES, (), False),
        # configured integrations
        ("statuspage", N, REP, ("statuspage",), True),
        ("statuspage", N, REP, ("slack", "jira"), False),
        ("not jira", N, REP, (), True),
        ("not jira", N, REP, ("jira",), False),
        ("not not jira", N, REP, ("jira",), True),
        # and / or
        ("slack and jira", N, REP, ("slack",), False),
        ("slack and jira", N, REP, ("slack", "jira"), True),
        ("slack or jira", N, REP, ("jira",), True),
        ("slack or jira", N, REP, (), False),
        ("statuspage and severity >= major", MA, REP, ("statuspage",), True),
        ("statuspage and severity >= major", MA, REP, (), False),
        # precedence: and binds tighter than or
        ("slack or jira and statuspage", N, REP, ("slack",), True),
        ("(slack or jira) and statuspage", N, REP, ("slack",), False),
        ("jira and statuspage or slack", N, REP, ("slack",), True),
        # precedence: not binds tighter than and / or
        ("not slack and jira", N, REP, (), False),
        ("not (slack and jira)", N, REP, (), True),
        ("not slack or jira", N, REP, ("slack", "jira"), True),
        ("not (slack or jira)", N, REP, ("slack", "jira"), False),
        # case and spacing do not matter
        ("Severity==CRITICAL", CR, REP, (), True),
        ("  severity   in[major,critical]  ", MA, REP, (), True),
    ],
)
def test_condition_evaluation(
    text: str,
    severity: Severity | None,
    status: Status,
    configured: tuple[str, ...],
    expected: bool,
) -> None:
    assert Condition.parse(text).evaluate(ctx(severity, status, configured)) is expected


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("severity == critical", "severity == critical"),
        ("  severity   in [major,  critical] ", "severity in [major, critical]"),
        ("not statuspage or severity >= major", "not statuspage or severity >= major"),
    ],
)
def test_condition_str_gives_the_source_back(text: str, shown: str) -> None:
    assert str(Condition.parse(text)) == shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("severity", "'severity' needs a comparison"),
        ("status", "'status' needs a comparison"),
        ("severity = critical", "use == to compare"),
        ("severity == urgent", "unknown severity 'urgent' at column 13"),
        ("severity == c", "unknown severity 'c'"),
        ("status == done", "unknown status 'done'"),
        ("status >= fixing", "status has no order"),
        ("severity in []", "empty list"),
        ("severity in major", "expected '[' after 'in' at column 13"),
        ("severity in [major critical]", "expected ']' or ','"),
        ("severity in [major,", "expected a severity at the end"),
        ("jir", "unknown name 'jir' at column 1 (did you mean 'jira'?)"),
        ("pagerduty", "unknown name 'pagerduty'"),
        ("(slack", "expected ')'"),
        ("slack)", "unexpected ')' at column 6"),
        ("slack jira", "unexpected 'jira' at column 7"),
        ("slack && jira", "unexpected '&' at column 7"),
        ("not", "unexpected end"),
        ("slack and", "unexpected end"),
        ("and slack", "unexpected 'and' at column 1"),
        ("severity == critical or", "unexpected end"),
        ("__import__", "unknown name '__import__'"),
        ("__import__('os')", 'unexpected "\'" at column 12'),
    ],
)
def test_condition_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as err:
        Condition.parse(text)
    assert message in str(err.value)


# ======================================================================================
# Checklist progress
# ======================================================================================

SMALL = """\
name = "small"

[[steps]]
id = "s1"
title = "One"

[[steps.items]]
id = "a"
text = "A"

[[steps.items]]
id = "b"
text = "B"

[[steps.items]]
id = "c"
text = "C"
when = "severity == critical"

[[steps]]
id = "s2"
title = "Two"

[[steps.items]]
id = "d"
text = "D"
when = "statuspage"

[[steps.items]]
id = "e"
text = "E"
when = "status in [reported, fixing]"
"""


def small() -> Playbook:
    return parse_playbook(SMALL, source="small.toml")


def numbers(view: object) -> list[tuple[int, int, int]]:
    from cockpit.domain.playbook import ChecklistView

    assert isinstance(view, ChecklistView)
    return [(s.done, s.total_applicable, s.skipped) for s in view.steps]


def test_progress_with_nothing_ticked() -> None:
    view = checklist_view(small(), {}, ctx(None, Status.REPORTED))
    # c (severity unset) and d (no status page) are skipped.
    assert numbers(view) == [(0, 2, 1), (0, 1, 1)]
    assert (view.done, view.total, view.skipped) == (0, 3, 2)
    assert view.fraction == 0.0
    assert [v.state for v in view.items] == [
        ItemState.OPEN,
        ItemState.OPEN,
        ItemState.SKIPPED,
        ItemState.SKIPPED,
        ItemState.OPEN,
    ]
    first = next_open(view)
    assert first is not None and first.item.id == "a"


def test_progress_critical_with_status_page() -> None:
    ticks = {"a": tick("a"), "c": tick("c"), "d": tick("d")}
    view = checklist_view(small(), ticks, ctx(Severity.CRITICAL, Status.FIXING, ("statuspage",)))
    # s1: a done, b open, c done; s2: d done, e open.
    assert numbers(view) == [(2, 3, 0), (1, 2, 0)]
    assert (view.done, view.total) == (3, 5)
    assert view.fraction == pytest.approx(0.6)
    assert view.steps[0].fraction == pytest.approx(2 / 3)
    first = next_open(view)
    assert first is not None and first.item.id == "b"


def test_a_ticked_item_whose_condition_turns_false_is_skipped_and_keeps_its_tick() -> None:
    ticks = {"a": tick("a"), "c": tick("c"), "d": tick("d")}
    view = checklist_view(small(), ticks, ctx(Severity.MAJOR, Status.FIXING))
    # c (not critical) and d (no status page) drop out although they were ticked.
    assert numbers(view) == [(1, 2, 1), (0, 1, 1)]
    assert (view.done, view.total, view.skipped) == (1, 3, 2)
    assert view.fraction == pytest.approx(1 / 3)
    c = view.steps[0].items[2]
    assert c.item.id == "c"
    assert c.state is ItemState.SKIPPED
    assert c.tick == ticks["c"]
    assert c.skip_reason == "only when severity == critical"
    assert view.steps[1].items[0].skip_reason == "only when statuspage"


def test_an_unticked_item_is_open_and_keeps_its_untick() -> None:
    ticks = {"a": tick("a", ticked=False), "b": tick("b")}
    view = checklist_view(small(), ticks, ctx(None, Status.RESOLVED))
    # s1: a unticked (open), b done, c skipped; s2: d and e skipped, nothing applicable.
    assert numbers(view) == [(1, 2, 1), (0, 0, 2)]
    assert (view.done, view.total) == (1, 2)
    assert view.fraction == 0.5
    assert view.steps[1].fraction == 1.0
    assert view.steps[1].complete
    a = view.steps[0].items[0]
    assert a.state is ItemState.OPEN
    assert a.tick is not None and a.tick.ticked is False
    assert a.skip_reason == ""
    first = next_open(view)
    assert first is not None and first.item.id == "a"


def test_everything_applicable_done() -> None:
    ticks = {i: tick(i) for i in "abe"}
    ticks["zzz"] = tick("zzz")  # a tick for an item no longer in the playbook is ignored
    view = checklist_view(small(), ticks, ctx(Severity.MINOR, Status.REPORTED))
    assert numbers(view) == [(2, 2, 1), (1, 1, 1)]
    assert (view.done, view.total) == (3, 3)
    assert view.fraction == 1.0
    assert next_open(view) is None
    assert all(s.complete for s in view.steps)


def test_nothing_applicable_counts_as_complete() -> None:
    pb = Playbook(
        "cond",
        (Step("s", "S", items=(Item("x", "X", when=Condition.parse("jira"), step_id="s"),)),),
    )
    view = checklist_view(pb, {}, ctx())
    assert (view.done, view.total, view.skipped) == (0, 0, 1)
    assert view.fraction == 1.0
    assert next_open(view) is None


# ======================================================================================
# Loading files, and the errors of bad ones
# ======================================================================================


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


def test_the_domain_module_imports_no_ui_store_or_integrations() -> None:
    code = (
        "import sys, cockpit.domain.playbook as p; p.default_playbook();"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'textual'"
        " or m.startswith(('cockpit.ui', 'cockpit.store', 'cockpit.integrations'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

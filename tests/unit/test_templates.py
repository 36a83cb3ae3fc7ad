"""Message templates: the context, every shipped template on three incidents, user overrides."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cockpit.domain.drafts import DraftState
from cockpit.domain.errors import NotFound
from cockpit.domain.incident import Assessment, Incident, Link, Role, Severity, Status
from cockpit.domain.lint import lint_public
from cockpit.domain.templates import (
    SHIPPED_ORDER,
    TEMPLATE_VARIABLES,
    TemplateError,
    TemplateLibrary,
    build_context,
    format_duration,
    parse_header,
    sample_context,
    shipped_dir,
)
from cockpit.domain.timeline import EntryKind, TimelineEntry

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 27, 13, 3, tzinfo=UTC)  # 14:03 CET
INTERNAL = ["gravity", "metaphysics", "kubernetes", "postgres", "sidekiq"]
ALL_COMPONENTS = ["Checkout", "Payments", "Search", "Website"]
ESC = "\x1b"


def critical() -> tuple[Incident, list[TimelineEntry], datetime]:
    inc = Incident(
        id="12",
        title="Checkout: card payments failing",
        first_reported_at=T0,
        created_at=T0 + timedelta(minutes=2),
        created_by="ana",
        summary="Card payments fail at the last step; gravity returns 500s from postgres timeouts.",
    )
    ticket = Link("https://acme.atlassian.net/browse/INCIDENT-42", "INCIDENT-42")
    es = [
        inc.acknowledge(at=T0 + timedelta(minutes=5), by="ana", ticket=ticket),
        inc.transition(Status.FIXING, at=T0 + timedelta(minutes=6), by="ana"),
        inc.set_severity(Severity.CRITICAL, at=T0 + timedelta(minutes=8), by="ana"),
        inc.assign(Role.COMMS, "ben", at=T0 + timedelta(minutes=9), by="ana"),
        inc.record_assessment(
            Assessment("about 40% of checkouts", True, False),
            at=T0 + timedelta(minutes=14),
            by="ben",
        ),
    ]
    inc.links.thread = Link("https://acme.slack.com/archives/C9RK0BLEP/p100", "")
    inc.links.channel = Link("https://acme.slack.com/archives/C0INC12", "#incident-12")
    inc.links.status_page = Link("https://status.acme.com/incidents/x1", "")
    inc.links.follow_ups.append(Link("https://acme.atlassian.net/browse/PAY-7", "PAY-7"))
    inc.links.bugs.append(Link("https://acme.atlassian.net/browse/BUG-9", "BUG-9"))
    inc.affected_components = ["Checkout", "Payments"]
    inc.last_update_at = T0 + timedelta(minutes=20)
    # backdated: written at +30m about something seen at +1m
    es.append(
        TimelineEntry.new(
            "12",
            kind=EntryKind.NOTE,
            text="Datadog alert: payment errors above 5%",
            event_at=T0 + timedelta(minutes=1),
            recorded_at=T0 + timedelta(minutes=30),
            author="ben",
        )
    )
    es.append(
        TimelineEntry.new(
            "12",
            kind=EntryKind.CHECK,
            text="ticked: create channel",
            event_at=T0 + timedelta(minutes=7),
            recorded_at=T0 + timedelta(minutes=7),
            author="ana",
        )
    )
    es.append(inc.transition(Status.MONITORING, at=T0 + timedelta(minutes=50), by="ana"))
    es.append(inc.transition(Status.RESOLVED, at=T0 + timedelta(minutes=95), by="ana"))
    return inc, es, T0 + timedelta(minutes=100)


def major() -> tuple[Incident, list[TimelineEntry], datetime]:
    inc = Incident(
        id="13", title="Search is slow", first_reported_at=T0, created_at=T0, created_by="ana"
    )
    es = [
        inc.acknowledge(
            at=T0 + timedelta(minutes=3),
            by="ana",
            ticket=Link("https://acme.atlassian.net/browse/INCIDENT-43", "INCIDENT-43"),
        ),
        inc.transition(Status.FIXING, at=T0 + timedelta(minutes=4), by="ana"),
        inc.set_severity(Severity.MAJOR, at=T0 + timedelta(minutes=5), by="ana"),
    ]
    inc.links.channel = Link("https://acme.slack.com/archives/C0INC13", "#incident-13")
    inc.affected_components = ["Search"]
    return inc, es, T0 + timedelta(minutes=10)


def canceled() -> tuple[Incident, list[TimelineEntry], datetime]:
    inc = Incident(
        id="14",
        title="Partner cannot log in to CMS",
        first_reported_at=T0,
        created_at=T0,
        created_by="ana",
    )
    es = [
        inc.acknowledge(
            at=T0 + timedelta(minutes=3),
            by="ana",
            ticket=Link("https://acme.atlassian.net/browse/INCIDENT-44", "INCIDENT-44"),
        ),
        inc.transition(
            Status.CANCELED,
            at=T0 + timedelta(minutes=6),
            by="ana",
            reason="a single partner; not an incident",
        ),
    ]
    return inc, es, T0 + timedelta(minutes=7)


CASES = {"critical": critical, "major": major, "canceled": canceled}


def ctx(case: str, **kw: Any) -> dict[str, Any]:
    inc, es, now = CASES[case]()
    params: dict[str, Any] = {
        "guide_url": "https://acme.notion.so/guide-to-reporting-bugs",
        "product_channel": "#product-platform",
        "components": ALL_COMPONENTS,
    }
    params.update(kw)
    return build_context(inc, es, now=now, tz=BERLIN, **params)


@pytest.fixture(scope="module")
def lib() -> TemplateLibrary:
    library = TemplateLibrary(None)
    assert library.problems == []
    return library


# -- the shipped set -------------------------------------------------------------------
def test_every_shipped_template_is_listed_with_its_header(lib: TemplateLibrary) -> None:
    infos = {i.name: i for i in lib.list()}
    assert list(infos) == list(SHIPPED_ORDER)
    for info in infos.values():
        assert info.source == "shipped"
        assert info.title and info.description and info.target
        assert info.path.is_file() and info.path.parent == shipped_dir()
    kinds = {n: i.kind for n, i in infos.items()}
    assert {n for n, k in kinds.items() if k == "statuspage"} == {
        "statuspage-investigating",
        "statuspage-identified",
        "statuspage-monitoring",
        "statuspage-resolved",
    }
    assert kinds["thread-reply"] == kinds["kickoff"] == kinds["not-an-incident"] == "slack"
    assert kinds["post-mortem"] == kinds["handoff"] == "internal"


def test_header_parsing() -> None:
    h = parse_header("{# kind: slack; title: A; B; description: x: y; z #}\nbody")
    assert h == {"kind": "slack", "title": "A; B", "description": "x: y; z"}
    assert parse_header("no header\n") == {}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", SHIPPED_ORDER)
def test_every_template_renders_for_every_incident(
    lib: TemplateLibrary, name: str, case: str
) -> None:
    out = lib.render(name, ctx(case))
    assert out.strip()
    assert ESC not in out
    assert "None" not in out and "Undefined" not in out
    assert "\n\n\n" not in out, "stray blank lines"


@pytest.mark.parametrize(
    "name",
    [
        "thread-reply",
        "kickoff",
        "stakeholder-update",
        "resolution-update",
        "handoff",
        "post-mortem",
    ],
)
def test_internal_messages_name_ticket_and_people(lib: TemplateLibrary, name: str) -> None:
    out = lib.render(name, ctx("major"))
    assert "INCIDENT-43" in out
    assert "ana" in out
    assert "Major" in out
    if name not in ("kickoff", "resolution-update"):  # kick-off: posted in the channel itself
        assert "#incident-13" in out


def test_thread_reply_points_at_ticket_and_channel(lib: TemplateLibrary) -> None:
    out = lib.render("thread-reply", ctx("critical"))
    assert "INCIDENT-42" in out and "https://acme.atlassian.net/browse/INCIDENT-42" in out
    assert "#incident-12" in out
    assert "Incident Commander: ana" in out and "Communications: ben" in out
    assert "*Critical*" in out  # Slack mrkdwn bold


def test_kickoff_has_roles_links_and_what_we_know(lib: TemplateLibrary) -> None:
    out = lib.render("kickoff", ctx("critical"))
    for text in (
        "Incident Commander: ana",
        "Communications Officer: ben",
        "https://acme.slack.com/archives/C9RK0BLEP/p100",
        "https://status.acme.com/incidents/x1",
        "about 40% of checkouts",
        "Checkout and Payments",
        "Card payments fail",
    ):
        assert text in out
    bare = lib.render("kickoff", ctx("major"))
    assert "Communications Officer: not assigned yet" in bare


def test_not_an_incident_is_the_kind_reply(lib: TemplateLibrary) -> None:
    out = lib.render("not-an-incident", ctx("canceled"))
    assert "outside the scope of immediate support, so I've opened a ticket for you" in out
    assert "INCIDENT-44 (https://acme.atlassian.net/browse/INCIDENT-44)" in out
    assert "talk to the team PM about prioritization in #product-platform" in out
    assert "https://acme.notion.so/guide-to-reporting-bugs" in out
    # a bug ticket, when one was opened, is the one the reporter gets
    assert "BUG-9" in lib.render("not-an-incident", ctx("critical"))


STATUSPAGE = [n for n in SHIPPED_ORDER if n.startswith("statuspage-")]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", STATUSPAGE)
def test_statuspage_texts_are_public_and_clean(lib: TemplateLibrary, name: str, case: str) -> None:
    c = ctx(case)
    out = lib.render(name, c)
    for internal in (
        "INCIDENT-4",
        "ana",
        "ben",
        "#incident",
        "gravity",
        "postgres",
        "Card payments fail",
        str(c["title"]),
        "acme.atlassian",
        "slack.com",
    ):
        assert internal not in out
    resolved = name == "statuspage-resolved"
    components = list(c["affected_components"]) or ALL_COMPONENTS
    warnings = lint_public(out, internal_names=INTERNAL, components=components, resolved=resolved)
    if case == "canceled":  # no affected component chosen: the lint says so, nothing else
        assert [w.code for w in warnings] == ["no-component"]
    else:
        assert warnings == []


@pytest.mark.parametrize("name", STATUSPAGE)
def test_statuspage_promises_next_update_until_resolved(lib: TemplateLibrary, name: str) -> None:
    out = lib.render(name, ctx("major", next_update_in=timedelta(minutes=45)))
    if name == "statuspage-resolved":
        assert "update" not in out.lower()
        assert "Search is working normally again" in out
    else:
        assert "next update within 45 minutes" in out
        assert "Search" in out
        vague = lib.render(name, ctx("major", next_update_in=None))
        assert "further updates" in vague


def test_stakeholder_update_conditions_actions_needs(lib: TemplateLibrary) -> None:
    out = lib.render("stakeholder-update", ctx("major", needs=["someone from search"]))
    assert "*Current conditions*" in out and "*Actions so far*" in out
    assert "*What we need*" in out
    assert "someone from search" in out
    assert "a Communications Officer" in out  # the empty role is a need
    assert "Next update by 14:43 CET (13:43 UTC)" in out  # now 14:13 CET + 30 minutes


def test_resolution_update_and_post_mortem_promise(lib: TemplateLibrary) -> None:
    out = lib.render("resolution-update", ctx("critical"))
    assert "Resolved: INCIDENT-42" in out
    assert "15:38 CET (14:38 UTC)" in out and "1h 35m" in out
    assert "PAY-7" in out and "post mortem" in out
    assert "post mortem" not in lib.render("resolution-update", ctx("major"))
    assert "not an incident" in lib.render("resolution-update", ctx("canceled"))


def test_handoff_lists_open_incidents(lib: TemplateLibrary) -> None:
    maj, _, _ = major()
    inc, es, now = critical()
    c = build_context(
        inc,
        es,
        now=now,
        tz=BERLIN,
        open_incidents=[maj],
        open_tasks=["post status page update for INCIDENT-43"],
    )
    out = lib.render("handoff", c)
    assert "INCIDENT-43: Search is slow" in out and "Major · FIXING" in out
    assert "post status page update for INCIDENT-43" in out
    assert "No incidents are open" in lib.render("handoff", ctx("canceled"))


def test_post_mortem_is_built_from_the_timeline(lib: TemplateLibrary) -> None:
    out = lib.render("post-mortem", ctx("critical"))
    assert out.startswith("# Post mortem: INCIDENT-42 — Checkout: card payments failing")
    assert "blameless" in out.lower()
    lines = [ln for ln in out.splitlines() if ln.startswith("- **2026-")]
    assert lines[0] == (
        "- **2026-11-27 14:04 CET (13:04 UTC)** — Datadog alert: payment "
        "errors above 5% _(ben)_ _(recorded 14:33 CET)_"
    )  # backdated, first
    assert any("FIXING → MONITORING" in ln and "14:53 CET (13:53 UTC)" in ln for ln in lines)
    assert any("MONITORING → RESOLVED" in ln and "15:38 CET (14:38 UTC)" in ln for ln in lines)
    assert not any("ticked" in ln for ln in lines)  # checklist ticks stay out
    assert "All times CET, with UTC in brackets." in out
    assert "- **Duration:** 1h 35m" in out
    assert "PAY-7" in out and "BUG-9" in out


def test_context_basics() -> None:
    c = ctx("canceled")
    assert c["severity"] == "unset" and c["status"] == "CANCELED" and c["is_canceled"]
    assert c["next_update"] is None  # closed: nothing to promise
    assert c["ticket"] == "INCIDENT-44" and c["channel"] == ""
    c = ctx("critical")
    assert c["times"]["reported"]["both"] == "14:03 CET (13:03 UTC)"
    assert c["time_to_acknowledge"] == "5m"
    assert [e["kind"] for e in c["recent_entries"]][-1] == "status"
    assert all(e["kind"] != "check" for e in c["recent_entries"])
    assert len(c["entries"]) == 9
    assert set(TEMPLATE_VARIABLES)  # documented
    documented = " ".join(TEMPLATE_VARIABLES)
    for key in c:
        assert key in documented, f"{key} is not in TEMPLATE_VARIABLES"


@pytest.mark.parametrize(
    ("delta", "short", "words"),
    [
        (timedelta(seconds=20), "<1m", "under a minute"),
        (timedelta(minutes=30), "30m", "30 minutes"),
        (timedelta(hours=1), "1h", "1 hour"),
        (timedelta(hours=1, minutes=35), "1h 35m", "1 hour 35 minutes"),
        (timedelta(days=2, hours=3, minutes=4), "2d 3h", "2 days 3 hours"),
    ],
)
def test_format_duration(delta: timedelta, short: str, words: str) -> None:
    assert format_duration(delta) == short
    assert format_duration(delta, words=True) == words


# -- untrusted text --------------------------------------------------------------------
def test_escape_sequences_in_a_title_come_out_sanitized(lib: TemplateLibrary) -> None:
    inc, es, now = major()
    inc.title = f"Search{ESC}]0;pwned{ESC}\\ is slow{ESC}[2J\u202e"
    inc.roles[Role.COMMS] = f"mallory{ESC}]52;c;ZXZpbA=={chr(7)}"
    c = build_context(inc, es, now=now, tz=BERLIN)
    for name in SHIPPED_ORDER:
        out = lib.render(name, c)
        assert ESC not in out and "\u202e" not in out and chr(7) not in out
    assert "Search is slow" in lib.render("kickoff", c)


# -- user templates --------------------------------------------------------------------
def test_user_template_overrides_and_adds(tmp_path: Path) -> None:
    (tmp_path / "thread-reply.j2").write_text(
        "{# kind: slack; title: Our reply; description: house style #}\n"
        "On it: {{ ticket }} in {{ channel }}.\n"
    )
    (tmp_path / "exec-summary.j2").write_text(
        "{# kind: internal; title: Exec summary; description: for leadership #}\n"
        "{{ title }} ({{ severity }})\n"
    )
    (tmp_path / "notes.txt").write_text("not a template")
    library = TemplateLibrary(tmp_path)
    assert library.problems == []
    reply = library.get("thread-reply")
    assert (reply.source, reply.title, reply.path) == (
        "user",
        "Our reply",
        tmp_path / "thread-reply.j2",
    )
    assert reply.target == "the #incidents thread"  # not given: taken from the shipped one
    assert library.render("thread-reply", ctx("major")) == "On it: INCIDENT-43 in #incident-13.\n"
    extra = library.get("exec-summary")
    assert extra.source == "user" and extra.kind == "internal"
    assert library.names()[-1] == "exec-summary"  # additions after the shipped set
    assert library.render("exec-summary", ctx("major")) == "Search is slow (Major)\n"


def test_broken_user_template_is_reported_and_the_shipped_one_used(tmp_path: Path) -> None:
    bad = tmp_path / "kickoff.j2"
    bad.write_text(
        "{# kind: slack; title: x; description: y #}\nline two\n{% if ticket %}\nno end\n"
    )
    library = TemplateLibrary(tmp_path)
    [problem] = library.problems
    assert problem.path == bad
    assert problem.line == 4
    assert "syntax error" in problem.message and "shipped template is used" in problem.message
    assert str(problem).startswith(f"{bad}:4: ")
    assert library.get("kickoff").source == "shipped"
    assert "*Roles*" in library.render("kickoff", ctx("major"))


def test_unknown_variable_is_caught_at_load_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "extra.j2").write_text(
        "{# kind: slack; title: x; description: y #}\nhello\n{{ no_such_thing }}\n"
    )
    library = TemplateLibrary(tmp_path)
    [problem] = library.problems
    assert problem.line == 3 and "no_such_thing" in problem.message
    assert "extra" not in library  # no shipped counterpart: left out
    with pytest.raises(NotFound, match="no template called 'extra'"):
        library.render("extra", ctx("major"))


def test_bad_kind_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "handoff.j2").write_text("{# kind: email; title: x; description: y #}\nhi\n")
    library = TemplateLibrary(tmp_path)
    [problem] = library.problems
    assert "unknown kind 'email'" in problem.message
    assert library.get("handoff").source == "shipped"


@pytest.mark.parametrize(
    "expr",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ links.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ (title|attr('__class__')) }}",
    ],
)
def test_sandbox_blocks_attribute_escapes(tmp_path: Path, expr: str) -> None:
    (tmp_path / "thread-reply.j2").write_text(
        "{# kind: slack; title: evil; description: y #}\n" + expr + "\n"
    )
    library = TemplateLibrary(tmp_path)
    [problem] = library.problems
    assert problem.line == 2
    assert re.search(r"unsafe|not allowed|undefined|unknown variable", problem.message)
    assert library.get("thread-reply").source == "shipped"


def test_render_error_names_file_and_line(tmp_path: Path) -> None:
    # passes the test render (the sample has a status page link) but not a bare incident
    path = tmp_path / "extra.j2"
    path.write_text(
        "{# kind: internal; title: x; description: y #}\n{{ links.status_page.url | upper }}\n"
    )
    library = TemplateLibrary(tmp_path)
    assert library.problems == []
    with pytest.raises(TemplateError, match=re.escape(f"{path}:2")):
        library.render("extra", ctx("major"))


def test_user_template_output_is_sanitized(tmp_path: Path) -> None:
    (tmp_path / "extra.j2").write_text(
        "{# kind: slack; title: x; description: y #}\na{{ '\\x1b' }}[31mred\n"
    )
    library = TemplateLibrary(tmp_path)
    assert library.problems == []
    assert library.render("extra", ctx("major")) == "ared\n"


def test_missing_or_odd_user_dir(tmp_path: Path) -> None:
    assert TemplateLibrary(tmp_path / "absent").problems == []
    f = tmp_path / "file"
    f.write_text("x")
    assert "is not a directory" in TemplateLibrary(f).problems[0].message


def test_library_makes_drafts(lib: TemplateLibrary) -> None:
    c = ctx("major")
    at = T0 + timedelta(minutes=10)
    d = lib.draft("statuspage-investigating", c, at=at)
    assert d.incident_id == "13" and d.kind == "statuspage" and d.public
    assert d.state is DraftState.DRAFT and d.created_at == at
    assert d.title == "Status page: investigating — INCIDENT-43"
    assert d.target == "the public status page"
    assert d.body == lib.render("statuspage-investigating", c)


def test_sample_context_renders_everything(lib: TemplateLibrary) -> None:
    c = sample_context()
    for name in lib.names():
        assert lib.render(name, c)
    assert "source" in dir(lib) and lib.source("kickoff").startswith("{# kind: slack")


# -- limits: time and output ------------------------------------------------------------
BOMBS = {
    "nested-ranges": "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}"
    "{% endfor %}",
    "nested-loops": "{% set r = range(9999) %}{% for a in r %}{% for b in r %}{% endfor %}"
    "{% endfor %}",
    "string-loops": "{% set s = 'x' * 200000 %}{% for a in s %}{% for b in s %}{% endfor %}"
    "{% endfor %}",
    "multiplied": "{{ 'x' * 10**8 }}",
    "list-multiplied": "{{ ([1] * 10**8) | length }}",
    "power": "{{ 7 ** (10 ** 8) }}",
    "huge-join": "{{ range(9999) | join('x' * 100000) }}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "format-width": "{{ '%0900000000d' | format(1) }}",
    "str-format": "{{ '{:>900000000}'.format(1) }}",
    "centered": "{{ title | center(10**9) }}",
    "replaced": "{{ ('x' * 200000).replace('x', 'y' * 1000) }}",
    "macro-tree": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
    "{% endmacro %}{{ f(60) }}",
    "output": "{% for i in range(9999) %}{{ 'x' * 1000 }}{% endfor %}",
    "set-block": "{% set x %}{% for i in range(9999) %}{{ 'x' * 100000 }}{% endfor %}{% endset %}",
    "extend": "{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}{% endfor %}",
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_template_bomb_stops_within_the_limits_and_the_shipped_one_is_used(
    tmp_path: Path, name: str
) -> None:
    import time

    path = tmp_path / "kickoff.j2"
    path.write_text("{# kind: slack; title: bomb; description: y #}\n" + BOMBS[name] + "\n")
    started = time.monotonic()
    library = TemplateLibrary(tmp_path)
    assert time.monotonic() - started < 2.5
    [problem] = library.problems
    assert problem.path == path
    assert re.search(
        r"time limit of 1 s|output limit of 256 KB|limit of 10,000 items|bits|not allowed|unsafe",
        problem.message,
    ), problem.message
    assert problem.message.endswith("(the shipped template is used instead)")
    assert library.get("kickoff").source == "shipped"


def test_a_render_that_breaks_the_time_limit_names_the_template_from_any_thread(
    tmp_path: Path,
) -> None:
    import threading
    import time

    # the sample incident is #7: the test render at load passes, #13 hangs
    path = tmp_path / "extra.j2"
    path.write_text(
        "{# kind: internal; title: x; description: y #}\n"
        "{% if id == '13' %}{% set r = range(9999) %}"
        "{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}{% endif %}ok\n"
    )
    library = TemplateLibrary(tmp_path)
    assert library.problems == []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            library.render("extra", ctx("major"))
        except TemplateError as exc:
            errors.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=render)
    worker.start()
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - started < 2.5
    [error] = errors
    assert "template 'extra'" in str(error) and f"{path}:" in str(error)
    assert "time limit of 1 s" in str(error)


def test_a_huge_output_is_refused_not_written(tmp_path: Path) -> None:
    (tmp_path / "extra.j2").write_text(
        "{# kind: internal; title: x; description: y #}\n"
        "{% if id == '13' %}{% for i in range(300) %}{{ 'x' * 1000 }}{% endfor %}{% endif %}\n"
    )
    library = TemplateLibrary(tmp_path)
    assert library.problems == []
    with pytest.raises(TemplateError, match=r"template 'extra'.*output limit of 256 KB"):
        library.draft("extra", ctx("major"), at=T0)


def test_ordinary_loops_and_arithmetic_still_work(tmp_path: Path) -> None:
    (tmp_path / "extra.j2").write_text(
        "{# kind: internal; title: x; description: y #}\n"
        "{% for i in range(3) %}{{ i * 2 }}{{ loop.revindex }}{% endfor %}"
        " {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ '%03d' | format(7) }} {{ [1, 2] | join('-') }}"
        " {{ 'a' ~ 'b' }} {{ '{:>4}'.format('x') }} {{ range(5) | list | length }}\n"
    )
    library = TemplateLibrary(tmp_path)
    assert library.problems == []
    assert library.render("extra", ctx("major")) == "032241 ababab 1024 007 1-2 ab    x 5\n"

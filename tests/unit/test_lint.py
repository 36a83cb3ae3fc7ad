"""The status-page lint: one table of texts and the warnings each must (and must not) get."""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.domain.lint import (
    CODES,
    INTERNAL_HOST,
    INTERNAL_NAME,
    NO_COMPONENT,
    NO_NEXT_UPDATE,
    STACK_TRACE,
    TOO_LONG,
    LintWarning,
    has_update_promise,
    lint_public,
)

NAMES = ["gravity", "metaphysics", "force", "k8s-prod"]
COMPONENTS = ["Checkout", "Search"]
GOOD = (
    "We're investigating an issue affecting Checkout. We'll post the next update within 30 minutes."
)


def lint(
    text: str, *, resolved: bool = False, components: list[str] | None = None, max_length: int = 600
) -> list[LintWarning]:
    return lint_public(
        text,
        internal_names=NAMES,
        max_length=max_length,
        components=COMPONENTS if components is None else components,
        resolved=resolved,
    )


def codes(text: str, **kw: Any) -> list[str]:
    return [w.code for w in lint(text, **kw)]


def test_a_good_update_is_clean() -> None:
    assert lint(GOOD) == []
    assert (
        lint("This issue has been resolved and Search works normally again.", resolved=True) == []
    )


# text (added to GOOD unless it stands alone), expected code, expected words
TABLE: list[tuple[str, str, tuple[str, ...]]] = [
    # internal names: whole words, case-insensitive, reported as written
    ("Gravity is slow.", INTERNAL_NAME, ("Gravity",)),
    ("Both GRAVITY and metaphysics are down.", INTERNAL_NAME, ("GRAVITY", "metaphysics")),
    ("The k8s-prod cluster restarted.", INTERNAL_NAME, ("k8s-prod",)),
    ("The gravity-api restarted.", INTERNAL_NAME, ("gravity",)),
    # stack traces
    ("Traceback (most recent call last):", STACK_TRACE, ("Traceback (most recent call last)",)),
    (
        '  File "/app/checkout.py", line 12, in pay',
        STACK_TRACE,
        ('File "/app/checkout.py", line 12',),
    ),
    ("at com.foo.Bar(Bar.java:12)", STACK_TRACE, ("at com.foo.Bar(Bar.java:12)",)),
    (
        "    at org.acme.pay.Charge.run(Charge.kt:88)",
        STACK_TRACE,
        ("at org.acme.pay.Charge.run(Charge.kt:88)",),
    ),
    ("at handler (/srv/app/index.js:12:5)", STACK_TRACE, ("at handler (/srv/app/index.js:12:5)",)),
    (
        "ValueError: invalid literal for int()",
        STACK_TRACE,
        ("ValueError: invalid literal for int()",),
    ),
    (
        "Exception: java.lang.NullPointerException",
        STACK_TRACE,
        ("Exception: java.lang.NullPointerException",),
    ),
    (
        "Error: connection refused by db_primary",
        STACK_TRACE,
        ("Error: connection refused by db_primary",),
    ),
    # internal hosts and addresses
    ("See http://payments.internal/health", INTERNAL_HOST, ("payments.internal",)),
    ("We restarted api.prod.corp.", INTERNAL_HOST, ("api.prod.corp",)),
    ("Reach it at printer.local", INTERNAL_HOST, ("printer.local",)),
    ("Try http://localhost:8080/x", INTERNAL_HOST, ("localhost",)),
    ("Host 10.1.2.3 failed.", INTERNAL_HOST, ("10.1.2.3",)),
    ("Host 172.20.0.5 failed.", INTERNAL_HOST, ("172.20.0.5",)),
    ("See https://192.168.1.10:8443/admin", INTERNAL_HOST, ("192.168.1.10",)),
    ("Dashboard: https://grafana.force.acme.net/d/1", INTERNAL_HOST, ("grafana.force.acme.net",)),
]


@pytest.mark.parametrize(("text", "code", "words"), TABLE)
def test_table(text: str, code: str, words: tuple[str, ...]) -> None:
    found = {w.code: w for w in lint(GOOD + "\n" + text)}
    assert code in found, f"{code} not raised for {text!r}: {list(found)}"
    assert found[code].words == words
    assert found[code].message


@pytest.mark.parametrize(
    "text",
    [
        "Some payments are failing; we're on it.",  # plain English
        "Error: some checkouts fail, e.g. card payments.",  # "Error:" without code
        "We see an error: pages load slowly.",
        "Our public site https://www.acme.com/help has details.",
        "Host 172.32.0.1 and 8.8.8.8 are public addresses.",
        "The gravitational pull of the holidays.",  # not the whole word
        "A forceful fix is coming.",
        "Version 10.1.2.3.4 is out.",
        "Updates at status.acme.com.",
        "The local team is aware.",
    ],
)
def test_no_false_alarms(text: str) -> None:
    assert lint(GOOD + " " + text) == []


def test_too_long() -> None:
    text = GOOD + " x" * 300
    [w] = lint(text)
    assert w.code == TOO_LONG and str(len(text)) in w.message and "600" in w.message
    assert codes(GOOD, max_length=20) == [TOO_LONG]


def test_no_component_named() -> None:
    [w] = lint("We're investigating an issue. Next update within 30 minutes.")
    assert w.code == NO_COMPONENT and "Checkout or Search" in w.message
    assert codes("Search is slow. Next update in 30 minutes.") == []
    assert codes("search is slow. Next update in 30 minutes.") == []  # case-insensitive
    assert codes("We're investigating. Next update soon.", components=[]) == []  # unknown


@pytest.mark.parametrize(
    "promise",
    [
        "We'll post the next update within 30 minutes.",
        "We will update you as soon as we know more.",
        "Another update within the hour.",
        "We'll post an update by 15:00 UTC.",
        "We will provide further updates as we learn more.",
        "We'll keep you posted.",
        "The team will update\nthis page at 15:00.",
    ],
)
def test_next_update_promises(promise: str) -> None:
    assert has_update_promise(promise)
    assert codes("Checkout is down. " + promise) == []


def test_missing_next_update_only_while_open() -> None:
    text = "We're investigating an issue affecting Checkout."
    [w] = lint(text)
    assert w.code == NO_NEXT_UPDATE and "next update" in w.message
    assert lint(text, resolved=True) == []
    assert not has_update_promise("Checkout has been updated.")


def test_everything_at_once_in_a_fixed_order() -> None:
    text = (
        "gravity fell over.\nTraceback (most recent call last):\n"
        "  File \"/srv/x.py\", line 3, in f\nKeyError: 'user_id'\n"
        "See http://10.0.0.7/status. " + "x" * 600
    )
    warnings = lint(text)
    assert [w.code for w in warnings] == list(CODES)
    trace = next(w for w in warnings if w.code == STACK_TRACE)
    assert trace.words == (
        "Traceback (most recent call last)",
        'File "/srv/x.py", line 3',
        "KeyError: 'user_id'",
    )


def test_empty_internal_names_are_ignored() -> None:
    assert lint_public(GOOD, internal_names=["", "  "], components=COMPONENTS, resolved=False) == []


# -- the shipped status-page templates on a configured page ------------------------------
@pytest.mark.parametrize(
    "template",
    [
        "statuspage-investigating",
        "statuspage-identified",
        "statuspage-monitoring",
        "statuspage-resolved",
    ],
)
@pytest.mark.parametrize("picked", [["Payments"], ["Payments", "Search"]])
def test_shipped_templates_name_the_components(template: str, picked: list[str]) -> None:
    from datetime import UTC, datetime

    from cockpit.domain.incident import Incident, Severity, Status
    from cockpit.domain.templates import TemplateLibrary, build_context

    page = ["Website", "API", "Payments", "Search"]
    t0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
    inc = Incident(
        id="7",
        title="Card payments failing",
        first_reported_at=t0,
        created_at=t0,
        created_by="sam",
    )
    inc.severity = Severity.MAJOR
    inc.affected_components = picked
    resolved = template == "statuspage-resolved"
    if resolved:
        inc.transition(Status.FIXING, at=t0, by="sam")
        inc.transition(Status.RESOLVED, at=t0, by="sam")
    context = build_context(inc, [], now=t0, tz=UTC, components=page)
    text = TemplateLibrary(None).render(template, context)
    for name in picked:
        assert name in text
    # the page's list (what the app lints against) and the incident's own
    for components in (page, picked):
        assert lint(text, components=components, resolved=resolved) == [], text

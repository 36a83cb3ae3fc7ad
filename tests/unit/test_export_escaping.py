"""Escaping on the way out: hostile remote or typed text in Slack messages, the channel
topic, the escalation message, Markdown exports and the post mortem."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cockpit.application.planner import Planner
from cockpit.config import EscalationTarget
from cockpit.domain.escape import md_inline, md_text, md_url, slack_escape
from cockpit.domain.export import export_markdown
from cockpit.domain.incident import Assessment, Incident, Link, Role, Status
from cockpit.domain.postmortem import postmortem_markdown
from cockpit.domain.slo import SupportCalendar
from cockpit.domain.templates import TemplateLibrary, build_context
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.integrations.slack.client import mrkdwn_to_text
from cockpit.integrations.slack.handlers import SlackHandlers

T0 = datetime(2026, 11, 27, 13, 3, tzinfo=UTC)
# what Slack stores when a reporter types it, and what cockpit shows of it
STORED = "&lt;!channel&gt; checkout down, see &lt;https://evil.example|status page&gt;"
TITLE = mrkdwn_to_text(STORED, {})
SUMMARY = (
    "Card payments fail <img src=x onerror=alert(1)>\n"
    "# Injected heading\n"
    "- injected list\n"
    "```\n"
    "    indented code\n"
    "> quote\n"
    "1. numbered\n"
    "[click](javascript:alert(1)) <javascript:alert(2)>"
)
NOTE = "see [the graph](javascript:alert(1)) | <script>x</script>\n## heading"


def hostile() -> tuple[Incident, list[TimelineEntry]]:
    inc = Incident(
        id="21",
        title=TITLE,
        first_reported_at=T0,
        created_at=T0,
        created_by="<@U999>",
        summary=SUMMARY,
    )
    es = [
        inc.acknowledge(
            at=T0 + timedelta(minutes=3),
            by="sam",
            ticket=Link("https://acme.atlassian.net/browse/INCIDENT-9?a=1&b=2", "INCIDENT-9"),
        ),
        inc.assign(Role.COMMANDER, "<!here> mallory", at=T0 + timedelta(minutes=4), by="sam"),
        inc.record_assessment(
            Assessment("<b>everyone</b>", True, None), at=T0 + timedelta(minutes=5), by="sam"
        ),
        TimelineEntry.new(
            "21",
            kind=EntryKind.NOTE,
            text=NOTE,
            event_at=T0 + timedelta(minutes=6),
            recorded_at=T0 + timedelta(minutes=6),
            author="[eve](https://evil.example)",
            link="javascript:alert(3)",
        ),
        inc.transition(Status.FIXING, at=T0 + timedelta(minutes=7), by="sam"),
    ]
    inc.links.thread = Link("data:text/html,<script>alert(4)</script>", "the thread")
    inc.links.channel = Link("https://acme.slack.com/archives/C21", "#incident-21")
    inc.links.follow_ups.append(Link("JavaScript:alert(5)", "PAY-1"))
    return inc, es


def test_the_feed_decodes_slack_text_for_display() -> None:
    # shown as text in the feed, and prefilled as the raise dialog's title
    assert TITLE == "<!channel> checkout down, see <https://evil.example|status page>"


# -- Slack ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lib() -> TemplateLibrary:
    return TemplateLibrary(None)


@pytest.mark.parametrize(
    "name", ["kickoff", "thread-reply", "stakeholder-update", "resolution-update"]
)
def test_slack_templates_escape_untrusted_text_and_keep_their_markup(
    lib: TemplateLibrary, name: str
) -> None:
    inc, es = hostile()
    out = lib.render(name, build_context(inc, es, now=T0 + timedelta(minutes=9), tz=UTC))
    assert lib.get(name).kind == "slack"
    assert "<!channel>" not in out and "<!here>" not in out and "<https://evil" not in out
    if name != "thread-reply":  # the reply does not repeat the title
        assert "&lt;!channel&gt; checkout down, see &lt;https://evil.example|status page&gt;" in out
    assert "<" not in out.replace("<@U", "")  # no live control sequence of the reporter's
    assert "*" in out  # the template's own bold stays


def test_kickoff_keeps_names_and_links_readable(lib: TemplateLibrary) -> None:
    inc, es = hostile()
    out = lib.render("kickoff", build_context(inc, es, now=T0 + timedelta(minutes=9), tz=UTC))
    assert "&lt;!here&gt; mallory" in out
    assert "INCIDENT-9?a=1&amp;b=2" in out
    assert "&lt;b&gt;everyone&lt;/b&gt;" in out


def test_channel_topic_is_escaped() -> None:
    inc, _ = hostile()
    topic = SlackHandlers._topic(inc)
    assert topic.startswith("&lt;!channel&gt; checkout down")
    assert "<" not in topic and "a=1&amp;b=2" in topic


def test_escalation_message_escapes_the_title_but_keeps_its_mentions() -> None:
    inc, _ = hostile()
    target = EscalationTarget(
        system="payments",
        name="Payments",
        slack_ids=("U1", "U2"),
        contacts=("pat",),
        links=("https://wiki.example/payments",),
    )
    items = Planner(frozenset({"slack"})).escalate(inc, target, T0)
    text = str(items[-1].params["text"])
    assert text.startswith("<@U1> <@U2> you are pulled in as point people for *Payments*: ")
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "Incident Commander: &lt;!here&gt; mallory" in text


def test_slack_escape() -> None:
    assert slack_escape("a & <b> > c") == "a &amp; &lt;b&gt; &gt; c"
    assert slack_escape("Checkout fails for some users") == "Checkout fails for some users"


# -- Markdown -------------------------------------------------------------------------
def _assert_inert_markdown(out: str) -> None:
    assert "<img" not in out and "<script" not in out and "<b>" not in out
    assert not re.search(r"(?<!\\)\]\((?:javascript|data):", out, re.IGNORECASE)
    assert "<javascript" not in out
    lines = out.split("\n")
    assert "# Injected heading" not in lines and "## heading" not in lines
    assert "- injected list" not in lines and "```" not in lines
    assert "    indented code" not in lines and "1. numbered" not in lines
    assert "\\# Injected heading" in lines and "\\- injected list" in lines
    assert "&lt;img src=x onerror=alert(1)&gt;" in out


def test_markdown_export_escapes_remote_text() -> None:
    inc, es = hostile()
    out = export_markdown(inc, es, tz=UTC)
    _assert_inert_markdown(out)
    assert out.startswith("# Incident 21: &lt;!channel&gt; checkout down")
    assert "\\[click\\](javascript:alert(1))" in out  # shown, not a link
    assert "- Report thread: the thread\n" in out  # data: link dropped, label kept
    assert "- Follow-up: PAY-1\n" in out
    assert "\\[eve\\](https://evil.example)" in out
    assert "[#incident-21](https://acme.slack.com/archives/C21)" in out


def test_post_mortem_escapes_remote_text() -> None:
    inc, es = hostile()
    out = postmortem_markdown(
        inc,
        es,
        calendar=SupportCalendar(
            tz=ZoneInfo("Europe/Berlin"), holidays=frozenset({date(2026, 1, 1)})
        ),
        tz=UTC,
        now=T0 + timedelta(minutes=9),
    )
    _assert_inert_markdown(out)
    assert "&lt;!here&gt; mallory" in out and "<!here>" not in out
    assert "**Acknowledgement SLO" in out  # cockpit's own Markdown stays


def test_post_mortem_draft_from_the_ui_is_escaped_too(lib: TemplateLibrary) -> None:
    inc, es = hostile()
    out = lib.render("post-mortem", build_context(inc, es, now=T0, tz=UTC))
    _assert_inert_markdown(out)


def test_markdown_helpers() -> None:
    assert md_text("Card payments fail at the last step.") == "Card payments fail at the last step."
    assert md_text("#incident-21 and snake_case, 3.5 s") == "#incident-21 and snake_case, 3.5 s"
    assert md_text("---") == "\\---" and md_text("a\n===") == "a\n\\==="
    assert md_inline("a\nb | c") == "a b \\| c"
    assert md_url("https://x.example/a_(b)") == "https://x.example/a_%28b%29"
    for bad in [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:x",
        "data:x",
        "vbscript:x",
    ]:
        assert md_url(bad) == "", bad
    assert md_url("/relative/path") == "/relative/path"
    assert md_url("mailto:a@b.example") == "mailto:a@b.example"


def test_a_slack_draft_reads_and_pastes_as_slack_shows_it(lib: TemplateLibrary) -> None:
    """`body` is what is sent (escaped); `readable` is what Slack shows and what a person
    pastes by hand into Slack's composer, which escapes it again itself."""
    from cockpit.domain.drafts import Draft

    inc, es = hostile()
    body = lib.render("kickoff", build_context(inc, es, now=T0 + timedelta(minutes=9), tz=UTC))
    draft = Draft.new(
        "21", template="kickoff", kind="slack", title="Kick-off", body=body, target="#x", at=T0
    )
    assert "&lt;!here&gt; mallory" in draft.body
    assert "<!here> mallory" in draft.readable and "&lt;" not in draft.readable
    assert "INCIDENT-9?a=1&b=2" in draft.readable
    note = Draft.new(
        "21", template="", kind="statuspage", title="t", body="a &lt; b", target="x", at=T0
    )
    assert note.readable == "a &lt; b"  # not Slack's: kept as written


def test_slack_unescape_undoes_slack_escape() -> None:
    from cockpit.domain.escape import slack_unescape

    for text in ("a & <b> > c", "&lt; literally", "&amp;lt;", ""):
        assert slack_unescape(slack_escape(text)) == text

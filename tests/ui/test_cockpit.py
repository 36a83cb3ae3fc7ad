"""Pilot tests: every key path of the cockpit screen, asserting state and messages."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input

from cockpit.domain.incident import Role, Severity, Status
from cockpit.domain.playbook import ItemState
from cockpit.domain.timeline import EntryKind
from cockpit.ui.dialogs.incident import CancelModal, NoteModal, RaiseModal, SeverityModal
from cockpit.ui.dialogs.message import Refusal
from cockpit.ui.messages import IncidentLoaded
from cockpit.ui.screens.help import HelpScreen
from cockpit.ui.screens.main import CockpitScreen
from cockpit.ui.widgets.feed import FeedView
from cockpit.ui.widgets.header import IncidentHeader
from cockpit.ui.widgets.panes import ChecklistPane, TimelinePane

from .conftest import NOW, SIZE, Harness, feed_message, settle


def screen_lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The screen as last painted, line by line (what the terminal shows)."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def header_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#incident-summary").render())


async def test_starts_empty_and_raises_from_the_modal(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "no active incident" in header_text(app)
        await pilot.press("R")
        assert isinstance(app.screen, RaiseModal)
        await pilot.press(*"Search is down")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        rows = harness.service.incidents()
        assert [r.title for r in rows] == ["Search is down"]
        assert app.screen.active_id == rows[0].id
        assert "Search is down" in header_text(app)
        # without a ticket system, raising tracks it: the SLO stops now
        assert harness.service.get(rows[0].id).acknowledged_at == NOW


async def test_raise_modal_refuses_an_empty_title_and_escape_backs_out(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R", "ctrl+s")
        assert isinstance(app.screen, RaiseModal)
        assert "title is needed" in str(app.screen.query_one("#dialog-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert harness.service.incidents() == []


async def test_tick_and_untick_persist_immediately(harness: Harness):
    iid = harness.raise_incident()
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        checklist = app.screen.query_one(ChecklistPane)
        assert checklist.has_focus
        first = checklist.highlighted_item()
        assert first is not None and first.state is ItemState.OPEN
        await pilot.press("x")
        await settle(pilot)
        ticks = harness.store.ticks(iid)
        assert ticks[first.item.id].ticked and ticks[first.item.id].by == "ada"
        assert checklist.view is not None and checklist.view.done == 1
        assert checklist.highlighted_item().item.id == first.item.id  # cursor stays put
        # what the terminal shows: the line alone and the border's count were repainted
        total = checklist.view.total
        assert f" 1/{total}" in screen_lines(app)[checklist.region.bottom - 1]
        assert f"✔ {first.item.text}" in "\n".join(screen_lines(app))
        await pilot.press("x")
        await settle(pilot)
        assert not harness.store.ticks(iid)[first.item.id].ticked
        assert checklist.view.done == 0
        assert f" 0/{total}" in screen_lines(app)[checklist.region.bottom - 1]
        assert f"☐ {first.item.text}" in "\n".join(screen_lines(app))


async def test_skipped_items_cannot_be_ticked(harness: Harness):
    iid = harness.raise_incident()
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        checklist = app.screen.query_one(ChecklistPane)
        skipped = next(
            iv for s in checklist.view.steps for iv in s.items if iv.state is ItemState.SKIPPED
        )
        checklist.highlighted = checklist.index_of(skipped.item.id)
        await pilot.press("x")
        await settle(pilot)
        assert skipped.item.id not in harness.store.ticks(iid)


async def test_note_with_backdating_and_a_refused_time(harness: Harness):
    iid = harness.raise_incident(minutes_ago=30)
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NoteModal)
        await pilot.press(*"Stripe webhooks timing out")
        await pilot.press("tab")
        await pilot.press(*"-12m")
        await pilot.press("ctrl+s")
        await settle(pilot)
        notes = [e for e in harness.store.timeline(iid) if e.text == "Stripe webhooks timing out"]
        assert len(notes) == 1 and notes[0].event_at == NOW - timedelta(minutes=12)
        assert notes[0].backdated
        # a time before the report is refused in the dialog, which keeps what was typed;
        # nothing is written
        await pilot.press("n", *"too early", "tab", *"-2h", "ctrl+s")
        await settle(pilot)
        assert not any(e.text == "too early" for e in harness.store.timeline(iid))
        assert isinstance(app.screen, NoteModal)
        error = str(app.screen.query_one("#dialog-error").render())
        assert "before the incident was first reported" in error
        assert app.screen.query_one("#note", Input).value == "too early"
        await pilot.press("escape")
        await settle(pilot)
        timeline = app.screen.query_one(TimelinePane)
        assert any(e.text == "Stripe webhooks timing out" for e in timeline.entries)


async def test_single_letter_keys_do_not_fire_while_typing(harness: Harness):
    harness.raise_incident()
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.press(*"RSXAIn?x")
        assert isinstance(app.screen, NoteModal)
        assert app.screen.query_one("#note", Input).value == "RSXAIn?x"


async def test_severity_with_the_assess_questions(harness: Harness):
    iid = harness.raise_incident()
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        assert isinstance(app.screen, SeverityModal)
        modal = app.screen
        modal.query_one("#affected", Input).value = "all EU buyers"
        modal.query_one("#reproduced").query("RadioButton")[1].value = True
        modal.query_one("#known").query("RadioButton")[1].value = True
        modal.query_one("#severity").query("RadioButton")[0].value = True  # Critical first
        await pilot.press("ctrl+s")
        await settle(pilot)
        inc = harness.service.get(iid)
        assert inc.severity is Severity.CRITICAL
        assert inc.assessment.affected == "all EU buyers"
        assert inc.assessment.reproduced is True and inc.assessment.known is False
        kinds = [e.kind for e in harness.store.timeline(iid)]
        assert EntryKind.SEVERITY in kinds and EntryKind.ASSESSMENT in kinds
        assert "CRITICAL" in header_text(app)


async def test_status_path_and_cancel(harness: Harness):
    iid = harness.raise_incident()
    other = harness.raise_incident("One partner cannot log in to the CMS")
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("enter")  # first choice from REPORTED: FIXING
        await settle(pilot)
        inc = harness.service.get(iid)
        assert inc.status is Status.FIXING and inc.commander == "ada"
        # switch to the other one and cancel it as not an incident
        app.screen.active_id = other
        app.screen.reload()
        await settle(pilot)
        await pilot.press("X")
        assert isinstance(app.screen, CancelModal)
        await pilot.press(*"single partner, CMS access", "ctrl+s")
        await settle(pilot)
        cancelled = harness.service.get(other)
        assert cancelled.status is Status.CANCELED
        assert cancelled.cancel_reason == "single partner, CMS access"


async def test_roles_modal_records_hand_offs(harness: Harness):
    iid = harness.raise_incident()
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        app.screen.query_one("#comms", Input).value = "grace"
        await pilot.press("ctrl+s")
        await settle(pilot)
        inc = harness.service.get(iid)
        assert inc.roles == {Role.COMMANDER: "ada", Role.COMMS: "grace"}
        assert "grace" in header_text(app)


async def test_switch_between_open_incidents(harness: Harness):
    first = harness.raise_incident("Search is down")
    second = harness.raise_incident("Login failures")
    app = harness.app(incident_id=first)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.active_id == first
        await pilot.press("I")
        await settle(pilot)
        await pilot.press("enter")  # newest first: Login failures
        await settle(pilot)
        assert app.screen.active_id == second
        assert harness.prefs.get("incident") == second


async def test_feed_hostile_text_is_literal_and_raise_from_message(harness: Harness):
    app = harness.app()
    hostile = (
        "[@click=app.quit]click me[/] [/x] [b]bold?[/b] \x1b]52;c;ZXZpbA==\x07\x1b[2J\u202eevil"
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        feed.add_messages(
            [
                feed_message(
                    "Checkout is failing for a lot of buyers. Card payments error out.",
                    minutes_ago=9,
                ),
                feed_message(hostile, minutes_ago=3, author="[red]mallory[/red]"),
            ]
        )
        await pilot.press("1")
        await settle(pilot)
        lines = [feed.render_line(y).text for y in range(2)]
        assert "[@click=app.quit]click me[/] [/x] [b]bold?" in lines[1]
        assert "\x1b" not in lines[1] and "\u202e" not in lines[1]
        assert "[red]mallory[/red]" in lines[1]
        await pilot.click("#feed", offset=(5, 1))  # clicking never runs the markup's action
        await settle(pilot)
        assert app.is_running
        await pilot.press("up", "r")
        await settle(pilot)
        assert isinstance(app.screen, RaiseModal)
        assert (
            app.screen.query_one("#title", Input).value == "Checkout is failing for a lot of buyers"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        inc = harness.service.get(harness.service.incidents()[0].id)
        assert inc.first_reported_at == NOW - timedelta(minutes=9)
        assert inc.links.thread is not None and "archives/C1" in inc.links.thread.url


async def test_pin_message_at_its_own_time(harness: Harness):
    iid = harness.raise_incident(minutes_ago=20)
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        feed.add_messages([feed_message("error rate back to normal", minutes_ago=4)])
        await pilot.press("1", "p")
        await settle(pilot)
        pinned = [e for e in harness.store.timeline(iid) if e.kind is EntryKind.PINNED]
        assert len(pinned) == 1
        assert pinned[0].event_at == NOW - timedelta(minutes=4)
        assert pinned[0].text == "sam: error rate back to normal"


async def test_pause_counts_new_messages_and_resume_shows_them(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        feed.add_messages([feed_message("one", minutes_ago=10)])
        await pilot.press("1", "space")
        assert feed.paused
        feed.add_messages([feed_message(f"m{i}", minutes_ago=9 - i) for i in range(3)])
        await pilot.pause()
        assert feed.pending == 3 and len(feed.rows) == 1
        assert "3 new" in str(feed.border_subtitle)
        await pilot.press("space")
        assert not feed.paused and len(feed.rows) == 4 and feed.pending == 0


async def test_feed_sticks_to_bottom_only_when_there(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        feed.add_messages([feed_message(f"m{i}", minutes_ago=100 - i) for i in range(50)])
        assert feed.cursor == 49
        feed.add_messages([feed_message("newest", minutes_ago=1)])
        assert feed.cursor == 50  # was at the bottom: follows
        await pilot.press("1", "home")
        feed.add_messages([feed_message("another", minutes_ago=0)])
        assert feed.cursor == 0  # was reading old messages: stays
        assert feed.selected().text == "m0"


async def test_threads_fold_under_their_parent(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        parent = feed_message("payments down?", ts="100.000001", minutes_ago=10, reply_count=2)
        feed.add_messages(
            [
                parent,
                feed_message(
                    "yes, since 14:05", ts="100.000002", thread_ts="100.000001", minutes_ago=9
                ),
                feed_message("on it", ts="100.000003", thread_ts="100.000001", minutes_ago=8),
            ]
        )
        assert len(feed.rows) == 1 and feed.rows[0].hidden_replies == 2
        await pilot.press("1", "enter")
        assert [r.message.text for r in feed.rows] == [
            "payments down?",
            "yes, since 14:05",
            "on it",
        ]
        assert [r.depth for r in feed.rows] == [0, 1, 1]


async def test_help_is_built_from_live_bindings_and_remaps(tmp_path):
    from .conftest import make_settings

    h = Harness(tmp_path, make_settings(keys={"note": "N"}))
    h.raise_incident()
    app = h.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("N")
        assert isinstance(app.screen, NoteModal)
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.keys["note"] == "N"
    h.store.close()


async def test_theme_switch_is_remembered(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "cockpit-dark"
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app.theme == "cockpit-light"
        assert harness.prefs.get("theme") == "cockpit-light"
    app2 = harness.app()
    async with app2.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app2.theme == "cockpit-light"


async def test_edit_entry_time_warns_when_out_of_order(harness: Harness):
    iid = harness.raise_incident(minutes_ago=30)
    harness.service.add_note(iid, "first finding")
    harness.clock.advance(minutes=2)
    harness.service.add_note(iid, "second finding")
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = app.screen.query_one(TimelinePane)
        await pilot.press("2")
        target = next(i for i, e in enumerate(timeline.entries) if e.text == "second finding")
        timeline.highlighted = target
        await pilot.press("t")
        await settle(pilot)
        field = app.screen.query_one("#text", Input)
        field.value = "-20m"
        await pilot.press("ctrl+s")
        await settle(pilot)
        moved = next(e for e in harness.store.timeline(iid) if e.text == "second finding")
        assert moved.event_at == NOW + timedelta(minutes=2) - timedelta(minutes=20)
        assert moved.edited_at is not None
        assert any(n.title == "Out of order" for n in app._notifications)


async def test_loaded_message_is_posted(harness: Harness):
    harness.raise_incident()
    app = harness.app()
    seen: list[IncidentLoaded] = []
    async with app.run_test(
        size=SIZE, message_hook=lambda m: seen.append(m) if isinstance(m, IncidentLoaded) else None
    ) as pilot:
        await settle(pilot)
        # the first load was read while the app started and shown in the first frame
        assert app.screen.record is not None and not seen
        assert app.screen.query_one(IncidentHeader).query_one("#slo").render()
        app.screen.reload()  # every later load arrives as a message
        await settle(pilot)
        assert seen and seen[-1].record is not None
        assert seen[-1].checklist is not None and seen[-1].checklist.total > 20


async def test_feed_memory_is_bounded_and_keeps_the_newest(harness: Harness):
    from cockpit.ui.widgets.feed import MAX_MESSAGES

    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        total = MAX_MESSAGES + 1200
        for start in range(0, total, 400):  # as the poller delivers: a page at a time
            feed.add_messages(
                [
                    feed_message(
                        f"alert {n}",
                        channel="alerts",
                        is_alert=True,
                        ts=f"{1_700_000_000 + n}.000100",
                        minutes_ago=0,
                    )
                    for n in range(start, min(start + 400, total))
                ]
            )
        assert len(feed.messages) == MAX_MESSAGES and len(feed.rows) == MAX_MESSAGES
        assert feed.rows[0].message.text == f"alert {total - MAX_MESSAGES}"
        assert feed.rows[-1].message.text == f"alert {total - 1}"
        assert feed.cursor == MAX_MESSAGES - 1  # still following the newest
        # an old message arriving late goes in its place (a full rebuild path)
        feed.add_messages([feed_message("late report", ts="1699999999.000001", minutes_ago=0)])
        assert len(feed.rows) == MAX_MESSAGES


async def test_a_refused_tick_is_put_back_and_said(harness: Harness, monkeypatch):
    from cockpit.domain.errors import CockpitError

    harness.raise_incident()
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        checklist = app.screen.query_one(ChecklistPane)
        item = checklist.highlighted_item()
        assert item is not None and item.state is ItemState.OPEN

        def refuse(*_a: object, **_k: object) -> None:
            raise CockpitError("the disk is full")

        monkeypatch.setattr(harness.service, "tick", refuse)
        await pilot.press("x")
        await settle(pilot)
        assert checklist.view is not None
        assert checklist._items[item.item.id].state is ItemState.OPEN  # shown as it is on disk
        assert any("the disk is full" in str(n.message) for n in app._notifications)


async def test_escalate_records_the_point_people(tmp_path):
    from cockpit.config import EscalationTarget

    from .conftest import make_settings

    target = EscalationTarget(
        system="payments",
        name="Payments",
        slack_ids=("U024BE7LH",),
        contacts=("Ana",),
        links=("https://wiki.example.com/pay",),
    )
    h = Harness(tmp_path, make_settings(escalation={"payments": target}))
    iid = h.raise_incident()
    app = h.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        checklist = app.screen.query_one(ChecklistPane)
        checklist.highlighted = checklist.index_of("escalate")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # the only system
        await settle(pilot)
        sme = [e for e in h.store.timeline(iid) if e.kind is EntryKind.ROLE]
        assert len(sme) == 1 and "subject-matter expert for Payments: Ana" in sme[0].text
        assert sme[0].link == "https://wiki.example.com/pay"
        assert h.store.ticks(iid)["escalate"].ticked  # no Slack here: recorded, done by hand
    h.store.close()


async def test_the_feed_cache_is_shown_at_start(tmp_path):
    from cockpit.store.feedcache import FeedCache

    h = Harness(tmp_path)
    cache = FeedCache(tmp_path / "data")
    cache.append([feed_message("from before the restart", minutes_ago=30)])
    app = h.app()  # the services' feed cache is the one in the data dir
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        for _ in range(50):  # handed over on the next frames
            if feed.messages:
                break
            await pilot.pause(0.05)
        assert [m.text for m in feed.messages] == ["from before the restart"]
    h.store.close()


async def test_handoff_drafts_a_summary_and_notes_every_open_incident(harness: Harness):
    first = harness.raise_incident("Search is down")
    second = harness.raise_incident("Login failures")
    harness.service.assign(second, Role.COMMS, "grace")
    app = harness.app(incident_id=first)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        drafts = harness.service.drafts(first)
        assert [d.template for d in drafts] == ["handoff"]
        body = drafts[0].body
        assert "Search is down" in body and "Login failures" in body and "grace" in body
        assert "checklist items open" in body
        for iid in (first, second):
            assert any(e.kind is EntryKind.HANDOFF for e in harness.store.timeline(iid))
            assert harness.store.ticks(iid)["handoff"].ticked


async def test_metrics_screen_counts_the_history(harness: Harness):
    from textual.widgets import Sparkline

    from cockpit.ui.screens.metrics import MetricsScreen

    from . import scenes

    scenes.history(harness)
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, MetricsScreen)
        period = str(app.screen.query_one("#metrics-period").render())
        # 30 days back from 27 Nov 14:20: 28 Oct 23:00 is in, 24 Oct is not (by hand)
        assert "last 30d" in period and "8 reported · 7 real · 1 canceled" in period
        await pilot.press("3")  # a quarter: all ten
        await settle(pilot)
        period = str(app.screen.query_one("#metrics-period").render())
        assert "10 reported · 9 real · 1 canceled" in period
        assert sum(app.screen.query_one(Sparkline).data) == 9


async def test_history_opens_read_only_and_re_exports(harness: Harness):
    from cockpit.ui.screens.history import HistoryScreen

    old = harness.raise_incident("Old search outage", minutes_ago=50)
    harness.service.set_status(old, Status.FIXING)
    harness.service.set_status(old, Status.RESOLVED)
    harness.raise_incident("Login failures")
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press(*"search outage")
        await settle(pilot)
        await pilot.press("enter", "ctrl+e")  # to the list, then export the one found
        await settle(pilot)
        path = harness.store.data_dir / "exports" / f"incident-{old}-post-mortem.md"
        assert path.exists() and "Old search outage" in path.read_text()
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        await pilot.press("enter")  # open it
        await settle(pilot)
        assert app.screen.active_id == old
        before = len(harness.store.timeline(old))
        await pilot.press("S")  # read-only: a dialog says why (and takes the keys)
        await settle(pilot)
        assert isinstance(app.screen, Refusal)
        assert "read-only" in app.screen.text
        await pilot.press("escape")
        await settle(pilot)
        assert len(harness.store.timeline(old)) == before


async def test_resolving_a_critical_incident_offers_the_post_mortem(harness: Harness):
    iid = harness.raise_incident("Checkout down", severity=Severity.CRITICAL)
    harness.service.set_status(iid, Status.FIXING)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", "r")
        await settle(pilot)
        assert harness.service.get(iid).status is Status.RESOLVED
        drafts = harness.service.drafts(iid)
        assert [d.template for d in drafts] == ["post-mortem"]
        assert "Post mortem" in drafts[0].body and "Checkout down" in drafts[0].body
        assert any(n.title == "Post mortem" for n in app._notifications)


async def test_resolving_a_major_incident_does_not(harness: Harness):
    iid = harness.raise_incident("Slow search", severity=Severity.MAJOR)
    harness.service.set_status(iid, Status.FIXING)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", "r")
        await settle(pilot)
        assert harness.service.get(iid).status is Status.RESOLVED
        assert harness.service.drafts(iid) == []


def test_history_search_words_dates_and_text():
    from datetime import UTC

    from cockpit.store.store import IncidentSummary
    from cockpit.ui.screens.history import matches

    s = IncidentSummary.from_dict(
        {
            "id": "7",
            "title": "Checkout failing",
            "severity": "critical",
            "status": "resolved",
            "first_reported_at": "2026-10-15T10:00:00+00:00",
            "acknowledged_at": None,
            "resolved_at": None,
            "canceled_at": None,
            "drill": False,
            "v": 1,
        }
    )
    assert matches(s, "checkout critical", UTC)
    assert matches(s, "2026-10", UTC) and not matches(s, "2026-11", UTC)
    assert matches(s, "2026-10-01..2026-10-31", UTC)
    assert matches(s, "..2026-10-15", UTC) and not matches(s, "2026-10-16..", UTC)
    assert not matches(s, "stripe", UTC)
    assert matches(s, "stripe", UTC, text="stripe webhooks timed out")


async def test_a_crash_shows_no_locals_and_no_token(harness: Harness):
    import pytest

    from cockpit.ui.screens.main import CockpitScreen

    app = harness.app()

    def boom(self: CockpitScreen) -> None:
        secret = "-".join(["hunter2", "crash", "value"])  # a runtime value in a local
        raise RuntimeError(f"something broke near {len(secret)} characters")

    shown: list[str] = []
    original = app._print_error_renderables

    def keep() -> None:  # what would reach the terminal after the crash
        shown.extend(str(r) for r in app._exit_renderables)
        original()

    app._print_error_renderables = keep  # type: ignore[method-assign]
    CockpitScreen.action_boom = boom  # type: ignore[attr-defined]
    try:
        with pytest.raises(RuntimeError):
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                app.screen.call_later(app.screen.action_boom)  # type: ignore[attr-defined]
                await pilot.pause()
                await pilot.pause()
        text = "".join(shown) or "".join(str(r) for r in app._exit_renderables)
        assert "something broke" in text and "cockpit crashed" in text
        assert "hunter2-crash-value" not in text  # frames' locals are not shown
    finally:
        del CockpitScreen.action_boom  # type: ignore[attr-defined]


# -- the drafts pane: the preview, and the editor mounted only while editing ------------------
async def test_draft_edit_keeps_or_drops_the_change(harness: Harness):
    from textual.widgets import Static, TextArea

    from cockpit.ui.widgets.drafts import DraftsPane

    iid = harness.raise_incident()
    draft = harness.service.new_draft(iid, "stakeholder-update")
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(DraftsPane)
        assert not app.screen.query(TextArea)  # nothing to edit yet: no editor at start
        preview = str(pane.query_one("#draft-body", Static).render())
        assert draft.body.splitlines()[0] in preview
        await pilot.press("4", "e")  # focus the drafts, edit the selected one
        await settle(pilot)
        editor = pane.query_one(TextArea)
        assert app.focused is editor and editor.text == draft.body
        assert not pane.query_one("#draft-view").display
        editor.text = "Edited: [bold]not markup[/bold]"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert harness.service.drafts(iid)[0].body == "Edited: [bold]not markup[/bold]"
        assert not pane.query(TextArea) and pane.query_one("#draft-view").display
        assert "[bold]not markup[/bold]" in str(pane.query_one("#draft-body", Static).render())
        # escape drops an edit: the stored text stays
        await pilot.press("e")
        await settle(pilot)
        pane.query_one(TextArea).text = "thrown away"
        await pilot.press("escape", "ctrl+s")  # asked first (the text changed): drop it
        await settle(pilot)
        assert harness.service.drafts(iid)[0].body.startswith("Edited:")
        assert not pane.query(TextArea) and pane.editing is None


async def test_a_slack_draft_shows_and_copies_as_slack_shows_it(harness: Harness):
    """The body goes to Slack escaped (`&lt;`); the preview, the confirm dialog and the
    copy for pasting by hand show it as Slack does."""
    from textual.widgets import Static

    from cockpit.ui.widgets.drafts import DraftsPane

    iid = harness.raise_incident("Latency <200ms & >100ms")
    draft = harness.service.new_draft(iid, "kickoff")
    assert "&lt;200ms &amp; &gt;100ms" in draft.body
    app = harness.app()
    copied: list[str] = []
    app.copy_text = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(DraftsPane)
        preview = str(pane.query_one("#draft-body", Static).render())
        assert "Latency <200ms & >100ms" in preview and "&lt;" not in preview
        await pilot.press("4", "c")
        await settle(pilot)
    assert copied and "Latency <200ms & >100ms" in copied[0] and "&lt;" not in copied[0]


# -- the key bar ------------------------------------------------------------------------------
def key_bar_text(app) -> str:  # type: ignore[no-untyped-def]
    from cockpit.ui.widgets.keybar import KeyBar

    return str(app.screen.query_one(KeyBar).render())


async def test_key_bar_follows_the_focus_and_the_keymap(tmp_path):
    from .conftest import make_settings

    h = Harness(tmp_path, make_settings(keys={"note": "N"}))
    h.raise_incident()
    app = h.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = key_bar_text(app)
        assert " N Note " in text and " n Note " not in text  # remapped, as it works
        assert " x Tick " in text  # the checklist has the focus at start
        assert text.rstrip().endswith("Commands")  # the palette's key at the right end
        await pilot.press("2")  # the timeline: its keys, not the checklist's
        await settle(pilot)
        text = key_bar_text(app)
        assert " x Tick " not in text and " N Note " in text
    h.store.close()


async def test_a_click_on_the_key_bar_presses_that_key(harness: Harness):
    from cockpit.ui.widgets.keybar import KeyBar

    harness.raise_incident()
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        start, _end, _key, enabled = next(s for s in bar.spans if s[2] == "n")
        assert enabled
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, NoteModal)


async def test_the_feed_border_shows_typed_and_remote_text_literally(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        feed.filter_text = "[red]payments[/red]"
        feed.remote_status = "HTTP 502 [bold]Bad Gateway[/bold] \x1b[2J"
        feed.mode = "● live"
        await pilot.pause()
        bottom = screen_lines(app)[feed.region.bottom - 1]  # the border, as drawn
        assert "● live" in bottom and "[bold]Bad Gateway[/bold]" in bottom
        assert "\x1b" not in bottom
        feed.remote_status = ""
        await pilot.pause()
        assert "filter: [red]payments[/red]" in screen_lines(app)[feed.region.bottom - 1]


async def test_a_slow_first_read_is_waited_for_not_done_twice(harness: Harness):
    """The first incident is read while the app starts; if that read is not in by the
    first frame, the screen takes its result when it is, rather than reading again."""
    import threading

    iid = harness.raise_incident()
    release = threading.Event()
    calls: list[str | None] = []
    original = harness.service.active_view

    def slow_view(wanted: str | None):  # type: ignore[no-untyped-def]
        calls.append(wanted)
        release.wait(5)
        return original(wanted)

    harness.service.active_view = slow_view  # type: ignore[method-assign]
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.record is None  # the first frame came before the read
        release.set()
        await settle(pilot)
        assert app.screen.record is not None and app.screen.record.incident.id == iid
        assert len(calls) == 1


async def test_enter_on_mark_fixing_is_one_store_call_and_one_reload(harness: Harness):
    """The screen reads what would go out (nothing here), then asks the application layer
    once (status, tick and remote plan in one call on the store's thread) and reloads
    once."""
    from cockpit.ui.widgets.panes import ChecklistPane

    iid = harness.raise_incident()
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(ChecklistPane)
        pane.focus()
        pane.highlighted = pane.index_of("mark-fixing")
        calls: list[str] = []
        real = app.store_call

        def counting(label, fn, done=None, failed=None):  # type: ignore[no-untyped-def]
            calls.append(label)
            real(label, fn, done, failed)

        app.store_call = counting  # type: ignore[method-assign]
        await pilot.press("enter")
        await settle(pilot)
        assert harness.service.get(iid).status is Status.FIXING
        assert harness.store.ticks(iid)["mark-fixing"].ticked
        assert calls.count("Mark FIXING") == 1
        assert calls.count("load incident") == 1
        assert [c for c in calls if c not in ("load drafts", "remember incident")] == [
            "preview what goes out",  # a read first: nothing is configured, no confirm
            "Mark FIXING",
            "load incident",
        ], calls

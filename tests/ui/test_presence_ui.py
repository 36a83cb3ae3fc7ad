"""Presence and hand-offs in the running app, against the drill range (a real loopback
server): Bo's header says who else has the incident open ("also here: ada (IC)", read
from the ticket's issue property the cockpits refresh), and `G` gives his role to a
teammate: the header shows the new holder. Ada is another cockpit on the same range."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

from textual.content import Content
from textual.widgets.option_list import OptionDoesNotExist

from cockpit.application.presence import PresenceLoop
from cockpit.application.team import ChannelWatch, TeamSync
from cockpit.config import load_settings
from cockpit.domain.clock import SystemClock
from cockpit.domain.incident import Link, Role, Severity
from cockpit.domain.presence import PROPERTY_KEY
from cockpit.domain.team import TeamKey
from cockpit.integrations.jira.client import JiraClient
from cockpit.integrations.slack.client import SlackClient
from cockpit.integrations.slack.links import thread_of
from cockpit.sandbox.server import SandboxServer
from cockpit.ui.dialogs.prompts import TextPrompt
from cockpit.ui.widgets.drafts import DraftList, DraftsPane
from cockpit.ui.widgets.header import IncidentHeader, fit

from .conftest import Harness
from .test_team_ui import OPTIONS, TOKENS, Other, report, wait_until


async def test_the_header_says_who_else_is_here_and_a_hand_off_shows_the_new_holder(
    tmp_path: Path,
) -> None:
    with SandboxServer(port=0, scenario="quiet", seed=7, lenient=True) as server:
        ada = Other(tmp_path, server)
        link = report(server, "Search results are empty for every query")
        done = ada.actions.raise_incident("Search is empty", thread=link, reported_at="-5m")
        assert done.incident is not None
        a_id = done.incident.id
        ada.actions.assign_roles(a_id, commander="ada", comms="bo")
        ada.actions.set_severity(a_id, Severity.MAJOR)
        await ada.drain()
        a_inc = ada.services.service.get(a_id)
        key = TeamKey.of(a_inc)
        assert key.ticket and key.channel
        # Ada's cockpit has it open: her entry on the ticket
        assert ada.actions.team is not None
        jira = cast(JiraClient, ada.clients["jira"])
        ada_here = PresenceLoop(
            jira, cockpit=ada.actions.team.origin, person="ada", clock=SystemClock()
        )
        ada_here.show(a_inc)
        await ada_here.refresh()

        # Bo's cockpit joins it from the report's thread, then opens the app (80 columns)
        config = tmp_path / "bo.toml"
        config.write_text(server.config_snippet())
        settings = load_settings(config, {"COCKPIT_USER": "bo", "COCKPIT_TIMEZONE": "UTC"})
        h = Harness(
            tmp_path / "bo", settings, clock=SystemClock(), token=TOKENS.get, client_options=OPTIONS
        )
        team = h.services.actions.team
        assert isinstance(team, TeamSync)
        where = thread_of(Link(link))
        assert where is not None
        found = await ChannelWatch(
            cast(SlackClient, ada.clients["slack"]), ada_apply
        ).look_for_raise(*where)
        assert found is not None
        b_id = team.join(found).id
        remote = h.services.remote
        assert remote is not None
        app = h.app()
        async with app.run_test(size=(80, 30)) as pilot:
            summary = app.screen.query_one(IncidentHeader).query_one("#incident-summary")

            def line() -> str:  # what shows: the summary's width of it
                return str(summary.render())[: summary.size.width]

            # on open, Bo's cockpit reads the ticket's property: Ada is there, as IC (at 80
            # columns, beside the SLO clock, the short form)
            await wait_until(pilot, lambda: "here: ada (IC)" in line())
            assert "Comms bo" in line() and "IC ada" not in line()  # (named once)
            assert line().startswith(f"#{b_id} ")
            # Bo's own entry is on the ticket now, for Ada's cockpit to read
            await ada_here.refresh()
            assert [x.label() for x in ada_here.others(a_id)] == ["bo (Comms)"]
            prop = await jira.get_property(key.ticket, PROPERTY_KEY)
            assert sorted(x["person"] for x in prop["here"]) == ["ada", "bo"]

            # G: Bo gives his role (Comms) to Ada
            await pilot.press("G")
            await wait_until(pilot, lambda: isinstance(app.screen, TextPrompt))
            assert "Communications Officer" in str(app.screen.TITLE_TEXT)
            await pilot.press(*"ada", "enter")
            await wait_until(pilot, lambda: h.service.get(b_id).roles.get(Role.COMMS) == "ada")
            await wait_until(pilot, lambda: "here: ada (IC, Comms)" in line())
            assert " bo" not in line()  # (Bo holds no role now)
            entry = next(e for e in h.store.timeline(b_id) if "handed over" in e.text)
            assert entry.text == "Communications Officer handed over: bo → ada"

            # Ada (Comms now) opens the status page: Bo's drafts pane shows it as sent by
            # her, and his incident has the page's link (his next update updates it)
            ada.sender.on_sent = ada.actions.team.sent
            draft = ada.actions.new_draft(a_id, "statuspage-investigating").draft
            assert draft is not None
            ada.actions.send_draft(a_id, draft.id, components=["Payments"])
            await ada.drain()
            page = ada.services.service.get(a_id).links.status_page
            assert page is not None
            await wait_until(pilot, lambda: h.service.get(b_id).links.status_page == page)
            rows = app.screen.query_one(DraftsPane).query_one(DraftList)

            def sent_row() -> str:
                ids = [d.id for d in h.service.drafts(b_id) if d.id.startswith("team-")]
                if not ids:
                    return ""
                try:
                    return str(rows.get_option(f"d:{ids[0]}").prompt)
                except OptionDoesNotExist:
                    return ""

            await wait_until(pilot, lambda: "(sent by ada)" in sent_row())
            assert sent_row().startswith("SENT") and "Status page" in sent_row()
            await app.action_quit()
        await asyncio.sleep(0)
        h.store.close()
        await ada.close()


async def ada_apply(*_args: object) -> object:  # (the look for a raise applies nothing)
    raise AssertionError("not called")


def test_the_summary_fits_its_width_who_is_here_before_the_title() -> None:
    head = Content.assemble("#1 ", " MAJOR ", " ", " FIXING ", " ")
    roles = [("IC ", ""), ("ana", "")]
    title = "Checkout is failing for every card payment"
    also = "also here: Bo (Comms)"
    wide = fit(head, title, roles, also, "", 150).plain
    assert wide.endswith(f"{title}  IC ana  also here: Bo (Comms)")
    shown = fit(head, title, roles, also, "", 70).plain  # the title shortened first
    assert len(shown) <= 70 and shown.endswith("…  IC ana  also here: Bo (Comms)")
    for width in (58, 62):  # then "here:" for "also here:"
        shown = fit(head, title, roles, also, "", width).plain
        assert len(shown) <= width and shown.endswith("…  IC ana  here: Bo (Comms)")
        assert "Checkout" in shown
    narrow = fit(head, title, roles, also, "", 44).plain  # no title; who is here first
    assert narrow.startswith("#1  MAJOR   FIXING  here: Bo (Comms)")
    assert fit(head, title, roles, "", "", 44).plain.endswith("IC ana")

"""The app with its remote side against the drill range (in-process): what the user sees
when a remote system misbehaves."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cockpit.config import load_settings
from cockpit.domain.outbox import OutboxState
from cockpit.integrations.http import RetryPolicy
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.tokens import APP_TOKEN, BOT_TOKEN, STATUSPAGE_KEY
from cockpit.ui.widgets.drafts import DraftsPane

from .conftest import SIZE, Harness

# the drill range's own Slack token and Statuspage key (it refuses others, as Slack does)
TOKENS = {"slack": BOT_TOKEN, "jira": "jira-ui", "statuspage": STATUSPAGE_KEY}


async def wait_until(pilot, check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.1)


async def test_a_proxy_error_page_is_shown_plainly_and_the_action_still_goes_out(tmp_path: Path):
    with SandboxServer(port=0, scenario="quiet", seed=3) as server:
        config = tmp_path / "config.toml"  # Jira only: nothing else takes the forced fault
        config.write_text(  # the range's INCIDENT project requires its Severity field
            f'[jira]\nurl = "{server.base_url}"\nemail = "oncall@example.test"\n'
            '[jira.severity]\nfield = "customfield_10042"\n'
            'values = { critical = "Critical", major = "Major", minor = "Minor", '
            'unset = "Major" }\n'
        )
        settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
        from cockpit.domain.clock import SystemClock

        clock = SystemClock()
        h = Harness(
            tmp_path,
            settings,
            clock=clock,
            token=TOKENS.get,
            client_options={
                "timeout": 1.0,
                "deadline": 3.0,
                "retry": RetryPolicy(base_delay=0.01, max_delay=0.05, total=3.0),
            },
        )
        remote = h.services.remote
        assert remote is not None
        inc = h.service.raise_incident("Checkout payments failing", acknowledge=False)
        app = h.app(incident_id=inc.id)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: remote.sender is not None)
            # the create gets the HTML error page a proxy sends, before any effect
            server.faults.force("server_error", "before", on="POST /rest/api/3/issue")
            remote.enqueue(
                app.services.actions.planner.for_action(  # type: ignore[union-attr]
                    "create-ticket", h.service.get(inc.id), clock.now(), item_id="create-ticket"
                )
            )
            remote.sender.wake()
            await wait_until(pilot, lambda: any(i.reason for i in remote.items(inc.id)))
            item = remote.items(inc.id)[0]
            assert ("HTML page" in item.reason and "502" in item.reason) or "500" in item.reason
            assert item.state is OutboxState.QUEUED and item.uncertain  # it checks first
            app.screen.reload()  # type: ignore[attr-defined]
            await pilot.pause(0.3)
            pane = app.screen.query_one(DraftsPane)
            await wait_until(pilot, lambda: pane.actions and pane.actions[0].reason)
            # the user sees the action, its state and the reason in plain words
            assert "HTML page" in pane.actions[0].reason
            assert "<html" not in pane.actions[0].reason.lower()
            # and it goes out once the next try comes round (after checking for it)
            remote.sender.clock = clock
            item = remote.items(inc.id)[0]
            # (rather than wait out its backoff)
            h.store.put_doc(inc.id, "outbox", {**item.to_dict(), "next_attempt_at": None})
            remote.sender.wake()
            await wait_until(pilot, lambda: remote.items(inc.id)[0].state is OutboxState.SENT)
            state = server.state.snapshot()
            assert (
                len([i for i in state["jira"]["issues"].values() if "cockpit" in i["labels"]]) == 1
            )
            await app.action_quit()
        await asyncio.sleep(0)
        h.store.close()


BAD_ANSWERS = {
    "truncated JSON": (201, {"content-type": "application/json"}, b'{"id": "10001", "key": "INC'),
    "invalid JSON": (201, {"content-type": "application/json"}, b"{key: INC-1}"),
    "JSON of the wrong shape": (201, {"content-type": "application/json"}, b'{"id": 5}'),
    "a proxy's HTML page": (
        502,
        {"content-type": "text/html"},
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    ),
    "a huge answer": (
        201,
        {"content-type": "application/json"},
        b'{"pad": "' + b"x" * 6_000_000 + b'"}',
    ),
}


async def test_bad_answers_are_said_plainly_and_nothing_is_lost(tmp_path: Path):
    """Each bad answer to the ticket's creation: the app keeps running, the drafts pane
    says what happened in plain words (no HTML, no 6 MB), and the action is still there,
    waiting to be checked and tried again (a write may have gone through)."""
    import httpx

    from cockpit.domain.clock import SystemClock

    config = tmp_path / "config.toml"
    config.write_text('[jira]\nurl = "https://jira.example.test"\nemail = "a@example.test"\n')
    settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
    clock = SystemClock()
    answers = list(BAD_ANSWERS.items())
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/issue"):
            name, (status, headers, body) = answers[len(seen) % len(answers)]
            seen.append(name)
            return httpx.Response(status, headers=headers, content=body)
        page = {"startAt": 0, "maxResults": 50, "total": 1, "isLast": True}
        if request.url.path.endswith("/createmeta/INCIDENT/issuetypes"):  # read first
            return httpx.Response(200, json={**page, "issueTypes": [{"id": "1", "name": "Task"}]})
        if "/createmeta/" in request.url.path:  # nothing required beyond the summary
            return httpx.Response(200, json={**page, "total": 0, "fields": []})
        if request.method == "GET" and "/issue/" in request.url.path:  # read by key: absent
            return httpx.Response(
                404, json={"errorMessages": ["Issue does not exist"], "errors": {}}
            )
        return httpx.Response(200, json={"issues": [], "isLast": True})  # the check: not there

    h = Harness(
        tmp_path,
        settings,
        clock=clock,
        token=TOKENS.get,
        client_options={
            "transport": httpx.MockTransport(handler),
            "retry": RetryPolicy(attempts=1, base_delay=0.01, max_delay=0.01, total=1.0),
        },
    )
    remote = h.services.remote
    assert remote is not None
    inc = h.service.raise_incident("Checkout payments failing", acknowledge=False)
    app = h.app(incident_id=inc.id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: remote.sender is not None)
        remote.enqueue(
            app.services.actions.planner.for_action(  # type: ignore[union-attr]
                "create-ticket", h.service.get(inc.id), clock.now(), item_id="create-ticket"
            )
        )
        reasons = []
        for _ in answers:
            asked = len(seen)
            remote.sender.wake()
            await wait_until(pilot, lambda asked=asked: len(seen) > asked)
            await wait_until(
                pilot,
                lambda: remote.items(inc.id)[0].state.pending and remote.items(inc.id)[0].reason,
            )
            item = remote.items(inc.id)[0]
            reasons.append(item.reason)
            assert app.is_running
            assert item.state.pending, item  # still there, to be checked and tried again
            assert len(item.reason) < 400 and "<html" not in item.reason.lower()
            h.store.put_doc(
                inc.id, "outbox", {**item.to_dict(), "next_attempt_at": None, "reason": ""}
            )
        print("\n".join(reasons))
        assert seen == [name for name, _ in answers]
        assert all(r.startswith("Jira") for r in reasons), reasons
        app.screen.reload()  # type: ignore[attr-defined]
        await pilot.pause(0.3)
        await app.action_quit()
    h.store.close()


@pytest.mark.parametrize(
    "tokens,expect",
    [
        ({"slack": BOT_TOKEN, "slack-app": APP_TOKEN}, "● live"),
        ({"slack": BOT_TOKEN}, "polling"),
    ],
)
async def test_the_feed_says_whether_new_messages_are_pushed_or_polled(
    tmp_path: Path, tokens: dict[str, str], expect: str
):
    """With Slack's Socket Mode up the feed's border says live; when the socket is cut, that
    it polls meanwhile; with no app-level token, that it polls; while it polls, how late a
    new report may be (#incidents' period)."""
    from cockpit.domain.clock import SystemClock
    from cockpit.ui.widgets.feed import FeedView

    with SandboxServer(port=0, scenario="quiet", seed=3) as server:
        config = tmp_path / "config.toml"
        config.write_text(f'[slack]\napi_url = "{server.base_url}/api"\n')
        settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
        h = Harness(tmp_path, settings, clock=SystemClock(), token=tokens.get)
        remote = h.services.remote
        assert remote is not None
        app = h.app()

        def border() -> str:
            return str(app.screen.query_one(FeedView).border_subtitle)

        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: expect in border())
            if expect == "● live":
                assert "new within" not in border()
                assert server.socket is not None
                server.socket.disconnect(None)  # the network cut
                await wait_until(pilot, lambda: "polling meanwhile" in border())
                assert "polling meanwhile · new within 8 s" in border()
                await wait_until(pilot, lambda: "● live" in border())
                assert "new within" not in border()
            else:
                await wait_until(pilot, lambda: "polling · new within 8 s" in border())
            await app.action_quit()
        await asyncio.sleep(0)
        h.store.close()

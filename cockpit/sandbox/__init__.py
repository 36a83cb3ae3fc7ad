"""The drill range: a loopback server speaking the Slack, Jira and Statuspage wire APIs.

It powers `cockpit sandbox` (a server for drills and manual testing), `cockpit demo` and the
integration and end-to-end tests. No Textual here. The HTTP API is a small ASGI app
(asgi.py) served by uvicorn, with its limits on bodies, heads, idle connections and
threads; Socket Mode runs on the websockets library; both are imported when the server
starts, and httpx behind the in-process transport (imported by `server.transport()`).

    from cockpit.sandbox import SandboxServer
    with SandboxServer(scenario="outage", speed=10) as server:
        server.base_url            # "http://127.0.0.1:PORT"
        server.settings()          # {"slack": {"api_url": ...}, "jira": {...}, ...}
        server.config_snippet()    # the same as TOML, for config.toml
        server.faults.force("drop", "after")   # the next request fails after its effect
        server.faults.force("timeout", "after", on="chat.postMessage", times=2)
        server.socket.disconnect("refresh_requested")   # Socket Mode: Slack refreshes
        server.state.snapshot()    # everything, as JSON-ready dicts

In process, with no socket (transport.py; the server need not be started):

    server = SandboxServer(scenario=None)
    SlackClient(f"{IN_PROCESS_URL}/api", "xoxb-drill-range", transport=server.transport())

It is the only fake of the three services: tests reach it through that transport (or the
loopback server where they need a socket), with one fault injector (faults.py) for both.

`state.snapshot()` (and `GET <base>/_sandbox/state`) returns:

    {"started_at", "base_url",
     "scenario": {"name", "speed", "events_total", "events_fired", "finished", ...},
     "slack": {"team", "bot": {"user_id", "bot_id", "app_id"}, "users": [...],
               "channels": {NAME: {"id", "is_private", "is_archived", "members",
                                   "bot_is_member", "topic", "purpose",
                                   "message_count",
                                   "messages": [SLACK MESSAGE + {"replies": [...]}],
                                   "orphan_replies": [replies to a thread_ts that is no
                                                      message: invisible in Slack]}}},
     "jira": {"projects", "users",
              "issues": {KEY: {"id", "key", "project", "summary", "description", "issuetype",
                               "priority", "labels", "status", "resolution", "reporter",
                               "assignee", "created", "updated", "fields" (custom),
                               "comments" (with their "properties"), "remote_links",
                               "links", "properties",
                               "history" (status changes)}}},
     "statuspage": {"page_id", "components": {NAME: status}, "component_ids": {NAME: id},
                    "incidents": [STATUSPAGE INCIDENT with "incident_updates"]},
     "faults_injected": [{"n", "kind", "when", "status", "service", "method", "path", "at"}],
     "requests": {"slack:<method>" | "jira:<VERB> <path>" | "statuspage:<VERB> <path>": n},
     "socket": {"connections_open", "connections_total", "refused", "sent", "acked",
                "resent", "dropped", "lost", "unacked": [envelope ids]} (None without it)}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.sandbox.dispatch import IN_PROCESS_URL
    from cockpit.sandbox.server import SandboxError, SandboxServer, run_sandbox

__all__ = ["IN_PROCESS_URL", "SandboxError", "SandboxServer", "run_sandbox"]


def __getattr__(name: str) -> Any:  # imported lazily: `cockpit --help` stays light
    if name == "IN_PROCESS_URL":
        from cockpit.sandbox import dispatch

        return dispatch.IN_PROCESS_URL
    if name in __all__:
        from cockpit.sandbox import server

        return getattr(server, name)
    raise AttributeError(name)
